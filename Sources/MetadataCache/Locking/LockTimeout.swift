/// How long a writer is willing to wait for the lock; measured on the monotonic clock,
/// so wall-clock jumps (NTP, suspend/resume adjustments) neither shorten nor extend it.
public enum LockTimeout: Sendable, Hashable, CustomStringConvertible {
    /// One attempt; fail at once if the lock is held.
    case immediate
    /// Wait up to this long (must be positive).
    case after(Duration)
    /// Wait until the lock is free or the wait is cancelled.
    case infinite

    /// `0` means `.immediate`; negative and non-finite values are rejected (nil).
    public static func seconds(_ seconds: Double) -> LockTimeout? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        if seconds == 0 { return .immediate }
        return .after(.nanoseconds(Int64((seconds * 1e9).rounded())))
    }

    /// Parses `0`, `2.5`, `10`, `infinite` (also `inf`, `none`), as accepted by the CLI,
    /// environment and config file. Nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased()
        if t == "infinite" || t == "inf" || t == "none" || t == "forever" {
            self = .infinite
            return
        }
        var digits = t
        if digits.hasSuffix("s") { digits.removeLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isNumber || $0 == "." }),
            digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != ".",
            let value = Double(digits), let timeout = LockTimeout.seconds(value)
        else { return nil }
        self = timeout
    }

    /// The budget as a duration; nil for `.infinite`.
    public var duration: Duration? {
        switch self {
        case .immediate: .zero
        case let .after(d): d
        case .infinite: nil
        }
    }

    /// `0s`, `10s`, `2.5s` or `none` (as the CLI prints it).
    public var description: String {
        switch self {
        case .immediate: "0s"
        case let .after(d): DurationText.format(d)
        case .infinite: "none"
        }
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
