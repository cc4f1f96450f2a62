/// How far a refresh's fetch has come, reported by the host's fetch closure
/// (`request.progress.report(received:expected:)`) and delivered to the store's
/// observer as `CacheEvent.fetchProgress`, so a host renders a download the same
/// way it renders a lock wait.
///
/// Guarantee: calling `report` as often as you like (on every chunk received)
/// costs a clock read and an atomic; the observer receives the first report at
/// once and then at most one every `minimumInterval` (200 ms), plus the first
/// report that says the download is complete (`received >= expected`). `elapsed` in the
/// event is measured from the start of the fetch (the `fetchStarted` event).
public struct FetchProgressReporter: Sendable {
    /// The least time between two `fetchProgress` events of one fetch.
    public static let minimumInterval: Duration = .milliseconds(200)

    private let observer: (any CacheObserver)?
    private let path: String
    private let started: ContinuousClock.Instant
    private let lastSent: Throttle

    /// Nanoseconds since `started` of the last event sent, or -1 before the first;
    /// whether the report completing the download was sent.
    private final class Throttle: Sendable {
        let nanoseconds = AtomicCell<Int64>(-1)
        let completeSent = AtomicCell<Bool>(false)
    }

    init(observer: (any CacheObserver)?, path: String, started: ContinuousClock.Instant) {
        self.observer = observer
        self.path = path
        self.started = started
        self.lastSent = Throttle()
    }

    /// - Parameters:
    ///   - received: bytes of the payload received so far (after any content
    ///     decoding: what will be committed).
    ///   - expected: the total when it is known (a `Content-Length` of an unencoded
    ///     body, a file's size); nil when it is not.
    public func report(received: Int, expected: Int?) {
        guard let observer else { return }
        let elapsed = ContinuousClock.now - started
        let now = Self.nanoseconds(elapsed)
        // The first report that completes the download skips the throttle, once.
        let complete = expected.map { received >= $0 } ?? false
        let bypass = complete && !lastSent.completeSent.exchange(true)
        let last = lastSent.nanoseconds.load()
        if !bypass, last >= 0, now - last < Self.nanoseconds(Self.minimumInterval) { return }
        // One event per interval even when several threads report at once.
        guard lastSent.nanoseconds.compareExchange(expected: last, desired: now).exchanged else { return }
        observer.observe(.fetchProgress(path: path, received: received, expected: expected, elapsed: elapsed))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

/// How a refresh's fetch ended (`CacheEvent.fetchFinished`).
public enum FetchCompletion: Sendable, Equatable {
    /// The fetch produced a payload of this many bytes (validated and committed next).
    case payload(bytes: Int)
    /// The source said the cached payload is current (HTTP 304).
    case notModified
    /// The fetch closure threw; the description of its error.
    case failed(String)
}

extension CacheStore {
    /// Runs a refresh's fetch closure between a `fetchStarted` and a
    /// `fetchFinished` event, handing it a progress reporter for `fetchProgress`.
    func observedFetch(
        current: CachedVersion?, _ fetch: @Sendable (FetchRequest) async throws -> FetchResult
    ) async throws -> FetchResult {
        let observer = options.observer
        let started = ContinuousClock.now
        observer?.observe(.fetchStarted(path: cachePath))
        let request = FetchRequest(
            current: current, progress: FetchProgressReporter(observer: observer, path: cachePath, started: started))
        do {
            let result = try await fetch(request)
            let completion: FetchCompletion
            switch result {
            case let .payload(data, _, _): completion = .payload(bytes: data.count)
            case .notModified: completion = .notModified
            }
            observer?.observe(.fetchFinished(path: cachePath, completion: completion, elapsed: ContinuousClock.now - started))
            return result
        } catch {
            observer?.observe(.fetchFinished(path: cachePath, completion: .failed(String(describing: error)), elapsed: ContinuousClock.now - started))
            throw error
        }
    }
}
