#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// Renders lock-wait events on stderr while a command waits for the writer lock.
///
/// Guarantee: the first line appears as soon as the library reports that the wait
/// started (it does so before blocking, well within 100 ms). On a terminal one
/// line is rewritten in place (`\r`, erase to end of line) on every progress event
/// — twice a second — with elapsed and remaining time, fitted to the terminal's
/// width so it never wraps: the path and the holder's command are shortened or
/// dropped first, the timing and "Ctrl-C" kept (`WaitLine`). On anything else
/// (a CI log, a file) a new line is written every `lineInterval` (5 s), so logs
/// stay short but show the wait is alive. The wait ends with "Lock acquired after
/// …" (progress, silenced by `--quiet`); timeouts and cancellations are errors,
/// printed by the command even when quiet — this printer only clears its live
/// line for them.
///
/// Other stderr lines written while the live line shows (`--verbose` debug lines,
/// warnings) go through `linesAboveLiveLine`: the live line is erased, the line
/// printed, and the live line drawn again below it. The live line itself is a
/// `TerminalLiveLine`, which a command shares with its download progress.
public final class WaitFeedbackPrinter: CacheObserver {
    public enum Style: Sendable { case terminal, lines }

    private struct State {
        var waiting = false
        var nextLineAt: Duration = .zero
    }

    private let text: WaitFeedbackText
    private let output: any OutputChannel
    /// The terminal's live line (unused in `.lines` style).
    public let liveLine: TerminalLiveLine
    private let style: Style
    private let quiet: Bool
    private let lineInterval: Duration
    private let now: @Sendable () -> Date
    private let state = LockedValue(State())

    /// - Parameter liveLine: the live line to draw on, when the command shares one
    ///   (with `FetchProgressPrinter`); by default a new one on `output`.
    public init(
        text: WaitFeedbackText, output: any OutputChannel, style: Style, quiet: Bool,
        lineInterval: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { Date() },
        liveLine: TerminalLiveLine? = nil
    ) {
        self.text = text
        self.output = output
        self.liveLine = liveLine ?? TerminalLiveLine(output: output)
        self.style = style
        self.quiet = quiet
        self.lineInterval = lineInterval
        self.now = now
    }

    public func observe(_ event: CacheEvent) {
        state.withLock { state in
            switch event {
            case let .lockWaitStarted(_, holder, timeout):
                state.waiting = true
                state.nextLineAt = lineInterval
                show(text.startedLine(holder: holder, timeout: timeout, now: now()), &state)
            case let .lockWaitProgress(_, elapsed, remaining, holder):
                guard state.waiting else { return }
                let line = text.progressLine(elapsed: elapsed, remaining: remaining, holder: holder, now: now())
                switch style {
                case .terminal:
                    show(line, &state)
                case .lines:
                    guard elapsed >= state.nextLineAt else { return }
                    while state.nextLineAt <= elapsed { state.nextLineAt += lineInterval }
                    show(line, &state)
                }
            case let .lockAcquired(_, _, waited):
                guard state.waiting else { return }
                state.waiting = false
                finish(with: text.acquired(waited: waited), &state)
            case .lockTimedOut, .lockWaitCancelled:
                guard state.waiting else { return }
                state.waiting = false
                finish(with: nil, &state)
            default:
                return
            }
        }
    }

    /// Clears the live line (if any) so an error can take its place. Idempotent.
    public func clearLiveLine() {
        guard !quiet else { return }
        liveLine.end(with: nil)
    }

    /// Writes `text` (whole lines) on stderr above the live line, if one is
    /// showing, and draws the live line again below it.
    public func writeAboveLiveLine(_ text: String) { liveLine.writeAbove(text) }

    /// An output channel for the command's other stderr lines (`DiagnosticLog`)
    /// that keeps them from being written into the middle of the live line.
    public var linesAboveLiveLine: any OutputChannel { liveLine.linesAbove }

    private func show(_ line: WaitLine, _ state: inout State) {
        guard !quiet else { return }
        switch style {
        case .terminal:
            // Fitted to the width less one column, so the cursor never wraps and
            // `\r` rewrites it (the whole line when the width is unknown).
            liveLine.draw { width in width.map { line.fitted(width: $0) } ?? line.text }
        case .lines:
            output.writeLine(line.text)
        }
    }

    /// Ends the wait display: on a terminal the live line is replaced by `line`
    /// (or erased when nil); in line mode `line` is appended. The end line is not
    /// fitted: it ends with a newline and is never rewritten, so it may wrap.
    private func finish(with line: String?, _ state: inout State) {
        guard !quiet else { return }
        liveLine.end(with: line)
    }
}
