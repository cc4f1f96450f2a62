/// The watchdog thread of a lock wait that ended with the lock granted: still
/// alive, asleep, and told to exit when the lock is released.
///
/// Why it outlives the wait. Telling the watchdog "stop" is a write to its pipe,
/// and waking a thread is not free: on the development machine the woken watchdog
/// was often scheduled onto the new holder's own CPU and ran first, adding 40–70 µs
/// between the kernel granting the lock and the holder publishing its record — the
/// largest part of the handover after an idle wait (perf trace of
/// `Benchmarks/bench.py`'s figure 4). Dismissing it at release moves that wake-up
/// off the handover's critical path, after the unlock, where it delays nobody. The
/// watchdog cannot act on a granted wait: it may only interrupt the waiter after
/// claiming the outcome, and the outcome was claimed as `acquired` before this
/// object existed.
package final class LockWaitWatchdog: Sendable {
    private let dismissed = AtomicCell<Bool>(false)
    private let post: @Sendable () -> Void

    init(dismiss post: @escaping @Sendable () -> Void) {
        self.post = post
    }

    /// Lets the watchdog thread exit (idempotent).
    package func dismiss() {
        guard !dismissed.exchange(true) else { return }
        post()
    }

    deinit { dismiss() }
}
