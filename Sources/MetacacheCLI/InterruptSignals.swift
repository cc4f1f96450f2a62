#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// Turns SIGINT and SIGTERM into cancellation that every blocking step of a
/// command notices at once.
///
/// Guarantee: after a signal, a lock wait ends with `cancelled`, a source read or
/// HTTP fetch stops (the helper process is terminated) and nothing is written; a
/// commit already under way completes (it is atomic and quick) and the command
/// then exits 130. The handler only stores the signal number, cancels the lock
/// wait's `CancellationToken` and writes one byte to a pipe — all
/// async-signal-safe. The pipe is never drained, so it stays readable: every later
/// `poll` that includes it returns at once, and a cancellation cannot be missed.
public final class InterruptSignals: Sendable {
    /// The process-wide instance used by the signal handlers. Created before the
    /// handlers are installed, so the handler never runs its lazy initialiser.
    public static let shared = InterruptSignals()

    /// Passed to lock waits.
    public let token = CancellationToken()
    /// Becomes readable once a signal arrived (or `deliver` was called).
    public let wakeDescriptor: Int32
    private let wakeWriteDescriptor: Int32
    private let received = AtomicCell<Int32>(0)
    private let installed = AtomicCell<Bool>(false)

    /// A fresh, uninstalled instance (tests call `deliver` on it directly).
    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            }
        }
        wakeDescriptor = fds[0]
        wakeWriteDescriptor = fds[1]
    }

    deinit {
        if wakeDescriptor >= 0 { close(wakeDescriptor) }
        if wakeWriteDescriptor >= 0 { close(wakeWriteDescriptor) }
    }

    /// Installs the SIGINT and SIGTERM handlers for `shared` (once per process).
    /// `SA_RESTART` keeps unrelated system calls from failing with `EINTR`; the
    /// waits that must stop watch `wakeDescriptor` or the token instead.
    public static func installHandlers() {
        let signals = shared
        guard !signals.installed.exchange(true) else { return }
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { number in InterruptSignals.shared.deliver(number) }
            #else
            action.__sigaction_u.__sa_handler = { number in InterruptSignals.shared.deliver(number) }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(SA_RESTART)
            sigaction(number, &action, nil)
        }
    }

    /// Records `signal` and wakes every waiter. Async-signal-safe; idempotent.
    public func deliver(_ signal: Int32) {
        _ = received.compareExchange(expected: 0, desired: signal)
        token.cancel()
        if wakeWriteDescriptor >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWriteDescriptor, &byte, 1)
        }
    }

    /// The first signal received, if any.
    public var receivedSignal: Int32? {
        let value = received.load()
        return value == 0 ? nil : value
    }

    public var isInterrupted: Bool { receivedSignal != nil }

    /// `SIGINT` or `SIGTERM`, for messages.
    public var signalName: String {
        switch receivedSignal {
        case SIGINT?: "SIGINT"
        case SIGTERM?: "SIGTERM"
        case let other?: "signal \(other)"
        case nil: "no signal"
        }
    }
}
