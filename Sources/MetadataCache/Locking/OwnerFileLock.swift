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
import Synchronization

/// The lock-file backend: mutual exclusion by exclusive creation of `NAME.lock.owner`.
///
/// Guarantee: among processes using this backend on one store, at most one holds a
/// live owner file at a time, and a holder's file is removed only by that holder
/// (recognised by its lease id) or after it is proven dead (same host: its pid is
/// gone or now names a different process) or presumed dead (other host: it
/// stopped renewing its lease) — never a newer holder's file, even one that got
/// the same inode number.
///
/// This type is the owner file alone; the acquisition (`WriterLockAcquisition`)
/// pairs it with a non-blocking `flock` on `NAME.lock` where that works, so that
/// advisory-backend writers are excluded as well.
///
/// Used where kernel locks are absent or not coherent across machines. Unlike an
/// advisory lock, an owner file outlives a crashed holder, so the two hard parts are
/// stale detection and never deleting someone else's file:
/// - Creation uses `O_CREAT|O_EXCL`, atomic on local filesystems and on NFSv3+.
/// - Removal (release, breaking a stale file, cleaning up a failed creation) first
///   *renames* the owner file to a unique name, which only one process can do,
///   then reads what it moved and checks that it is the file it meant; if not — a
///   new holder created it in between — it is linked back. A plain "read,
///   compare, unlink" would delete the next holder's file in the gap between
///   compare and unlink.
/// - "The file it meant" is decided by content, not by inode number alone:
///   inode numbers are reused (ext4 and xfs hand a freed inode to the next file
///   created; on NFS another client's unlink frees it even while we hold it
///   open), so two breakers of one stale file could otherwise see the second
///   remove a new holder's file that received the same number. Our own file is
///   the one carrying our lease id (64 random bits); a stale file is the one with
///   the lease id that was judged stale — or, for a malformed record, the same
///   inode, size *and* modification time as observed (a new holder's file, even
///   still empty, has a fresh mtime) — and that is still stale now.
/// - The holder renews its lease by touching the file's mtime every third of the
///   lease, from a background thread, so a slow fetch is not mistaken for death.
package struct OwnerFileLock: Sendable {
    package let layout: StoreLayout
    package let sys: SystemCalls
    package let fileMode: mode_t
    package let leaseDuration: Duration

    /// An owner file as seen at one instant.
    package struct Observation: Sendable {
        /// Nil when the content is empty, torn or garbage.
        package var record: HolderRecord?
        package var status: FileStatus
    }

    /// What makes a held owner file ours: the descriptor we created it with, its
    /// identity then, and the lease id we wrote into it.
    package struct Ownership: Sendable {
        package let fd: Int32
        package let device: UInt64
        package let inode: UInt64
        package let leaseID: String
    }

    package enum Attempt {
        case acquired(Ownership)
        case held(HolderRecord?)
    }

    /// One attempt: create the owner file, or report who holds it. A stale owner
    /// file is broken (and reported through `onBreak`) and the attempt retried.
    package func attempt(record: HolderRecord, onBreak: (HolderRecord?, String) -> Void) throws(MetadataCacheError) -> Attempt {
        for _ in 0..<8 {
            do throws(MetadataCacheError) {
                let fd = try sys.open(
                    layout.ownerPath, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: fileMode,
                    operation: "create lock owner file")
                do throws(MetadataCacheError) {
                    try withBytes(of: Array(record.encodedJSON().utf8)) { (raw) throws(MetadataCacheError) in
                        try sys.pwriteAll(fd, raw, at: 0, path: layout.ownerPath)
                    }
                    // Make the record visible to other NFS clients now rather than
                    // at close: waiters on other hosts read it to decide staleness.
                    try sys.fsync(fd, path: layout.ownerPath)
                    let status = try sys.fstat(fd, path: layout.ownerPath)
                    return .acquired(Ownership(fd: fd, device: status.device, inode: status.inode, leaseID: record.leaseID))
                } catch {
                    // The record may be missing or half written, so the lease id
                    // cannot identify the file: remove it only if what is at the
                    // path is still the very file our descriptor has (same inode,
                    // size and mtime) — by then a stale-breaker may have replaced it.
                    _ = try? removeIfStillTheOne { moved in isTheFile(of: fd, moved) }
                    sys.closeIgnoringErrors(fd)
                    throw error
                }
            } catch .io(_, _, .fileExists) {
                guard let current = try readOwner() else { continue }  // vanished: retry
                if let reason = staleness(of: current) {
                    if try breakStale(current) {
                        onBreak(current.record, reason)
                    }
                    continue
                }
                return .held(current.record)
            }
        }
        return .held(nil)
    }

    /// The current owner file (record nil if malformed) and its status; nil if absent.
    package func readOwner() throws(MetadataCacheError) -> Observation? {
        try read(layout.ownerPath)
    }

    /// Reads an owner file at `path` (the owner path, or where a remover moved it).
    private func read(_ path: String) throws(MetadataCacheError) -> Observation? {
        let fd: Int32
        do {
            fd = try sys.open(path, flags: O_RDONLY | O_NOFOLLOW, operation: "open lock owner file")
        } catch .io(_, _, .noSuchFile) {
            return nil
        }
        defer { sys.closeIgnoringErrors(fd) }
        let status = try sys.fstat(fd, path: path)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = try withMutableBytes(of: &buffer) { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: path)
        }
        return Observation(record: HolderRecord(parsing: buffer[0..<n]), status: status)
    }

    /// Why an owner file is stale, or nil if its holder may be alive.
    package func staleness(of observation: Observation) -> String? {
        staleness(of: observation.record, status: observation.status)
    }

    /// Why an owner file is stale, or nil if its holder may be alive.
    package func staleness(of record: HolderRecord?, status: FileStatus) -> String? {
        let nowNanoseconds = Int64((Date().timeIntervalSince1970 * 1e9).rounded())
        let silentFor = Duration.nanoseconds(max(0, nowNanoseconds - status.modificationNanoseconds))
        guard let record else {
            // Empty or garbage: a holder that died between creating and writing it,
            // or one still writing. Only silence longer than a lease proves the former.
            return silentFor > leaseDuration
                ? "owner file is malformed and has not been renewed for \(DurationText.format(silentFor))" : nil
        }
        if record.isOnThisHost {
            if !ProcessIdentity.isAlive(pid: record.pid, startTime: record.processStartTime) {
                return "holder pid \(record.pid) is no longer running"
            }
            return nil
        }
        let lease = record.leaseSeconds.map { Duration.milliseconds(Int64($0 * 1000)) } ?? leaseDuration
        return silentFor > lease
            ? "lease of holder on \(record.host) expired (not renewed for \(DurationText.format(silentFor)))" : nil
    }

    /// Removes the stale owner file seen in `observed`; returns whether it did.
    /// Removes it only if the file at the path is still that one (same lease id and
    /// inode; for a malformed record, same inode, size and mtime) and still stale:
    /// never a newer holder's file, nor one whose holder renewed it meanwhile.
    @discardableResult
    package func breakStale(_ observed: Observation) throws(MetadataCacheError) -> Bool {
        try removeIfStillTheOne { moved in
            guard moved.status.device == observed.status.device, moved.status.inode == observed.status.inode else {
                return false
            }
            if let judged = observed.record {
                guard moved.record?.leaseID == judged.leaseID else { return false }
            } else {
                guard moved.record == nil, moved.status.size == observed.status.size,
                    moved.status.modificationNanoseconds == observed.status.modificationNanoseconds
                else { return false }
            }
            return staleness(of: moved) != nil
        }
    }

    /// Removes our own owner file (release); returns whether it did. Only a file
    /// that still carries our lease id is removed — never a holder's that took
    /// over after our lease was judged expired.
    @discardableResult
    package func release(_ ownership: Ownership) throws(MetadataCacheError) -> Bool {
        try removeIfStillTheOne { carries(ownership, $0) }
    }

    /// Whether the file at the owner path is still ours: our inode *and* our lease
    /// id (an inode number alone may have been reused by another holder's file).
    package func isStillOurs(_ ownership: Ownership) -> Bool {
        guard let current = try? readOwner() else { return false }
        return carries(ownership, current)
    }

    private func carries(_ ownership: Ownership, _ observation: Observation) -> Bool {
        observation.status.device == ownership.device && observation.status.inode == ownership.inode
            && observation.record?.leaseID == ownership.leaseID
    }

    /// Whether `observation` describes the very file open as `fd`.
    private func isTheFile(of fd: Int32, _ observation: Observation) -> Bool {
        guard let mine = try? sys.fstat(fd, path: layout.ownerPath) else { return false }
        return mine.device == observation.status.device && mine.inode == observation.status.inode
            && mine.size == observation.status.size
            && mine.modificationNanoseconds == observation.status.modificationNanoseconds
    }

    /// The removal protocol: rename the owner file aside, read what was moved, and
    /// unlink it if `isTheOne`; otherwise put it back. Returns whether it removed.
    private func removeIfStillTheOne(_ isTheOne: (Observation) -> Bool) throws(MetadataCacheError) -> Bool {
        let aside = layout.path(
            of: layout.ownerBreakPrefix + "\(ProcessIdentity.currentPID)-" + Hex.format(UInt64.random(in: 0...UInt64.max)))
        // Rename aside first, then check what we moved: an unlink by name could
        // remove a file a new holder created a moment ago (the bug kopi's fallback
        // has). rename is atomic, so exactly one remover gets the file, and what it
        // reads afterwards can no longer change under it.
        do {
            try sys.rename(layout.ownerPath, to: aside)
        } catch .io(_, _, .noSuchFile) {
            return false  // someone else removed it first
        }
        if let moved = try? read(aside), isTheOne(moved) {
            sys.unlinkIgnoringErrors(aside)
            return true
        }
        // We moved another holder's file: put it back with link (which, unlike
        // rename, never replaces a file), unless yet another holder has created
        // one meanwhile (then the moved holder finds its file gone at commit and
        // reports the lock lost rather than writing).
        do {
            try sys.link(aside, to: layout.ownerPath)
        } catch .io(_, _, .fileExists) {}
        sys.unlinkIgnoringErrors(aside)
        return false
    }

    /// Starts renewing the lease of a held owner file; returns a stop function.
    package func startRenewing(fd: Int32) -> LeaseRenewal {
        LeaseRenewal(fd: fd, sys: sys, path: layout.ownerPath, interval: leaseDuration / 3)
    }
}

/// Touches a held owner file's mtime periodically until stopped.
package final class LeaseRenewal: Sendable {
    private let stopPipe: (read: Int32, write: Int32)?
    private let stopped = Atomic<Bool>(false)

    init(fd: Int32, sys: SystemCalls, path: String, interval: Duration) {
        guard let pipe = WakeupPipe.make() else {
            stopPipe = nil
            return
        }
        stopPipe = pipe
        // The thread renews through its own duplicate descriptor and closes it
        // itself, so releasing the lock never waits for the thread.
        let own = dup(fd)
        let readEnd = pipe.read
        let milliseconds = Int32(clamping: Int64(interval.milliseconds.rounded()))
        let started = OSThread.detach {
            var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, max(1, milliseconds)) == 0 {
                try? sys.touch(own, path: path)
            }
            close(own)
            close(readEnd)
        }
        if !started {
            close(own)
            close(readEnd)
        }
    }

    func stop() {
        guard let stopPipe, !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        close(stopPipe.write)
    }
}
