#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running watch, owned by its iterator: the thread doing the watching, the
/// mailbox it delivers to, and how to stop it. Releasing the session stops the
/// watch (an iterator dropped by a `break` leaves no thread behind).
final class CacheWatchSession: Sendable {
    let mailbox = LatestSnapshotMailbox()
    /// Cancelled to stop the thread: its pipe wakes the thread's `poll` at once.
    private let stop = CancellationToken()

    init(loop: CacheWatchLoop, cancellation: CancellationToken?) {
        let mailbox = mailbox
        let stop = stop
        guard stop.pollDescriptor >= 0 else {
            // pipe(2) fails only when descriptors run out; without the pipe the
            // thread could not be woken to stop.
            mailbox.finish(.io(
                operation: "create the wake-up pipe of a cache watch (out of file descriptors)",
                path: loop.layout.directory, errno: Errno(rawValue: EMFILE)))
            return
        }
        let stops = [stop] + (cancellation.map { [$0] } ?? [])
        // The thread runs the host's observer (events): give it a full stack.
        let started = OSThread.detach(stackSize: OSThread.hostCodeStackSize) {
            loop.run(mailbox: mailbox, stops: stops)
        }
        if !started {
            mailbox.finish(.io(operation: "start the thread of a cache watch", path: loop.layout.directory,
                               errno: Errno(rawValue: EAGAIN)))
        }
    }

    func cancel() {
        mailbox.cancel()
        stop.cancel()
    }

    deinit { cancel() }
}
