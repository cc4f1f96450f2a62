import MetadataCache

/// Renders a refresh's download on a terminal, from the library's fetch events:
/// nothing for a fetch that ends within `delay` (300 ms: a local file, a fast
/// server), then one live line — source, bytes received of the total when known,
/// rate, elapsed time, how to cancel — rewritten on every `fetchProgress` event
/// (the library sends at most five a second; the fetchers report at least ten),
/// and erased when the fetch ends, so the result line takes its place.
///
/// It draws nothing when disabled: stderr is not a terminal (a log gets no
/// carriage returns) or `--quiet`. `--events` records the same events either way.
public final class FetchProgressPrinter: CacheObserver {
    /// How long a fetch runs before its line appears.
    public static let defaultDelay: Duration = .milliseconds(300)
    /// The window the rate is measured over.
    static let rateWindow: Duration = .seconds(3)

    private struct State {
        var fetching = false
        var drawn = false
        /// (elapsed, received) samples within `rateWindow` of the latest.
        var samples: [(Duration, Int)] = []
    }

    private let source: String
    private let liveLine: TerminalLiveLine
    private let enabled: Bool
    private let delay: Duration
    private let state = LockedValue(State())

    public init(source: String, liveLine: TerminalLiveLine, enabled: Bool, delay: Duration = defaultDelay) {
        self.source = source
        self.liveLine = liveLine
        self.enabled = enabled
        self.delay = delay
    }

    public func observe(_ event: CacheEvent) {
        guard enabled else { return }
        state.withLock { state in
            switch event {
            case .fetchStarted:
                state = State(fetching: true)
            case let .fetchProgress(_, received, expected, elapsed):
                guard state.fetching else { return }
                state.samples.append((elapsed, received))
                state.samples.removeAll { elapsed - $0.0 > Self.rateWindow }
                guard elapsed >= delay else { return }
                let line = FetchProgressLine(
                    source: source, received: received, expected: expected, bytesPerSecond: Self.rate(state.samples), elapsed: elapsed)
                liveLine.draw { width in width.map { line.fitted(width: $0) } ?? line.text }
                state.drawn = true
            case .fetchFinished:
                if state.drawn { liveLine.end(with: nil) }
                state = State()
            default:
                return
            }
        }
    }

    /// Bytes per second between the oldest and newest sample, once they are at
    /// least half a second apart.
    static func rate(_ samples: [(Duration, Int)]) -> Double? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let span = (last.0 - first.0).seconds
        guard span >= 0.5 else { return nil }
        return Double(last.1 - first.1) / span
    }
}
