import CSystemShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The handler the library installs: it does nothing. Its only effect is that a
/// blocking `flock` returns `EINTR`. A named C function, so its address can be
/// compared with the signal's current disposition.
private func lockWaitInterruptHandler(_: Int32) {}

/// The signal a lock-wait watchdog sends to the waiting thread to end a blocking
/// `flock` at a timeout or cancellation.
///
/// Guarantee: a blocking wait relies on the signal only while the signal's
/// disposition is still the library's own handler without `SA_RESTART`
/// (`isStillInstalled`, checked before every blocking wait); otherwise waits poll.
///
/// `flock` has no timeout. A thread blocked in it leaves only when the lock is
/// granted or a signal handler runs; with a handler installed *without*
/// `SA_RESTART`, the call then fails with `EINTR` and the waiter can look at why it
/// was woken. The handler itself does nothing. The signal is sent with
/// `pthread_kill` to the waiting thread only, and the handler is installed once per
/// process on a signal that nobody else has claimed (its disposition is still the
/// default), so a host's own signal handling is left alone: on Linux a real-time
/// signal near `SIGRTMAX`; on Darwin, which has no real-time signals, `SIGUSR2` or
/// `SIGUSR1`.
///
/// A host may still install its own handler for that signal later. Then a signal
/// would run the host's handler (and with `SA_RESTART`, or `SIG_IGN`, `flock` would
/// never return `EINTR`: the watchdog would signal every 2 ms and the wait would
/// end only with the grant). So the disposition is re-checked before each blocking
/// wait, and a wait that finds it changed uses the polling fallback instead.
package enum LockWaitInterruptSignal {
    /// The signal number in use, or nil if none could be installed (then waits fall
    /// back to polling with non-blocking attempts).
    package static let number: Int32? = install()

    private static func install() -> Int32? {
        for candidate in candidates() {
            var current = sigaction()
            guard sigaction(candidate, nil, &current) == 0 else { continue }
            guard handlerBits(current) == 0 else { continue }  // SIG_DFL: unclaimed
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = lockWaitInterruptHandler
            #else
            action.__sigaction_u.__sa_handler = lockWaitInterruptHandler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // deliberately no SA_RESTART: the point is EINTR
            if sigaction(candidate, &action, nil) == 0 { return candidate }
        }
        return nil
    }

    /// Whether `number` still has the library's handler, without `SA_RESTART`.
    /// One `sigaction` query; called before each blocking wait, never after a
    /// grant.
    package static var isStillInstalled: Bool {
        guard let number else { return false }
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return false }
        let ours = unsafeBitCast(lockWaitInterruptHandler as @convention(c) (Int32) -> Void, to: Int.self)
        return handlerBits(current) == ours && current.sa_flags & Int32(SA_RESTART) == 0
    }

    private static func candidates() -> [Int32] {
        // The top of the real-time range: glibc reserves the bottom few for itself,
        // and libraries that use real-time signals usually count up from SIGRTMIN.
        let top = csystem_sigrtmax()
        guard top > 0 else { return [SIGUSR2, SIGUSR1] }
        return (0..<4).map { top - 1 - $0 }
    }

    /// The handler field as a number: 0 is `SIG_DFL`, 1 `SIG_IGN`, else a function
    /// (`sa_handler` and `sa_sigaction` share the storage).
    private static func handlerBits(_ action: sigaction) -> Int {
        #if canImport(Glibc)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        #else
        return unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
        #endif
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
        // Restored only if the host had blocked it: otherwise the mask is
        // unchanged, and a system call less lies between a grant and the guard.
        defer { if sigismember(&previous, number) == 1 { pthread_sigmask(SIG_SETMASK, &previous, nil) } }
        return try body()
    }

    /// Runs `body` with the signal blocked for the calling thread (a lock wait's
    /// progress callback: the host's code there must not see `EINTR` from a
    /// signal meant for `flock`). A signal sent meanwhile stays pending and is
    /// delivered when the mask is restored, still inside the library.
    package static func blocked<T>(_ body: () -> T) -> T {
        guard let number else { return body() }
        var set = sigset_t()
        var previous = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_BLOCK, &set, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return body()
    }

    /// Makes one system call, so that a signal already queued for the calling
    /// thread (and not blocked) is delivered now: the kernel delivers pending
    /// signals on the way back from any system call.
    package static func deliverPending() {
        var pending = sigset_t()
        sigpending(&pending)
    }

    /// Takes every instance of the signal pending for the calling thread, which
    /// must have it blocked (so that none is delivered to a handler, or lost,
    /// while it looks).
    package static func discardPending() {
        guard let number else { return }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        var pending = sigset_t()
        while sigpending(&pending) == 0, sigismember(&pending, number) == 1 {
            var received: Int32 = 0
            _ = sigwait(&set, &received)
        }
    }
}
