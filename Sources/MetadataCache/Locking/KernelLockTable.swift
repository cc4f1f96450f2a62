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

/// The kernel's table of file locks, as Linux publishes it in `/proc/locks`: who
/// holds an exclusive `flock` on which file — learnt without taking any lock.
///
/// Guarantee: reading it never takes, waits for or creates anything, so it cannot
/// make a writer's non-blocking `flock` fail (a shared `flock` probe can: while
/// the probe holds its shared lock, a writer's `LOCK_EX|LOCK_NB` sees the lock
/// busy).
///
/// Format, one lock per line (the device as hex major:minor, the inode decimal):
///
///     1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
///     1: -> FLOCK  ADVISORY  WRITE 5678 fd:01:5678 0 EOF     (a blocked waiter)
///
/// Limits, documented where `status` uses it: the kernel lists only locks of
/// processes visible in the reader's pid namespace (a holder in another
/// container is not shown), and names a file by its superblock's device, which
/// on btrfs subvolumes and some stacked filesystems differs from `stat`'s
/// `st_dev` (callers may match on the inode plus the holder's pid instead).
package struct KernelLockTable: Sendable {
    /// A granted exclusive `flock`.
    package struct ExclusiveFlock: Sendable, Equatable {
        package var pid: Int32
        package var major: UInt64
        package var minor: UInt64
        package var inode: UInt64

        /// Whether this lock is on a file whose `stat` device number is `device`
        /// (Linux `dev_t` encoding, as glibc's `major()`/`minor()` decode it).
        package func isOnDevice(_ device: UInt64) -> Bool {
            let major = ((device >> 8) & 0xFFF) | ((device >> 32) & 0xFFFF_F000)
            let minor = (device & 0xFF) | ((device >> 12) & 0xFFFF_FF00)
            return self.major == major && self.minor == minor
        }
    }

    /// Every granted exclusive `flock` in the table (waiters, shared locks and
    /// other kinds of lock are left out).
    package let exclusiveFlocks: [ExclusiveFlock]

    /// The exclusive flocks on files with inode number `inode` (on any device).
    /// A stand-in holder record for the process this table says holds an
    /// exclusive `flock` on `file`, for a lock file whose holder slot is blank:
    /// its pid, the command from `/proc/PID/cmdline`, and the text saying where
    /// the pid came from. Nil when no process of this pid namespace holds one.
    package func unpublishedHolder(ofFile file: FileStatus) -> HolderRecord? {
        guard let lock = exclusiveFlocks(onInode: file.inode).first(where: { $0.isOnDevice(file.device) }) else { return nil }
        let command = Self.commandLine(of: lock.pid) ?? "?"
        return HolderRecord(
            pid: lock.pid, host: ProcessIdentity.hostName, processStartTime: ProcessIdentity.startTime(of: lock.pid),
            command: command + "; it has not published who it is, pid from /proc/locks", acquiredAt: Date(),
            backend: .advisory, leaseID: "", bootID: ProcessIdentity.bootID, machineID: ProcessIdentity.machineID,
            pidNamespace: ProcessIdentity.pidNamespace)
    }

    /// `/proc/PID/cmdline` with spaces for the NUL separators, at most 200 bytes.
    private static func commandLine(of pid: Int32) -> String? {
        #if os(Linux)
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 200)
        var n = -1
        repeat { n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } } while n < 0 && errno == EINTR
        guard n > 0 else { return nil }
        let words = buffer[0..<n].split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let first = words.first else { return nil }
        let program = first.split(separator: "/").last.map(String.init) ?? first
        return ([program] + words.dropFirst()).joined(separator: " ")
        #else
        return nil
        #endif
    }

    package func exclusiveFlocks(onInode inode: UInt64) -> [ExclusiveFlock] {
        exclusiveFlocks.filter { $0.inode == inode }
    }

    /// Parses the text of `/proc/locks`; lines it does not understand are skipped.
    package init(parsing text: String) {
        var found: [ExclusiveFlock] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // "N:" "FLOCK" "ADVISORY" "WRITE" pid dev:ino start end; a waiter has
            // "->" after the number and is not a holder.
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE", let pid = Int32(fields[4]) else {
                continue
            }
            let identity = fields[5].split(separator: ":")
            guard identity.count == 3, let major = UInt64(identity[0], radix: 16),
                let minor = UInt64(identity[1], radix: 16), let inode = UInt64(identity[2])
            else { continue }
            found.append(ExclusiveFlock(pid: pid, major: major, minor: minor, inode: inode))
        }
        exclusiveFlocks = found
    }

    /// The current table; nil where there is none to read (not Linux, or `/proc`
    /// not mounted): then callers fall back to a shared-lock probe.
    package static func current() -> KernelLockTable? {
        #if os(Linux)
        let fd = open("/proc/locks", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // A /proc file reports size 0: read until end of file.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += chunk[0..<n]
            } else if n == 0 {
                break
            } else if errno != EINTR {
                return nil
            }
        }
        return KernelLockTable(parsing: String(decoding: bytes, as: UTF8.self))
        #else
        return nil
        #endif
    }
}
