#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The writing end of a FIFO that a child process reads as its source — a source
/// the test controls byte by byte. Opening it is the synchronisation point: it
/// succeeds only once the reader has opened the FIFO, and `metacache` opens its
/// source only while holding the writer lock.
public final class FIFOWriter: @unchecked Sendable {
    public let path: String
    private var fd: Int32 = -1

    /// Creates the FIFO (mode 0600) at `path`.
    public init(path: String) throws {
        guard mkfifo(path, 0o600) == 0 else {
            throw ChildProcess.Failure(description: "mkfifo \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Waits until a reader has the FIFO open, then opens the write end. The loop
    /// waits for that event (a non-blocking open fails with ENXIO until then).
    public func openWhenReaderArrives(timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let opened = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if opened >= 0 {
                _ = fcntl(opened, F_SETFL, 0)
                fd = opened
                return
            }
            guard errno == ENXIO else { throw ChildProcess.Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
            guard ContinuousClock.now < deadline else {
                throw ChildProcess.Failure(description: "no reader opened \(path) within \(timeout)")
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Closes the write end: the reader sees end of file.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
