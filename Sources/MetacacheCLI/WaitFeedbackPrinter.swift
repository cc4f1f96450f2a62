#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache
import Synchronization

/// Renders lock-wait events on stderr while a command waits for the writer lock.
///
/// Guarantee: the first line appears as soon as the library reports that the wait
/// started (it does so before blocking, well within 100 ms). On a terminal one
/// line is rewritten in place (`\r`, erase to end of line) on every progress event
/// — twice a second — with elapsed and remaining time, cut to the terminal width
/// so it never wraps; on anything else (a CI log, a file) a new line is written
/// every `lineInterval` (5 s), so logs stay short but show the wait is alive. The
/// wait ends with "Lock acquired after …" (progress, silenced by `--quiet`);
/// timeouts and cancellations are errors, printed by the command even when quiet
/// — this printer only clears its live line for them.
public final class WaitFeedbackPrinter: CacheObserver {
    public enum Style: Sendable { case terminal, lines }

    private struct State {
        var waiting = false
        var liveLine = false
        var nextLineAt: Duration = .zero
    }

    private let text: WaitFeedbackText
    private let output: any OutputChannel
    private let style: Style
    private let quiet: Bool
    private let lineInterval: Duration
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    public init(
        text: WaitFeedbackText, output: any OutputChannel, style: Style, quiet: Bool,
        lineInterval: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.text = text
        self.output = output
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
                show(text.started(holder: holder, timeout: timeout, now: now()), &state)
            case let .lockWaitProgress(_, elapsed, remaining, holder):
                guard state.waiting else { return }
                let line = text.progress(elapsed: elapsed, remaining: remaining, holder: holder, now: now())
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
        state.withLock { state in finish(with: nil, &state) }
    }

    private func show(_ line: String, _ state: inout State) {
        guard !quiet else { return }
        switch style {
        case .terminal:
            output.write("\r\u{1B}[K" + fitted(line))
            state.liveLine = true
        case .lines:
            output.writeLine(line)
        }
    }

    /// Ends the wait display: on a terminal the live line is replaced by `line`
    /// (or erased when nil); in line mode `line` is appended.
    private func finish(with line: String?, _ state: inout State) {
        guard !quiet else { return }
        if state.liveLine {
            output.write("\r\u{1B}[K" + (line.map { fitted($0) + "\n" } ?? ""))
            state.liveLine = false
        } else if let line {
            output.writeLine(line)
        }
    }

    /// The line cut to the terminal width (one column spare), so `\r` rewrites it.
    private func fitted(_ line: String) -> String {
        guard let columns = output.columns, columns > 4, line.count >= columns else { return line }
        return String(line.prefix(columns - 2)) + "…"
    }
}
