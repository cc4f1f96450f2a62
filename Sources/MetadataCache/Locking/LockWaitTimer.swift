#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A timer that sends `LockWaitInterruptSignal` to the thread that created it, so
/// that a thread blocked in `flock` keeps its own time (Linux only).
///
/// Guarantee: the signal goes to the creating thread only (`SIGEV_THREAD_ID`),
/// never to another thread of the host; after `deinit` (`timer_delete`) the timer
/// sends nothing, and a signal it sent before is delivered on the way back from
/// that system call, to the creating thread, which must have the signal unblocked.
///
/// Why a timer and not the shared watchdog, for waits without cancellation tokens.
/// Waking another thread for every wait (to tell it about the wait) cost ~90 µs
/// of that thread's CPU per wait on the 2-core benchmark VM (`/proc/PID/task/TID/
/// schedstat` of the watchdog over 200 handovers), more than the whole wait of a C
/// program. A timer costs three system calls and no other thread. It cannot watch
/// a cancellation token's pipe, so waits with tokens still use the watchdog
/// (`LockWaitWatchdog`).
package struct LockWaitTimer: ~Copyable {
    #if os(Linux)
    /// Optional only in type: `timer_t` is a pointer in Swift, and the kernel's
    /// first timer of a process has id 0, which reads as nil. Never nil-checked.
    private let timer: timer_t?

    /// A timer for the calling thread, disarmed; nil where there are no
    /// thread-directed timers (Darwin) or none could be created.
    package init?(signal: Int32) {
        guard let gettid = Self.gettid else { return nil }
        var event = sigevent()
        event.sigev_notify = Int32(SIGEV_THREAD_ID)
        event.sigev_signo = signal
        event._sigev_un._tid = gettid()
        var timer: timer_t?
        guard timer_create(CLOCK_MONOTONIC, &event, &timer) == 0 else { return nil }
        self.timer = timer
    }

    /// Fires after `delay`, then every `period` until re-armed: a signal that lands
    /// just before the thread enters `flock` is not lost for long.
    package func arm(after delay: Duration, thenEvery period: Duration) {
        var spec = itimerspec()
        // A zero it_value would disarm the timer: fire after at least 1 µs.
        spec.it_value = Self.timespec(max(delay, .microseconds(1)))
        spec.it_interval = Self.timespec(period)
        timer_settime(timer, 0, &spec, nil)
    }

    /// Stops the timer (before the host's code runs in a progress callback).
    package func disarm() {
        var spec = itimerspec()
        timer_settime(timer, 0, &spec, nil)
    }

    deinit { timer_delete(timer) }

    private static func timespec(_ duration: Duration) -> Glibc.timespec {
        let (seconds, attoseconds) = duration.components
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }

    /// glibc's `gettid` (2.30+), which the Glibc module does not expose; looked
    /// up once. Nil with an older glibc: then waits use the watchdog.
    private static let gettid: (@convention(c) () -> pid_t)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> pid_t).self)
    }()
    #else
    package init?(signal: Int32) { return nil }
    package func arm(after delay: Duration, thenEvery period: Duration) {}
    package func disarm() {}
    #endif
}
