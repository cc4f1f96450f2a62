import MetadataCache

/// Parses the DURATION of `--if-older-than`: a whole number with a unit, `90s`,
/// `15m`, `24h`, `7d` (several may be combined, largest first: `1h30m`).
///
/// A bare number is refused rather than guessed (seconds? minutes?): a cache that
/// is refreshed 60 times too often, or too rarely, is a silent failure.
public enum DurationArgument {
    public static func parse(_ text: String) -> Duration? {
        let units: [(Character, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var rest = Substring(text.trimmingWhitespace())
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        var lastUnitIndex = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = rest.first, let index = units.firstIndex(where: { $0.0 == unit }), index > lastUnitIndex
            else { return nil }
            lastUnitIndex = index
            rest = rest.dropFirst()
            let (product, overflow) = value.multipliedReportingOverflow(by: units[index].1)
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow2 else { return nil }
            total = sum
        }
        return .seconds(total)
    }

    /// A duration in the largest unit that divides it: `1h`, `90s`, `7d`, `1h30m`
    /// (the form `parse` reads back).
    public static func format(_ duration: Duration) -> String {
        var seconds = max(0, duration.components.seconds)
        if seconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }

    static let expectation = "expected a number with a unit: 90s, 15m, 24h or 7d"
}
