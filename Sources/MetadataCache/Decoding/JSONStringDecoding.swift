/// String values: the bytes between the quotes, unescaped only when they contain
/// a backslash.
///
/// Same strings as `JSONDecoder`: the escapes of RFC 8259, `\uXXXX` including
/// surrogate pairs. A `\uD800`-`\uDFFF` escape that is not half of a pair cannot
/// be a Swift `String`: like `JSONDecoder`, the decode fails (`loneSurrogate`);
/// the validator accepts such strings (RFC 8259 leaves them to the receiver).
///
/// On bytes that are not valid UTF-8 (never in a validated payload), the string is
/// repaired with U+FFFD, as `String(decoding:as:)` does: wrong but safe.
extension JSONInput {
    /// The string whose opening quote is at `quote`, and the offset after it.
    @inline(__always)
    func string(at quote: Int) throws(JSONDecodingFailure) -> (value: String, end: Int) {
        let (end, escaped) = try stringEndAndEscapes(quote)
        let content = bytes(quote &+ 1, end &- 1)
        if !escaped {
            return (String(decoding: content, as: UTF8.self), end)
        }
        return (try Self.unescape(content), end)
    }

    /// The content of a string with escapes. The result is never longer than the
    /// escaped bytes (`\n` 2 → 1, `\uXXXX` 6 → at most 3, a surrogate pair 12 → 4),
    /// so it is written into a buffer of the escaped length.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) throws(JSONDecodingFailure) -> String {
        var failure: JSONDecodingFailure?
        let result = String(unsafeUninitializedCapacity: raw.count) { out -> Int in
            var i = 0
            var o = 0
            let n = raw.count
            @inline(__always) func put(_ b: UInt8) {
                out[o] = b
                o &+= 1
            }
            while i < n {
                let c = raw[i]
                guard c == 0x5C else {
                    put(c)
                    i &+= 1
                    continue
                }
                guard i &+ 1 < n else {
                    failure = .invalidJSON
                    return 0
                }
                switch raw[i &+ 1] {
                case 0x22, 0x5C, 0x2F: put(raw[i &+ 1])  // " \ /
                case 0x62: put(0x08)  // b
                case 0x66: put(0x0C)  // f
                case 0x6E: put(0x0A)  // n
                case 0x72: put(0x0D)  // r
                case 0x74: put(0x09)  // t
                case 0x75:  // u
                    guard let unit = hex4(raw, i &+ 2) else {
                        failure = .invalidJSON
                        return 0
                    }
                    var scalar = UInt32(unit)
                    if unit & 0xFC00 == 0xD800 {
                        // A high surrogate must be followed by \u and a low one.
                        guard i &+ 11 < n, raw[i &+ 6] == 0x5C, raw[i &+ 7] == 0x75, let low = hex4(raw, i &+ 8),
                            low & 0xFC00 == 0xDC00
                        else {
                            failure = .loneSurrogate
                            return 0
                        }
                        scalar = 0x10000 &+ ((UInt32(unit) &- 0xD800) << 10) &+ (UInt32(low) &- 0xDC00)
                        i &+= 6
                    } else if unit & 0xFC00 == 0xDC00 {
                        failure = .loneSurrogate
                        return 0
                    }
                    // UTF-8 of the scalar (1 to 4 bytes).
                    if scalar < 0x80 {
                        put(UInt8(scalar))
                    } else if scalar < 0x800 {
                        put(UInt8(0xC0 | scalar >> 6))
                        put(UInt8(0x80 | scalar & 0x3F))
                    } else if scalar < 0x10000 {
                        put(UInt8(0xE0 | scalar >> 12))
                        put(UInt8(0x80 | scalar >> 6 & 0x3F))
                        put(UInt8(0x80 | scalar & 0x3F))
                    } else {
                        put(UInt8(0xF0 | scalar >> 18))
                        put(UInt8(0x80 | scalar >> 12 & 0x3F))
                        put(UInt8(0x80 | scalar >> 6 & 0x3F))
                        put(UInt8(0x80 | scalar & 0x3F))
                    }
                    i &+= 6
                    continue
                default:
                    failure = .invalidJSON
                    return 0
                }
                i &+= 2
            }
            return o
        }
        if let failure { throw failure }
        return result
    }

    /// The four hex digits at `i` as a UTF-16 code unit, or nil.
    @inline(__always)
    static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt16? {
        guard i >= 0, raw.count &- i >= 4 else { return nil }
        var unit: UInt16 = 0
        for k in 0..<4 {
            let c = raw[i &+ k]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c &- 0x30
            case 0x41...0x46: digit = c &- 0x37
            case 0x61...0x66: digit = c &- 0x57
            default: return nil
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }
}
