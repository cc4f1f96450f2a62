/// Decides when a run has stalled: no writer has logged anything for longer than
/// any healthy operation can take.
///
/// Guarantee: only runs with writer slots can stall — readers log nothing, so a
/// readers-only run of any length is never called stalled — and a run with
/// writers is called stalled only after `limit` nanoseconds without a single new
/// record in the interval log.
package struct StallWatch: Sendable {
    package let limit: UInt64
    package let watchesWriters: Bool
    package private(set) var lastProgress: UInt64

    /// The default limit: the writers' lock timeout (nil: infinite, counted as
    /// 540 s) plus a minute.
    package static func defaultLimitSeconds(lockTimeoutSeconds: Double?) -> Double {
        (lockTimeoutSeconds ?? 540) + 60
    }

    /// - Parameters:
    ///   - writerSlots: how many writer slots the run has.
    ///   - lockTimeoutSeconds: the writers' lock timeout (nil: infinite).
    ///   - limitSeconds: overrides the default limit (`--stall-after`, the
    ///     self-test's way to see a stall without waiting minutes).
    package init(writerSlots: Int, lockTimeoutSeconds: Double?, limitSeconds: Double? = nil, start: UInt64) {
        limit = UInt64((limitSeconds ?? Self.defaultLimitSeconds(lockTimeoutSeconds: lockTimeoutSeconds)) * 1e9)
        watchesWriters = writerSlots > 0
        lastProgress = start
    }

    package mutating func progressed(at now: UInt64) { lastProgress = max(lastProgress, now) }

    /// Nanoseconds without progress, when that is a stall.
    package func stall(now: UInt64) -> UInt64? {
        guard watchesWriters, now > lastProgress, now - lastProgress > limit else { return nil }
        return now - lastProgress
    }
}
