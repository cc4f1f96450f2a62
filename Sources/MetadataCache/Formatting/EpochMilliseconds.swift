#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Milliseconds since the Unix epoch — the header's clock values — converted to
/// and from `Date` and ages without ever trapping.
///
/// A header holds any signed 64-bit value (a buggy or hostile writer can seal one
/// with a valid checksum), and `Date` is a `Double` of seconds: `Int64(d * 1000)`
/// traps beyond ±2^63 and `now - ms` overflows for values near the ends. Every
/// conversion here saturates instead.
package enum EpochMilliseconds {
    /// The instant `ms` names (to the precision of a `Double` for values beyond 2^53).
    package static func date(_ ms: Int64) -> Date {
        Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// `date` in whole milliseconds, rounded, clamped to the 64-bit range (NaN: 0).
    package static func milliseconds(_ date: Date) -> Int64 {
        saturating(date.timeIntervalSince1970 * 1000)
    }

    /// Now, in milliseconds since the epoch.
    package static var now: Int64 { milliseconds(Date()) }

    /// `now - ms`, never negative (a time in the future is "just now"), saturated
    /// at the longest representable duration.
    package static func age(since ms: Int64, now: Int64 = EpochMilliseconds.now) -> Duration {
        let (difference, overflow) = now.subtractingReportingOverflow(ms)
        if overflow { return ms < 0 ? .milliseconds(Int64.max) : .zero }
        return .milliseconds(max(0, difference))
    }

    /// `value` rounded to an integer and clamped to `Int64`'s range; NaN is 0.
    package static func saturating(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        let rounded = value.rounded()
        // Double(Int64.max) is 2^63, one past the largest Int64.
        if rounded >= 9_223_372_036_854_775_808.0 { return .max }
        if rounded <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(rounded)
    }
}
