import CSystemShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A close-on-exec pipe used as a wake-up channel between threads (and from signal
/// handlers: writing one byte is async-signal-safe). Both ends are close-on-exec so
/// a host's child processes never inherit them.
package enum WakeupPipe {
    /// Returns (read end, write end), or nil if the process is out of descriptors.
    ///
    /// On Linux both ends are created close-on-exec by `pipe2(O_CLOEXEC)`, in one
    /// step: `pipe` followed by `fcntl(FD_CLOEXEC)` leaves an instant in which
    /// another thread of the host may fork and exec, and its child then keeps the
    /// pipe open for as long as it lives. Darwin has no `pipe2`; there the flag is
    /// set right after (the window remains, as in every Darwin program).
    package static func make(nonBlocking: Bool = false) -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        #if os(Linux)
        guard csystem_pipe_cloexec(&fds, nonBlocking ? 1 : 0) == 0 else { return nil }
        #else
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        }
        #endif
        return (fds[0], fds[1])
    }

    /// Writes one byte, retrying interrupts.
    package static func post(_ fd: Int32) {
        var byte: UInt8 = 1
        while write(fd, &byte, 1) == -1 && errno == EINTR {}
    }
}
