import MetadataCache

/// `--verbose` debug lines and the warnings every user should see, on stderr.
///
/// Debug lines (`metacache: debug: …`) show each setting and where it came from,
/// and the library's events other than wait and fetch progress (which the live
/// line shows). Warnings (`metacache: warning: …`) — a lock backend fallback, unknown
/// config keys — are printed unless `--quiet`.
public struct DiagnosticLog: CacheObserver {
    public let output: any OutputChannel
    public let verbose: Bool
    public let quiet: Bool

    public init(output: any OutputChannel, verbose: Bool, quiet: Bool) {
        self.output = output
        self.verbose = verbose
        self.quiet = quiet
    }

    public func debug(_ message: @autoclosure () -> String) {
        if verbose { output.writeLine("metacache: debug: " + message()) }
    }

    public func warning(_ message: String) {
        if !quiet || verbose { output.writeLine("metacache: warning: " + message) }
    }

    public func setting<T>(_ name: String, _ resolved: Resolved<T>, shown: (T) -> String) {
        debug("\(name): \(shown(resolved.value)) (from \(resolved.origin))")
    }

    public func observe(_ event: CacheEvent) {
        switch event {
        case let .backendFallback(_, reason):
            warning("lock backend fallback: \(reason)")
        case .leaseRenewalFailed, .watchFallbackToPolling, .lockFileModeTooWide, .sweepIncomplete:
            warning(Self.describe(event))
        case .lockWaitProgress, .fetchProgress:
            return
        default:
            debug(Self.describe(event))
        }
    }

    static func describe(_ event: CacheEvent) -> String {
        switch event {
        case let .lockWaitStarted(path, holder, timeout):
            "lock busy: \(path) held by \(holder?.summary ?? "unknown"); waiting (timeout: \(timeout))"
        case let .lockWaitProgress(path, elapsed, _, _):
            "still waiting for \(path) after \(DurationText.format(elapsed))"
        case let .lockAcquired(path, backend, waited):
            "lock acquired: \(path) with backend \(backend) after waiting \(DurationText.format(waited))"
        case let .lockTimedOut(path, waited, _):
            "lock wait timed out: \(path) after \(DurationText.format(waited))"
        case let .lockWaitCancelled(path, waited):
            "lock wait cancelled: \(path) after \(DurationText.format(waited))"
        case let .lockReleased(path, heldFor):
            "lock released: \(path) after holding it \(DurationText.format(heldFor))"
        case let .backendFallback(_, reason):
            "lock backend fallback: \(reason)"
        case let .staleLockBroken(path, holder, reason):
            "broke stale lock \(path) of \(holder?.summary ?? "unknown holder"): \(reason)"
        case let .commitSucceeded(path, generation, bytes, duration, retries):
            "committed \(path): generation \(generation), \(ByteCountText.format(bytes)) in \(DurationText.format(duration)), \(retries) rename retries"
        case let .commitFailed(path, error, _):
            "commit of \(path) failed: \(error)"
        case let .readHit(path, generation, bytes):
            "read \(path): generation \(generation), \(ByteCountText.format(bytes))"
        case let .readMiss(path):
            "read \(path): no cache"
        case let .readCorrupt(path, problem):
            "read \(path): corrupt (\(problem))"
        case let .corruptCacheMovedAside(path, movedTo):
            "moved corrupt \(path) aside to \(movedTo)"
        case let .sweepRemoved(path, reason):
            "swept \(path) (\(reason))"
        case let .fetchStarted(path):
            "fetching the source for \(path) (holding the lock)"
        case let .fetchProgress(_, received, expected, elapsed):
            "fetched \(ByteCountText.format(received))\(expected.map { " of \(ByteCountText.format($0))" } ?? "") after \(DurationText.format(elapsed))"
        case let .fetchFinished(_, completion, elapsed):
            switch completion {
            case let .payload(bytes): "fetch done: \(ByteCountText.format(bytes)) payload in \(DurationText.format(elapsed))"
            case .notModified: "fetch done: not modified, in \(DurationText.format(elapsed))"
            case let .failed(error): "fetch failed after \(DurationText.format(elapsed)): \(error)"
            }
        case let .leaseRenewalFailed(path, reason):
            "could not renew the lease of \(path): \(reason); a commit will fail if the lease lapses"
        case let .freeSpaceUnknown(directory):
            "free space unknown: the filesystem of \(directory) reports no size (statfs all zeros); skipped the "
                + "free-space check (a full disk still fails the write, leaving the previous cache intact)"
        case let .watchFallbackToPolling(path, reason, interval):
            "watching \(path) by polling every \(DurationText.format(interval)): \(reason)"
        case let .lockFileModeTooWide(path, permissions):
            "the lock file \(path) has mode \(String(permissions, radix: 8)): anyone who can read it can block every "
                + "refresh by locking it; run 'chmod 600 \(path)'"
        case let .sweepIncomplete(directory, left):
            "sweep of \(directory) stopped after its share of work per pass; \(left) leftover files not examined yet "
                + "(later sweeps continue; 'metacache cache sweep' runs one now)"
        case let .backgroundRefreshStarted(path, pid):
            "started a background refresh of \(path): pid \(pid)"
        case let .backgroundRefreshSkipped(path, reason):
            "no background refresh of \(path): \(reason)"
        }
    }
}
