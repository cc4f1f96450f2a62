#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Acquires a store's writer lock: picks the backend, waits with feedback, refuses
/// self-deadlocks, publishes the holder record.
///
/// Guarantee: on return the caller is the only writer of the store among all
/// processes using either backend wherever the filesystem supports `flock`
/// (and among all lock-file users where it does not), and `HeldWriterLocks`
/// records it; on a throw, nothing is held and nothing was published.
///
/// Why across backends. A process forced to one backend (`--lock-backend
/// lockfile`) and one on `auto` (advisory) would otherwise both hold "the" lock,
/// commit at once, and sweep each other's live temp files. So the lock-file
/// backend also takes the advisory backend's lock: before creating its owner
/// file it takes a non-blocking `flock` on `NAME.lock`, exactly as an advisory
/// writer would, and treats a busy one as "held". Advisory writers need no change:
/// they already contend for that `flock`. Where `flock` fails with
/// `ENOLCK`/`EOPNOTSUPP`/`ENOSYS` — the filesystems this backend exists for —
/// the owner file alone provides exclusion; an advisory writer cannot run there.
package struct WriterLockAcquisition: Sendable {
    package let layout: StoreLayout
    /// The open, checked cache directory: the lock and owner files are reached
    /// only through it.
    package let directory: CacheDirectoryHandle
    package let options: CacheStoreOptions
    /// The filesystem under the store (from `statfs`), when known.
    package let fileSystem: FileSystemType?

    private var sys: SystemCalls { options.systemCalls }
    private var observer: (any CacheObserver)? { options.observer }

    /// What to do when this process already holds the lock.
    package enum Reentrancy: Sendable {
        /// Fail at once with `selfDeadlock` (raw guard acquisition: a second guard
        /// in the same process is almost always a nested acquisition that would
        /// wait for itself forever).
        case refuse
        /// Wait like any other waiter (`refresh`/`update`: concurrent tasks of one
        /// host queue behind each other in the kernel's lock queue).
        case queue
    }

    package init(layout: StoreLayout, directory: CacheDirectoryHandle, options: CacheStoreOptions, fileSystem: FileSystemType?) {
        self.layout = layout
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
    }

    private enum BackendPlan {
        case advisory(fallbackAllowed: Bool)
        case lockFile(fallbackReason: String?)
    }

    private var plan: BackendPlan { Self.plan(layout: layout, options: options, fileSystem: fileSystem) }

    private static func plan(layout: StoreLayout, options: CacheStoreOptions, fileSystem: FileSystemType?) -> BackendPlan {
        switch options.lockBackend {
        case .advisory: return .advisory(fallbackAllowed: false)
        case .lockFile: return .lockFile(fallbackReason: nil)
        case .auto:
            if let fileSystem, fileSystem.isNetworkFileSystem {
                return .lockFile(
                    fallbackReason: "\(layout.directory) is on \(fileSystem.name), where advisory locks are not reliable across machines; using owner files")
            }
            return .advisory(fallbackAllowed: true)
        }
    }

    /// The backend acquisitions start with (auto may still fall back on `ENOLCK`).
    package var plannedBackend: LockBackendKind {
        Self.plannedBackend(layout: layout, options: options, fileSystem: fileSystem)
    }

    /// `plannedBackend` without an open directory (`status` of a cache whose
    /// directory does not exist yet).
    package static func plannedBackend(layout: StoreLayout, options: CacheStoreOptions, fileSystem: FileSystemType?) -> LockBackendKind {
        if case .lockFile = plan(layout: layout, options: options, fileSystem: fileSystem) { return .lockFile }
        return .advisory
    }

    /// - Parameter holder: the thread or task that will hold the lock (for an async
    ///   caller, its task, not the helper thread that runs this wait).
    package func acquire(
        timeout: LockTimeout, cancellation: [CancellationToken], reentrancy: Reentrancy, holder: ExecutionContextID
    ) throws(MetadataCacheError) -> HeldWriterLock {
        let started = ContinuousClock.now
        let key = HeldWriterLocks.key(for: layout, directory: directory)
        if let mine = HeldWriterLocks.entry(key) {
            // This process holds the lock already. A raw second guard is refused; a
            // queued acquisition (update/refresh) waits for the other holder —
            // unless that holder is this very thread or task, which cannot release
            // while it waits here: it would wait for itself until the timeout
            // (forever with .infinite).
            if reentrancy == .refuse || mine.holder == holder {
                throw .selfDeadlock(lockPath: layout.lockPath, holder: mine.record, holderIsAncestor: false)
            }
        }
        let registration = Registration(key: key, holder: holder)
        if cancellation.contains(where: \.isCancelled) {
            throw .cancelled(lockPath: layout.lockPath, waited: .zero)
        }
        switch plan {
        case let .advisory(fallbackAllowed):
            do {
                return try acquireAdvisory(
                    timeout: timeout, started: started, cancellation: cancellation, reentrancy: reentrancy,
                    registration: registration)
            } catch .lockingUnsupported(_, let errno) where fallbackAllowed {
                observer?.observe(.backendFallback(
                    lockPath: layout.lockPath,
                    reason: "flock on \(layout.lockPath) failed with \(errno.name); using owner files instead"))
                return try acquireOwnerFile(
                    timeout: timeout, started: started, cancellation: cancellation, reentrancy: reentrancy,
                    registration: registration, flockKnownUnsupported: true)
            }
        case let .lockFile(reason):
            if let reason { observer?.observe(.backendFallback(lockPath: layout.lockPath, reason: reason)) }
            return try acquireOwnerFile(
                timeout: timeout, started: started, cancellation: cancellation, reentrancy: reentrancy,
                registration: registration, flockKnownUnsupported: false)
        }
    }

    // MARK: Advisory

    private func acquireAdvisory(
        timeout: LockTimeout, started: ContinuousClock.Instant, cancellation: [CancellationToken], reentrancy: Reentrancy,
        registration: Registration
    ) throws(MetadataCacheError) -> HeldWriterLock {
        let lockPath = layout.lockPath
        let fd = try openLockFile()
        // Encode our record now, before any wait: after the kernel grants the lock,
        // only its timestamp is left to fill in (see HolderRecordSlot).
        var slot = HolderRecordSlot.forCurrentProcess(backend: .advisory)
        var keep = false
        defer { if !keep { sys.closeIgnoringErrors(fd) } }
        var waited = Duration.zero
        do throws(MetadataCacheError) {
            // One non-blocking attempt first: uncontended, that is the whole cost;
            // contended, we learn it before blocking, so we can read the holder,
            // refuse a self-deadlock and announce the wait at once.
            if try !sys.tryFlock(fd, path: lockPath) {
                var announced = false
                try waitInKernelQueue(
                    fd: fd, eventPath: lockPath, holder: readRecordOrKernelHolder(fd: fd), timeout: timeout, started: started,
                    cancellation: cancellation, reentrancy: reentrancy, key: registration.key, announced: &announced)
                waited = ContinuousClock.now - started
            }
        } catch .io(_, _, let errno) where errno.meansLockingUnsupported {
            throw .lockingUnsupported(lockPath: lockPath, errno: errno)
        }

        slot.stamp()
        publish(slot, fd: fd)
        let record = slot.record
        HeldWriterLocks.register(registration.key, record, holder: registration.holder)
        keep = true
        observer?.observe(.lockAcquired(lockPath: lockPath, backend: .advisory, waited: waited))
        return HeldWriterLock(
            directory: directory, backend: .advisory, lockPath: lockPath, registryKey: registration.key, record: record, waited: waited,
            timeout: timeout, acquisitionStarted: started, flockFD: fd, ownerFile: nil, sys: sys,
            observer: observer, excludesEveryWriter: flockExcludesEveryWriter)
    }

    /// Whether an exclusive `flock` on `NAME.lock` excludes every writer: only on a
    /// filesystem known to be local (on a network or FUSE filesystem `flock` may
    /// be local to one client, e.g. NFS mounted with `local_lock=flock`, sshfs).
    private var flockExcludesEveryWriter: Bool {
        fileSystem?.isKnownLocal ?? false
    }

    /// Waits in the kernel's queue for `NAME.lock`'s exclusive `flock` (`fd`), whose
    /// non-blocking attempt just failed: refuses a self-deadlock, honours an
    /// immediate timeout, announces the wait (once: `announced`), then blocks in
    /// `BlockingFlockWait`, where every waiter is woken by the release and none
    /// polls — which is what keeps long waiters from being overtaken forever.
    /// Returns once the lock is held; throws the timeout, cancellation or
    /// self-deadlock.
    /// - Parameter eventPath: the lock path events and errors name.
    private func waitInKernelQueue(
        fd: Int32, eventPath: String, holder: HolderRecord?, timeout: LockTimeout, started: ContinuousClock.Instant,
        cancellation: [CancellationToken], reentrancy: Reentrancy, key: HeldWriterLocks.Key, announced: inout Bool
    ) throws(MetadataCacheError) {
        try refuseSelfDeadlock(holder: holder, reentrancy: reentrancy, key: key)
        let now = ContinuousClock.now
        let deadline = timeout.duration.map { started + $0 }
        guard timeout != .immediate, deadline.map({ now < $0 }) ?? true else {
            let waited = timeout == .immediate ? .zero : now - started
            observer?.observe(.lockTimedOut(lockPath: eventPath, waited: waited, holder: holder))
            throw MetadataCacheError.lockTimeout(lockPath: eventPath, timeout: timeout, waited: waited, holder: holder)
        }
        if !announced {
            observer?.observe(.lockWaitStarted(lockPath: eventPath, holder: holder, timeout: timeout))
            announced = true
        }
        // A holder record naming an ancestor can appear after the wait began (the
        // record is written just after the lock is taken): the progress callback
        // (on this thread) re-checks and ends the wait.
        var selfDeadlock = false
        let outcome = try BlockingFlockWait.wait(
            fd: fd, lockPath: layout.lockPath, sys: sys, started: started, deadline: deadline,
            cancellation: cancellation
        ) { elapsed in
            let current = readRecord(fd: fd)
            if Self.selfDeadlockHolder(current, reentrancy: reentrancy, registryKey: key) != nil {
                selfDeadlock = true
                return false
            }
            let remaining = timeout.duration.map { $0 > elapsed ? $0 - elapsed : .zero }
            observer?.observe(.lockWaitProgress(lockPath: eventPath, elapsed: elapsed, remaining: remaining, holder: current))
            return true
        }
        let waited = ContinuousClock.now - started
        switch outcome {
        case .acquired:
            return
        case .timedOut:
            let last = readRecord(fd: fd)
            observer?.observe(.lockTimedOut(lockPath: eventPath, waited: waited, holder: last))
            throw MetadataCacheError.lockTimeout(lockPath: eventPath, timeout: timeout, waited: waited, holder: last)
        case .cancelled:
            if selfDeadlock, let (holder, ancestor) = Self.selfDeadlockHolder(
                readRecord(fd: fd), reentrancy: reentrancy, registryKey: key)
            {
                throw MetadataCacheError.selfDeadlock(lockPath: layout.lockPath, holder: holder, holderIsAncestor: ancestor)
            }
            observer?.observe(.lockWaitCancelled(lockPath: eventPath, waited: waited))
            throw MetadataCacheError.cancelled(lockPath: eventPath, waited: waited)
        }
    }

    /// Writes the holder record into the lock file's slot: one `pwrite` over bytes
    /// the file already has, no truncation (see HolderRecordSlot for why). Best
    /// effort: the record only informs waiters and `status`; failing to write it (a
    /// full disk on the very first acquisition) must not fail the lock we hold.
    private func publish(_ slot: HolderRecordSlot, fd: Int32) {
        slot.bytes.withUnsafeBytes { raw in
            try? sys.pwriteAll(fd, raw, at: 0, path: layout.lockPath)
        }
    }

    private func readRecord(fd: Int32) -> HolderRecord? { Self.readRecord(fd: fd, sys: sys) }

    /// The holder record in the slot or, when the holder has not published one
    /// (a process that took `flock` on NAME.lock itself, or a holder between its
    /// flock and its record), the holder `/proc/locks` names: a pid is worth
    /// more than "another process" to whoever has to find it.
    private func readRecordOrKernelHolder(fd: Int32) -> HolderRecord? {
        if let record = readRecord(fd: fd) { return record }
        guard let status = try? sys.fstat(fd, path: layout.lockPath) else { return nil }
        return KernelLockTable.current()?.unpublishedHolder(ofFile: status)
    }

    /// NAME.lock, opened for its `flock` and for the holder record written into
    /// it (`O_RDWR`), through the checked directory (`O_NOFOLLOW`, `O_NONBLOCK`,
    /// a regular file).
    ///
    /// Written at offset 0, so it must be ours and have one link: a hard link
    /// planted at the name would otherwise have its target's first bytes
    /// overwritten with our record (issue 19). Created 0600 whatever `fileMode`
    /// says: `flock` works on a read-only descriptor, so anyone who can read the
    /// lock file can hold it and block every refresh forever. An existing wider
    /// mode (files created before this rule, or by a `chmod`) is used but
    /// reported (`lockFileModeTooWide`). In a directory shared on purpose the
    /// other users must open it too: there it takes `fileMode`, and another
    /// user's lock file is accepted (docs/cli.md, `--allow-shared-dir`).
    private func openLockFile() throws(MetadataCacheError) -> Int32 {
        let shared = options.allowSharedDirectory
        let (fd, status) = try directory.openFile(
            layout.lockName, flags: O_RDWR | O_CREAT, mode: shared ? mode_t(options.fileMode) : 0o600,
            operation: "open lock file", requirement: .ownedSingleLink(sharedDirectory: shared))
        if !shared, status.permissions & 0o077 != 0 {
            observer?.observe(.lockFileModeTooWide(lockPath: layout.lockPath, permissions: status.permissions))
        }
        return fd
    }

    private static func readRecord(fd: Int32, sys: SystemCalls) -> HolderRecord? {
        var buffer = [UInt8](repeating: 0, count: HolderRecordSlot.size)
        let n = (try? buffer.withUnsafeMutableBytes { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: "lock file")
        }) ?? 0
        return HolderRecordSlot.parse(buffer[0..<n])
    }

    // MARK: Lock file

    /// How often a lock-file waiter re-examines the owner file when nothing wakes
    /// it. Fixed, not a growing backoff: with a backoff, a waiter that has waited
    /// long polls rarely, and a stream of newcomers polling every few milliseconds
    /// overtakes it until it times out (issue 15). Woken by inotify on this
    /// machine, a waiter only relies on it for changes made on other NFS clients.
    static let ownerFilePollInterval: Duration = .milliseconds(50)

    private func acquireOwnerFile(
        timeout: LockTimeout, started: ContinuousClock.Instant, cancellation: [CancellationToken], reentrancy: Reentrancy,
        registration: Registration, flockKnownUnsupported: Bool
    ) throws(MetadataCacheError) -> HeldWriterLock {
        let owner = OwnerFileLock(
            layout: layout, directory: directory, fileMode: mode_t(options.fileMode), leaseDuration: options.leaseDuration,
            sabotage: options.lockFileSabotage, syncsRecords: !(fileSystem?.isKnownLocal ?? false))
        let lockPath = layout.ownerPath
        // NAME.lock, opened exactly as the advisory backend opens it (we publish
        // our record into its slot for advisory waiters), for the flock that
        // excludes advisory writers (see the type's documentation).
        let flockFD = try openLockFile()
        var keepFlockFD = false
        defer { if !keepFlockFD { sys.closeIgnoringErrors(flockFD) } }
        var flockUsable = !flockKnownUnsupported
        let clock = ContinuousClock()
        let deadline = timeout.duration.map { started + $0 }
        var announced = false
        var nextProgress = started + BlockingFlockWait.progressInterval
        let cancelFDs = cancellation.map(\.pollDescriptor).filter { $0 >= 0 }
        // This waiter's observations of owner files (and claims) whose holders it
        // cannot check by pid: a lease expires by this process's clock only.
        var watch = LeaseWatch()
        var changes: OwnerFileChangeWatch?
        var watchingChanges = false
        while true {
            let record = HolderRecord.forCurrentProcess(
                backend: .lockFile, leaseSeconds: options.leaseDuration.seconds)
            // The advisory side first. Where flock works, wait for it in the
            // kernel's queue, exactly as an advisory writer does: every waiter is
            // woken by the release and none polls, which keeps this backend as
            // fair as the advisory one (a non-blocking attempt plus polling let
            // newcomers overtake long waiters until they timed out).
            var holdsFlock = false
            if flockUsable {
                do throws(MetadataCacheError) {
                    if try sys.tryFlock(flockFD, path: layout.lockPath) {
                        holdsFlock = true
                    } else {
                        // Held through NAME.lock: by an advisory writer, or by a
                        // lock-file writer (which also published its record there).
                        let holder = readRecord(fd: flockFD) ?? (try? owner.readOwner())?.record
                            ?? readRecordOrKernelHolder(fd: flockFD)
                        try waitInKernelQueue(
                            fd: flockFD, eventPath: lockPath, holder: holder, timeout: timeout, started: started,
                            cancellation: cancellation, reentrancy: reentrancy, key: registration.key,
                            announced: &announced)
                        holdsFlock = true
                    }
                } catch .io(_, _, let errno) where errno.meansLockingUnsupported {
                    // No flock on this filesystem: the case this backend exists
                    // for. Owner files alone exclude (no advisory writer can run).
                    flockUsable = false
                }
            }
            let attempt: OwnerFileLock.Attempt
            do throws(MetadataCacheError) {
                attempt = try owner.attempt(
                    record: record, watch: &watch, noHolderCanLive: holdsFlock && flockExcludesEveryWriter
                ) { holder, reason in
                    observer?.observe(.staleLockBroken(lockPath: lockPath, holder: holder, reason: reason))
                }
            } catch {
                if holdsFlock { try? sys.unlock(flockFD, path: layout.lockPath) }
                throw error
            }
            let now = clock.now
            switch attempt {
            case let .acquired(ownership):
                if holdsFlock {
                    // Our record in NAME.lock's slot, as an advisory holder
                    // publishes it: advisory waiters and self-deadlock checks read
                    // it there. Cleared before the unlock (HeldWriterLock.release).
                    publish(HolderRecordSlot(record), fd: flockFD)
                    keepFlockFD = true
                }
                let waited = announced ? now - started : .zero
                HeldWriterLocks.register(registration.key, record, holder: registration.holder)
                observer?.observe(.lockAcquired(lockPath: lockPath, backend: .lockFile, waited: waited))
                let hold = HeldWriterLock.OwnerFileHold(
                    lock: owner, ownership: ownership,
                    renewal: owner.startRenewing(fd: ownership.fd, lockPath: lockPath, observer: observer))
                return HeldWriterLock(
                    directory: directory, backend: .lockFile, lockPath: lockPath, registryKey: registration.key, record: record, waited: waited,
                    timeout: timeout, acquisitionStarted: started, flockFD: holdsFlock ? flockFD : nil, ownerFile: hold,
                    sys: sys, observer: observer,
                    excludesEveryWriter: holdsFlock && flockExcludesEveryWriter)
            case let .held(holder):
                if holdsFlock {
                    // An owner file of a live holder (another NFS client, or one
                    // whose lease this waiter is still watching): give the flock
                    // back while we wait, so others can examine it too.
                    try? sys.unlock(flockFD, path: layout.lockPath)
                }
                try refuseSelfDeadlock(holder: holder, reentrancy: reentrancy, key: registration.key)
                let waited = now - started
                if timeout == .immediate || (deadline.map { now >= $0 } ?? false) {
                    observer?.observe(.lockTimedOut(lockPath: lockPath, waited: waited, holder: holder))
                    throw .lockTimeout(lockPath: lockPath, timeout: timeout, waited: waited, holder: holder)
                }
                if cancellation.contains(where: \.isCancelled) {
                    observer?.observe(.lockWaitCancelled(lockPath: lockPath, waited: waited))
                    throw .cancelled(lockPath: lockPath, waited: waited)
                }
                if !announced {
                    observer?.observe(.lockWaitStarted(lockPath: lockPath, holder: holder, timeout: timeout))
                    announced = true
                } else if now >= nextProgress {
                    let remaining = timeout.duration.map { $0 > waited ? $0 - waited : .zero }
                    observer?.observe(.lockWaitProgress(lockPath: lockPath, elapsed: waited, remaining: remaining, holder: holder))
                }
                while nextProgress <= now { nextProgress += BlockingFlockWait.progressInterval }
                // Owner files give no wake-up of their own: wake on the owner
                // file's removal or replacement on this machine (inotify), or at
                // the next fixed poll, or on cancellation.
                if !watchingChanges {
                    watchingChanges = true
                    // The open directory itself (its /proc/self/fd link), not the
                    // path: a wake-up hint must not come from a swapped-in directory.
                    changes = OwnerFileChangeWatch.make(directory: "/proc/self/fd/\(directory.descriptor)", name: layout.ownerName)
                }
                var sleep = min(Self.ownerFilePollInterval, nextProgress - now)
                if let deadline { sleep = min(sleep, deadline - now) }
                var entries = (cancelFDs + (changes.map { [$0.descriptor] } ?? [])).map {
                    pollfd(fd: $0, events: Int16(POLLIN), revents: 0)
                }
                _ = poll(&entries, nfds_t(entries.count), max(1, Int32(clamping: Int64(sleep.milliseconds.rounded(.up)))))
                _ = changes?.drain()
            }
        }
    }

    // MARK: Self-deadlock

    /// Where an acquisition registers in `HeldWriterLocks` once it holds the lock.
    private struct Registration {
        let key: HeldWriterLocks.Key
        let holder: ExecutionContextID
    }

    private func refuseSelfDeadlock(
        holder: HolderRecord?, reentrancy: Reentrancy, key: HeldWriterLocks.Key
    ) throws(MetadataCacheError) {
        if let (holder, ancestor) = Self.selfDeadlockHolder(holder, reentrancy: reentrancy, registryKey: key) {
            throw .selfDeadlock(lockPath: layout.lockPath, holder: holder, holderIsAncestor: ancestor)
        }
    }

    /// The holder and whether it is an ancestor, when waiting for it would never end:
    /// it is one of our ancestors (it waits for us, its child), or it is this very
    /// process and re-entrant acquisition is refused.
    private static func selfDeadlockHolder(
        _ holder: HolderRecord?, reentrancy: Reentrancy, registryKey: HeldWriterLocks.Key
    ) -> (HolderRecord, Bool)? {
        // Only a pid of our own pid namespace on this kernel can be us or our
        // ancestor; the same number elsewhere is another process.
        guard let holder, holder.sharesPidNamespaceWithThisProcess else { return nil }
        if holder.pid == ProcessIdentity.currentPID {
            if reentrancy == .refuse, HeldWriterLocks.entry(registryKey) != nil { return (holder, false) }
            return nil
        }
        guard let ancestorStartTime = ProcessIdentity.ancestorStartTime(of: holder.pid) else { return nil }
        let sameProcess = holder.processStartTime == nil || ancestorStartTime == nil
            || holder.processStartTime == ancestorStartTime
        return sameProcess ? (holder, true) : nil
    }
}
