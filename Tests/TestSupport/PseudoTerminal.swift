#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A pseudo-terminal pair for testing terminal output: give `secondary` to a child
/// as its stderr, read what it drew from the primary side.
///
/// `posix_openpt`, `grantpt`, `unlockpt` and `ptsname_r` are looked up with `dlsym`:
/// glibc declares them only under `_XOPEN_SOURCE`, which the Swift Glibc module
/// does not define, so they are not importable (nor is `openpty`).
public final class PseudoTerminal: @unchecked Sendable {
    public let primary: Int32
    public let secondary: Int32
    public let secondaryPath: String
    private var collected: [UInt8] = []

    private typealias OpenPT = @convention(c) (Int32) -> Int32
    private typealias PTOperation = @convention(c) (Int32) -> Int32
    private typealias PTSNameR = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32

    public init(columns: UInt16 = 200, rows: UInt16 = 40) throws {
        let handle = dlopen(nil, RTLD_NOW)
        guard let openSymbol = dlsym(handle, "posix_openpt"), let grantSymbol = dlsym(handle, "grantpt"),
            let unlockSymbol = dlsym(handle, "unlockpt"), let nameSymbol = dlsym(handle, "ptsname_r")
        else { throw ChildProcess.Failure(description: "pseudo-terminal functions not found in the C library") }
        let openpt = unsafeBitCast(openSymbol, to: OpenPT.self)
        let grant = unsafeBitCast(grantSymbol, to: PTOperation.self)
        let unlock = unsafeBitCast(unlockSymbol, to: PTOperation.self)
        let name = unsafeBitCast(nameSymbol, to: PTSNameR.self)
        let fd = openpt(O_RDWR | O_NOCTTY)
        guard fd >= 0, grant(fd) == 0, unlock(fd) == 0 else {
            throw ChildProcess.Failure(description: "posix_openpt/grantpt/unlockpt: \(String(cString: strerror(errno)))")
        }
        var buffer = [CChar](repeating: 0, count: 256)
        guard name(fd, &buffer, buffer.count) == 0 else { throw ChildProcess.Failure(description: "ptsname_r failed") }
        let path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let secondary = open(path, O_RDWR | O_NOCTTY)
        guard secondary >= 0 else { throw ChildProcess.Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, UInt(TIOCSWINSZ), &size)
        primary = fd
        self.secondary = secondary
        secondaryPath = path
    }

    deinit {
        close(primary)
        close(secondary)
    }

    /// Everything read from the primary side so far.
    public var output: [UInt8] { collected }
    public var outputText: String { String(decoding: collected, as: UTF8.self) }

    /// Reads until `predicate` holds for everything read so far; throws after `timeout`.
    @discardableResult
    public func read(until predicate: (String) -> Bool, timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while !predicate(outputText) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw ChildProcess.Failure(description: "terminal output did not match within \(timeout); got: \(outputText.debugDescription)")
            }
            var entry = pollfd(fd: primary, events: Int16(POLLIN), revents: 0)
            let ms = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&entry, 1, max(1, ms)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(primary, $0.baseAddress, $0.count) }
            if n > 0 { collected += chunk[0..<n] } else if n < 0 && errno != EINTR && errno != EAGAIN {
                throw ChildProcess.Failure(description: "read from pseudo-terminal: \(String(cString: strerror(errno)))")
            }
        }
        return outputText
    }
}
