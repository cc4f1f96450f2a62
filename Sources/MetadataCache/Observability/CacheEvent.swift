/// Something that happened in a store, for hosts to render, log or count.
public enum CacheEvent: Sendable, Equatable {
    /// A writer found the lock held and is about to wait (sent before the wait starts).
    case lockWaitStarted(lockPath: String, holder: HolderRecord?, timeout: LockTimeout)
    /// Still waiting (at least twice a second); `remaining` is nil for infinite waits.
    case lockWaitProgress(lockPath: String, elapsed: Duration, remaining: Duration?, holder: HolderRecord?)
    case lockAcquired(lockPath: String, backend: LockBackendKind, waited: Duration)
    case lockTimedOut(lockPath: String, waited: Duration, holder: HolderRecord?)
    case lockWaitCancelled(lockPath: String, waited: Duration)
    case lockReleased(lockPath: String, heldFor: Duration)
    /// `auto` chose the lock-file backend instead of advisory locks.
    case backendFallback(lockPath: String, reason: String)
    /// A stale owner file (lock-file backend) was removed before acquiring.
    case staleLockBroken(lockPath: String, holder: HolderRecord?, reason: String)
    case commitSucceeded(path: String, generation: UInt64, bytes: Int, duration: Duration, renameRetries: Int)
    case commitFailed(path: String, error: MetadataCacheError, renameRetries: Int)
    case readHit(path: String, generation: UInt64, bytes: Int)
    case readMiss(path: String)
    case readCorrupt(path: String, problem: CacheCorruption)
    case corruptCacheMovedAside(path: String, movedTo: String)
    case sweepRemoved(path: String, reason: String)
    /// A refresh holding the lock is about to call its fetch closure (`path` is the cache file).
    case fetchStarted(path: String)
    /// The fetch closure reported progress (`FetchProgressReporter`); `expected` is
    /// nil when the total is unknown; `elapsed` counts from `fetchStarted`.
    case fetchProgress(path: String, received: Int, expected: Int?, elapsed: Duration)
    /// The fetch closure returned or threw.
    case fetchFinished(path: String, completion: FetchCompletion, elapsed: Duration)
    /// Lock-file backend: the holder could not renew its owner file's lease (once
    /// per hold, at the first failure). Until a renewal succeeds the lease ages;
    /// past half a lease, commits fail with `lockLost` rather than be made under
    /// a lease another process may have presumed expired.
    case leaseRenewalFailed(lockPath: String, reason: String)
    /// The filesystem did not report its size (statfs all zeros), so the commit's
    /// free-space check was skipped; a full disk still fails the write safely.
    case freeSpaceUnknown(directory: String)
    /// A watch (`CacheStore.changes`) cannot use kernel notifications for this
    /// cache and polls it every `interval` instead (network filesystem, inotify
    /// limits reached). Sent once per watch, from the watch's thread.
    case watchFallbackToPolling(path: String, reason: String, interval: Duration)
    /// The lock file grants more than its owner (mode `permissions`): whoever can
    /// read it can take its `flock` and block every writer forever. Created 0600
    /// since issue 19; an older one keeps its mode until someone tightens it.
    case lockFileModeTooWide(lockPath: String, permissions: UInt32)
    /// A sweep stopped after examining its share of leftover files (the rest of a
    /// directory flooded with planted names waits for later sweeps, so the lock is
    /// never held long for them); `left` were not examined.
    case sweepIncomplete(directory: String, left: Int)
    /// A stale cache was served and a detached background refresh started
    /// (`pid`: its process).
    case backgroundRefreshStarted(path: String, pid: Int32)
    /// A stale cache was served and no background refresh started: one is
    /// already running, the last failure's backoff has not elapsed, the cache
    /// changed since it was read, or the refresh could not be started.
    case backgroundRefreshSkipped(path: String, reason: String)

    /// The event's name as used in JSON lines (`lockWaitStarted`, ...).
    public var name: String {
        switch self {
        case .lockWaitStarted: "lockWaitStarted"
        case .lockWaitProgress: "lockWaitProgress"
        case .lockAcquired: "lockAcquired"
        case .lockTimedOut: "lockTimedOut"
        case .lockWaitCancelled: "lockWaitCancelled"
        case .lockReleased: "lockReleased"
        case .backendFallback: "backendFallback"
        case .staleLockBroken: "staleLockBroken"
        case .commitSucceeded: "commitSucceeded"
        case .commitFailed: "commitFailed"
        case .readHit: "readHit"
        case .readMiss: "readMiss"
        case .readCorrupt: "readCorrupt"
        case .corruptCacheMovedAside: "corruptCacheMovedAside"
        case .sweepRemoved: "sweepRemoved"
        case .fetchStarted: "fetchStarted"
        case .fetchProgress: "fetchProgress"
        case .fetchFinished: "fetchFinished"
        case .leaseRenewalFailed: "leaseRenewalFailed"
        case .freeSpaceUnknown: "freeSpaceUnknown"
        case .watchFallbackToPolling: "watchFallbackToPolling"
        case .lockFileModeTooWide: "lockFileModeTooWide"
        case .sweepIncomplete: "sweepIncomplete"
        case .backgroundRefreshStarted: "backgroundRefreshStarted"
        case .backgroundRefreshSkipped: "backgroundRefreshSkipped"
        }
    }
}

/// Receives a store's events. Called synchronously on the thread doing the work
/// (lock-wait progress arrives on the waiting thread's watchdog), so keep it quick.
public protocol CacheObserver: Sendable {
    func observe(_ event: CacheEvent)
}

/// An observer made from a closure.
public struct CacheEventHandler: CacheObserver {
    private let handler: @Sendable (CacheEvent) -> Void
    public init(_ handler: @escaping @Sendable (CacheEvent) -> Void) { self.handler = handler }
    public func observe(_ event: CacheEvent) { handler(event) }
}

/// Forwards every event to several observers, in order.
package struct CacheObserverFanOut: CacheObserver {
    private let observers: [any CacheObserver]
    package init(_ observers: [any CacheObserver]) { self.observers = observers }
    package func observe(_ event: CacheEvent) {
        for observer in observers { observer.observe(event) }
    }
}
