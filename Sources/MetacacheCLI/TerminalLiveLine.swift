import MetadataCache

/// The one line a command keeps rewriting at the bottom of a terminal — the lock
/// wait, then the download — shared by everything that writes to that stderr, so
/// that no two writers ever draw into each other's text.
///
/// Guarantee: a drawn line is rendered for the terminal's width less one column
/// (a wrapped line could not be rewritten with `\r`); `end(with:)` replaces it
/// with a finished line (or erases it); text written through `linesAbove` while a
/// line is live appears above it (erase, text, redraw), never glued to it. Each
/// of these is one `write` under one lock.
public final class TerminalLiveLine: Sendable {
    /// Renders the live line for a width (nil when the width is unknown).
    public typealias Render = @Sendable (_ width: Int?) -> String

    private let output: any OutputChannel
    private let live = LockedValue<Render?>(nil)

    public init(output: any OutputChannel) {
        self.output = output
    }

    static let rewrite = "\r\u{1B}[K"

    /// Draws `render` as the live line, replacing the current one.
    public func draw(_ render: @escaping Render) {
        live.withLock { current in
            output.write(control: Self.rewrite, render(width))
            current = render
        }
    }

    /// Ends the live line: replaced by `line` and a newline, or erased when `line`
    /// is nil. Without a live line, `line` is simply written.
    public func end(with line: String?) {
        live.withLock { current in
            if current != nil {
                output.write(control: Self.rewrite, line.map { $0 + "\n" } ?? "")
                current = nil
            } else if let line {
                output.writeLine(line)
            }
        }
    }

    /// Whether a line is live.
    public var isShowing: Bool { live.withLock { $0 != nil } }

    /// Writes `text` (whole lines) above the live line, if one is showing.
    public func writeAbove(_ text: String) {
        live.withLock { current in
            guard let current else {
                output.write(text)
                return
            }
            output.write(control: Self.rewrite, text + (text.hasSuffix("\n") ? "" : "\n") + current(width))
        }
    }

    /// An output channel for a command's other stderr lines (`DiagnosticLog`).
    public var linesAbove: any OutputChannel { Above(line: self) }

    private var width: Int? { output.columns.flatMap { $0 > 1 ? $0 - 1 : nil } }

    private struct Above: OutputChannel {
        let line: TerminalLiveLine
        var isTerminal: Bool { line.output.isTerminal }
        var columns: Int? { line.output.columns }

        func write(_ bytes: UnsafeRawBufferPointer) throws(OutputChannelError) {
            line.writeAbove(String(decoding: bytes, as: UTF8.self))
        }
    }
}
