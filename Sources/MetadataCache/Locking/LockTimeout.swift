/// How long a writer is willing to wait for the lock; measured on the monotonic clock,
/// so wall-clock jumps (NTP, suspend/resume adjustments) neither shorten nor extend it.
public enum LockTimeout: Sendable, Hashable, CustomStringConvertible {
    /// One attempt; fail at once if the lock is held.
    case immediate
    /// Wait up to this long (must be positive).
    case after(Duration)
    /// Wait until the lock is free or the wait is cancelled.
    case infinite

    /// The longest finite timeout accepted: 10^9 s, about 31.7 years. Anything longer
    /// is meant as "forever" and should say `infinite`; accepting it would overflow
    /// the nanosecond count (9.2 * 10^9 s) instead.
    public static let maximumSeconds: Double = 1_000_000_000

    /// `0` means `.immediate`; negative, non-finite and over-`maximumSeconds` values
    /// are rejected (nil).
    public static func seconds(_ seconds: Double) -> LockTimeout? {
        guard seconds.isFinite, seconds >= 0, seconds <= maximumSeconds else { return nil }
        let nanoseconds = Int64((seconds * 1e9).rounded())
        if nanoseconds == 0 { return .immediate }
        return .after(.nanoseconds(nanoseconds))
    }

    /// Parses `0`, `2.5`, `.5`, `10`, `10s`, `infinite` (also `inf`, `none`, `forever`),
    /// as accepted by the CLI, environment and config file. Nil for anything else,
    /// including values over `maximumSeconds`.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased()
        if t == "infinite" || t == "inf" || t == "none" || t == "forever" {
            self = .infinite
            return
        }
        var digits = t
        if digits.hasSuffix("s") { digits.removeLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isNumber || $0 == "." }),
            digits.filter({ $0 == "." }).count <= 1, digits.contains(where: \.isNumber), digits.last != ".",
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
