import MetadataCache

/// Writes a writer's enter/exit records from inside the library's critical
/// section, by observing its events.
///
/// Guarantee: `enter` is appended when the library reports the lock acquired
/// (`lockAcquired`, emitted after the kernel granted it) and `exit` when it
/// reports the commit finished (`commitSucceeded`/`commitFailed`, emitted before
/// the guard releases the lock), so every recorded interval lies inside the real
/// hold. Both are appended synchronously, on the thread doing the work. A hold
/// the library ends without any commit event (an error under the lock before the
/// commit) is closed by a `released` record when `lockReleased` arrives, so it is
/// never taken for a writer that vanished holding the lock. Temps the store sweeps
/// are logged (`swept`), so a leak swept mid-run is still seen.
final class WriterLogHooks: CacheObserver, Sendable {
    private struct State {
        var operation = 0
        var attempt: UInt64 = 0
        var payloadReady: UInt64 = 0
        /// Between `enter` and `exit`/`released`.
        var holding = false
    }

    /// Called inside the hold, right after `enter` and right before `exit` (or
    /// `released`): where a sabotage that acts on the held lock hooks in.
    struct HoldCallbacks: Sendable {
        var entered: @Sendable (_ lockPath: String) -> Void
        var leaving: @Sendable () -> Void
    }

    private let log: WriterIntervalLog
    private let pid: Int32
    private let worker: Int
    private let slot: Int
    private let role: WriterRole
    private let state = LockedValue(State())
    private let callbacks: HoldCallbacks?

    init(log: WriterIntervalLog, pid: Int32, worker: Int, slot: Int, role: WriterRole, callbacks: HoldCallbacks? = nil) {
        self.log = log
        self.pid = pid
        self.worker = worker
        self.slot = slot
        self.role = role
        self.callbacks = callbacks
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
        callbacks?.leaving()
        let now = MonotonicClock.nanoseconds()
        let s = state.withLock {
            $0.holding = false
            return $0
        }
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
        case let .lockAcquired(lockPath, _, _):
            let now = MonotonicClock.nanoseconds()
            let s = state.withLock {
                $0.holding = true
                return $0
            }
            log.append(.enter(
                time: now, attempt: s.attempt, pid: pid, worker: worker, slot: slot, role: role, operation: s.operation))
            callbacks?.entered(lockPath)
        case .lockReleased:
            let wasHolding = state.withLock { s in
                let holding = s.holding
                s.holding = false
                return holding
            }
            if wasHolding {
                callbacks?.leaving()
                log.append(.released(time: MonotonicClock.nanoseconds(), pid: pid, worker: worker, slot: slot, role: role))
            }
        case let .sweepRemoved(path, _):
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let safe = String(name.map { $0.isWhitespace ? "?" : $0 })
            log.append(.swept(time: MonotonicClock.nanoseconds(), pid: pid, worker: worker, name: safe))
        case let .commitSucceeded(_, generation, _, _, _):
            exit(committed: true, generation: generation)
        case .commitFailed:
            exit(committed: false, generation: 0)
        default:
            break
        }
    }
}
