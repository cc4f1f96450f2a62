import MetadataCache
import Synchronization

/// Writes a writer's enter/exit records from inside the library's critical
/// section, by observing its events.
///
/// Guarantee: `enter` is appended when the library reports the lock acquired
/// (`lockAcquired`, emitted after the kernel granted it) and `exit` when it
/// reports the commit finished (`commitSucceeded`/`commitFailed`, emitted before
/// the guard releases the lock), so every recorded interval lies inside the real
/// hold. Both are appended synchronously, on the thread doing the work.
final class WriterLogHooks: CacheObserver, Sendable {
    private struct State {
        var operation = 0
        var attempt: UInt64 = 0
        var payloadReady: UInt64 = 0
    }

    private let log: WriterIntervalLog
    private let pid: Int32
    private let worker: Int
    private let slot: Int
    private let role: WriterRole
    private let state = Mutex(State())

    init(log: WriterIntervalLog, pid: Int32, worker: Int, slot: Int, role: WriterRole) {
        self.log = log
        self.pid = pid
        self.worker = worker
        self.slot = slot
        self.role = role
    }

    /// Call before asking the library for the lock.
    func begin(operation: Int) {
        let now = MonotonicClock.nanoseconds()
        state.withLock {
            $0.operation = operation
            $0.attempt = now
            $0.payloadReady = now
        }
    }

    /// Call when the new payload is built and about to be committed.
    func payloadReady() {
        let now = MonotonicClock.nanoseconds()
        state.withLock { $0.payloadReady = now }
    }

    var attempt: UInt64 { state.withLock { $0.attempt } }

    /// For a writer that commits outside the library's protocol (sabotage).
    func exit(committed: Bool, generation: UInt64) {
        let now = MonotonicClock.nanoseconds()
        let s = state.withLock { $0 }
        log.append(.exit(
            time: now, pid: pid, worker: worker, slot: slot, role: role, operation: s.operation, committed: committed,
            generation: generation, commitNanoseconds: now - min(now, s.payloadReady)))
    }

    func timedOut() {
        log.append(.timeout(time: MonotonicClock.nanoseconds(), attempt: attempt, pid: pid, worker: worker, slot: slot, role: role))
    }

    func failed() {
        log.append(.failure(time: MonotonicClock.nanoseconds(), pid: pid, worker: worker, slot: slot, role: role))
    }

    func done() {
        log.append(.done(time: MonotonicClock.nanoseconds(), pid: pid, worker: worker, slot: slot, role: role))
    }

    func observe(_ event: CacheEvent) {
        switch event {
        case .lockAcquired:
            let now = MonotonicClock.nanoseconds()
            let s = state.withLock { $0 }
            log.append(.enter(
                time: now, attempt: s.attempt, pid: pid, worker: worker, slot: slot, role: role, operation: s.operation))
        case let .commitSucceeded(_, generation, _, _, _):
            exit(committed: true, generation: generation)
        case .commitFailed:
            exit(committed: false, generation: 0)
        default:
            break
        }
    }
}
