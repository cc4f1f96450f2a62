import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call layer under which the writer lock locks nothing
/// (`--sabotage lock-bypass`), with either backend: `flock` pretends to succeed,
/// and the lock-file backend's owner file `NAME.lock.owner` is quietly a file of
/// this process's own (`NAME.lock.owner.bypass-PID`), which nobody else ever
/// contends for. Every other call is the real one.
///
/// Guarantee: with this provider, no writer ever waits, so concurrent writers
/// really do hold "the lock" at once — the situation the single-writer and
/// lost-update checks exist to catch — and each writer still removes its own
/// owner file when it releases, so the directory ends as clean as ever.
package struct LockBypassingSystemCalls: SystemCallProvider {
    private let base = LiveSystemCallProvider()
    private let ownerSuffix = ".lock.owner"
    private let privateSuffix = ".bypass-\(getpid())"

    package init() {}

    /// The owner file's path becomes this process's private one.
    private func redirect(_ path: String) -> String {
        path.hasSuffix(ownerSuffix) ? path + privateSuffix : path
    }

    package func flock(_ fd: Int32, operation: Int32) throws(Errno) {}

    package func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try base.open(redirect(path), flags: flags, mode: mode)
    }
    package func close(_ fd: Int32) throws(Errno) { try base.close(fd) }
    package func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try base.read(fd, into: buffer)
    }
    package func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try base.pread(fd, into: buffer, at: offset)
    }
    package func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try base.write(fd, from: buffer)
    }
    package func writev(_ fd: Int32, from buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        try base.writev(fd, from: buffers)
    }
    package func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try base.pwrite(fd, from: buffer, at: offset)
    }
    package func fsync(_ fd: Int32) throws(Errno) { try base.fsync(fd) }
    package func fsyncDirectory(_ fd: Int32) throws(Errno) { try base.fsyncDirectory(fd) }
    package func ftruncate(_ fd: Int32, length: Int64) throws(Errno) { try base.ftruncate(fd, length: length) }
    package func fstat(_ fd: Int32) throws(Errno) -> FileStatus { try base.fstat(fd) }
    package func lstat(_ path: String) throws(Errno) -> FileStatus { try base.lstat(redirect(path)) }
    package func rename(_ from: String, to: String) throws(Errno) { try base.rename(redirect(from), to: redirect(to)) }
    package func link(_ from: String, to: String) throws(Errno) { try base.link(redirect(from), to: redirect(to)) }
    package func unlink(_ path: String) throws(Errno) { try base.unlink(redirect(path)) }
    package func mkdir(_ path: String, mode: mode_t) throws(Errno) { try base.mkdir(path, mode: mode) }
    package func touch(_ fd: Int32) throws(Errno) { try base.touch(fd) }
    package func availableBytes(_ path: String) throws(Errno) -> UInt64? { try base.availableBytes(path) }
    package func fileSystemType(_ path: String) throws(Errno) -> FileSystemType { try base.fileSystemType(path) }
    package func listDirectory(_ path: String) throws(Errno) -> [String] { try base.listDirectory(path) }
    package func openat(_ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try base.openat(dirfd, redirect(name), flags: flags, mode: mode)
    }
    package func fstatat(_ dirfd: Int32, _ name: String) throws(Errno) -> FileStatus { try base.fstatat(dirfd, redirect(name)) }
    package func renameat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try base.renameat(dirfd, redirect(from), to: redirect(to))
    }
    package func linkat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try base.linkat(dirfd, redirect(from), to: redirect(to))
    }
    package func unlinkat(_ dirfd: Int32, _ name: String) throws(Errno) { try base.unlinkat(dirfd, redirect(name)) }
}
