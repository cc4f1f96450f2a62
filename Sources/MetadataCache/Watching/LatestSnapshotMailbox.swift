/// The hand-off from a watch's thread to the task iterating the watch: one slot,
/// latest wins.
///
/// Guarantees: the thread `post`s each new verified snapshot; a post replaces a
/// snapshot the consumer has not taken yet, so a burst of commits coalesces to its
/// latest and the latest is never lost. `take` returns a pending snapshot at once,
/// or suspends — without occupying a thread — until the next post or the end. A
/// snapshot posted before the end is delivered before the end. After `cancel`, posts
/// are dropped and `take` waits for the thread's `finish`: a sequence that has
/// returned nil has stopped its thread's work and closed its watch descriptors.
package final class LatestSnapshotMailbox: Sendable {
    package enum Delivery: Sendable {
        case snapshot(CacheSnapshot)
        /// The watch ended: nil after a cancellation, or the error that ended it.
        case ended(MetadataCacheError?)
    }

    private struct State {
        var pending: CacheSnapshot?
        var ended = false
        var failure: MetadataCacheError?
        var cancelled = false
        var waiter: CheckedContinuation<Delivery, Never>?
    }

    private let state = LockedValue(State())

    package init() {}

    /// Offers `snapshot` to the consumer, replacing one it has not taken yet.
    package func post(_ snapshot: CacheSnapshot) {
        let waiter: CheckedContinuation<Delivery, Never>? = state.withLock { s in
            guard !s.cancelled, !s.ended else { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.pending = snapshot
            return nil
        }
        waiter?.resume(returning: .snapshot(snapshot))
    }

    /// The watch's thread has stopped (and closed its descriptors), normally or with
    /// `failure`. Called exactly once per watch.
    package func finish(_ failure: MetadataCacheError?) {
        let (waiter, delivered): (CheckedContinuation<Delivery, Never>?, MetadataCacheError?) = state.withLock { s in
            s.ended = true
            // A failure that races a cancellation is not reported: the host asked to stop.
            s.failure = s.cancelled ? nil : failure
            let waiter = s.waiter
            s.waiter = nil
            return (waiter, s.failure)
        }
        // A waiting consumer has nothing pending (it would have taken it).
        waiter?.resume(returning: .ended(delivered))
    }

    /// The consumer stopped: drop what is pending and accept no more.
    package func cancel() {
        state.withLock { s in
            s.cancelled = true
            s.pending = nil
        }
    }

    /// The next snapshot, or the end. One consumer at a time.
    package func take() async -> Delivery {
        await withCheckedContinuation { continuation in
            let immediate: Delivery? = state.withLock { s in
                if let pending = s.pending {
                    s.pending = nil
                    return .snapshot(pending)
                }
                if s.ended { return .ended(s.failure) }
                precondition(s.waiter == nil, "CacheChanges: next() awaited on more than one task at once")
                s.waiter = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}
