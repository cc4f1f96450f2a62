#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a `CacheStore` behaves. The defaults suit a per-user cache on a local disk.
public struct CacheStoreOptions: Sendable {
    /// Which lock backend to use (default `.auto`).
    public var lockBackend: LockBackendSelection = .auto
    /// The timeout `refresh`/`update` use when none is passed (default 10 s).
    public var lockTimeout: LockTimeout = .after(.seconds(10))
    /// Largest payload accepted for a commit (default 64 MiB).
    public var maximumPayloadBytes: Int = 64 << 20
    /// Deepest JSON nesting accepted (default 512, as Foundation's JSONDecoder).
    public var maximumJSONDepth: Int = 512
    /// Permission bits of the cache, lock and temp files (default 0600).
    public var fileMode: UInt32 = 0o600
    /// Accept a directory writable by group/others or owned by another user
    /// (a deliberately shared cache). Symlinked directories are always refused.
    public var allowSharedDirectory: Bool = false
    /// Remove orphaned temp files and stale owner files when the store is opened.
    public var sweepOnOpen: Bool = true
    /// Whether writers may replace a cache file written by a newer MetadataCache
    /// (a later format version or unknown format flags; see docs/format.md). Off
    /// by default: where two versions share a cache, the older one would otherwise
    /// destroy the newer one's cache on every run. When on, such a file counts as
    /// no cache: the commit writes a version-1 file and the generation restarts at 1.
    public var overwriteNewerFormat: Bool = false
    /// Free space required beyond the new file's size before a commit starts.
    public var freeSpaceMargin: UInt64 = 1 << 20
    /// Lock-file backend: a holder on another host is presumed dead when its owner
    /// file has not been renewed for this long (renewed every third of it).
    public var leaseDuration: Duration = .seconds(30)
    /// How long background refreshes wait after consecutive failures (default 1
    /// minute doubling to 1 hour). Applied by the refresh that fails: it writes
    /// the next attempt's time into the failure record, which every process honours.
    public var refreshBackoff: RefreshBackoff = RefreshBackoff()
    /// Receives the store's events.
    public var observer: (any CacheObserver)?
    /// The system call layer (tests inject faults here).
    package var systemCalls: SystemCalls = .live
    /// Test-only: re-enables a past defect of the lock-file backend (see
    /// `LockFileSabotage`); empty in every host.
    package var lockFileSabotage: LockFileSabotage = []

    public init() {}
}
