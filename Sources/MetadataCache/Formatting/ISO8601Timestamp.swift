#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UTC timestamps with millisecond precision: `2026-11-25T09:31:02.123Z`.
/// Writing and reading one fixed shape by hand keeps the lock path free of
/// formatter setup costs and makes the text easy to parse elsewhere.
///
/// Every signed 64-bit millisecond count has its exact text (the proleptic
/// Gregorian calendar, computed in integers: no `gmtime`, no `time_t` limits).
/// Years outside 0000-9999 use ISO 8601's expanded form, as Java's `Instant`
/// prints them: `+10000-01-01T00:00:00.000Z`, `-0001-12-31T23:59:59.999Z`,
/// `+292278994-08-17T07:12:55.807Z` (Int64.max).
package enum ISO8601Timestamp {
    /// Length in bytes of `format`'s text for years 0000-9999 (and of every text
    /// `write` writes).
    package static let length = 24

    /// The first and last instants with a four-digit year.
    package static let fourDigitYears: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    package static func format(millisecondsSinceEpoch ms: Int64) -> String {
        let t = CivilTime(millisecondsSinceEpoch: ms)
        var text: String
        switch t.year {
        case 0...9999: text = padded(t.year, 4)
        case 10000...: text = "+" + String(t.year)
        default: text = "-" + padded(-t.year, 4)
        }
        text += "-" + padded(t.month, 2) + "-" + padded(t.day, 2) + "T" + padded(t.hour, 2) + ":" + padded(t.minute, 2)
            + ":" + padded(t.second, 2) + "." + padded(t.millisecond, 3) + "Z"
        return text
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Writes the `length`-byte text into `bytes[offset ..< offset + length]`
    /// without allocating: the lock holder stamps its record this way in the
    /// microseconds between being granted the lock and publishing who it is. The
    /// shape has exactly four year digits, so an instant outside them (a clock
    /// set absurdly) is written as the nearest one inside: all of it, never a
    /// clamped year with the real month and day.
    package static func write(millisecondsSinceEpoch ms: Int64, into bytes: inout [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset + length <= bytes.count, "timestamp does not fit")
        let t = CivilTime(millisecondsSinceEpoch: min(max(ms, fourDigitYears.lowerBound), fourDigitYears.upperBound))
        var at = offset
        func digits(_ value: Int64, _ width: Int) {
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                bytes[at + i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            at += width
        }
        func separator(_ c: Unicode.Scalar) {
            bytes[at] = UInt8(ascii: c)
            at += 1
        }
        digits(t.year, 4)
        separator("-")
        digits(t.month, 2)
        separator("-")
        digits(t.day, 2)
        separator("T")
        digits(t.hour, 2)
        separator(":")
        digits(t.minute, 2)
        separator(":")
        digits(t.second, 2)
        separator(".")
        digits(t.millisecond, 3)
        separator("Z")
    }

    /// Parses the shape `format` writes; also accepts a missing fraction
    /// (`2026-11-25T09:31:02Z`). Returns nil for anything else.
    package static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 20 || b.count == 24, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            b[b.count - 1] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var v: Int32 = 0
            for i in range {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int32(d)
            }
            return v
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var millis: Int32 = 0
        if b.count == 24 {
            guard b[19] == UInt8(ascii: "."), let m = number(20..<23) else { return nil }
            millis = m
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        return Int64(seconds) * 1000 + Int64(millis)
    }
}

/// A millisecond count split into UTC calendar fields, in 64-bit integers for
/// every input (Howard Hinnant's `civil_from_days`, exact over the proleptic
/// Gregorian calendar; no intermediate value comes near overflow).
struct CivilTime: Equatable {
    var year: Int64
    var month: Int64
    var day: Int64
    var hour: Int64
    var minute: Int64
    var second: Int64
    var millisecond: Int64

    init(millisecondsSinceEpoch ms: Int64) {
        // Floor division without computing days * 86_400_000 (which can overflow).
        var days = ms / 86_400_000
        var rest = ms % 86_400_000
        if rest < 0 {
            days -= 1
            rest += 86_400_000
        }
        millisecond = rest % 1000
        second = rest / 1000 % 60
        minute = rest / 60_000 % 60
        hour = rest / 3_600_000
        let z = days + 719_468  // days since 0000-03-01; |days| < 1.1e11
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}
