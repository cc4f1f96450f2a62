/// The mechanism that provides mutual exclusion between writers.
public enum LockBackendKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A kernel `flock` on `NAME.lock`: released by the kernel when the holder exits,
    /// however it exits; waiters block in the kernel and are woken on release.
    case advisory
    /// An owner file `NAME.lock.owner` created with `O_CREAT|O_EXCL`, for filesystems
    /// where kernel locks are missing or not coherent across machines. Stale owner
    /// files are detected by pid liveness (same host) or an expired lease (other host).
    case lockFile = "lockfile"

    public var description: String { rawValue }
}

/// Which backend a store uses.
public enum LockBackendSelection: String, Sendable, Hashable, CaseIterable {
    /// Advisory locks, unless the filesystem is a known network filesystem or the
    /// lock call itself reports that locking is unsupported; then owner files, with a
    /// `backendFallback` event.
    case auto
    case advisory
    case lockFile = "lockfile"
}
