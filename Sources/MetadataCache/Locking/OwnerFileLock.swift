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
/// live owner file at a time, and a holder's file is removed only by that holder or
/// after it is proven dead (same host: its pid is gone or now names a different
/// process) or presumed dead (other host: it stopped renewing its lease).
///
/// Used where kernel locks are absent or not coherent across machines. Unlike an
/// advisory lock, an owner file outlives a crashed holder, so the two hard parts are
/// stale detection and never deleting someone else's file:
/// - Creation uses `O_CREAT|O_EXCL`, atomic on local filesystems and on NFSv3+.
/// - Removal (release or breaking a stale file) first *renames* the owner file to a
///   unique name, which only one process can do, then checks that the renamed file
///   is the one it meant (same inode). If not — a new holder created it in between —
///   it is linked back. A plain "read, compare, unlink" would delete the next
///   holder's file in the gap between compare and unlink.
/// - The holder renews its lease by touching the file's mtime every third of the
///   lease, from a background thread, so a slow fetch is not mistaken for death.
package struct OwnerFileLock: Sendable {
    package let layout: StoreLayout
    package let sys: SystemCalls
    package let fileMode: mode_t
    package let leaseDuration: Duration

    package enum Attempt {
        case acquired(fd: Int32, inode: UInt64)
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
                    let inode = try sys.fstat(fd, path: layout.ownerPath).inode
                    return .acquired(fd: fd, inode: inode)
                } catch {
                    sys.closeIgnoringErrors(fd)
                    sys.unlinkIgnoringErrors(layout.ownerPath)
                    throw error
                }
            } catch .io(_, _, .fileExists) {
                guard let current = try readOwner() else { continue }  // vanished: retry
                if let reason = staleness(of: current.record, status: current.status) {
                    if try breakOwnerFile(expectedInode: current.status.inode) {
                        onBreak(current.record, reason)
                    }
                    continue
                }
                return .held(current.record)
            }
        }
        return .held(nil)
    }

    /// The current owner file's record (nil if malformed) and status; nil if absent.
    package func readOwner() throws(MetadataCacheError) -> (record: HolderRecord?, status: FileStatus)? {
        let fd: Int32
        do {
            fd = try sys.open(layout.ownerPath, flags: O_RDONLY | O_NOFOLLOW, operation: "open lock owner file")
        } catch .io(_, _, .noSuchFile) {
            return nil
        }
        defer { sys.closeIgnoringErrors(fd) }
        let status = try sys.fstat(fd, path: layout.ownerPath)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = try withMutableBytes(of: &buffer) { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: layout.ownerPath)
        }
        return (HolderRecord(parsing: buffer[0..<n]), status)
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

    /// Removes the owner file if it is still the one with `expectedInode`; returns
    /// whether it was removed. Never removes another holder's file (see type docs).
    @discardableResult
    package func breakOwnerFile(expectedInode: UInt64) throws(MetadataCacheError) -> Bool {
        let aside = layout.path(
            of: layout.ownerBreakPrefix + "\(ProcessIdentity.currentPID)-" + Hex.format(UInt64.random(in: 0...UInt64.max)))
        // Rename aside first, then check what we moved: an unlink by name could
        // remove a file a new holder created a moment ago (the bug kopi's fallback
        // has). rename is atomic, so exactly one breaker gets the file; if its
        // inode is not the expected one it is put back below.
        do {
            try sys.rename(layout.ownerPath, to: aside)
        } catch .io(_, _, .noSuchFile) {
            return false  // someone else removed it first
        }
        let moved = try sys.lstatIfExists(aside)
        if moved?.inode == expectedInode {
            sys.unlinkIgnoringErrors(aside)
            return true
        }
        // We moved a newer holder's file: put it back unless yet another holder has
        // created one meanwhile (then the moved holder finds its file gone at commit
        // and reports the lock lost rather than writing).
        do {
            try sys.link(aside, to: layout.ownerPath)
        } catch .io(_, _, .fileExists) {}
        sys.unlinkIgnoringErrors(aside)
        return false
    }

    /// Whether the owner file at the path is still ours.
    package func stillOwned(inode: UInt64) -> Bool {
        (try? sys.lstatIfExists(layout.ownerPath))??.inode == inode
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
