/// The mechanism that provides mutual exclusion between writers.
///
/// Guarantee: writers using different backends on one store exclude each other
/// too, wherever the filesystem supports `flock` — a lock-file holder also holds
/// the advisory lock on `NAME.lock`. Where `flock` is unsupported, only the
/// lock-file backend can run at all.
public enum LockBackendKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A kernel `flock` on `NAME.lock`: released by the kernel when the holder exits,
    /// however it exits; waiters block in the kernel and are woken on release.
    case advisory
    /// An owner file `NAME.lock.owner` created with `O_CREAT|O_EXCL`, for filesystems
    /// where kernel locks are missing or not coherent across machines, plus a
    /// non-blocking `flock` on `NAME.lock` where it works (so advisory writers are
    /// excluded too). Stale owner files are detected by pid liveness (same host)
    /// or an expired lease (other host).
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
