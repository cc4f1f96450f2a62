#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a lock wait ended.
package enum LockWaitOutcome: Sendable {
    /// The lock is held.
    case acquired
    case timedOut
    /// A cancellation token was cancelled, or the progress callback ended the wait.
    case cancelled
}

/// Waits for an advisory lock by blocking in the kernel, with the process's
/// watchdog keeping time.
///
/// Guarantee: the caller holds the lock when this returns `.acquired`, and does not
/// hold it otherwise; the wait ends within a few milliseconds of the deadline or of
/// a cancellation; no interrupt signal of the wait reaches the caller's code after
/// it returns.
///
/// Why this shape. The handover goal (a waiter acquires within 2× a C program's
/// handover) rules out polling: Python's filelock polls every 50 ms and hands
/// over in ~25 ms. A thread blocked in `flock(LOCK_EX)` is woken by the kernel the
/// moment the lock is released, like a C program (14–34 µs here). So the
/// *calling* thread blocks in `flock` itself — no hand-off to another thread on
/// the critical path. `flock` has no timeout, so the process's one
/// `LockWaitWatchdog` thread keeps time for it: at each progress tick it asks the
/// waiter (with `LockWaitInterruptSignal`) to report, and at the deadline or on
/// cancellation it claims the outcome and interrupts the waiter (repeatedly,
/// because a signal that lands just before the waiter re-enters `flock` would be
/// lost) until the waiter confirms it has stopped.
///
/// Why one shared watchdog and not a thread per wait. A thread per wait cost
/// ~100 µs of CPU to create and tear down, and it had to be dismissed when the
/// lock was released: a wake-up at the very moment of the next handover, which
/// on a 2-core machine competed with the woken waiter for a CPU (figure 4 of
/// `docs/benchmarks.md`). The shared watchdog is told about a wait with one pipe
/// write before the waiter blocks, and is told nothing when the lock is granted:
/// it notices at its next tick or the next registration, and forgets the wait.
///
/// Waiter and watchdog agree on the outcome through one mutex-protected phase:
/// whoever moves it away from `waiting` first decides. If the lock is granted in
/// the same instant the watchdog declares a timeout, the watchdog wins and the
/// lock is given straight back — a late success is reported as the timeout the
/// caller was told.
///
/// Progress events run the host's observer, which may be slow or even block, so
/// they run on the waiting thread, not on the shared watchdog (a blocked observer
/// then delays only its own wait): the watchdog marks a progress tick due and
/// signals; the interrupted waiter reports, with the interrupt signal blocked (a
/// signal meant for `flock` must not interrupt the host's own system calls), and
/// re-enters `flock`. A tick whose signal lands outside `flock` is reported at the
/// next one. No progress event can follow the end of the wait: the waiter reports
/// them itself, inside it.
package enum BlockingFlockWait {
    enum Phase: UInt8 {
        case waiting, acquired, failed
        /// The waiter ended the wait itself: its progress callback said stop.
        case stopped
        /// Claimed by the watchdog.
        case timedOut, cancelled
    }

    /// What the mutex protects.
    struct State {
        var phase = Phase.waiting
        /// The watchdog asked the waiter to report progress (and signalled it).
        var progressDue = false
        /// Progress signals sent to the waiter. The watchdog sends them with the
        /// mutex held and only while the phase is `waiting`, so a waiter that ends
        /// the wait knows whether one may still be pending for its thread.
        var progressSignals = 0
        /// After a watchdog-claimed outcome: the waiter has stopped (and blocked
        /// the signal); the watchdog sends no more.
        var waiterStopped = false
    }

    struct ThreadHandle: @unchecked Sendable { let raw: pthread_t }

    /// One wait, as its waiter and the watchdog share it. Every signal the
    /// watchdog sends the waiter is sent with `state`'s mutex held, after checking
    /// that the waiter still wants it, so the waiter, once it has said so under
    /// the mutex, knows that every signal for it is already queued.
    final class Coordination: Sendable {
        let state = LockedValue(State())
        let waiter: ThreadHandle
        let started: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant?
        let cancellation: [CancellationToken]

        init(started: ContinuousClock.Instant, deadline: ContinuousClock.Instant?, cancellation: [CancellationToken]) {
            self.started = started
            self.deadline = deadline
            self.cancellation = cancellation
            waiter = ThreadHandle(raw: pthread_self())
        }

        /// Polls `fds` for readability; returns the index of the first ready one.
        static func pollReadable(_ fds: [Int32], timeoutMilliseconds: Int32) -> Int? {
            var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let n = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
            guard n > 0 else { return nil }
            return entries.firstIndex { $0.revents != 0 }
        }
    }

    /// Interval between progress callbacks ("at least once per second").
    package static let progressInterval: Duration = .milliseconds(500)

    /// Blocks until `fd`'s exclusive lock is granted, the deadline passes, a token
    /// is cancelled or `progress` returns false. `progress` is called on the
    /// calling thread with the elapsed time, about every `progressInterval`, only
    /// while still waiting.
    package static func wait(
        fd: Int32, lockPath: String, sys: SystemCalls, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, cancellation: [CancellationToken],
        progress: (Duration) -> Bool
    ) throws(MetadataCacheError) -> LockWaitOutcome {
        // The signal must still be ours (a host may have installed its own handler
        // since, or one with SA_RESTART, and then flock would never return EINTR):
        // checked on every wait, before blocking, never after the grant.
        guard LockWaitInterruptSignal.isStillInstalled, let signal = LockWaitInterruptSignal.number else {
            return try pollingWait(
                fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline,
                cancellation: cancellation, progress: progress)
        }
        if cancellation.isEmpty {
            let outcome = try LockWaitInterruptSignal.unblocked { () throws(MetadataCacheError) -> LockWaitOutcome? in
                guard let timer = LockWaitTimer(signal: signal) else { return nil }
                return try timedWait(
                    fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline, timer: timer,
                    progress: progress)
            }
            if let outcome { return outcome }
        }
        guard let watchdog = LockWaitWatchdog.forThisProcess else {
            return try pollingWait(
                fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline,
                cancellation: cancellation, progress: progress)
        }
        let shared = Coordination(started: started, deadline: deadline, cancellation: cancellation)
        return try LockWaitInterruptSignal.unblocked { () throws(MetadataCacheError) -> LockWaitOutcome in
            guard watchdog.watch(shared) else {
                return try pollingWait(
                    fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline,
                    cancellation: cancellation, progress: progress)
            }
            let clock = ContinuousClock()
            var failure: MetadataCacheError?
            var granted = false
            var stop = false
            do throws(MetadataCacheError) {
                granted = try sys.blockingFlock(fd, path: lockPath) {
                    // Interrupted: by the watchdog (a tick, the deadline, a
                    // cancellation), or by a signal of the host's.
                    let (phase, due) = shared.state.withLock { state -> (Phase, Bool) in
                        defer { state.progressDue = false }
                        return (state.phase, state.progressDue)
                    }
                    guard phase == .waiting else { return false }
                    guard due else { return true }
                    if LockWaitInterruptSignal.blocked({ progress(clock.now - started) }) { return true }
                    stop = true
                    return false
                }
            } catch {
                failure = error
            }
            let (final, progressSignals) = shared.state.withLock { state -> (Phase, Int) in
                if state.phase == .waiting { state.phase = granted ? .acquired : stop ? .stopped : .failed }
                return (state.phase, state.progressSignals)
            }
            switch final {
            case .timedOut, .cancelled:
                // The watchdog claimed the outcome. Give back a lock granted in the
                // same instant. Then stop its signals: with the signal blocked, say
                // so under the mutex (it sends none after that), and take the ones
                // already queued, so none reaches the host's next system call.
                if granted { try? sys.unlock(fd, path: lockPath) }
                LockWaitInterruptSignal.blocked {
                    shared.state.withLock { $0.waiterStopped = true }
                    LockWaitInterruptSignal.discardPending()
                }
                return final == .cancelled ? .cancelled : .timedOut
            case .acquired, .failed, .stopped, .waiting:
                // The watchdog sends no signal once the phase has left `waiting`; one
                // it sent before is already queued for this thread (it was sent
                // with the mutex held). One system call with the signal still
                // unblocked delivers it here rather than in the host's code. None
                // was sent in a wait shorter than a progress tick.
                if progressSignals > 0 { LockWaitInterruptSignal.deliverPending() }
                if final == .acquired { return .acquired }
                if final == .stopped { return .cancelled }
                throw failure ?? .io(operation: "flock", path: lockPath, errno: .interrupted)
            }
        }
    }

    /// A wait without cancellation tokens: the waiting thread keeps its own time
    /// with `timer` (see `LockWaitTimer`), which interrupts `flock` at each
    /// progress tick and at the deadline; no other thread is involved. The timer
    /// is deleted when the wait ends, while the signal is still unblocked (the
    /// caller's `unblocked`), so a signal it sent is delivered inside the library.
    private static func timedWait(
        fd: Int32, lockPath: String, sys: SystemCalls, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, timer: consuming LockWaitTimer, progress: (Duration) -> Bool
    ) throws(MetadataCacheError) -> LockWaitOutcome {
        let clock = ContinuousClock()
        var nextProgress = started + progressInterval
        while true {
            let now = clock.now
            if let deadline, now >= deadline { return .timedOut }
            if now >= nextProgress {
                timer.disarm()
                // The host's code, with the signal blocked (see `wait`).
                if !LockWaitInterruptSignal.blocked({ progress(now - started) }) { return .cancelled }
                while nextProgress <= now { nextProgress += progressInterval }
                continue
            }
            var wake = nextProgress
            if let deadline, deadline < wake { wake = deadline }
            timer.arm(after: wake - now, thenEvery: LockWaitWatchdog.interruptRepeat)
            // Interrupted by the timer, or by a signal of the host's: look again.
            if try sys.blockingFlock(fd, path: lockPath, shouldContinue: { false }) { return .acquired }
        }
    }

    /// Fallback when no interrupt signal or watchdog is available: repeated
    /// non-blocking attempts with a short sleep. Correct, but hands over in
    /// milliseconds rather than microseconds.
    private static func pollingWait(
        fd: Int32, lockPath: String, sys: SystemCalls, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, cancellation: [CancellationToken],
        progress: (Duration) -> Bool
    ) throws(MetadataCacheError) -> LockWaitOutcome {
        let clock = ContinuousClock()
        var nextProgress = started + progressInterval
        var pause = Duration.milliseconds(1)
        while true {
            if try sys.tryFlock(fd, path: lockPath) { return .acquired }
            let now = clock.now
            if cancellation.contains(where: \.isCancelled) { return .cancelled }
            if let deadline, now >= deadline { return .timedOut }
            if now >= nextProgress {
                if !progress(now - started) { return .cancelled }
                while nextProgress <= now { nextProgress += progressInterval }
            }
            var sleep = pause
            if let deadline, deadline - now < sleep { sleep = deadline - now }
            let cancelFDs = cancellation.map(\.pollDescriptor).filter { $0 >= 0 }
            _ = Coordination.pollReadable(cancelFDs, timeoutMilliseconds: max(1, Int32(sleep.milliseconds.rounded(.up))))
            pause = min(pause * 2, .milliseconds(20))
        }
    }
}
