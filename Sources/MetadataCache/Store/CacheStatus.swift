#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A store's state for humans and monitoring (`metacache cache status`).
public struct CacheStatus: Sendable {
    public enum Integrity: Sendable, Equatable {
        case ok
        case corrupt(CacheCorruption)
        /// Intact, but written by a newer MetadataCache (see `MetadataCacheError.newerFormat`).
        case newerFormat(version: UInt16, unknownFlags: UInt16)
        case missing

        public var name: String {
            switch self {
            case .ok: "ok"
            case .corrupt: "corrupt"
            case .newerFormat: "newer-format"
            case .missing: "missing"
            }
        }
    }

    public struct LockState: Sendable {
        public let held: Bool
        public let backend: LockBackendKind
        /// Who holds it, when held and the holder published a readable record.
        public let holder: HolderRecord?

        public init(held: Bool, backend: LockBackendKind, holder: HolderRecord?) {
            self.held = held
            self.backend = backend
            self.holder = holder
        }
    }

    public let path: String
    public let integrity: Integrity
    /// Header facts when the cache exists and its header verifies.
    public let version: CachedVersion?
    public let fileSize: Int?
    public let payloadBytes: Int?
    public let lock: LockState
    /// Temp files present that no live writer owns (crashed commits).
    public let orphanTemps: [String]
    /// The failure memory of refreshes: nil after a success (or none ever failed).
    public var refreshFailure: RefreshFailureRecord?
    /// The running background refresh's pid (0: running, pid not yet published);
    /// nil when none runs.
    public var backgroundRefreshPID: Int32?

    public var exists: Bool { integrity != .missing }

    public init(
        path: String, integrity: Integrity, version: CachedVersion?, fileSize: Int?, payloadBytes: Int?,
        lock: LockState, orphanTemps: [String]
    ) {
        self.path = path
        self.integrity = integrity
        self.version = version
        self.fileSize = fileSize
        self.payloadBytes = payloadBytes
        self.lock = lock
        self.orphanTemps = orphanTemps
    }
}

/// What `CacheStore.sweep()` did.
public struct SweepReport: Sendable {
    public let removed: [String]
    /// Set when the lock was held by another process: nothing could be proven
    /// orphaned, so nothing was removed.
    public let skippedBecauseHeldBy: HolderRecord?
    public let skipped: Bool
    /// Leftover files not examined because a sweep does a bounded amount of work
    /// (`OrphanSweeper.maximumExaminedPerSweep`); run the sweep again for them.
    public let left: Int

    public init(removed: [String], skippedBecauseHeldBy: HolderRecord?, skipped: Bool, left: Int = 0) {
        self.removed = removed
        self.skippedBecauseHeldBy = skippedBecauseHeldBy
        self.skipped = skipped
        self.left = left
    }
}

extension CacheStore {
    /// The store's state. Reads and verifies the cache fully; looks at the lock
    /// without waiting and without creating any file.
    public func status() throws(MetadataCacheError) -> CacheStatus {
        // The same directory safety rules as `read`: status must not report on a
        // cache that every other command refuses.
        guard let directory = try openDirectoryIfPresent() else {
            let planned = WriterLockAcquisition.plannedBackend(layout: layout, options: options, fileSystem: nil)
            return CacheStatus(
                path: cachePath, integrity: .missing, version: nil, fileSize: nil, payloadBytes: nil,
                lock: CacheStatus.LockState(held: false, backend: planned, holder: nil), orphanTemps: [])
        }
        let reader = CacheFileReader(directory: directory)
        var integrity = CacheStatus.Integrity.missing
        var version: CachedVersion?
        var fileSize: Int?
        var payloadBytes: Int?
        do {
            if let snapshot = try reader.read(layout.cacheName) {
                integrity = .ok
                fileSize = snapshot.fileSize
                payloadBytes = snapshot.payload.count
            }
        } catch .corruptCache(_, let problem) {
            integrity = .corrupt(problem)
            fileSize = ((try? directory.status(of: layout.cacheName)) ?? nil).map { Int($0.size) }
        } catch .newerFormat(_, let version, let flags) {
            integrity = .newerFormat(version: version, unknownFlags: flags)
            fileSize = ((try? directory.status(of: layout.cacheName)) ?? nil).map { Int($0.size) }
        }
        if integrity != .missing, let header = try? reader.readHeader(layout.cacheName)?.header {
            version = CachedVersion(header)
        }
        let lock = lockState(in: directory)
        let sweeper = OrphanSweeper(
            layout: layout, directory: directory, observer: nil, leaseDuration: options.leaseDuration,
            proof: .creatorProvablyDead)
        let temps = sweeper.tempFiles()
        // A temp file is orphaned when nobody holds the lock, or when the creator
        // named in it is provably dead (the holder may be mid-commit with its own).
        let orphans = temps.filter { path in
            !lock.held || sweeper.isOrphan(path.split(separator: "/").last.map(String.init) ?? "")
        }
        var status = CacheStatus(
            path: cachePath, integrity: integrity, version: version, fileSize: fileSize, payloadBytes: payloadBytes,
            lock: lock, orphanTemps: orphans)
        status.refreshFailure = refreshFailure()
        status.backgroundRefreshPID = backgroundRefreshPID()
        return status
    }

    /// Whether the writer lock is held, by whom, under which backend.
    ///
    /// Lock-free and harmless to writers: it never takes, waits for or creates a
    /// lock or a file. It reads the owner file (lock-file backend), then — on
    /// Linux — the kernel's lock table (`/proc/locks`) for an exclusive `flock` on
    /// `NAME.lock`'s inode, and reads the holder record only when one is held, so
    /// a crashed holder's leftover record is never reported as a holder.
    ///
    /// Why not simply try the lock: a probe with a shared non-blocking `flock`,
    /// however brief, makes a writer's non-blocking attempt at that instant fail
    /// (`metacache cache sweep` and `--lock-timeout 0` report a timeout; a normal
    /// refresh prints a spurious "Waiting…"). That probe remains only the fallback
    /// where there is no `/proc/locks` (Darwin, `/proc` not mounted).
    ///
    /// Limits of the lock table: a holder in another pid namespace (a container
    /// sharing the directory with the host) is not listed, and is reported as not
    /// holding; where the table names the file by a different device than `stat`
    /// (btrfs subvolumes, some stacked filesystems) a lock on the same inode
    /// counts when its pid is the one in the published holder record.
    public func lockState() -> CacheStatus.LockState {
        guard let directory = try? openDirectoryIfPresent() else {
            let planned = WriterLockAcquisition.plannedBackend(layout: layout, options: options, fileSystem: nil)
            return CacheStatus.LockState(held: false, backend: planned, holder: nil)
        }
        return lockState(in: directory)
    }

    private func lockState(in directory: CacheDirectoryHandle) -> CacheStatus.LockState {
        let owner = OwnerFileLock(
            layout: layout, directory: directory, fileMode: 0o600, leaseDuration: options.leaseDuration)
        let lockFile = (try? directory.status(of: layout.lockName)) ?? nil
        let fileSystem = fileSystem(of: directory)
        let table = KernelLockTable.current()
        if let current = try? owner.readOwner(), owner.provableStaleness(of: current) == nil {
            // An owner file without a record, on a local filesystem where no one
            // holds NAME.lock's flock (which every live lock-file holder there
            // holds): a holder killed before writing its record, not a holder.
            // (Only for a record-less file: the lock table does not list holders
            // in other pid namespaces, whose records still say who holds.)
            let noFlockHeld = lockFile.map { file in table.map { $0.exclusiveFlocks(onInode: file.inode).isEmpty } ?? false }
                ?? true  // no NAME.lock at all: nobody can hold its flock
            let leftover = current.record == nil && fileSystem?.isKnownLocal == true && noFlockHeld
            if !leftover { return CacheStatus.LockState(held: true, backend: .lockFile, holder: current.record) }
        }
        let planned = acquisition(in: directory).plannedBackend
        let free = CacheStatus.LockState(held: false, backend: planned, holder: nil)
        guard let lockFile, lockFile.kind == .regular else { return free }
        if let table {
            let locks = table.exclusiveFlocks(onInode: lockFile.inode)
            guard !locks.isEmpty else { return free }
            let record = readHolderSlot(in: directory)
            let held = locks.contains { $0.isOnDevice(lockFile.device) }
                || locks.contains { lock in record.map { $0.sharesPidNamespaceWithThisProcess && $0.pid == lock.pid } ?? false }
            guard held else { return free }
            // A holder that has not published a record (it took the flock
            // itself): the pid the kernel names, rather than no one.
            let holder = record ?? table.unpublishedHolder(ofFile: lockFile)
            return CacheStatus.LockState(held: true, backend: record?.backend ?? .advisory, holder: holder)
        }
        return probeWithSharedLock(planned: planned, in: directory)
    }

    /// The record in `NAME.lock`'s slot (nil if blank or malformed).
    private func readHolderSlot(in directory: CacheDirectoryHandle) -> HolderRecord? {
        guard let (fd, _) = try? directory.openFile(layout.lockName, flags: O_RDONLY, operation: "open lock file") else {
            return nil
        }
        defer { sys.closeIgnoringErrors(fd) }
        var buffer = [UInt8](repeating: 0, count: HolderRecordSlot.size)
        let n = (try? buffer.withUnsafeMutableBytes { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: lockPath)
        }) ?? 0
        return HolderRecordSlot.parse(buffer[0..<n])
    }

    /// The fallback without a kernel lock table: a shared non-blocking attempt,
    /// released at once. It never blocks a writer for longer than that attempt,
    /// but a writer's own non-blocking attempt in that instant sees the lock busy.
    private func probeWithSharedLock(planned: LockBackendKind, in directory: CacheDirectoryHandle) -> CacheStatus.LockState {
        let free = CacheStatus.LockState(held: false, backend: planned, holder: nil)
        guard let (fd, _) = try? directory.openFile(layout.lockName, flags: O_RDONLY, operation: "open lock file") else {
            return free
        }
        defer { sys.closeIgnoringErrors(fd) }
        guard let unlocked = try? sys.tryFlock(fd, exclusive: false, path: lockPath) else { return free }
        if unlocked {
            try? sys.unlock(fd, path: lockPath)
            return free
        }
        let record = readHolderSlot(in: directory)
        return CacheStatus.LockState(held: true, backend: record?.backend ?? .advisory, holder: record)
    }

    /// Removes orphaned temp files and stale owner files now, if the writer lock is
    /// free (tried without waiting). If another process holds the lock, nothing is
    /// provably orphaned and nothing is removed.
    public func sweep() throws(MetadataCacheError) -> SweepReport {
        guard try openDirectoryIfPresent() != nil else {
            return SweepReport(removed: [], skippedBecauseHeldBy: nil, skipped: false)
        }
        do {
            var options = self.options
            options.sweepOnOpen = false
            let store = try CacheStore(directory: directory, name: name, options: options)
            let writer = try store.acquireWriterLock(timeout: .immediate)
            let (removed, left) = OrphanSweeper(holding: writer.lock, store: store, directory: writer.lock.directory)
                .sweepWhileHoldingLockCountingLeft()
            return SweepReport(removed: removed, skippedBecauseHeldBy: nil, skipped: false, left: left)
        } catch .lockTimeout(_, _, _, let holder) {
            return SweepReport(removed: [], skippedBecauseHeldBy: holder, skipped: true)
        }
    }

    /// Verifies the cache fully. Returns the snapshot, nil when missing; throws
    /// `corruptCache` when it fails verification.
    public func verify() throws(MetadataCacheError) -> CacheSnapshot? {
        try read()
    }

    /// Under the writer lock, moves a corrupt cache aside (never deleting it) so the
    /// next refresh rebuilds it. Returns the new path, or nil if the cache is fine
    /// or missing; a newer format's file is left in place (`newerFormat`). Blocks
    /// the calling thread while waiting for the lock.
    @available(*, noasync, message: "blocks the thread while waiting for the lock; call it from a thread of your own")
    public func moveCorruptCacheAside(timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil)
        throws(MetadataCacheError) -> String?
    {
        let writer = try acquireWriterLock(timeout: timeout, cancellation: cancellation)
        return try writer.moveCorruptCacheAside()
    }
}
