#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The library's only door to the operating system for file work.
///
/// Wraps a `SystemCallProvider` (the real one, or a fault-injecting one in tests) and
/// handles, once and for all, the two things every caller would otherwise get wrong:
/// - `EINTR`: a signal (Ctrl-C, `SIGCHLD`, a profiler) interrupts a slow call; the call
///   is simply retried. Only `flock` waits choose to stop, via `shouldContinue`.
/// - short transfers: `write` and `read` may move fewer bytes than asked (signals,
///   pipes, quotas); the loops below continue until everything moved or an error.
///
/// Failures become `MetadataCacheError.io` naming the operation and path, so every
/// error that reaches a user says what was being done to which file.
package struct SystemCalls: Sendable {
    package let provider: any SystemCallProvider

    package init(provider: any SystemCallProvider) { self.provider = provider }

    package static let live = SystemCalls(provider: LiveSystemCallProvider())

    @inline(__always)
    private func retryingInterrupts<T>(
        _ operation: String, _ path: String, _ body: () throws(Errno) -> T
    ) throws(MetadataCacheError) -> T {
        while true {
            do {
                return try body()
            } catch where error == .interrupted {
                continue
            } catch {
                throw .io(operation: operation, path: path, errno: error)
            }
        }
    }

    // MARK: Descriptors

    /// Opens `path`; `O_CLOEXEC` is always added so a host's child processes never
    /// inherit (and so keep alive) a lock or temp-file descriptor.
    package func open(_ path: String, flags: Int32, mode: mode_t = 0o600, operation: String = "open")
        throws(MetadataCacheError) -> Int32
    {
        try retryingInterrupts(operation, path) { () throws(Errno) in
            try provider.open(path, flags: flags | O_CLOEXEC, mode: mode)
        }
    }

    package func close(_ fd: Int32, path: String) throws(MetadataCacheError) {
        do {
            try provider.close(fd)
        } catch {
            throw .io(operation: "close", path: path, errno: error)
        }
    }

    /// Closes on a path where an error could not change the outcome (read-only
    /// descriptors, cleanup after an earlier failure).
    package func closeIgnoringErrors(_ fd: Int32) {
        try? provider.close(fd)
    }

    /// Reads until `buffer` is full or end of file; returns the bytes read.
    package func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String)
        throws(MetadataCacheError) -> Int
    {
        var total = 0
        while total < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[total...])
            let n = try retryingInterrupts("read", path) { () throws(Errno) in try provider.read(fd, into: rest) }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Reads at `offset` until `buffer` is full or end of file; returns the bytes read.
    package func preadFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
        throws(MetadataCacheError) -> Int
    {
        var total = 0
        while total < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[total...])
            let n = try retryingInterrupts("read", path) { () throws(Errno) in
                try provider.pread(fd, into: rest, at: offset + Int64(total))
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Writes every byte of `buffer`, continuing after short writes and interrupts.
    package func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(MetadataCacheError) {
        var offset = 0
        while offset < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
            let n = try retryingInterrupts("write", path) { () throws(Errno) in try provider.write(fd, from: rest) }
            // write(2) returning 0 for a non-empty buffer means no progress is
            // possible; report it rather than spin.
            if n <= 0 { throw .io(operation: "write", path: path, errno: .ioError) }
            offset += n
        }
    }

    /// Writes every byte of `buffers`, in order, with as few system calls as the
    /// kernel allows: one `writev` normally; after a short transfer or an interrupt
    /// the next `writev` starts exactly where the last one stopped.
    package func writeAll(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer], path: String) throws(MetadataCacheError) {
        var rest = buffers.filter { $0.count > 0 }
        while !rest.isEmpty {
            let pending = rest
            let n = try retryingInterrupts("write", path) { () throws(Errno) in try provider.writev(fd, from: pending) }
            // 0 bytes for a non-empty request: no progress is possible; report it.
            if n <= 0 { throw .io(operation: "write", path: path, errno: .ioError) }
            var skip = n
            while let first = rest.first, skip >= first.count {
                skip -= first.count
                rest.removeFirst()
            }
            if skip > 0 { rest[0] = UnsafeRawBufferPointer(rebasing: rest[0][skip...]) }
        }
    }

    /// Writes every byte of `buffer` at `offset` (no shared file position).
    package func pwriteAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String)
        throws(MetadataCacheError)
    {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[done...])
            let n = try retryingInterrupts("write", path) { () throws(Errno) in
                try provider.pwrite(fd, from: rest, at: offset + Int64(done))
            }
            if n <= 0 { throw .io(operation: "write", path: path, errno: .ioError) }
            done += n
        }
    }

    package func fsync(_ fd: Int32, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("fsync", path) { () throws(Errno) in try provider.fsync(fd) }
    }

    package func fsyncDirectory(_ fd: Int32, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("fsync directory", path) { () throws(Errno) in try provider.fsyncDirectory(fd) }
    }

    package func ftruncate(_ fd: Int32, length: Int64, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("truncate", path) { () throws(Errno) in try provider.ftruncate(fd, length: length) }
    }

    package func fstat(_ fd: Int32, path: String) throws(MetadataCacheError) -> FileStatus {
        try retryingInterrupts("fstat", path) { () throws(Errno) in try provider.fstat(fd) }
    }

    package func touch(_ fd: Int32, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("update modification time", path) { () throws(Errno) in try provider.touch(fd) }
    }

    // MARK: Paths

    /// `lstat`; nil when the path does not exist.
    package func lstatIfExists(_ path: String) throws(MetadataCacheError) -> FileStatus? {
        do {
            return try retryingInterrupts("stat", path) { () throws(Errno) in try provider.lstat(path) }
        } catch .io(_, _, .noSuchFile) {
            return nil
        }
    }

    /// One rename attempt (interrupts retried). Backoff for transient failures is a
    /// policy decision that belongs to the caller (`DurableCommit`).
    package func rename(_ from: String, to: String) throws(MetadataCacheError) {
        try retryingInterrupts("rename to \(to)", from) { () throws(Errno) in try provider.rename(from, to: to) }
    }

    package func link(_ from: String, to: String) throws(MetadataCacheError) {
        try retryingInterrupts("link to \(to)", from) { () throws(Errno) in try provider.link(from, to: to) }
    }

    package func unlink(_ path: String) throws(MetadataCacheError) {
        try retryingInterrupts("unlink", path) { () throws(Errno) in try provider.unlink(path) }
    }

    /// Unlinks a file this process created and no longer needs, where failure
    /// cannot make things worse (the orphan sweeper will find it later).
    package func unlinkIgnoringErrors(_ path: String) {
        _ = try? unlink(path)
    }

    package func mkdir(_ path: String, mode: mode_t) throws(MetadataCacheError) {
        try retryingInterrupts("create directory", path) { () throws(Errno) in try provider.mkdir(path, mode: mode) }
    }

    package func availableBytes(_ path: String) throws(MetadataCacheError) -> UInt64? {
        try retryingInterrupts("statvfs", path) { () throws(Errno) in try provider.availableBytes(path) }
    }

    package func fileSystemType(_ path: String) throws(MetadataCacheError) -> FileSystemType {
        try retryingInterrupts("statfs", path) { () throws(Errno) in try provider.fileSystemType(path) }
    }

    package func listDirectory(_ path: String) throws(MetadataCacheError) -> [String] {
        try retryingInterrupts("list directory", path) { () throws(Errno) in try provider.listDirectory(path) }
    }

    // MARK: Relative to a directory descriptor
    //
    // Store files are reached only through `CacheDirectoryHandle`, which calls
    // these with its descriptor; `path` is what errors name (directory + name).

    /// `openat`; `O_CLOEXEC` always added, as for `open`.
    package func openat(
        _ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t = 0o600, path: String, operation: String = "open"
    ) throws(MetadataCacheError) -> Int32 {
        try retryingInterrupts(operation, path) { () throws(Errno) in
            try provider.openat(dirfd, name, flags: flags | O_CLOEXEC, mode: mode)
        }
    }

    /// `fstatat` without following a symlink; nil when the entry does not exist.
    package func fstatatIfExists(_ dirfd: Int32, _ name: String, path: String) throws(MetadataCacheError) -> FileStatus? {
        do {
            return try retryingInterrupts("stat", path) { () throws(Errno) in try provider.fstatat(dirfd, name) }
        } catch .io(_, _, .noSuchFile) {
            return nil
        }
    }

    package func renameat(_ dirfd: Int32, _ from: String, to: String, path: String, toPath: String) throws(MetadataCacheError) {
        try retryingInterrupts("rename to \(toPath)", path) { () throws(Errno) in try provider.renameat(dirfd, from, to: to) }
    }

    package func linkat(_ dirfd: Int32, _ from: String, to: String, path: String, toPath: String) throws(MetadataCacheError) {
        try retryingInterrupts("link to \(toPath)", path) { () throws(Errno) in try provider.linkat(dirfd, from, to: to) }
    }

    package func unlinkat(_ dirfd: Int32, _ name: String, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("unlink", path) { () throws(Errno) in try provider.unlinkat(dirfd, name) }
    }

    package func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("create directory", path) { () throws(Errno) in try provider.mkdirat(dirfd, name, mode: mode) }
    }

    package func readlinkat(_ dirfd: Int32, _ name: String, path: String) throws(MetadataCacheError) -> String {
        try retryingInterrupts("read symbolic link", path) { () throws(Errno) in try provider.readlinkat(dirfd, name) }
    }

    package func listDirectory(fd: Int32, path: String) throws(MetadataCacheError) -> [String] {
        try retryingInterrupts("list directory", path) { () throws(Errno) in try provider.listDirectory(fd: fd) }
    }

    package func availableBytes(fd: Int32, path: String) throws(MetadataCacheError) -> UInt64? {
        try retryingInterrupts("statvfs", path) { () throws(Errno) in try provider.availableBytes(fd: fd) }
    }

    package func fileSystemType(fd: Int32, path: String) throws(MetadataCacheError) -> FileSystemType {
        try retryingInterrupts("statfs", path) { () throws(Errno) in try provider.fileSystemType(fd: fd) }
    }

    #if os(Linux)
    // MARK: Watching

    /// A close-on-exec, non-blocking inotify instance, for watching `path`.
    package func inotifyInit(path: String) throws(MetadataCacheError) -> Int32 {
        try retryingInterrupts("inotify_init1", path) { () throws(Errno) in try provider.inotifyInit() }
    }

    package func inotifyAddWatch(_ fd: Int32, path: String, mask: UInt32) throws(MetadataCacheError) -> Int32 {
        try retryingInterrupts("inotify_add_watch", path) { () throws(Errno) in
            try provider.inotifyAddWatch(fd, path: path, mask: mask)
        }
    }
    #endif

    // MARK: Locks

    /// One non-blocking `flock` attempt. Returns false when another open file
    /// description holds a conflicting lock (`EWOULDBLOCK`).
    package func tryFlock(_ fd: Int32, exclusive: Bool = true, path: String) throws(MetadataCacheError) -> Bool {
        do {
            try retryingInterrupts("flock", path) { () throws(Errno) in
                try provider.flock(fd, operation: (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)
            }
            return true
        } catch .io(_, _, .wouldBlock) {
            return false
        }
    }

    /// Blocks in `flock(LOCK_EX)` until the lock is granted, or until an interrupt
    /// arrives while `shouldContinue()` is false. Returns whether the lock is held.
    package func blockingFlock(_ fd: Int32, path: String, shouldContinue: () -> Bool) throws(MetadataCacheError) -> Bool {
        while true {
            do {
                try provider.flock(fd, operation: LOCK_EX)
                return true
            } catch where error == .interrupted {
                if !shouldContinue() { return false }
            } catch {
                throw .io(operation: "flock", path: path, errno: error)
            }
        }
    }

    package func unlock(_ fd: Int32, path: String) throws(MetadataCacheError) {
        try retryingInterrupts("unlock", path) { () throws(Errno) in try provider.flock(fd, operation: LOCK_UN) }
    }
}
