#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows a file that other processes append lines to.
///
/// Guarantee: each `poll()` returns, in file order, exactly the complete lines
/// appended since the previous call (without their newlines); a partial last line
/// is kept until its newline arrives. A file that does not exist yet has no lines.
final class AppendedLines {
    private let path: String
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    private var pending: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 1 << 14)

    init(path: String) { self.path = path }
    deinit { if fd >= 0 { close(fd) } }

    func poll() -> [String] {
        if fd < 0 {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { return [] }
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += Int64(n)
            pending += buffer[0..<n]
        }
        var lines: [String] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: pending[start..<newline], as: UTF8.self))
            start = newline + 1
        }
        pending.removeFirst(start)
        return lines
    }
}
