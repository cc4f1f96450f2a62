/// When a cached copy may be served without waiting for the network (RFC 5861's
/// `stale-while-revalidate` and `stale-if-error`, for a local cache).
///
/// Ages are measured from the cache's `fetchedAt` (a revalidation renews it).
///
/// - Younger than `refreshAfter`: fresh; served, nothing else happens.
/// - Older, but not older than `maxStale`: served at once, stale, and one
///   background refresh is started (coalesced across processes, backed off after
///   failures; see `CacheStore.startBackgroundRefresh`).
/// - Older than `maxStale`, or no cache: the caller refreshes in the foreground and
///   waits. If that refresh fails, a copy not older than `staleIfError` is served
///   (stale, with the error) instead of failing.
public struct FreshnessPolicy: Sendable, Equatable {
    /// The soft TTL.
    public var refreshAfter: Duration
    /// The hard limit; nil: any age may be served while a background refresh runs.
    public var maxStale: Duration?
    /// How old a copy may be served when a foreground refresh failed; nil: never.
    public var staleIfError: Duration?
    /// Never fetch: serve whatever verifies, however old; only a missing cache is
    /// an error.
    public var offline: Bool

    public init(refreshAfter: Duration, maxStale: Duration? = nil, staleIfError: Duration? = nil) {
        self.refreshAfter = refreshAfter
        self.maxStale = maxStale
        self.staleIfError = staleIfError
        self.offline = false
    }

    /// Serve whatever verifies; never fetch.
    public static let offline: FreshnessPolicy = {
        var policy = FreshnessPolicy(refreshAfter: .seconds(Int64.max))
        policy.offline = true
        return policy
    }()

    /// What to do with a cache of this age (nil: there is none).
    public func decision(forAge age: Duration?) -> FreshnessDecision {
        guard let age else { return offline ? .missingOffline : .refreshInForeground }
        if offline { return age > refreshAfter ? .serveStale(offline: true) : .serveFresh }
        if age <= refreshAfter { return .serveFresh }
        if let maxStale, age > maxStale { return .refreshInForeground }
        return .serveStale(offline: false)
    }
}

/// The verdict of a `FreshnessPolicy` on one cache.
public enum FreshnessDecision: Sendable, Equatable {
    case serveFresh
    /// Serve at once; start a background refresh unless `offline`.
    case serveStale(offline: Bool)
    /// Refresh and wait (no cache, or too old to serve).
    case refreshInForeground
    /// Offline and there is no cache: nothing to serve.
    case missingOffline
}

/// How long refreshes wait after failures: `initial` after the first, doubling
/// with each further failure, never more than `maximum`.
///
/// Why: a host invoked every few seconds against a server that is down would
/// otherwise start a fetch (and hit the server) on every invocation. The wait is
/// written into the failure record as an absolute time (`nextAttemptAt`), so every
/// process honours the backoff of the process that failed, whatever its own
/// configuration.
public struct RefreshBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration

    /// 1 minute doubling to 1 hour.
    public init(initial: Duration = .seconds(60), maximum: Duration = .seconds(3600)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after `failures` consecutive failures (1-based): initial × 2^(n−1),
    /// at most `maximum`. Doubles by repeated addition, stopping at the cap, so no
    /// count (a record from disk says anything) can overflow.
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = max(initial, .zero)
        let cap = max(maximum, .zero)
        var doublings = max(failures - 1, 0)
        while doublings > 0, delay < cap {
            delay = delay > cap / 2 ? cap : delay * 2
            doublings -= 1
        }
        return min(delay, cap)
    }
}

/// How a host runs one refresh in a detached process: its own binary with a
/// hidden subcommand, or `metacache cache refresh --source ... --dir ...`.
///
/// The process must refresh this store through the library (`CacheStore.refresh`),
/// so that it takes the writer lock, coalesces, and records a failure for the
/// backoff. It runs with stdin, stdout and stderr on `/dev/null`, in a session of
/// its own, and inherits descriptor 3: the background-refresh marker, which it
/// must leave open until it exits (exiting releases it; nothing else is needed).
public struct BackgroundRefreshCommand: Sendable, Equatable {
    /// Path of the program (not searched in `$PATH`).
    public var executable: String
    /// Arguments after the program name.
    public var arguments: [String]
    /// `KEY=VALUE` strings; nil: the host's own environment.
    public var environment: [String]?

    public init(executable: String, arguments: [String], environment: [String]? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }

    /// The descriptor number the marker has in the background process.
    public static let markerDescriptor: Int32 = 3
}
