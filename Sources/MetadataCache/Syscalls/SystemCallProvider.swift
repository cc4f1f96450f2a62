#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The raw system calls the library makes on files, one method per call.
///
/// This is the seam tests use to inject failures and crashes at any step of the
/// commit protocol (`FaultInjectingSystemCalls`, target SystemCallFaults). Implementations perform exactly
/// one attempt and report failure as a thrown `Errno`, *including* `EINTR` and short
/// transfers: retrying is the job of `SystemCalls`, which wraps a provider and is the
/// only place in the library where interruption and partial writes are handled.
package protocol SystemCallProvider: Sendable {
    func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32
    func close(_ fd: Int32) throws(Errno)
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int
    func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int
    /// Gathers `buffers`, in order, into one `writev`; returns the bytes written
    /// (possibly fewer than all of them).
    func writev(_ fd: Int32, from buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int
    func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) -> Int
    /// Flushes file data and metadata to stable storage (`F_FULLFSYNC` on Darwin,
    /// where plain `fsync` only reaches the drive's volatile cache).
    func fsync(_ fd: Int32) throws(Errno)
    /// `fsync` of a directory descriptor; separate so tests can fail it alone.
    func fsyncDirectory(_ fd: Int32) throws(Errno)
    func ftruncate(_ fd: Int32, length: Int64) throws(Errno)
    func fstat(_ fd: Int32) throws(Errno) -> FileStatus
    func lstat(_ path: String) throws(Errno) -> FileStatus
    func rename(_ from: String, to: String) throws(Errno)
    func link(_ from: String, to: String) throws(Errno)
    func unlink(_ path: String) throws(Errno)
    func mkdir(_ path: String, mode: mode_t) throws(Errno)
    func flock(_ fd: Int32, operation: Int32) throws(Errno)
    /// Sets the file's modification time to now (lease renewal for owner files).
    func touch(_ fd: Int32) throws(Errno)
    /// Bytes available to an unprivileged user on the filesystem holding `path`;
    /// nil when the filesystem does not report its size (`statvfs` says
    /// `f_blocks == 0`: LazyFS and other FUSE or network mounts that return all
    /// zeros, a tmpfs without a size limit). Unknown is not full.
    func availableBytes(_ path: String) throws(Errno) -> UInt64?
    /// The filesystem type holding `path` (`statfs`), for backend selection.
    func fileSystemType(_ path: String) throws(Errno) -> FileSystemType
    /// Names in a directory, excluding `.` and `..`.
    func listDirectory(_ path: String) throws(Errno) -> [String]

    // MARK: Relative to a directory descriptor
    //
    // The cache directory is opened once (`CacheDirectoryHandle`) and every store
    // file is reached relative to that descriptor: a path is resolved again at
    // each call, so a directory swapped by someone who can write an ancestor
    // would redirect a path-based call, never one of these. `name` is one entry
    // of the directory (no `/`). `FaultInjectingSystemCalls` counts each under
    // the kind of its path-based twin (`openat` is an `open`), so fault plans
    // such as `open@.tmp-=ENOSPC` mean the same call as before.

    /// `openat(dirfd, name, flags, mode)`.
    func openat(_ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32
    /// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`: the entry itself, never a
    /// symlink's target.
    func fstatat(_ dirfd: Int32, _ name: String) throws(Errno) -> FileStatus
    /// `renameat(dirfd, from, dirfd, to)`: both names in the same directory.
    func renameat(_ dirfd: Int32, _ from: String, to: String) throws(Errno)
    /// `linkat(dirfd, from, dirfd, to, 0)`.
    func linkat(_ dirfd: Int32, _ from: String, to: String) throws(Errno)
    /// `unlinkat(dirfd, name, 0)`.
    func unlinkat(_ dirfd: Int32, _ name: String) throws(Errno)
    /// `mkdirat(dirfd, name, mode)`.
    func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t) throws(Errno)
    /// `readlinkat(dirfd, name)`: a symlink's target text.
    func readlinkat(_ dirfd: Int32, _ name: String) throws(Errno) -> String
    /// Names in the directory `fd` (read through `fdopendir` of a `dup`, so `fd`
    /// stays open and its position untouched), excluding `.` and `..`.
    func listDirectory(fd: Int32) throws(Errno) -> [String]
    /// `fstatvfs`: as `availableBytes(_:)`, for an open directory.
    func availableBytes(fd: Int32) throws(Errno) -> UInt64?
    /// `fstatfs`: as `fileSystemType(_:)`, for an open directory.
    func fileSystemType(fd: Int32) throws(Errno) -> FileSystemType

    #if os(Linux)
    /// `inotify_init1(IN_CLOEXEC | IN_NONBLOCK)`: a change-notification instance
    /// for a cache watch. (Default: the real call, see `LiveSystemCallProvider`.)
    func inotifyInit() throws(Errno) -> Int32
    /// `inotify_add_watch`: the watch descriptor.
    func inotifyAddWatch(_ fd: Int32, path: String, mask: UInt32) throws(Errno) -> Int32
    #endif
}

/// What `statfs` says about a filesystem, reduced to the question the lock backend
/// selection asks: do advisory locks on it mean anything across machines?
package struct FileSystemType: Sendable, Equatable, CustomStringConvertible {
    package var name: String
    package var isNetworkFileSystem: Bool

    package init(name: String, isNetworkFileSystem: Bool) {
        self.name = name
        self.isNetworkFileSystem = isNetworkFileSystem
    }

    package var description: String { name }

    #if os(Linux)
    /// Linux `f_type` magic numbers of network filesystems (linux/magic.h and the
    /// filesystems' own headers). Advisory locks on these are either not coherent
    /// across clients or depend on a lock daemon that may be missing, so `auto`
    /// uses owner files there. This list is a first filter only: mounts missing from
    /// it (WSL drvfs, 9p, virtiofs, FUSE) are caught by probing the lock call.
    static func fromLinuxMagic(_ magic: UInt64) -> FileSystemType {
        switch magic {
        case 0x6969: FileSystemType(name: "nfs", isNetworkFileSystem: true)
        case 0x517B: FileSystemType(name: "smb", isNetworkFileSystem: true)
        case 0xFF53_4D42: FileSystemType(name: "cifs", isNetworkFileSystem: true)
        case 0xFE53_4D42: FileSystemType(name: "smb2", isNetworkFileSystem: true)
        case 0x5346_414F: FileSystemType(name: "afs", isNetworkFileSystem: true)
        case 0x6B41_4653: FileSystemType(name: "afs", isNetworkFileSystem: true)
        case 0x00C3_6400: FileSystemType(name: "ceph", isNetworkFileSystem: true)
        case 0x0BD0_0BD0: FileSystemType(name: "lustre", isNetworkFileSystem: true)
        case 0x4750_4653: FileSystemType(name: "gpfs", isNetworkFileSystem: true)
        case 0x0102_1997: FileSystemType(name: "9p", isNetworkFileSystem: false)
        case 0x6573_5546: FileSystemType(name: "fuse", isNetworkFileSystem: false)
        case 0xEF53: FileSystemType(name: "ext4", isNetworkFileSystem: false)
        case 0x5846_5342: FileSystemType(name: "xfs", isNetworkFileSystem: false)
        case 0x9123_683E: FileSystemType(name: "btrfs", isNetworkFileSystem: false)
        case 0x0102_1994: FileSystemType(name: "tmpfs", isNetworkFileSystem: false)
        case 0x794C_7630: FileSystemType(name: "overlayfs", isNetworkFileSystem: false)
        case 0x2FC1_2FC1: FileSystemType(name: "zfs", isNetworkFileSystem: false)
        default: FileSystemType(name: "0x" + String(magic, radix: 16), isNetworkFileSystem: false)
        }
    }
    #endif
}
