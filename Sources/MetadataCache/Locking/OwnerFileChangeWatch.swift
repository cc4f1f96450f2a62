#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wakes a lock-file waiter when the owner file is removed or replaced, instead of
/// at its next poll (Linux `inotify` on the store's directory).
///
/// Guarantee: after `make`, the descriptor becomes readable whenever an entry
/// named `name` in `directory` is unlinked, renamed away or renamed over by a
/// process of this machine (and on queue overflow). Changes made by other NFS
/// clients are not reported: waiters keep polling at a fixed interval as the
/// fallback, so a missed event only delays a wait, never ends one wrongly.
///
/// Why. Polling with a growing backoff is unfair: a waiter that has waited long
/// polls rarely, and newcomers polling every 2 ms take the lock from under it;
/// under a steady stream of writers old waiters time out (issue 15: 13–16 lock
/// timeouts per minute). Woken by the release, every waiter races on equal terms,
/// as with the kernel's `flock` queue.
package final class OwnerFileChangeWatch {
    package let descriptor: Int32
    private let name: String

    private init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    /// A watch on `directory`, or nil where inotify is unavailable (not Linux, out
    /// of watches or descriptors): then waiters only poll.
    package static func make(directory: String, name: String) -> OwnerFileChangeWatch? {
        #if os(Linux)
        // Close-on-exec: a child the host spawns while we wait must not keep it.
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
        return OwnerFileChangeWatch(descriptor: fd, name: name)
        #else
        return nil
        #endif
    }

    deinit { close(descriptor) }

    /// Reads every pending event; returns whether one concerned the owner file
    /// (or events were lost, which may have included one).
    package func drain() -> Bool {
        #if os(Linux)
        var relevant = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return relevant }
            // struct inotify_event: int wd; uint32 mask, cookie, len; char name[len].
            var offset = 0
            while offset + 16 <= n {
                let field = { (at: Int) -> UInt32 in
                    buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
                }
                let mask = field(offset + 4)
                let length = Int(field(offset + 12))
                let start = offset + 16
                let end = min(n, start + length)
                let entry = buffer[start..<end].prefix { $0 != 0 }
                if mask & UInt32(IN_Q_OVERFLOW) != 0 || String(decoding: entry, as: UTF8.self) == name { relevant = true }
                offset = start + length
            }
        }
        #else
        return false
        #endif
    }
}
