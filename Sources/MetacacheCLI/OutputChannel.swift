import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command writes (stdout, stderr): a file descriptor in production, a
/// buffer in unit tests. Writes are whole: a line handed to `write` goes out in
/// one `write(2)` loop under a lock, so lines from the wait-feedback thread and
/// the main thread never interleave mid-line.
public protocol OutputChannel: Sendable {
    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputChannelError)
    /// Whether the channel is a terminal (wait feedback rewrites one line there).
    var isTerminal: Bool { get }
    /// Terminal width in columns, when known.
    var columns: Int? { get }
}

/// Writing to stdout/stderr failed (a closed pipe, a full disk behind a redirect).
public struct OutputChannelError: Error, Sendable, Equatable {
    public let errno: Int32
}

extension OutputChannel {
    /// Writes a message. Whatever it quotes (a path from a config file, a
    /// holder's command, a server's header, an error's text) cannot drive the
    /// terminal: every control character but the message's own newlines and tabs
    /// is shown escaped (`TerminalText.escapedKeepingLayout`). Values are also
    /// escaped where they are interpolated, so a newline from outside shows as
    /// `\x0a`; this is the net under every message that forgot to.
    public func write(_ text: String) {
        writeVerbatim(TerminalText.escapedKeepingLayout(text))
    }

    public func writeLine(_ text: String) { write(text + "\n") }

    /// The program's own terminal control (`TerminalLiveLine`'s carriage return
    /// and erase-line) followed by a message escaped as `write(_:)` does, in one
    /// write so another thread's line cannot land in between.
    func write(control: String, _ text: String) {
        writeVerbatim(control + TerminalText.escapedKeepingLayout(text))
    }

    private func writeVerbatim(_ text: String) {
        var text = text
        text.withUTF8 { bytes in try? write(UnsafeRawBufferPointer(bytes)) }
    }
}

/// A file descriptor, written with a loop that survives short writes and `EINTR`.
public final class FileDescriptorChannel: OutputChannel {
    public let fd: Int32
    public let isTerminal: Bool
    private let lock = LockedValue<Void>(())

    public init(fd: Int32) {
        self.fd = fd
        isTerminal = isatty(fd) == 1
    }

    public static let standardOutput = FileDescriptorChannel(fd: 1)
    public static let standardError = FileDescriptorChannel(fd: 2)

    public var columns: Int? {
        guard isTerminal else { return nil }
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputChannelError) {
        try lock.withLock { _ throws(OutputChannelError) in
            var offset = 0
            while offset < bytes.count {
                let n = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OutputChannelError(errno: errno)
                }
                offset += n
            }
        }
    }
}

/// Collects everything written, for unit tests.
public final class CapturedOutput: OutputChannel {
    private let buffer = LockedValue<[UInt8]>([])
    public let isTerminal: Bool
    public let columns: Int?

    public init(isTerminal: Bool = false, columns: Int? = nil) {
        self.isTerminal = isTerminal
        self.columns = columns
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputChannelError) {
        buffer.withLock { $0.append(contentsOf: bytes) }
    }

    public var bytes: [UInt8] { buffer.withLock { $0 } }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Drops everything: the result line of a refresh that `read` runs in the
/// foreground (stdout carries the payload, and only the payload).
public struct DiscardedOutput: OutputChannel {
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputChannelError) {}
    public var isTerminal: Bool { false }
    public var columns: Int? { nil }
}

/// `write(2)`, named apart from the protocol's `write` so it can be called inside it.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
