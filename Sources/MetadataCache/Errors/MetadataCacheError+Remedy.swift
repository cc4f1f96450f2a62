extension MetadataCacheError {
    /// What to do about an error, as data (`MetadataCacheError.remedy`).
    ///
    /// The library's users are tools with their own commands and flags: a message
    /// that said "run 'metacache cache verify --repair'" sent their users to a
    /// command they do not have. So the library names the remedy, and each tool
    /// renders it in its own words (the `metacache` CLI: `CacheErrorClassification`).
    /// `description` is a neutral wording for a tool that renders nothing itself:
    /// no command, no option name, no flag.
    ///
    /// Each case's documentation says which API does it, for the host's code.
    public enum Remedy: Sendable, Equatable, CustomStringConvertible {
        /// Run the operation again (the wait was cancelled, or a lock-file lease
        /// was taken over before the commit).
        case retry
        /// Wait longer for the writer lock (`LockTimeout`), or find out why its
        /// holder keeps it (`CacheStore.status()` names the holder).
        case waitLongerForLock
        /// This process, or an ancestor (`heldByAncestor`), holds the writer lock:
        /// release the `CacheWriterLockGuard` first, or let `update`/`refresh`
        /// queue within the process; in a child, refresh in the parent instead.
        case releaseHeldLock(heldByAncestor: Bool)
        /// The filesystem has no advisory locks: use the lock-file backend
        /// (`LockBackendSelection.auto` or `.lockFile`).
        case useLockFileBackend
        /// The source failed or served something that is not a payload: check it
        /// (reachable, serving the document), then refresh again.
        case checkSource
        /// Raise the payload size limit (`CacheStoreOptions.maximumPayloadBytes`)
        /// if this size is expected.
        case raiseSizeLimit
        /// Move the corrupt file aside (`CacheStore.moveCorruptCacheAside()`; it
        /// is kept, never deleted), then refresh to rebuild the cache.
        case moveCorruptCacheAside
        /// The file is a newer format: upgrade, or replace it with a cache this
        /// version writes (`CacheStoreOptions.overwriteNewerFormat`).
        case upgradeOrReplaceNewerFormat
        /// Free disk space (or quota), then retry.
        case freeSpace
        /// Check the owner and permissions of the path and its directory.
        case checkPermissions
        /// The filesystem is read-only: use a cache directory elsewhere.
        case chooseAnotherDirectory
        /// A component of the path does not exist.
        case checkPathExists
        /// The path is a symbolic link, which the cache never follows: use the
        /// real path.
        case avoidSymbolicLink
        /// The disk reported an I/O error: check the system log and the disk.
        case checkDisk
        /// The cache directory at `path` is not safe to use; `problem.remedy(path:)`
        /// says what to do (`chmod`, a directory of one's own, the link's target,
        /// or `CacheStoreOptions.allowSharedDirectory` where sharing is meant).
        case secureDirectory(path: String, problem: UnsafeDirectoryProblem)
        /// A file at one of the store's own paths was planted or is foreign
        /// (`unsafeStoreFile`): remove it; the store recreates its files.
        case removeForeignStoreFile(path: String, problem: UnsafeStoreFileProblem)
        /// Name the cache with a plain file name.
        case useAPlainCacheName
        /// The host's own code threw (an update's transform, a value's
        /// `encode(to:)`): the error inside says what to fix.
        case fixTheHostsCode
        /// The payload's shape differs from the type `read(as:)` decodes: refresh
        /// from a source that serves this shape, or adapt the type.
        case matchTheTypeToThePayload
        /// No specific remedy is known (an unusual errno): retry, then check the
        /// path and the filesystem.
        case retryOrCheckFilesystem

        /// The remedy for a system call that failed with `errno`.
        init(for errno: Errno) {
            switch errno {
            case .noSpace, .quotaExceeded: self = .freeSpace
            case .permissionDenied, .notPermitted: self = .checkPermissions
            case .readOnlyFileSystem: self = .chooseAnotherDirectory
            case .tooManySymlinks: self = .avoidSymbolicLink
            case .noSuchFile: self = .checkPathExists
            case .ioError: self = .checkDisk
            default: self = .retryOrCheckFilesystem
            }
        }

        /// Neutral wording: what any user of any tool can do.
        public var description: String {
            switch self {
            case .retry: "Run the operation again to retry."
            case .waitLongerForLock: "Retry with a longer lock timeout, or check whether the process holding the lock is stuck."
            case let .releaseHeldLock(heldByAncestor):
                heldByAncestor
                    ? "Refresh in the parent while it holds the lock, or release the lock before starting this child."
                    : "Release the existing CacheWriterLockGuard first, or use CacheStore.update/refresh, which queue callers within a process."
            case .useLockFileBackend: "Use the lock-file backend, which works on this filesystem."
            case .checkSource: "Check that the source is reachable and serves the JSON document, then refresh again."
            case .raiseSizeLimit: "Raise the payload size limit if this size is expected."
            case .moveCorruptCacheAside: "Move the corrupt file aside (it is kept for inspection), then refresh to rebuild the cache."
            case .upgradeOrReplaceNewerFormat:
                "Upgrade to read it, or replace it with a cache this version writes (the newer version's tools would then rebuild theirs)."
            case .freeSpace: "Free some disk space and retry."
            case .checkPermissions: "Check the owner and permissions of the path."
            case .chooseAnotherDirectory: "The filesystem is read-only; choose another cache directory."
            case .checkPathExists: "Check that the path exists."
            case .avoidSymbolicLink: "The path is a symbolic link, which the cache refuses to follow; use the real path."
            case .checkDisk: "The disk reported an I/O error; check the system log."
            case let .secureDirectory(path, problem): problem.remedy(path: path)
            case let .removeForeignStoreFile(path, problem): problem.remedy(path: path)
            case .useAPlainCacheName: "Use a plain file name without '/', control characters or a leading dot."
            case .fixTheHostsCode: "That error comes from the tool's own code, not from the cache."
            case .matchTheTypeToThePayload: "Refresh from a source that serves this shape, or adapt the type to the payload."
            case .retryOrCheckFilesystem: "Retry; if it persists, check the path and the filesystem."
            }
        }
    }
}
