#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UTC timestamps with millisecond precision, always in exactly one shape:
/// `2026-11-25T09:31:02.123Z`. Writing and reading one fixed shape by hand keeps the
/// lock path free of formatter setup costs and makes the text easy to parse elsewhere.
package enum ISO8601Timestamp {
    /// Length in bytes of every text `format` writes.
    package static let length = 24

    package static func format(millisecondsSinceEpoch ms: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: length)
        write(millisecondsSinceEpoch: ms, into: &bytes, at: 0)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `format`'s text into `bytes[offset ..< offset + length]` without
    /// allocating: the lock holder stamps its record this way in the microseconds
    /// between being granted the lock and publishing who it is. Years outside
    /// 0...9999 are clamped (the shape has exactly four year digits).
    package static func write(millisecondsSinceEpoch ms: Int64, into bytes: inout [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset + length <= bytes.count, "timestamp does not fit")
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int32(ms - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var at = offset
        func digits(_ value: Int32, _ width: Int) {
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
        digits(min(max(parts.tm_year + 1900, 0), 9999), 4)
        separator("-")
        digits(parts.tm_mon + 1, 2)
        separator("-")
        digits(parts.tm_mday, 2)
        separator("T")
        digits(parts.tm_hour, 2)
        separator(":")
        digits(parts.tm_min, 2)
        separator(":")
        digits(parts.tm_sec, 2)
        separator(".")
        digits(millis, 3)
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
