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
import MetadataCache

/// Reads a payload from a file, a FIFO, a device or standard input, bounded and
/// cancellable.
///
/// Guarantee: returns at most `limit` bytes or throws `tooLarge` (a regular file's
/// size is checked before reading a byte); a signal ends the read promptly with
/// `cancelled`, even while a FIFO has no writer yet or stdin is idle, because
/// every read is preceded by a `poll` that includes the interrupt pipe.
///
/// With a `progress` callback it is called with the bytes read so far (and the
/// file's size when known) after every read and at least every 100 ms while the
/// source is idle, so a refresh reading a slow FIFO shows that it is alive.
///
/// FIFOs are opened with `O_NONBLOCK` so that opening one with no writer does not
/// block in `open` (where a signal could not end it); Linux's `poll` then waits for
/// the first writer's data or hang-up.
public struct SourceReader: Sendable {
    public let limit: Int
    public let interrupts: InterruptSignals

    public init(limit: Int, interrupts: InterruptSignals) {
        self.limit = limit
        self.interrupts = interrupts
    }

    /// A progress callback: bytes read so far, and the total when it is known.
    public typealias Progress = (_ received: Int, _ expected: Int?) -> Void

    public func readFile(_ path: String, progress: Progress? = nil) throws(SourceFailure) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        if fd < 0 {
            let code = Errno(rawValue: errno)
            switch code.rawValue {
            case ENOENT, ENOTDIR: throw .missing(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path, errno: code)
            case ELOOP: throw .notReadable(path: path, what: "a symbolic link loop")
            case ENXIO: throw .notReadable(path: path, what: "a socket or a device without a driver")
            default: throw .readFailed(source: path, errno: code)
            }
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .readFailed(source: path, errno: Errno(rawValue: errno)) }
        var sizeHint: Int?
        switch status.st_mode & S_IFMT {
        case S_IFDIR: throw .notReadable(path: path, what: "a directory")
        case S_IFSOCK: throw .notReadable(path: path, what: "a socket")
        case S_IFREG:
            let size = Int(status.st_size)
            guard size <= limit else { throw .tooLarge(source: path, limit: limit, evidence: .fileSize(size)) }
            sizeHint = size
        default:
            break  // FIFO, character device: read until end of file
        }
        return try readAll(fd, source: path, sizeHint: sizeHint, progress: progress)
    }

    public func readStandardInput(progress: Progress? = nil) throws(SourceFailure) -> Data {
        try readAll(0, source: "stdin", sizeHint: nil, progress: progress)
    }

    func readAll(_ fd: Int32, source: String, sizeHint: Int?, progress: Progress? = nil) throws(SourceFailure) -> Data {
        // One byte beyond the limit tells "exactly at the limit" from "over it".
        let ceiling = limit + 1
        var buffer = [UInt8](repeating: 0, count: min(ceiling, max(sizeHint.map { $0 + 1 } ?? 0, 64 * 1024)))
        var used = 0
        while true {
            if interrupts.isInterrupted { throw .cancelled(source: source, bytesRead: used) }
            progress?(used, sizeHint)
            var entries = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: interrupts.wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&entries, nfds_t(interrupts.wakeDescriptor >= 0 ? 2 : 1), progress == nil ? -1 : 100)
            if ready == 0 { continue }  // a progress tick
            if ready < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .readFailed(source: source, errno: Errno(rawValue: errno))
            }
            if entries[1].revents != 0 || interrupts.isInterrupted { throw .cancelled(source: source, bytesRead: used) }
            if entries[0].revents & Int16(POLLNVAL) != 0 { throw .readFailed(source: source, errno: Errno(rawValue: EBADF)) }
            if used == buffer.count {
                guard buffer.count < ceiling else { break }
                // An array, not `repeatElement`: the stdlib's (optimised) zero fill and
                // memcpy, where a generic sequence append ran byte by byte in a debug
                // build — 1.6 s to grow from 1 to 2 MiB.
                buffer.append(contentsOf: [UInt8](repeating: 0, count: min(ceiling, buffer.count * 2) - buffer.count))
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .readFailed(source: source, errno: Errno(rawValue: errno))
            }
            if n == 0 { break }
            used += n
            if used > limit { break }
        }
        progress?(used, sizeHint)
        guard used <= limit else { throw .tooLarge(source: source, limit: limit, evidence: .receivedBeforeStopping) }
        guard used > 0 else { throw .empty(source: source) }
        return buffer.withUnsafeBytes { Data($0[0..<used]) }
    }
}
