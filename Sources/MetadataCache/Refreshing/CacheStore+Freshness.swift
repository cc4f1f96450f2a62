/// A read under a `FreshnessPolicy`: the copy served and why.
public struct FreshnessRead: Sendable {
    public enum Served: Sendable, Equatable {
        /// Younger than `refreshAfter`, or just refreshed in the foreground.
        case fresh
        /// Older than `refreshAfter`; a background refresh was considered.
        case stale(age: Duration)
        /// The foreground refresh failed (message); this copy is within `staleIfError`.
        case staleAfterError(age: Duration, error: String)
        /// Offline: served whatever its age, nothing fetched.
        case offline(age: Duration)
    }

    public let snapshot: CacheSnapshot
    public let served: Served
    /// For `.stale`: what `startBackgroundRefresh` did (nil when no command was given).
    public let backgroundRefresh: BackgroundRefreshStart?
}

extension CacheStore {
    /// Reads the cache under `policy`: serves a fresh copy; serves a stale one at
    /// once and starts `background` (see `startBackgroundRefresh`); or, with no
    /// cache or one older than `maxStale`, calls `refreshInForeground` (the host's
    /// `refresh`, waiting) and reads again. If that throws and a copy within
    /// `staleIfError` exists, it is served (`.staleAfterError`) instead of the error.
    ///
    /// Returns nil only when there is no cache and none could be made (offline, or
    /// a foreground refresh that committed nothing).
    @available(*, noasync, message: "the foreground refresh blocks; use the async read(policy:)")
    public func read(
        policy: FreshnessPolicy, background: BackgroundRefreshCommand?, refreshInForeground: () throws -> Void
    ) throws -> FreshnessRead? {
        let current = try readTreatingCorruptAsMissing()
        switch prepared(policy: policy, current: current, background: background) {
        case let .done(result): return result
        case .foreground:
            do {
                try refreshInForeground()
            } catch {
                if let fallback = servedAfterError(error, current: current, policy: policy) { return fallback }
                throw error
            }
            return try read().map { FreshnessRead(snapshot: $0, served: .fresh, backgroundRefresh: nil) }
        }
    }

    /// Async form of `read(policy:background:refreshInForeground:)`.
    public func read(
        policy: FreshnessPolicy, background: BackgroundRefreshCommand?, refreshInForeground: () async throws -> Void
    ) async throws -> FreshnessRead? {
        let current = try readTreatingCorruptAsMissing()
        switch prepared(policy: policy, current: current, background: background) {
        case let .done(result): return result
        case .foreground:
            do {
                try await refreshInForeground()
            } catch {
                if let fallback = servedAfterError(error, current: current, policy: policy) { return fallback }
                throw error
            }
            return try read().map { FreshnessRead(snapshot: $0, served: .fresh, backgroundRefresh: nil) }
        }
    }

    /// A corrupt cache is not served; it is what a foreground refresh replaces
    /// (as `refresh` itself treats it). A newer format's file still throws.
    private func readTreatingCorruptAsMissing() throws(MetadataCacheError) -> CacheSnapshot? {
        do {
            return try read()
        } catch .corruptCache {
            return nil
        }
    }

    /// The async `read(policy:)`, for a foreground refresh that does not await.
    /// Async code that writes `await store.read(policy: ...) { ... }` gets this
    /// overload, never the blocking one (unavailable there), as with `update`.
    public func read(
        policy: FreshnessPolicy, background: BackgroundRefreshCommand?, refreshInForeground: () throws -> Void
    ) async throws -> FreshnessRead? {
        try await read(policy: policy, background: background) { () async throws in try refreshInForeground() }
    }

    private enum Preparation {
        case done(FreshnessRead?)
        case foreground
    }

    private func prepared(policy: FreshnessPolicy, current: CacheSnapshot?, background: BackgroundRefreshCommand?) -> Preparation {
        let age = current.map { CachedVersion($0).age }
        switch policy.decision(forAge: age) {
        case .missingOffline: return .done(nil)
        case .refreshInForeground: return .foreground
        case .serveFresh: return .done(current.map { FreshnessRead(snapshot: $0, served: .fresh, backgroundRefresh: nil) })
        case let .serveStale(offline):
            guard let current, let age else { return .foreground }
            if offline { return .done(FreshnessRead(snapshot: current, served: .offline(age: age), backgroundRefresh: nil)) }
            let started = background.map { startBackgroundRefresh($0, ifUnchangedSince: current) }
            return .done(FreshnessRead(snapshot: current, served: .stale(age: age), backgroundRefresh: started))
        }
    }

    /// The copy `staleIfError` allows after a failed foreground refresh. Not after a
    /// cancellation: the user stopped the command, the source did not fail.
    private func servedAfterError(_ error: any Error, current: CacheSnapshot?, policy: FreshnessPolicy) -> FreshnessRead? {
        if error is CancellationError { return nil }
        if case .cancelled? = error as? MetadataCacheError { return nil }
        guard let current, let limit = policy.staleIfError else { return nil }
        let age = CachedVersion(current).age
        guard age <= limit else { return nil }
        return FreshnessRead(snapshot: current, served: .staleAfterError(age: age, error: String(describing: error)), backgroundRefresh: nil)
    }
}
