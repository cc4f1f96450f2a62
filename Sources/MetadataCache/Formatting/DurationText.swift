/// Short human renderings of durations for messages: `850ms`, `1.2s`, `4s`, `3m`, `2h`, `7d`.
package enum DurationText {
    package static func format(_ duration: Duration) -> String {
        format(seconds: duration.seconds)
    }

    /// Never traps: negative and NaN read as 0, and anything beyond what a
    /// `Duration` can hold (about 292 billion years) as that.
    package static func format(seconds: Double) -> String {
        let s = seconds.isNaN ? 0 : min(max(0, seconds), 9.2e18)
        if s < 1 { return "\(Int((s * 1000).rounded()))ms" }
        if s < 10 {
            let tenths = (s * 10).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
        }
        if s < 120 { return "\(Int(s.rounded()))s" }
        if s < 7200 { return "\(Int((s / 60).rounded()))m" }
        if s < 172_800 { return "\(Int((s / 3600).rounded()))h" }
        return "\(Int((s / 86400).rounded()))d"
    }
}

extension Duration {
    /// The duration in seconds as a `Double` (attosecond precision is not needed here).
    package var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    package var milliseconds: Double { seconds * 1000 }
}
