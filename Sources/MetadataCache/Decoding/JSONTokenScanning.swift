/// Finding where JSON tokens end, without building anything: the decoder's only
/// way to move through the bytes.
///
/// These functions trust nothing: on bytes that are not JSON they return some end
/// offset inside the input or throw `JSONDecodingFailure.invalidJSON`; they never
/// read outside the input, never trap and never recurse (a nested container is
/// skipped with a counter, so `[[[[…` a million deep costs no stack).
extension JSONInput {
    static let quotes: UInt64 = 0x2222_2222_2222_2222
    static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080
    static let caseBits: UInt64 = 0x2020_2020_2020_2020
    static let openBraces: UInt64 = 0x7B7B_7B7B_7B7B_7B7B
    static let closeBraces: UInt64 = 0x7D7D_7D7D_7D7D_7D7D

    /// High bit set in each byte of `x` that is zero, exact for the lowest zero
    /// byte (bits above it may be false positives; callers use only the lowest).
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        (x &- ones) & ~x & highBits
    }

    /// The first offset at or after `i` that is not JSON whitespace.
    @inline(__always)
    func skipWhitespace(_ i: Int) -> Int {
        var i = i
        while true {
            let c = byte(i)
            // Space, tab, LF, CR; 0 (outside the input) stops.
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return i }
            i &+= 1
        }
    }

    /// What a string's bytes need: `StringFlags.escaped` if it contains a backslash,
    /// `.nonASCII` if it contains a byte >= 0x80.
    struct StringFlags: OptionSet {
        let rawValue: UInt8
        static let escaped = StringFlags(rawValue: 1)
        static let nonASCII = StringFlags(rawValue: 2)
    }

    /// The end of the string whose opening quote is at `quote`: the offset after its
    /// closing quote, and what its content needs.
    @inline(__always)
    func stringEnd(_ quote: Int) throws(JSONDecodingFailure) -> (end: Int, flags: StringFlags) {
        var i = quote &+ 1
        var high: UInt64 = 0
        var escaped = false
        while true {
            // Eight bytes at a time to the next quote or backslash.
            while count &- i >= 8 {
                let w = word(i)
                let hits = Self.zeroBytes(w ^ Self.quotes) | Self.zeroBytes(w ^ Self.backslashes)
                if hits != 0 {
                    let n = hits.trailingZeroBitCount >> 3
                    // Only the bytes before the hit belong to the string so far.
                    high |= w & ((UInt64(1) << UInt64(n << 3)) &- 1)
                    i &+= n
                    break
                }
                high |= w
                i &+= 8
            }
            guard i < count else { throw .invalidJSON }
            let c = base[i]
            if c == 0x22 {  // "
                var flags: StringFlags = escaped ? .escaped : []
                if high & Self.highBits != 0 { flags.insert(.nonASCII) }
                return (i &+ 1, flags)
            }
            if c == 0x5C {  // \: the next byte is escaped, whatever it is
                escaped = true
                i &+= 2
                continue
            }
            if c >= 0x80 { high |= 0x80 }
            i &+= 1
        }
    }

    /// The end of the string whose opening quote is at `quote` and whether it
    /// has escapes: `stringEnd` without tracking non-ASCII bytes, which only keys
    /// need (values and skipped strings are most of the bytes scanned).
    @inline(__always)
    func stringEndAndEscapes(_ quote: Int) throws(JSONDecodingFailure) -> (end: Int, escaped: Bool) {
        var i = quote &+ 1
        var escaped = false
        while true {
            while count &- i >= 8 {
                let w = word(i)
                let hits = Self.zeroBytes(w ^ Self.quotes) | Self.zeroBytes(w ^ Self.backslashes)
                if hits != 0 {
                    i &+= hits.trailingZeroBitCount >> 3
                    break
                }
                i &+= 8
            }
            guard i < count else { throw .invalidJSON }
            let c = base[i]
            if c == 0x22 { return (i &+ 1, escaped) }  // "
            if c == 0x5C {  // \: the next byte is escaped, whatever it is
                escaped = true
                i &+= 2
                continue
            }
            i &+= 1
        }
    }

    /// The end of the number starting at `i`: the first byte that cannot be part
    /// of a number (the grammar is checked when the number is parsed).
    @inline(__always)
    func numberEnd(_ i: Int) -> Int {
        var i = i
        while true {
            switch byte(i) {
            case 0x30...0x39, 0x2D, 0x2B, 0x2E, 0x65, 0x45: i &+= 1  // 0-9 - + . e E
            default: return i
            }
        }
    }

    /// Whether the bytes at `i` are exactly `literal` ("true", "false", "null").
    @inline(__always)
    func hasLiteral(_ literal: StaticString, at i: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i >= 0, count &- i >= n else { return false }
        let p = literal.utf8Start
        for k in 0..<n where base[i &+ k] != p[k] { return false }
        return true
    }

    /// The end of the value starting at `i` (its first byte, whitespace skipped).
    func skipValue(_ i: Int) throws(JSONDecodingFailure) -> Int {
        switch byte(i) {
        case 0x22:
            return try stringEndAndEscapes(i).end
        case 0x7B, 0x5B:  // { [
            return try containerEnd(i)
        case 0x74, 0x6E:  // t n
            guard hasLiteral(byte(i) == 0x74 ? "true" : "null", at: i) else { throw .invalidJSON }
            return i &+ 4
        case 0x66:  // f
            guard hasLiteral("false", at: i) else { throw .invalidJSON }
            return i &+ 5
        case 0x2D, 0x30...0x39:
            return numberEnd(i)
        default:
            throw .invalidJSON
        }
    }

    /// The end of the object or array opening at `i`, by counting brackets outside
    /// strings (eight bytes at a time between interesting bytes).
    func containerEnd(_ i: Int) throws(JSONDecodingFailure) -> Int {
        var depth = 0
        var j = i
        while true {
            while count &- j >= 8 {
                let w = word(j)
                // `[`/`{` and `]`/`}` differ only in bit 5: fold them together.
                let folded = w | Self.caseBits
                let hits = Self.zeroBytes(w ^ Self.quotes) | Self.zeroBytes(folded ^ Self.openBraces)
                    | Self.zeroBytes(folded ^ Self.closeBraces)
                if hits != 0 {
                    j &+= hits.trailingZeroBitCount >> 3
                    break
                }
                j &+= 8
            }
            guard j < count else { throw .invalidJSON }
            switch base[j] {
            case 0x22:
                j = try stringEndAndEscapes(j).end
                continue
            case 0x7B, 0x5B:
                depth &+= 1
            case 0x7D, 0x5D:
                depth &-= 1
                if depth == 0 { return j &+ 1 }
            default:
                break
            }
            j &+= 1
        }
    }

    /// What the value at `i` is (for type checks and error messages). `i == -1` is
    /// the null a `superDecoder` sees for a missing key.
    @inline(__always)
    func kind(at i: Int) -> JSONValueKind {
        if i < 0 { return .null }
        switch byte(i) {
        case 0x22: return .string
        case 0x7B: return .object
        case 0x5B: return .array
        case 0x2D, 0x30...0x39: return .number
        case 0x74, 0x66: return .bool
        case 0x6E: return .null
        default: return .invalid
        }
    }
}

/// The kind of a JSON value, from its first byte.
enum JSONValueKind {
    case string, number, bool, null, object, array
    /// Not the start of any JSON value (only in bytes that are not JSON).
    case invalid

    /// As `JSONDecoder` words it in "Expected to decode X but found … instead."
    var foundDescription: String {
        switch self {
        case .string: "a string"
        case .number: "number"
        case .bool: "bool"
        case .null: "null"
        case .object: "a dictionary"
        case .array: "an array"
        case .invalid: "invalid JSON"
        }
    }
}
