#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One JSON number token, read once into what every numeric type needs: the
/// grammar is checked, the first 19 significant digits are accumulated exactly.
///
/// ## Same values as `JSONDecoder`
///
/// - Integers: a token without fraction or exponent that fits the type is read
///   digit by digit, exactly, at any width (`Int8` … `UInt128`). Anything else
///   (`1.0`, `1e2`, or out of range) takes Foundation's slow path, reproduced step
///   by step: the correctly rounded `Double` must convert exactly, and if its
///   magnitude is 2^53 or more the value is re-read as a `Decimal` (so
///   `9.007199254740993e15` is 9007199254740993, as in Foundation).
/// - `Double` and `Float` are correctly rounded, as `strtod`/`strtof` are: when
///   the significand has at most 19 digits, fits the type's significand exactly
///   and the power of ten is exactly representable (|e| <= 22 for `Double`, 10
///   for `Float`), one IEEE multiplication or division is the correctly rounded
///   result (Clinger's fast path); every other token goes to the standard
///   library's parser (`Double(_: String)`, itself correctly rounded). A result
///   that overflows to infinity, or underflows to zero although a digit is not
///   zero, is not representable: the decode fails, as in Foundation.
struct JSONNumber {
    let start: Int
    let end: Int
    let isNegative: Bool
    /// No fraction and no exponent.
    let isInteger: Bool
    /// The first (up to) 19 significant digits.
    let significand: UInt64
    /// value = ±significand × 10^exponent10, exactly when `!truncated`.
    let exponent10: Int
    /// Some dropped digit was not zero.
    let truncated: Bool
    /// Some digit of the significand (integer or fraction part) is not zero.
    let hasNonZeroDigit: Bool
    /// The integer part's digits.
    let integerDigits: Range<Int>

    /// Parses the number at `i`; throws if the token breaks the JSON grammar.
    init(_ input: JSONInput, at i: Int) throws(JSONDecodingFailure) {
        start = i
        var p = i
        isNegative = input.byte(p) == 0x2D
        if isNegative { p &+= 1 }

        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        var truncated = false
        var nonZero = false
        @inline(__always) func take(_ d: UInt8, fraction: Bool) {
            if digits < 19 {
                significand = significand &* 10 &+ UInt64(d)
                if significand != 0 { digits &+= 1 }
                if fraction { exponent &-= 1 }
            } else {
                if !fraction { exponent &+= 1 }
                if d != 0 { truncated = true }
            }
            if d != 0 { nonZero = true }
        }

        let integerStart = p
        let first = input.byte(p)
        if first == 0x30 {
            p &+= 1
        } else if first &- 0x31 < 9 {
            while case let d = input.byte(p) &- 0x30, d < 10 {
                take(d, fraction: false)
                p &+= 1
            }
        } else {
            throw .invalidJSON
        }
        integerDigits = integerStart..<p

        var integer = true
        if input.byte(p) == 0x2E {  // .
            integer = false
            p &+= 1
            guard input.byte(p) &- 0x30 < 10 else { throw .invalidJSON }
            while case let d = input.byte(p) &- 0x30, d < 10 {
                take(d, fraction: true)
                p &+= 1
            }
        }
        if input.byte(p) | 0x20 == 0x65 {  // e E
            integer = false
            p &+= 1
            let sign = input.byte(p)
            if sign == 0x2B || sign == 0x2D { p &+= 1 }
            guard input.byte(p) &- 0x30 < 10 else { throw .invalidJSON }
            var e = 0
            while case let d = input.byte(p) &- 0x30, d < 10 {
                // Clamped: beyond 10^6 every double is 0 or infinite anyway.
                e = Swift.min(e &* 10 &+ Int(d), 1_000_000)
                p &+= 1
            }
            exponent = sign == 0x2D ? exponent &- e : exponent &+ e
        }
        // The token must end where number bytes end (`1.2.3`, `01`, `1-`).
        switch input.byte(p) {
        case 0x30...0x39, 0x2D, 0x2B, 0x2E, 0x65, 0x45: throw .invalidJSON
        default: break
        }
        end = p
        isInteger = integer
        self.significand = significand
        exponent10 = exponent
        self.truncated = truncated
        hasNonZeroDigit = nonZero
    }

    func text(_ input: JSONInput) -> String {
        String(decoding: input.bytes(start, end), as: UTF8.self)
    }

    // MARK: Floating point

    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    private static let exactFloatPowersOfTen: [Float] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    /// The correctly rounded `Double`; throws if it is not finite or underflows.
    func double(_ input: JSONInput) throws(JSONDecodingFailure) -> Double {
        let value: Double
        if !truncated, significand <= 1 << 53, exponent10 >= -22, exponent10 <= 22 {
            var d = Double(significand)
            if exponent10 < 0 {
                d /= Self.exactPowersOfTen[-exponent10]
            } else {
                d *= Self.exactPowersOfTen[exponent10]
            }
            value = isNegative ? -d : d
        } else if !hasNonZeroDigit {
            value = isNegative ? -0.0 : 0.0
        } else {
            guard let parsed = Double(text(input)) else { throw .invalidJSON }
            value = parsed
        }
        return try checked(value, input)
    }

    /// The correctly rounded `Float` (rounded once, from the decimal text: not via
    /// `Double`, which could round twice).
    func float(_ input: JSONInput) throws(JSONDecodingFailure) -> Float {
        let value: Float
        if !truncated, significand <= 1 << 24, exponent10 >= -10, exponent10 <= 10 {
            var f = Float(significand)
            if exponent10 < 0 {
                f /= Self.exactFloatPowersOfTen[-exponent10]
            } else {
                f *= Self.exactFloatPowersOfTen[exponent10]
            }
            value = isNegative ? -f : f
        } else if !hasNonZeroDigit {
            value = isNegative ? -0.0 : 0.0
        } else {
            guard let parsed = Float(text(input)) else { throw .invalidJSON }
            value = parsed
        }
        return try checked(value, input)
    }

    private func checked<F: BinaryFloatingPoint>(_ value: F, _ input: JSONInput) throws(JSONDecodingFailure) -> F {
        guard value.isFinite, value != 0 || !hasNonZeroDigit else {
            throw .numberNotRepresentable(text(input))
        }
        return value
    }

    // MARK: Integers

    /// The value as `T`, with `JSONDecoder`'s rules (see the type's documentation).
    func integer<T: FixedWidthInteger>(_: T.Type, _ input: JSONInput) throws(JSONDecodingFailure) -> T {
        if isInteger {
            if !truncated, exponent10 == 0 {
                // At most 19 digits: exact in a UInt64.
                if !isNegative {
                    if let value = T(exactly: significand) { return value }
                } else if significand == 0 {
                    return 0
                } else if T.isSigned, significand <= 1 << 63, let value = T(exactly: Int64(bitPattern: 0 &- significand)) {
                    return value
                }
            } else if let value = wideInteger(T.self, input) {
                return value
            }
        }
        return try integerSlowPath(T.self, input)
    }

    /// Digit by digit in `T` itself, for integers of more than 19 digits.
    private func wideInteger<T: FixedWidthInteger>(_: T.Type, _ input: JSONInput) -> T? {
        var value: T = 0
        for p in integerDigits {
            let d = T(input.base[p] &- 0x30)
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = isNegative ? times10.subtractingReportingOverflow(d) : times10.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    /// Foundation's `_slowpath_unwrapFixedWidthInteger`: through `Double`, then
    /// `Decimal` for magnitudes of 2^53 and more.
    private func integerSlowPath<T: FixedWidthInteger>(_: T.Type, _ input: JSONInput) throws(JSONDecodingFailure) -> T {
        let text = text(input)
        if let double = Double(text) {
            guard let value = T(exactly: double) else { throw .numberNotRepresentable(text) }
            if double.magnitude < 9_007_199_254_740_992 { return value }  // 2^53
        }
        guard let decimal = Decimal(string: text), let value = Self.integer(T.self, from: decimal) else {
            throw .numberNotRepresentable(text)
        }
        return value
    }

    /// Foundation's `FixedWidthInteger.init?(_: Decimal)`, step for step: the
    /// mantissa must fit a UInt64, a negative exponent truncates.
    static func integer<T: FixedWidthInteger>(_: T.Type, from decimal: Decimal) -> T? {
        let isNegative = decimal.sign == .minus
        if isNegative && !T.isSigned { return nil }
        guard var d = UInt64(decimal.significand.magnitude.description) else { return nil }
        let exponent = decimal.exponent
        if exponent < 0 {
            for _ in 0..<(-exponent) { d /= 10 }
        } else {
            for _ in 0..<exponent {
                let (product, overflow) = d.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                d = product
            }
        }
        // (Signed when negative: magnitude <= T.max, so the negation cannot overflow.)
        guard let magnitude = T(exactly: d) else { return nil }
        return isNegative ? 0 &- magnitude : magnitude
    }
}
