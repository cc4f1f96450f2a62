import CSystemShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The signal a lock-wait watchdog sends to the waiting thread to end a blocking
/// `flock` at a timeout or cancellation.
///
/// `flock` has no timeout. A thread blocked in it leaves only when the lock is
/// granted or a signal handler runs; with a handler installed *without*
/// `SA_RESTART`, the call then fails with `EINTR` and the waiter can look at why it
/// was woken. The handler itself does nothing. The signal is sent with
/// `pthread_kill` to the waiting thread only, and the handler is installed once per
/// process on a real-time signal that nobody else has claimed (its disposition is
/// still the default), so a host's own signal handling is left alone.
package enum LockWaitInterruptSignal {
    /// The signal number in use, or nil if none could be installed (then waits fall
    /// back to polling with non-blocking attempts).
    package static let number: Int32? = install()

    private static func install() -> Int32? {
        for candidate in candidates() {
            var current = sigaction()
            guard sigaction(candidate, nil, &current) == 0 else { continue }
            guard handlerIsDefault(current) else { continue }
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { _ in }
            #else
            action.__sigaction_u.__sa_handler = { _ in }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // deliberately no SA_RESTART: the point is EINTR
            if sigaction(candidate, &action, nil) == 0 { return candidate }
        }
        return nil
    }

    private static func candidates() -> [Int32] {
        // The top of the real-time range: glibc reserves the bottom few for itself,
        // and libraries that use real-time signals usually count up from SIGRTMIN.
        let top = csystem_sigrtmax()
        guard top > 0 else { return [SIGUSR2, SIGUSR1] }
        return (0..<4).map { top - 1 - $0 }
    }

    private static func handlerIsDefault(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
        let handler = unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        #else
        let handler = unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
        #endif
        return handler == 0  // SIG_DFL
    }

    /// Makes sure the signal is deliverable to the calling thread for the duration
    /// of `body` (a host may have blocked it), restoring the previous mask after.
    package static func unblocked<T: ~Copyable, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard let number else { return try body() }
        var set = sigset_t()
        var previous = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}
