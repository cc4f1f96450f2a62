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
    package static func make(nonBlocking: Bool = false) -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        }
        return (fds[0], fds[1])
    }

    /// Writes one byte, retrying interrupts.
    package static func post(_ fd: Int32) {
        var byte: UInt8 = 1
        while write(fd, &byte, 1) == -1 && errno == EINTR {}
    }
}
