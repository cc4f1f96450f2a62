#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one thread per process that keeps time for every blocking lock wait
/// (`BlockingFlockWait`): it signals a waiter when a progress report is due, and
/// at the deadline or on cancellation claims the outcome and interrupts it.
///
/// Guarantee: a registered wait is timed out within a few milliseconds of its
/// deadline and cancelled within a few milliseconds of a cancellation; the
/// watchdog signals a waiter only while its wait's phase is `waiting` (progress)
/// or after claiming its outcome (interrupt, until the waiter says it stopped,
/// then it acknowledges); it never runs the host's code, so no observer can hold
/// up another wait's deadline.
///
/// Why one thread for all waits, started once. A watchdog thread per wait cost
/// ~100 µs of CPU to create and destroy (`clone3`, its stack, its exit), and had
/// to be woken when the lock it guarded was released, which is the moment of the
/// next handover. This thread is told about a wait by one 8-byte pipe write
/// (before the waiter blocks), is not told when the wait ends, and forgets ended
/// waits whenever it wakes (its next tick, or the next registration), so no
/// wake-up of it lies on a handover's path. With nothing to watch it sleeps in
/// `poll` without a timeout: it costs no CPU. It lives as long as the process.
///
/// A forked child has no such thread (only the forking thread survives a fork):
/// `forThisProcess` is nil there, and its waits poll (see `BlockingFlockWait`).
package final class LockWaitWatchdog: Sendable {
    /// The process's watchdog, started by the first blocking wait; nil if no
    /// signal, pipe or thread could be had.
    private static let shared: LockWaitWatchdog? = LockWaitWatchdog()

    /// The watchdog, if it runs in this process (not in a forked child of the
    /// process that started it).
    static var forThisProcess: LockWaitWatchdog? {
        guard let shared, shared.pid == getpid() else { return nil }
        return shared
    }

    /// How often a waiter whose outcome was claimed is signalled again, in case a
    /// signal landed just before it re-entered `flock` and was lost.
    static let interruptRepeat: Duration = .milliseconds(2)

    private let pid: Int32
    /// New waits, as retained `Coordination` pointers (non-blocking both ends: a
    /// full pipe makes that wait poll instead of blocking the waiter).
    private let control: (read: Int32, write: Int32)

    private init?() {
        guard let signal = LockWaitInterruptSignal.number, let control = WakeupPipe.make(nonBlocking: true) else {
            return nil
        }
        let started = OSThread.detach(stackSize: OSThread.systemCallStackSize) {
            Self.run(control: control.read, signal: signal)
        }
        guard started else {
            close(control.read)
            close(control.write)
            return nil
        }
        self.control = control
        pid = getpid()
    }

    /// Starts watching `wait`; false if it could not be handed over (then the
    /// caller must not block without another way to time out).
    func watch(_ wait: BlockingFlockWait.Coordination) -> Bool {
        let pointer = Unmanaged.passRetained(wait).toOpaque()
        var bits = UInt(bitPattern: pointer)
        var written = -1
        repeat {
            written = write(control.write, &bits, MemoryLayout<UInt>.size)
        } while written == -1 && errno == EINTR
        // A pipe write of at most PIPE_BUF bytes is all or nothing.
        guard written == MemoryLayout<UInt>.size else {
            Unmanaged<BlockingFlockWait.Coordination>.fromOpaque(pointer).release()
            return false
        }
        return true
    }

    /// One wait, as the watchdog thread alone sees it.
    private struct Watched {
        let wait: BlockingFlockWait.Coordination
        var nextProgress: ContinuousClock.Instant
        /// Once the watchdog has claimed the outcome: when to signal again.
        var nextInterrupt: ContinuousClock.Instant?
    }

    private static func run(control: Int32, signal: Int32) {
        let clock = ContinuousClock()
        var watched: [Watched] = []
        var entries: [pollfd] = []
        while true {
            let now = clock.now
            watched = watched.compactMap { item in
                var item = item
                return tend(&item, now: now, signal: signal) ? item : nil
            }
            entries.removeAll(keepingCapacity: true)
            entries.append(pollfd(fd: control, events: Int16(POLLIN), revents: 0))
            var wake: ContinuousClock.Instant?
            for item in watched {
                if let next = item.nextInterrupt {
                    wake = min(wake ?? next, next)
                } else {
                    for token in item.wait.cancellation where token.pollDescriptor >= 0 {
                        entries.append(pollfd(fd: token.pollDescriptor, events: Int16(POLLIN), revents: 0))
                    }
                    var next = item.nextProgress
                    if let deadline = item.wait.deadline, deadline < next { next = deadline }
                    wake = min(wake ?? next, next)
                }
            }
            let timeout: Int32 = wake.map { wake in
                wake <= now ? 0 : max(1, Int32(clamping: Int64(((wake - now).milliseconds).rounded(.up))))
            } ?? -1
            let ready = poll(&entries, nfds_t(entries.count), timeout)
            if ready > 0, entries[0].revents != 0 {
                receive(from: control, into: &watched, now: clock.now)
            }
        }
    }

    /// Reads every pointer waiting in the control pipe.
    private static func receive(from control: Int32, into watched: inout [Watched], now: ContinuousClock.Instant) {
        var buffer = [UInt](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(control, $0.baseAddress, $0.count) }
            if n == -1 && errno == EINTR { continue }
            guard n > 0 else { return }
            for bits in buffer[0..<(n / MemoryLayout<UInt>.size)] {
                guard let raw = UnsafeMutableRawPointer(bitPattern: bits) else { continue }
                let wait = Unmanaged<BlockingFlockWait.Coordination>.fromOpaque(raw).takeRetainedValue()
                watched.append(Watched(wait: wait, nextProgress: wait.started + BlockingFlockWait.progressInterval))
            }
        }
    }

    /// Acts on one wait; false once the watchdog is done with it.
    private static func tend(_ item: inout Watched, now: ContinuousClock.Instant, signal: Int32) -> Bool {
        let wait = item.wait
        if let next = item.nextInterrupt {
            // Claimed: interrupt until the waiter says it has stopped.
            let stopped = wait.state.withLock { state -> Bool in
                if state.waiterStopped { return true }
                if now >= next { pthread_kill(wait.waiter.raw, signal) }
                return false
            }
            if stopped { return false }
            if now >= next { item.nextInterrupt = now + interruptRepeat }
            return true
        }
        var reason: BlockingFlockWait.Phase?
        if let deadline = wait.deadline, now >= deadline {
            reason = .timedOut
        } else if wait.cancellation.contains(where: \.isCancelled) {
            reason = .cancelled
        }
        if let reason {
            let claimed = wait.state.withLock { state -> Bool in
                guard state.phase == .waiting else { return false }
                state.phase = reason
                pthread_kill(wait.waiter.raw, signal)
                return true
            }
            // Not claimed: the wait has ended by itself; forget it.
            guard claimed else { return false }
            item.nextInterrupt = now + interruptRepeat
            return true
        }
        let due = now >= item.nextProgress
        let waiting = wait.state.withLock { state -> Bool in
            guard state.phase == .waiting else { return false }
            if due {
                // With the mutex held, so that a waiter that ends the wait knows
                // whether a signal may be pending for it (`progressSignals`).
                state.progressDue = true
                state.progressSignals += 1
                pthread_kill(wait.waiter.raw, signal)
            }
            return true
        }
        guard waiting else { return false }
        while item.nextProgress <= now { item.nextProgress += BlockingFlockWait.progressInterval }
        return true
    }
}
