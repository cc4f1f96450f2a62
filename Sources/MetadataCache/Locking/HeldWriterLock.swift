#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A writer lock this process holds: the descriptors, what was published about it,
/// and how to let it go. `CacheWriterLockGuard` owns exactly one and releases it in
/// its `deinit`; this class exists so the lock can travel through a continuation
/// (which needs a copyable value) on its way to the guard, and releases in its own
/// `deinit` as a backstop.
package final class HeldWriterLock: Sendable {
    /// The lock-file backend's part of a hold.
    package struct OwnerFileHold: Sendable {
        package let lock: OwnerFileLock
        /// What identifies our owner file (its descriptor, inode and lease id).
        package let ownership: OwnerFileLock.Ownership
        package let renewal: LeaseRenewal
    }

    package let backend: LockBackendKind
    /// The file whose lock or existence is the lock (`NAME.lock` or `NAME.lock.owner`).
    package let lockPath: String
    /// This store's entry in `HeldWriterLocks` (for both backends).
    package let registryKey: HeldWriterLocks.Key
    package let record: HolderRecord
    package let waited: Duration
    package let timeout: LockTimeout
    package let acquisitionStarted: ContinuousClock.Instant
    package let acquired: ContinuousClock.Instant
    /// The descriptor of `NAME.lock` holding its exclusive `flock`, with our record
    /// in its slot: always for the advisory backend; for the lock-file backend
    /// wherever the filesystem supports `flock` (it excludes advisory writers).
    private let flockFD: Int32?
    /// Lock-file backend: our owner file.
    private let ownerFile: OwnerFileHold?
    /// The sleeping watchdog of the wait that granted this lock, if it waited.
    private let watchdog: LockWaitWatchdog?
    private let sys: SystemCalls
    private let observer: (any CacheObserver)?
    private let released = Atomic<Bool>(false)

    init(
        backend: LockBackendKind, lockPath: String, registryKey: HeldWriterLocks.Key, record: HolderRecord,
        waited: Duration, timeout: LockTimeout, acquisitionStarted: ContinuousClock.Instant, flockFD: Int32?,
        ownerFile: OwnerFileHold?, watchdog: LockWaitWatchdog?, sys: SystemCalls, observer: (any CacheObserver)?
    ) {
        self.backend = backend
        self.lockPath = lockPath
        self.registryKey = registryKey
        self.record = record
        self.waited = waited
        self.timeout = timeout
        self.acquisitionStarted = acquisitionStarted
        self.acquired = .now
        self.flockFD = flockFD
        self.ownerFile = ownerFile
        self.watchdog = watchdog
        self.sys = sys
        self.observer = observer
    }

    deinit { release() }

    package var isReleased: Bool { released.load(ordering: .sequentiallyConsistent) }

    /// What the lock wait left of the lock-timeout budget: the longest a commit
    /// may spend retrying its rename. The budget is the user's tolerance for
    /// *waiting*; time spent holding the lock (fetching, writing) does not use it.
    /// Nil when the timeout is infinite.
    package var remainingBudget: Duration? {
        guard let total = timeout.duration else { return nil }
        return waited >= total ? .zero : total - waited
    }

    /// Throws `lockLost` if the lock is no longer ours. Advisory locks cannot be
    /// lost while the descriptor is open; an owner file can be broken by a process
    /// that judged our lease expired.
    package func verifyStillHeld() throws(MetadataCacheError) {
        guard !isReleased else { throw .lockLost(lockPath: lockPath, reason: "the guard was already released") }
        if let ownerFile, !ownerFile.lock.isStillOurs(ownerFile.ownership) {
            throw .lockLost(
                lockPath: lockPath,
                reason: "the owner file no longer carries this holder's lease id \(ownerFile.ownership.leaseID): it was removed, replaced or rewritten by another process (lease expired?)")
        }
    }

    /// Releases the lock (idempotent).
    package func release() {
        guard !released.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let heldFor = ContinuousClock.now - acquired
        // Leave the process table first: the moment the lock drops, another
        // thread of this process may acquire and register.
        HeldWriterLocks.unregister(registryKey)
        if let ownerFile {
            // The owner file goes first, while the flock (if any) still excludes
            // everyone on this host: a lock-file acquirer that gets the flock next
            // must not find our file and wait for a holder that is leaving. It is
            // removed only if it still carries our lease id.
            ownerFile.renewal.stop()
            _ = try? ownerFile.lock.release(ownerFile.ownership)
        }
        if let flockFD {
            // Blank the holder record before unlocking, so nobody reads our record
            // after we are gone (a waiter whose ancestor we are would otherwise
            // refuse to wait for the next holder as a self-deadlock). One pwrite of
            // the slot, not ftruncate(0): a truncate frees the block and joins the
            // journal on the handover's critical path (see HolderRecordSlot).
            // Then unlock explicitly before closing. Closing alone would release
            // too, but an explicit unlock wakes waiters before the close-time
            // bookkeeping, and is the last thing a holder does.
            HolderRecordSlot.cleared.withUnsafeBytes { raw in
                try? sys.pwriteAll(flockFD, raw, at: 0, path: lockPath)
            }
            try? sys.unlock(flockFD, path: lockPath)
            sys.closeIgnoringErrors(flockFD)
        }
        if let ownerFile { sys.closeIgnoringErrors(ownerFile.ownership.fd) }
        // After the unlock: waking the wait's watchdog now delays nobody.
        watchdog?.dismiss()
        observer?.observe(.lockReleased(lockPath: lockPath, heldFor: heldFor))
    }
}
