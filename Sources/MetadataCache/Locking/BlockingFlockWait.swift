#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a lock wait ended.
package enum LockWaitOutcome: Sendable {
    /// The lock is held; `watchdog`, when there is one, must be dismissed once the
    /// lock is released (see `LockWaitWatchdog`).
    case acquired(watchdog: LockWaitWatchdog?)
    case timedOut
    case cancelled
}

/// Waits for an advisory lock by blocking in the kernel, with a watchdog for the clock.
///
/// Guarantee: the caller holds the lock when this returns `.acquired`, and does not
/// hold it otherwise; the wait ends within a few milliseconds of the deadline or of
/// a cancellation.
///
/// Why this shape. The handover goal (a waiter acquires within 100 µs of release)
/// rules out polling: Python's filelock polls every 50 ms and hands over in ~25 ms.
/// A thread blocked in `flock(LOCK_EX)` is woken by the kernel the moment the lock
/// is released, like a C program (14–34 µs here). So the *calling* thread blocks in
/// `flock` itself — no hand-off to another thread on the critical path — while a
/// detached watchdog thread sleeps in `poll` on the clock and the cancel tokens'
/// pipes. The watchdog emits progress, and at the deadline or on cancellation it
/// claims the outcome and interrupts the waiter with `LockWaitInterruptSignal`
/// (repeatedly, because a signal that lands just before the waiter re-enters
/// `flock` would be lost), until the waiter confirms it has stopped.
///
/// When the lock is granted, the watchdog is not woken: it stays asleep until the
/// lock is released (`LockWaitWatchdog` explains why), and can no longer interrupt.
///
/// The two threads agree on the outcome through one mutex-protected phase: whoever
/// moves it away from `waiting` first decides. If the lock is granted in the same
/// instant the watchdog declares a timeout, the watchdog wins and the lock is given
/// straight back — a late success is reported as the timeout the caller was told.
///
/// Progress events run the host's observer, which may be slow or even block, so
/// the watchdog calls it *outside* the mutex: a grant that arrives meanwhile is
/// claimed at once and the new holder is never queued behind the observer on the
/// mutex. What still holds: no progress event is delivered after `wait` returns.
/// The watchdog marks itself `reporting` (under the mutex, only while the phase
/// is still `waiting`) for the length of the callback, and a waiter that ends the
/// wait during that window waits for the callback to finish before returning.
/// That overlap is rare (a callback takes microseconds, every 500 ms); only then
/// does a slow observer delay a grant — the price of the guarantee.
package enum BlockingFlockWait {
    private enum Phase: UInt8 { case waiting, acquired, failed, timedOut, cancelled }

    /// What the mutex protects.
    private struct State {
        var phase = Phase.waiting
        /// The watchdog is inside the progress callback.
        var reporting = false
        /// The waiter ended the wait while `reporting` and waits on `ack` for the
        /// callback to finish.
        var waiterAwaitsReport = false
    }

    private struct ThreadHandle: @unchecked Sendable { let raw: pthread_t }

    /// State shared by the waiter and its watchdog; owns the pipes, which are closed
    /// only when both threads are done with them.
    private final class Coordination: Sendable {
        let state = LockedValue(State())
        let waiter: ThreadHandle
        /// Waiter -> watchdog: "I have stopped waiting".
        let done: (read: Int32, write: Int32)
        /// Watchdog -> waiter: "I have stopped sending signals" (after a timeout
        /// or cancellation), or "the progress callback has returned" (when the
        /// waiter ended the wait during one). Never both in one wait: the
        /// watchdog signals only after claiming the outcome itself, and reports
        /// only while nobody has.
        let ack: (read: Int32, write: Int32)

        init?() {
            guard let done = WakeupPipe.make() else { return nil }
            guard let ack = WakeupPipe.make() else {
                close(done.read)
                close(done.write)
                return nil
            }
            self.done = done
            self.ack = ack
            waiter = ThreadHandle(raw: pthread_self())
        }

        deinit {
            for fd in [done.read, done.write, ack.read, ack.write] { close(fd) }
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

    /// Blocks until `fd`'s exclusive lock is granted, the deadline passes or a token
    /// is cancelled. `progress` is called on the watchdog thread with the elapsed
    /// time, every `progressInterval`, only while still waiting, and never after
    /// this function has returned.
    package static func wait(
        fd: Int32, lockPath: String, sys: SystemCalls, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, cancellation: [CancellationToken],
        progress: @escaping @Sendable (Duration) -> Void
    ) throws(MetadataCacheError) -> LockWaitOutcome {
        // The signal must still be ours (a host may have installed its own handler
        // since, or one with SA_RESTART, and then flock would never return EINTR):
        // checked on every wait, before blocking, never after the grant.
        guard let signal = LockWaitInterruptSignal.number, LockWaitInterruptSignal.isStillInstalled,
            let shared = Coordination()
        else {
            return try pollingWait(
                fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline,
                cancellation: cancellation, progress: progress)
        }
        return try LockWaitInterruptSignal.unblocked { () throws(MetadataCacheError) -> LockWaitOutcome in
            // A larger stack than a syscall-only thread: the watchdog runs the
            // host's observer (progress events).
            let watchdogStarted = OSThread.detach(stackSize: OSThread.hostCodeStackSize) {
                watch(shared, signal: signal, started: started, deadline: deadline, cancellation: cancellation, progress: progress)
            }
            guard watchdogStarted else {
                return try pollingWait(
                    fd: fd, lockPath: lockPath, sys: sys, started: started, deadline: deadline,
                    cancellation: cancellation, progress: progress)
            }

            var failure: MetadataCacheError?
            var granted = false
            do throws(MetadataCacheError) {
                granted = try sys.blockingFlock(fd, path: lockPath) {
                    shared.state.withLock { $0.phase == .waiting }
                }
            } catch {
                failure = error
            }
            let (final, reportInFlight) = shared.state.withLock { state -> (Phase, Bool) in
                if state.phase == .waiting { state.phase = granted ? .acquired : .failed }
                if state.reporting { state.waiterAwaitsReport = true }
                return (state.phase, state.reporting)
            }
            if reportInFlight {
                // Rare: the wait ended while the watchdog runs a progress callback.
                // Wait for it to return, so that no progress event follows the end
                // of the wait.
                var byte: UInt8 = 0
                while read(shared.ack.read, &byte, 1) == -1 && errno == EINTR {}
            }
            if final == .acquired {
                // Not woken now: the wake-up would compete with the new holder for
                // its CPU at the moment the handover is measured.
                return .acquired(watchdog: LockWaitWatchdog { WakeupPipe.post(shared.done.write) })
            }
            WakeupPipe.post(shared.done.write)
            switch final {
            case .acquired:
                preconditionFailure("handled above")
            case .failed:
                throw failure ?? .io(operation: "flock", path: lockPath, errno: .interrupted)
            case .timedOut, .cancelled, .waiting:
                // The watchdog claimed the outcome. Give back a lock granted in the
                // same instant, then wait until the watchdog has sent its last
                // signal: reading the ack is a system call, so any signal still in
                // flight is delivered here, inside the library, not to the host's
                // next system call.
                if granted { try? sys.unlock(fd, path: lockPath) }
                var byte: UInt8 = 0
                while read(shared.ack.read, &byte, 1) == -1 && errno == EINTR {}
                return final == .cancelled ? .cancelled : .timedOut
            }
        }
    }

    /// The watchdog: sleeps on the clock and the cancel pipes; emits progress;
    /// claims a timeout or cancellation and interrupts the waiter until it stops.
    private static func watch(
        _ shared: Coordination, signal: Int32, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, cancellation: [CancellationToken],
        progress: @Sendable (Duration) -> Void
    ) {
        let clock = ContinuousClock()
        var nextProgress = started + progressInterval
        let cancelFDs = cancellation.map(\.pollDescriptor).filter { $0 >= 0 }
        var stopReason: Phase?
        while stopReason == nil {
            if shared.state.withLock({ $0.phase }) == .acquired {
                // The waiter holds the lock and will dismiss us when it releases;
                // nothing is left to time or cancel.
                while Coordination.pollReadable([shared.done.read], timeoutMilliseconds: -1) == nil {}
                return
            }
            let now = clock.now
            if let deadline, now >= deadline {
                stopReason = .timedOut
                break
            }
            if cancellation.contains(where: \.isCancelled) {
                stopReason = .cancelled
                break
            }
            if now >= nextProgress {
                let elapsed = now - started
                // Outside the mutex (see the type's documentation): claim the
                // right to report while still waiting, report, then release it.
                let report = shared.state.withLock { state -> Bool in
                    guard state.phase == .waiting else { return false }
                    state.reporting = true
                    return true
                }
                if report {
                    progress(elapsed)
                    let waiterIsWaiting = shared.state.withLock { state -> Bool in
                        state.reporting = false
                        return state.waiterAwaitsReport
                    }
                    if waiterIsWaiting { WakeupPipe.post(shared.ack.write) }
                }
                while nextProgress <= now { nextProgress += progressInterval }
            }
            var wake = nextProgress
            if let deadline, deadline < wake { wake = deadline }
            let milliseconds = max(1, Int32(clamping: Int64(((wake - now).milliseconds).rounded(.up))))
            if Coordination.pollReadable([shared.done.read] + cancelFDs, timeoutMilliseconds: milliseconds) == 0 {
                return  // the waiter finished first: nothing to do
            }
        }
        guard let reason = stopReason else { return }
        let claimed = shared.state.withLock { state -> Bool in
            guard state.phase == .waiting else { return false }
            state.phase = reason
            return true
        }
        guard claimed else { return }
        repeat {
            pthread_kill(shared.waiter.raw, signal)
        } while Coordination.pollReadable([shared.done.read], timeoutMilliseconds: 2) == nil
        WakeupPipe.post(shared.ack.write)
    }

    /// Fallback when no interrupt signal or watchdog thread is available: repeated
    /// non-blocking attempts with a short sleep. Correct, but hands over in
    /// milliseconds rather than microseconds.
    private static func pollingWait(
        fd: Int32, lockPath: String, sys: SystemCalls, started: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, cancellation: [CancellationToken],
        progress: @Sendable (Duration) -> Void
    ) throws(MetadataCacheError) -> LockWaitOutcome {
        let clock = ContinuousClock()
        var nextProgress = started + progressInterval
        var pause = Duration.milliseconds(1)
        while true {
            if try sys.tryFlock(fd, path: lockPath) { return .acquired(watchdog: nil) }
            let now = clock.now
            if cancellation.contains(where: \.isCancelled) { return .cancelled }
            if let deadline, now >= deadline { return .timedOut }
            if now >= nextProgress {
                progress(now - started)
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
