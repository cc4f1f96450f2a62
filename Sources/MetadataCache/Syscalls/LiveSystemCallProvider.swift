import CSystemShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real system calls: one attempt each, failures as `Errno`.
package struct LiveSystemCallProvider: SystemCallProvider {
    package init() {}

    @inline(__always)
    private func check(_ result: Int32) throws(Errno) {
        if result == -1 { throw Errno.current }
    }

    @inline(__always)
    private func check(_ result: Int) throws(Errno) -> Int {
        if result == -1 { throw Errno.current }
        return result
    }

    package func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        let fd = path.withCString { Glibc_open($0, flags, mode) }
        if fd == -1 { throw Errno.current }
        return fd
    }

    package func close(_ fd: Int32) throws(Errno) {
        // A close that reports EINTR has still released the descriptor on Linux
        // (and on Darwin for regular files); it must never be retried, or we could
        // close a descriptor another thread has just been given.
        if platformClose(fd) == -1, errno != EINTR { throw Errno.current }
    }

    package func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try check(platformRead(fd, buffer.baseAddress, buffer.count))
    }

    package func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try check(platformPread(fd, buffer.baseAddress, buffer.count, off_t(offset)))
    }

    package func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try check(platformWrite(fd, buffer.baseAddress, buffer.count))
    }

    package func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try check(platformPwrite(fd, buffer.baseAddress, buffer.count, off_t(offset)))
    }

    package func writev(_ fd: Int32, from buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        // writev only reads through iov_base; the C type is merely not const.
        var vectors = buffers.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        return try check(platformWritev(fd, &vectors, Int32(vectors.count)))
    }

    package func fsync(_ fd: Int32) throws(Errno) {
        #if canImport(Darwin)
        // On Darwin fsync() only pushes data to the drive, whose volatile cache may
        // still lose it on power failure; F_FULLFSYNC asks the drive to flush too.
        // Some filesystems (network, FAT) reject it: fall back to plain fsync there.
        if fcntl(fd, F_FULLFSYNC) == 0 { return }
        if errno == EINTR { throw Errno.current }
        #endif
        try check(platformFsync(fd))
    }

    package func fsyncDirectory(_ fd: Int32) throws(Errno) {
        try fsync(fd)
    }

    package func ftruncate(_ fd: Int32, length: Int64) throws(Errno) {
        try check(platformFtruncate(fd, off_t(length)))
    }

    package func fstat(_ fd: Int32) throws(Errno) -> FileStatus {
        var s = stat()
        try check(platformFstat(fd, &s))
        return FileStatus(s)
    }

    package func lstat(_ path: String) throws(Errno) -> FileStatus {
        var s = stat()
        let result = path.withCString { platformLstat($0, &s) }
        try check(result)
        return FileStatus(s)
    }

    package func rename(_ from: String, to: String) throws(Errno) {
        let result = from.withCString { f in to.withCString { t in platformRename(f, t) } }
        try check(result)
    }

    package func link(_ from: String, to: String) throws(Errno) {
        let result = from.withCString { f in to.withCString { t in platformLink(f, t) } }
        try check(result)
    }

    package func unlink(_ path: String) throws(Errno) {
        let result = path.withCString { platformUnlink($0) }
        try check(result)
    }

    package func mkdir(_ path: String, mode: mode_t) throws(Errno) {
        let result = path.withCString { platformMkdir($0, mode) }
        try check(result)
    }

    package func openat(_ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        let fd = name.withCString { platformOpenat(dirfd, $0, flags, mode) }
        if fd == -1 { throw Errno.current }
        return fd
    }

    package func fstatat(_ dirfd: Int32, _ name: String) throws(Errno) -> FileStatus {
        var s = stat()
        try check(name.withCString { platformFstatat(dirfd, $0, &s, AT_SYMLINK_NOFOLLOW) })
        return FileStatus(s)
    }

    package func renameat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try check(from.withCString { f in to.withCString { t in platformRenameat(dirfd, f, dirfd, t) } })
    }

    package func linkat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try check(from.withCString { f in to.withCString { t in platformLinkat(dirfd, f, dirfd, t, 0) } })
    }

    package func unlinkat(_ dirfd: Int32, _ name: String) throws(Errno) {
        try check(name.withCString { platformUnlinkat(dirfd, $0, 0) })
    }

    package func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t) throws(Errno) {
        try check(name.withCString { platformMkdirat(dirfd, $0, mode) })
    }

    package func readlinkat(_ dirfd: Int32, _ name: String) throws(Errno) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = name.withCString { n in
            buffer.withUnsafeMutableBytes { platformReadlinkat(dirfd, n, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        }
        let count = try check(n)
        // A target as long as the buffer may have been cut short.
        guard count < buffer.count else { throw Errno(rawValue: ENAMETOOLONG) }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    package func availableBytes(fd: Int32) throws(Errno) -> UInt64? {
        var s = statvfs()
        try check(fstatvfs(fd, &s))
        return Self.availableBytes(s)
    }

    package func flock(_ fd: Int32, operation: Int32) throws(Errno) {
        try check(platformFlock(fd, operation))
    }

    package func touch(_ fd: Int32) throws(Errno) {
        // A null times pointer means "now" and is permitted to the owner.
        try check(futimens(fd, nil))
    }

    package func availableBytes(_ path: String) throws(Errno) -> UInt64? {
        var s = statvfs()
        let result = path.withCString { statvfs($0, &s) }
        try check(result)
        return Self.availableBytes(s)
    }

    /// What `statvfs` says is available, or nil when it does not know.
    ///
    /// f_bavail: blocks available to unprivileged users. Root may dip into the
    /// reserved blocks, but a cache must not be what fills them. A filesystem that
    /// reports no blocks at all (f_blocks == 0: FUSE filesystems such as LazyFS
    /// answer statfs with zeros, and so does a tmpfs mounted without a size
    /// limit) has not said it is full: it has said nothing.
    package static func availableBytes(_ s: statvfs) -> UInt64? {
        guard UInt64(s.f_blocks) != 0 else { return nil }
        let (bytes, overflow) = UInt64(s.f_bavail).multipliedReportingOverflow(by: UInt64(s.f_frsize))
        return overflow ? .max : bytes
    }

    package func fileSystemType(_ path: String) throws(Errno) -> FileSystemType {
        var magic: UInt64 = 0
        var name = [CChar](repeating: 0, count: 64)
        let result = path.withCString { csystem_statfs_type($0, &magic, &name, Int32(name.count)) }
        try check(result)
        return Self.fileSystemType(magic: magic, name: name)
    }

    package func fileSystemType(fd: Int32) throws(Errno) -> FileSystemType {
        var magic: UInt64 = 0
        var name = [CChar](repeating: 0, count: 64)
        try check(csystem_fstatfs_type(fd, &magic, &name, Int32(name.count)))
        return Self.fileSystemType(magic: magic, name: name)
    }

    private static func fileSystemType(magic: UInt64, name: [CChar]) -> FileSystemType {
        #if os(Linux)
        return FileSystemType.fromLinuxMagic(magic)
        #else
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let network = ["nfs", "smbfs", "afpfs", "webdav", "cifs"].contains(text)
        return FileSystemType(name: text, isNetworkFileSystem: network)
        #endif
    }

    package func listDirectory(_ path: String) throws(Errno) -> [String] {
        guard let dir = path.withCString({ opendir($0) }) else { throw Errno.current }
        defer { closedir(dir) }
        return try Self.names(in: dir)
    }

    package func listDirectory(fd: Int32) throws(Errno) -> [String] {
        // fdopendir takes the descriptor over (closedir closes it) and reads from
        // its file position: a dup shares the open file, not the ownership, and
        // the rewind makes a second listing see every entry again.
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        if copy == -1 { throw Errno.current }
        guard let dir = fdopendir(copy) else {
            let saved = Errno.current
            _ = platformClose(copy)
            throw saved
        }
        defer { closedir(dir) }
        rewinddir(dir)
        return try Self.names(in: dir)
    }

    private static func names(in dir: DirectoryStream) throws(Errno) -> [String] {
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}

#if canImport(Darwin)
private typealias DirectoryStream = UnsafeMutablePointer<DIR>
#else
private typealias DirectoryStream = OpaquePointer
#endif

/// The real directory-relative calls, for providers that do not intercept them
/// (a test's provider that only shortens writes need not know them all).
extension SystemCallProvider {
    package func openat(_ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try LiveSystemCallProvider().openat(dirfd, name, flags: flags, mode: mode)
    }
    package func fstatat(_ dirfd: Int32, _ name: String) throws(Errno) -> FileStatus {
        try LiveSystemCallProvider().fstatat(dirfd, name)
    }
    package func renameat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try LiveSystemCallProvider().renameat(dirfd, from, to: to)
    }
    package func linkat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try LiveSystemCallProvider().linkat(dirfd, from, to: to)
    }
    package func unlinkat(_ dirfd: Int32, _ name: String) throws(Errno) {
        try LiveSystemCallProvider().unlinkat(dirfd, name)
    }
    package func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t) throws(Errno) {
        try LiveSystemCallProvider().mkdirat(dirfd, name, mode: mode)
    }
    package func readlinkat(_ dirfd: Int32, _ name: String) throws(Errno) -> String {
        try LiveSystemCallProvider().readlinkat(dirfd, name)
    }
    package func listDirectory(fd: Int32) throws(Errno) -> [String] {
        try LiveSystemCallProvider().listDirectory(fd: fd)
    }
    package func availableBytes(fd: Int32) throws(Errno) -> UInt64? {
        try LiveSystemCallProvider().availableBytes(fd: fd)
    }
    package func fileSystemType(fd: Int32) throws(Errno) -> FileSystemType {
        try LiveSystemCallProvider().fileSystemType(fd: fd)
    }
}

#if os(Linux)
/// The real inotify calls, for every provider: those that intercept calls
/// (`FaultInjectingSystemCalls`) override them; the others need not know them.
extension SystemCallProvider {
    package func inotifyInit() throws(Errno) -> Int32 {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd == -1 { throw Errno.current }
        return fd
    }

    package func inotifyAddWatch(_ fd: Int32, path: String, mask: UInt32) throws(Errno) -> Int32 {
        let watch = path.withCString { inotify_add_watch(fd, $0, mask) }
        if watch == -1 { throw Errno.current }
        return watch
    }
}
#endif

// Module-qualified spellings of the C functions whose names the provider's own
// methods shadow.
#if canImport(Glibc)
@inline(__always) private func Glibc_open(_ p: UnsafePointer<CChar>, _ f: Int32, _ m: mode_t) -> Int32 { Glibc.open(p, f, m) }
@inline(__always) private func platformClose(_ fd: Int32) -> Int32 { Glibc.close(fd) }
@inline(__always) private func platformRead(_ fd: Int32, _ b: UnsafeMutableRawPointer?, _ n: Int) -> Int { Glibc.read(fd, b, n) }
@inline(__always) private func platformPread(_ fd: Int32, _ b: UnsafeMutableRawPointer?, _ n: Int, _ o: off_t) -> Int { Glibc.pread(fd, b, n, o) }
@inline(__always) private func platformWrite(_ fd: Int32, _ b: UnsafeRawPointer?, _ n: Int) -> Int { Glibc.write(fd, b, n) }
@inline(__always) private func platformPwrite(_ fd: Int32, _ b: UnsafeRawPointer?, _ n: Int, _ o: off_t) -> Int { Glibc.pwrite(fd, b, n, o) }
@inline(__always) private func platformWritev(_ fd: Int32, _ v: UnsafePointer<iovec>, _ n: Int32) -> Int { Glibc.writev(fd, v, n) }
@inline(__always) private func platformFsync(_ fd: Int32) -> Int32 { Glibc.fsync(fd) }
@inline(__always) private func platformFtruncate(_ fd: Int32, _ l: off_t) -> Int32 { Glibc.ftruncate(fd, l) }
@inline(__always) private func platformFstat(_ fd: Int32, _ s: inout stat) -> Int32 { Glibc.fstat(fd, &s) }
@inline(__always) private func platformLstat(_ p: UnsafePointer<CChar>, _ s: inout stat) -> Int32 { Glibc.lstat(p, &s) }
@inline(__always) private func platformRename(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32 { Glibc.rename(a, b) }
@inline(__always) private func platformLink(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32 { Glibc.link(a, b) }
@inline(__always) private func platformUnlink(_ p: UnsafePointer<CChar>) -> Int32 { Glibc.unlink(p) }
@inline(__always) private func platformMkdir(_ p: UnsafePointer<CChar>, _ m: mode_t) -> Int32 { Glibc.mkdir(p, m) }
@inline(__always) private func platformFlock(_ fd: Int32, _ op: Int32) -> Int32 { csystem_flock(fd, op) }
@inline(__always) private func platformOpenat(_ d: Int32, _ p: UnsafePointer<CChar>, _ f: Int32, _ m: mode_t) -> Int32 { Glibc.openat(d, p, f, m) }
@inline(__always) private func platformFstatat(_ d: Int32, _ p: UnsafePointer<CChar>, _ s: inout stat, _ f: Int32) -> Int32 { Glibc.fstatat(d, p, &s, f) }
@inline(__always) private func platformRenameat(_ a: Int32, _ f: UnsafePointer<CChar>, _ b: Int32, _ t: UnsafePointer<CChar>) -> Int32 { Glibc.renameat(a, f, b, t) }
@inline(__always) private func platformLinkat(_ a: Int32, _ f: UnsafePointer<CChar>, _ b: Int32, _ t: UnsafePointer<CChar>, _ x: Int32) -> Int32 { Glibc.linkat(a, f, b, t, x) }
@inline(__always) private func platformUnlinkat(_ d: Int32, _ p: UnsafePointer<CChar>, _ f: Int32) -> Int32 { Glibc.unlinkat(d, p, f) }
@inline(__always) private func platformMkdirat(_ d: Int32, _ p: UnsafePointer<CChar>, _ m: mode_t) -> Int32 { Glibc.mkdirat(d, p, m) }
@inline(__always) private func platformReadlinkat(_ d: Int32, _ p: UnsafePointer<CChar>, _ b: UnsafeMutablePointer<CChar>, _ n: Int) -> Int { Glibc.readlinkat(d, p, b, n) }
#elseif canImport(Darwin)
@inline(__always) private func Glibc_open(_ p: UnsafePointer<CChar>, _ f: Int32, _ m: mode_t) -> Int32 { Darwin.open(p, f, m) }
@inline(__always) private func platformClose(_ fd: Int32) -> Int32 { Darwin.close(fd) }
@inline(__always) private func platformRead(_ fd: Int32, _ b: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.read(fd, b, n) }
@inline(__always) private func platformPread(_ fd: Int32, _ b: UnsafeMutableRawPointer?, _ n: Int, _ o: off_t) -> Int { Darwin.pread(fd, b, n, o) }
@inline(__always) private func platformWrite(_ fd: Int32, _ b: UnsafeRawPointer?, _ n: Int) -> Int { Darwin.write(fd, b, n) }
@inline(__always) private func platformPwrite(_ fd: Int32, _ b: UnsafeRawPointer?, _ n: Int, _ o: off_t) -> Int { Darwin.pwrite(fd, b, n, o) }
@inline(__always) private func platformWritev(_ fd: Int32, _ v: UnsafePointer<iovec>, _ n: Int32) -> Int { Darwin.writev(fd, v, n) }
@inline(__always) private func platformFsync(_ fd: Int32) -> Int32 { Darwin.fsync(fd) }
@inline(__always) private func platformFtruncate(_ fd: Int32, _ l: off_t) -> Int32 { Darwin.ftruncate(fd, l) }
@inline(__always) private func platformFstat(_ fd: Int32, _ s: inout stat) -> Int32 { Darwin.fstat(fd, &s) }
@inline(__always) private func platformLstat(_ p: UnsafePointer<CChar>, _ s: inout stat) -> Int32 { Darwin.lstat(p, &s) }
@inline(__always) private func platformRename(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32 { Darwin.rename(a, b) }
@inline(__always) private func platformLink(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32 { Darwin.link(a, b) }
@inline(__always) private func platformUnlink(_ p: UnsafePointer<CChar>) -> Int32 { Darwin.unlink(p) }
@inline(__always) private func platformMkdir(_ p: UnsafePointer<CChar>, _ m: mode_t) -> Int32 { Darwin.mkdir(p, m) }
@inline(__always) private func platformFlock(_ fd: Int32, _ op: Int32) -> Int32 { csystem_flock(fd, op) }
@inline(__always) private func platformOpenat(_ d: Int32, _ p: UnsafePointer<CChar>, _ f: Int32, _ m: mode_t) -> Int32 { Darwin.openat(d, p, f, m) }
@inline(__always) private func platformFstatat(_ d: Int32, _ p: UnsafePointer<CChar>, _ s: inout stat, _ f: Int32) -> Int32 { Darwin.fstatat(d, p, &s, f) }
@inline(__always) private func platformRenameat(_ a: Int32, _ f: UnsafePointer<CChar>, _ b: Int32, _ t: UnsafePointer<CChar>) -> Int32 { Darwin.renameat(a, f, b, t) }
@inline(__always) private func platformLinkat(_ a: Int32, _ f: UnsafePointer<CChar>, _ b: Int32, _ t: UnsafePointer<CChar>, _ x: Int32) -> Int32 { Darwin.linkat(a, f, b, t, x) }
@inline(__always) private func platformUnlinkat(_ d: Int32, _ p: UnsafePointer<CChar>, _ f: Int32) -> Int32 { Darwin.unlinkat(d, p, f) }
@inline(__always) private func platformMkdirat(_ d: Int32, _ p: UnsafePointer<CChar>, _ m: mode_t) -> Int32 { Darwin.mkdirat(d, p, m) }
@inline(__always) private func platformReadlinkat(_ d: Int32, _ p: UnsafePointer<CChar>, _ b: UnsafeMutablePointer<CChar>, _ n: Int) -> Int { Darwin.readlinkat(d, p, b, n) }
#endif
