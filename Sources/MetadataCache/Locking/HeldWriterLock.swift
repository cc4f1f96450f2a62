#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Whether holding this lock excludes *every* writer of the store by itself:
    /// we hold the exclusive `flock` on `NAME.lock` on a local filesystem, where
    /// every writer of either backend must hold it too. Then no lease can be
    /// judged expired while we hold it (lock-file breakers take the `flock`
    /// first), and every temp file in the directory is an orphan. False for the
    /// lock-file backend without `flock` and on network filesystems, where `flock`
    /// may be local to one client: there the owner file's lease is what excludes,
    /// and only a temp file whose creator is provably dead is an orphan.
    package let excludesEveryWriter: Bool
    /// The open, checked cache directory the lock is held in: everything done
    /// under the lock (commit, sweep, move-aside) goes through it.
    package let directory: CacheDirectoryHandle

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
    private let sys: SystemCalls
    private let observer: (any CacheObserver)?
    private let released = AtomicCell<Bool>(false)

    init(
        directory: CacheDirectoryHandle, backend: LockBackendKind, lockPath: String, registryKey: HeldWriterLocks.Key,
        record: HolderRecord,
        waited: Duration, timeout: LockTimeout, acquisitionStarted: ContinuousClock.Instant, flockFD: Int32?,
        ownerFile: OwnerFileHold?, sys: SystemCalls, observer: (any CacheObserver)?,
        excludesEveryWriter: Bool
    ) {
        self.directory = directory
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
        self.sys = sys
        self.observer = observer
        self.excludesEveryWriter = excludesEveryWriter
    }

    deinit { release() }

    package var isReleased: Bool { released.load() }

    /// What the lock wait left of the lock-timeout budget: the longest a commit
    /// may spend retrying its rename. The budget is the user's tolerance for
    /// *waiting*; time spent holding the lock (fetching, writing) does not use it.
    /// Nil when the timeout is infinite.
    package var remainingBudget: Duration? {
        guard let total = timeout.duration else { return nil }
        return waited >= total ? .zero : total - waited
    }

    /// Throws `lockLost` if the lock is no longer ours, or may be about to be taken.
    /// Advisory locks cannot be lost while the descriptor is open. An owner file
    /// can be replaced by a process that presumed our lease expired, so where the
    /// owner file is what excludes (`excludesEveryWriter` false), this is the last
    /// check before a commit's rename, in this order:
    /// 1. the lease must have been renewed within half a lease: otherwise a waiter
    ///    may already be replacing the file, and step 3 could pass an instant
    ///    before it does (`LeaseRenewal.leaseProblem`);
    /// 2. renew it now, so that every waiter must watch it unchanged for another
    ///    whole lease before presuming us dead;
    /// 3. the owner path must still hold our file (inode and lease id).
    /// What remains is the one window no lock file can close: a holder stopped
    /// after this check, before its rename, for longer than a lease.
    package func verifyStillHeld() throws(MetadataCacheError) {
        guard !isReleased else { throw .lockLost(lockPath: lockPath, reason: "the guard was already released") }
        guard let ownerFile else { return }
        if !excludesEveryWriter {
            if let problem = ownerFile.renewal.leaseProblem() {
                throw .lockLost(lockPath: lockPath, reason: "this holder cannot vouch for its lease: \(problem)")
            }
            do {
                try ownerFile.renewal.renewNow()
            } catch {
                throw .lockLost(lockPath: lockPath, reason: "this holder could not renew its lease (\(error))")
            }
        }
        if try !ownerFile.lock.isStillOurs(ownerFile.ownership) {
            throw .lockLost(
                lockPath: lockPath,
                reason: "the owner file no longer carries this holder's lease id \(ownerFile.ownership.leaseID): it was removed, replaced or rewritten by another process (lease expired?)")
        }
    }

    /// Releases the lock (idempotent).
    package func release() {
        guard !released.exchange(true) else { return }
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
            if !excludesEveryWriter, ownerFile.renewal.leaseProblem() != nil {
                // A waiter may be replacing our file right now: leave the path
                // alone and empty our own inode instead (see `relinquish`).
                ownerFile.lock.relinquish(ownerFile.ownership)
            } else {
                _ = try? ownerFile.lock.release(ownerFile.ownership)
            }
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
        observer?.observe(.lockReleased(lockPath: lockPath, heldFor: heldFor))
    }
}
