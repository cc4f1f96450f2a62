/// Proof of holding a store's exclusive writer lock, and the only way to commit.
///
/// Non-copyable: exactly one value represents the held lock, so it cannot be
/// duplicated, and the lock is released exactly once — when the guard is consumed
/// by `release()` or goes out of scope (`deinit`). If the process dies, the kernel
/// releases an advisory lock with it; an owner-file lock is detected as stale.
///
///     let writer = try store.acquireWriterLock(timeout: .after(.seconds(10)))
///     let current = try writer.read()
///     try writer.commit(newCatalogue, source: url)
///     // lock released here, at the end of writer's scope
///
/// Commits are methods of the guard (see `CacheWriterLockGuard+Commit.swift`), so
/// code that does not hold the lock cannot write the cache: it does not compile.
public struct CacheWriterLockGuard: ~Copyable, Sendable {
    package let lock: HeldWriterLock
    package let store: CacheStore

    init(lock: HeldWriterLock, store: CacheStore) {
        self.lock = lock
        self.store = store
    }

    deinit { lock.release() }

    /// The backend that provides the lock.
    public var backend: LockBackendKind { lock.backend }
    /// How long acquisition waited for another holder (zero when uncontended).
    public var waited: Duration { lock.waited }
    /// The holder record this process published for waiters and `status`.
    public var holder: HolderRecord { lock.record }
    /// The lock file (advisory) or owner file (lock-file backend).
    public var lockPath: String { lock.lockPath }

    /// Releases the lock now (equivalent to letting the guard go out of scope).
    public consuming func release() {
        lock.release()
    }
}
