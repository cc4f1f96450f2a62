#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cancels lock waits from anywhere, including a signal handler.
///
/// `cancel()` only stores an atomic flag and writes one byte to a pipe — both
/// async-signal-safe — so a `SIGINT`/`SIGTERM` handler may call it directly (keep the
/// token in a global that is initialised before the handler is installed). Waiters
/// `poll` the pipe's read end, so a cancellation wakes them at once instead of at
/// their next timer tick.
public final class CancellationToken: Sendable {
    private let flag = AtomicCell<Bool>(false)
    /// Read end, polled by waiters; becomes readable on cancel.
    let pollDescriptor: Int32
    private let writeDescriptor: Int32

    public init() {
        // Without descriptors the token still works through the flag; waiters also
        // check it on every timer tick.
        let pipe = WakeupPipe.make(nonBlocking: true)
        pollDescriptor = pipe?.read ?? -1
        writeDescriptor = pipe?.write ?? -1
    }

    deinit {
        if pollDescriptor >= 0 { close(pollDescriptor) }
        if writeDescriptor >= 0 { close(writeDescriptor) }
    }

    /// Requests cancellation. Idempotent and async-signal-safe.
    public func cancel() {
        if flag.exchange(true) { return }
        if writeDescriptor >= 0 {
            var byte: UInt8 = 1
            _ = write(writeDescriptor, &byte, 1)
        }
    }

    public var isCancelled: Bool { flag.load() }
}
