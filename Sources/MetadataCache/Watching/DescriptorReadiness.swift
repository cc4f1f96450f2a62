#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking the calling thread until one of a few descriptors is readable, in
/// `poll(2)`, interrupts retried. Watches use it on their own thread only.
enum DescriptorReadiness {
    enum Outcome: Equatable {
        /// The descriptor at this index of the list is readable (or hung up).
        case readable(index: Int)
        case timedOut
        /// `poll` failed for another reason than an interrupt (EINVAL, ENOMEM).
        case failed(Errno)
    }

    /// Waits until one of `descriptors` is readable, or `timeout` (nil: forever)
    /// passed. Reports the lowest readable index, so callers list stop descriptors
    /// first and a stop always wins over work.
    static func wait(_ descriptors: [Int32], timeout: Duration?) -> Outcome {
        var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            var milliseconds: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { return .timedOut }
                // Rounded up: waking before the deadline would only loop again.
                let ms = left.components.seconds * 1000 + (left.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
                milliseconds = Int32(clamping: ms)
            }
            let n = poll(&entries, nfds_t(entries.count), milliseconds)
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(Errno(rawValue: errno))
            }
            if n == 0 { continue }  // the deadline check above decides
            if let index = entries.firstIndex(where: { $0.revents != 0 }) { return .readable(index: index) }
        }
    }
}
