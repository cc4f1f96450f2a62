#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A strict, allocation-light RFC 8259 JSON validator: it checks a payload and
/// builds no parse tree. Every payload is validated before a cache commit.
///
/// ## What it guarantees
///
/// `validate` returns normally if and only if the bytes are exactly one RFC 8259
/// JSON text, in UTF-8, whose top-level value is an object or an array (any value
/// when `requiresContainerAtTopLevel` is `false`), nested at most `maxDepth`
/// objects/arrays deep. Whitespace (space, tab, LF, CR) is allowed around and
/// between tokens. Everything else is rejected with the byte offset of the
/// problem, in particular:
///
/// - empty or whitespace-only input, and a leading UTF-8 byte order mark;
/// - `NaN`, `Infinity`, comments, trailing commas, single quotes, bare words;
/// - numbers outside the grammar: `01`, `-01`, `+1`, `.5`, `1.`, `1e`, `0x1F`;
/// - unescaped control characters (U+0000...U+001F) in strings and escapes other
///   than `\" \\ \/ \b \f \n \r \t \uXXXX`;
/// - invalid UTF-8 anywhere: stray continuation bytes, overlong forms, UTF-16
///   surrogates encoded in UTF-8 (`ED A0..BF ..`), code points above U+10FFFF,
///   truncated sequences;
/// - NUL or any other byte outside strings that the grammar does not allow, and
///   anything but whitespace after the top-level value.
///
/// Two things the grammar allows are accepted, although Foundation's
/// `JSONSerialization` and `JSONDecoder` reject them:
///
/// - Escaped UTF-16 surrogates are checked only syntactically: a lone or
///   mismatched surrogate escape such as `"\uD800"` is accepted (RFC 8259
///   section 8.2 leaves its meaning to the receiver).
/// - Numbers are checked against the grammar only, not for range: `1e400`, which
///   overflows a `Double`, is accepted (section 6 lets receivers set limits).
///
/// Offsets: the byte where the problem was detected; for a truncated input
/// (the text ends inside a value) the reason is always `unexpectedEndOfInput`
/// at the input's length. `JSONValidationError.Reason` documents the exceptions
/// (a trailing comma is reported at the comma, invalid UTF-8 at the first byte
/// of the sequence, an invalid escape at its backslash).
///
/// ## Why iterative
///
/// Payloads come from the network. A recursive descent parser uses stack space
/// proportional to the nesting depth, so a hostile or broken `[[[[…` of a few
/// hundred thousand bytes could overflow a thread's stack and crash the host. This
/// validator is a single loop with an explicit stack of one bit per open
/// container (object or array; at most `maxDepth` bits, allocated once per call),
/// so it runs in constant native stack space and
/// rejects over-deep input with `nestingTooDeep`, never a crash, whatever
/// `maxDepth` is.
///
/// ## Why depth 512
///
/// 512 is the nesting limit Foundation's JSON parser enforces (512 nested
/// containers decode, 513 fail in `JSONSerialization` and `JSONDecoder`), so with
/// the default, depth never stops a Swift host from decoding an accepted payload.
/// Real metadata catalogues nest fewer than ten levels.
///
/// ## Speed
///
/// The hot paths work on 8 bytes at a time (SWAR): runs of plain string bytes and
/// of indentation spaces are skipped a word at a time, keywords are compared with
/// a single 32-bit load, and runs of multi-byte characters stay in a tight UTF-8
/// loop. About 3.4 GB/s on a pretty-printed catalogue (x86_64, release build). It
/// never reads outside the buffer.
package struct StrictJSONValidator: Sendable {
    /// Deepest nesting of objects and arrays accepted (default 512). A top-level
    /// `[]` has depth 1. Values below 1 reject every object and array.
    package var maxDepth: Int
    /// Whether the top-level value must be an object or an array (default `true`).
    /// `false` accepts any JSON value at the top level, as RFC 8259 does.
    package var requiresContainerAtTopLevel: Bool

    package init(maxDepth: Int = 512, requiresContainerAtTopLevel: Bool = true) {
        self.maxDepth = maxDepth
        self.requiresContainerAtTopLevel = requiresContainerAtTopLevel
    }

    /// Validates `bytes` as one strict JSON text (see the type's documentation).
    package func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONValidationError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONValidationError(offset: 0, reason: .emptyInput)
        }
        // A container needs at least one byte, so the depth never exceeds the size.
        let depthBound = Swift.max(0, Swift.min(maxDepth, bytes.count))
        let words = depthBound / 64 + 1
        let limit = maxDepth
        let requiresContainer = requiresContainerAtTopLevel
        var failure: JSONValidationError?
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { stack in
            do throws(JSONValidationError) {
                try StrictJSONScanner(base: base, end: bytes.count)
                    .run(maxDepth: limit, requiresContainer: requiresContainer, stack: stack.baseAddress!)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Validates the bytes of `Data`, `[UInt8]` or any other contiguous storage.
    package func validate(_ bytes: some ContiguousBytes) throws(JSONValidationError) {
        var failure: JSONValidationError?
        bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            do throws(JSONValidationError) {
                try self.validate(buffer)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}

/// Why a payload is not strict JSON, and where.
public struct JSONValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 0-based byte offset at which the problem was detected. For a truncated
    /// input this is the input's length.
    public let offset: Int
    public let reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// For example "unexpected end of input at byte 1043".
    public var description: String { "\(reason) at byte \(offset)" }

    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The input is empty or contains only whitespace.
        case emptyInput
        /// A UTF-8 byte order mark (EF BB BF), typically at byte 0.
        case byteOrderMark
        /// The top-level value is a string, number or literal, but an object or
        /// array is required.
        case topLevelNotContainer
        /// The input ends inside a value (truncated input).
        case unexpectedEndOfInput
        /// A byte the grammar does not allow here (outside strings; for a
        /// multi-byte character, its first byte).
        case unexpectedByte(UInt8)
        /// A malformed UTF-8 sequence (offset: its first byte).
        case invalidUTF8
        /// A raw byte below 0x20 inside a string; it must be escaped.
        case controlCharacterInString(UInt8)
        /// A backslash not followed by `" \ / b f n r t` or `u` and four hex digits
        /// (offset: the backslash).
        case invalidEscape
        /// A number outside the JSON number grammar.
        case invalidNumber(NumberProblem)
        /// `NaN`, `Infinity` or `-Infinity`.
        case nonFiniteNumber
        /// A bare word other than `true`, `false` and `null`.
        case invalidLiteral
        /// A `//` or `/*` comment.
        case comment
        /// A comma before `]` or `}` (offset: the comma).
        case trailingComma
        /// Something other than whitespace after the top-level value.
        case trailingData
        /// More than `limit` nested objects/arrays (offset: the first container
        /// beyond the limit).
        case nestingTooDeep(limit: Int)

        public var description: String {
            switch self {
            case .emptyInput: "empty input (no JSON value)"
            case .byteOrderMark: "byte order mark (not allowed in JSON)"
            case .topLevelNotContainer: "top-level value is not an object or array"
            case .unexpectedEndOfInput: "unexpected end of input"
            case let .unexpectedByte(byte): Self.unexpected(byte)
            case .invalidUTF8: "invalid UTF-8 sequence"
            case let .controlCharacterInString(byte):
                "unescaped control character \(Self.hex(byte)) in string"
            case .invalidEscape: "invalid escape sequence in string"
            case let .invalidNumber(problem): "\(problem)"
            case .nonFiniteNumber: "NaN or Infinity (not allowed in JSON)"
            case .invalidLiteral: "invalid literal (only true, false and null are allowed)"
            case .comment: "comment (not allowed in JSON)"
            case .trailingComma: "trailing comma (not allowed in JSON)"
            case .trailingData: "trailing data after the JSON value"
            case let .nestingTooDeep(limit): "nesting deeper than \(limit) levels"
            }
        }

        private static func unexpected(_ byte: UInt8) -> String {
            switch byte {
            case 0: "unexpected NUL byte"
            case 0x21...0x7E: "unexpected character '\(Character(Unicode.Scalar(byte)))'"
            default: "unexpected byte \(hex(byte))"
            }
        }

        private static func hex(_ byte: UInt8) -> String {
            let digits = Array("0123456789ABCDEF".utf8)
            return "0x" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }
    }

    /// How a number breaks the grammar `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    public enum NumberProblem: Sendable, Equatable, CustomStringConvertible {
        /// `01`, `-01`, `00` (offset: the zero).
        case leadingZero
        /// `+1` (offset: the plus sign).
        case leadingPlus
        /// `-`, `-a`, `.5`: no digit where the integer part starts (offset: there).
        case missingIntegerDigits
        /// `1.`, `1.e5` (offset: where the first fraction digit belongs).
        case missingFractionDigits
        /// `1e`, `1e+` (offset: where the first exponent digit belongs).
        case missingExponentDigits

        public var description: String {
            switch self {
            case .leadingZero: "leading zero in number"
            case .leadingPlus: "leading '+' in number"
            case .missingIntegerDigits: "missing integer digits in number"
            case .missingFractionDigits: "missing digits after the decimal point"
            case .missingExponentDigits: "missing digits in the exponent of a number"
            }
        }
    }
}

// MARK: - Scanner

/// The validator's single pass over the input (`StrictJSONValidator.validate`).
private struct StrictJSONScanner {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080
    static let spaces: UInt64 = 0x2020_2020_2020_2020
    /// Bit n set for each JSON whitespace byte n (tab, LF, CR, space).
    static let whitespaceMask: UInt64 = 1 << 0x09 | 1 << 0x0A | 1 << 0x0D | 1 << 0x20

    /// Where an unexpected byte was met; selects the most helpful reason.
    enum Context {
        case value, objectKey, colon, afterValue
    }

    let base: UnsafeRawPointer
    /// The input's length: every read is at an offset `< end`.
    let end: Int

    @inline(__always)
    func byte(_ i: Int) -> UInt8 {
        base.load(fromByteOffset: i, as: UInt8.self)
    }

    /// 8 bytes at `i` (caller guarantees `end - i >= 8`), first byte lowest.
    @inline(__always)
    func word(_ i: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    /// 4 bytes at `i` (caller guarantees `end - i >= 4`), first byte lowest.
    @inline(__always)
    func word32(_ i: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))
    }

    func run(maxDepth: Int, requiresContainer: Bool, stack: UnsafeMutablePointer<UInt64>) throws(JSONValidationError) {
        // (A leading byte order mark is reported by `unexpected`, like any BOM.)
        var i = skipWhitespace(0)
        guard i < end else { throw JSONValidationError(offset: i, reason: .emptyInput) }
        if requiresContainer {
            switch byte(i) {
            case 0x7B, 0x5B: break  // { [
            case Self.quote, 0x2D, 0x30...0x39, 0x74, 0x66, 0x6E:  // " - 0-9 t f n
                throw JSONValidationError(offset: i, reason: .topLevelNotContainer)
            default: break  // not a value at all: reported below with a better reason
            }
        }

        var depth = 0
        var inObject = false
        valueLoop: while true {
            // At the start of a value; whitespace already skipped.
            guard i < end else { throw eof() }
            let c = byte(i)
            switch c {
            case Self.quote:
                i = try scanString(i &+ 1)
            case 0x30...0x39, 0x2D:  // 0-9 -
                i = try scanNumber(i)
            case 0x7B, 0x5B:  // { [
                guard depth < maxDepth else {
                    throw JSONValidationError(offset: i, reason: .nestingTooDeep(limit: maxDepth))
                }
                let isObject = c == 0x7B
                let w = depth >> 6
                let bit = UInt64(1) << UInt64(depth & 63)
                stack[w] = isObject ? stack[w] | bit : stack[w] & ~bit
                depth &+= 1
                inObject = isObject
                i = skipWhitespace(i &+ 1)
                guard i < end else { throw eof() }
                let next = byte(i)
                if next == c &+ 2 {  // } or ]: an empty container, a complete value
                    depth &-= 1
                    if depth > 0 { inObject = isOpenObject(stack, depth &- 1) }
                    i &+= 1
                    break
                }
                if isObject {
                    i = try scanMemberName(i)
                }
                continue valueLoop
            case 0x74:  // t
                guard end &- i >= 4, word32(i) == 0x6575_7274 /* "true" */ else { throw unexpected(i, .value) }
                i &+= 4
            case 0x66:  // f
                guard end &- i >= 5, word32(i &+ 1) == 0x6573_6C61 /* "alse" */ else { throw unexpected(i, .value) }
                i &+= 5
            case 0x6E:  // n
                guard end &- i >= 4, word32(i) == 0x6C6C_756E /* "null" */ else { throw unexpected(i, .value) }
                i &+= 4
            default:
                throw unexpected(i, .value)
            }

            // After a complete value: a comma or the closing bracket(s).
            while true {
                if depth == 0 { break valueLoop }
                i = skipWhitespace(i)
                guard i < end else { throw eof() }
                let d = byte(i)
                if d == 0x2C {  // ,
                    i = skipWhitespace(i &+ 1)
                    if inObject { i = try scanMemberName(i) }
                    continue valueLoop
                }
                guard d == (inObject ? 0x7D : 0x5D) else { throw unexpected(i, .afterValue) }
                depth &-= 1
                if depth > 0 { inObject = isOpenObject(stack, depth &- 1) }
                i &+= 1
            }
        }

        i = skipWhitespace(i)
        guard i == end else { throw JSONValidationError(offset: i, reason: .trailingData) }
    }

    @inline(__always)
    func isOpenObject(_ stack: UnsafeMutablePointer<UInt64>, _ level: Int) -> Bool {
        stack[level >> 6] & (UInt64(1) << UInt64(level & 63)) != 0
    }

    /// Scans `"name"` `:` and the whitespace after it; returns the value's start.
    @inline(__always)
    func scanMemberName(_ start: Int) throws(JSONValidationError) -> Int {
        guard start < end, byte(start) == Self.quote else { throw unexpected(start, .objectKey) }
        var i = try scanString(start &+ 1)
        i = skipWhitespace(i)
        guard i < end, byte(i) == 0x3A else { throw unexpected(i, .colon) }
        return skipWhitespace(i &+ 1)
    }

    @inline(__always)
    func skipWhitespace(_ start: Int) -> Int {
        var i = start
        while i < end {
            let c = byte(i)
            if c > 0x20 || Self.whitespaceMask & (UInt64(1) << UInt64(c)) == 0 { return i }
            i &+= 1
            if c == 0x0A {
                // Pretty-printed input: skip the indentation 8 spaces at a time.
                while end &- i >= 8 {
                    let w = word(i) ^ Self.spaces
                    if w != 0 {
                        i &+= w.trailingZeroBitCount &>> 3
                        break
                    }
                    i &+= 8
                }
            }
        }
        return i
    }

    /// Scans a string body from just after its opening quote; returns the offset
    /// just after the closing quote.
    @inline(__always)
    func scanString(_ start: Int) throws(JSONValidationError) -> Int {
        var i = start
        while true {
            // Skip plain bytes (not '"', '\', < 0x20 or >= 0x80) 8 at a time. The
            // lowest flagged byte is exact: borrows only propagate upwards.
            while end &- i >= 8 {
                let w = word(i)
                let t = (w &- 0x20 &* Self.ones) | ((w ^ 0x22 &* Self.ones) &- Self.ones) | ((w ^ 0x5C &* Self.ones) &- Self.ones)
                let special = (t | w) & Self.highBits
                if special != 0 {
                    i &+= special.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < end else { throw eof() }
            let c = byte(i)
            if c == Self.quote { return i &+ 1 }
            if c >= 0x80 {
                // Non-ASCII text: stay here while multi-byte characters follow.
                repeat { i = try scanUTF8(i) } while i < end && byte(i) >= 0x80
            } else if c == Self.backslash {
                i = try scanEscape(i)
            } else if c < 0x20 {
                throw JSONValidationError(offset: i, reason: .controlCharacterInString(c))
            } else {
                i &+= 1
            }
        }
    }

    /// Validates the escape at `i` (a backslash); returns the offset after it.
    func scanEscape(_ i: Int) throws(JSONValidationError) -> Int {
        guard i &+ 1 < end else { throw eof() }
        switch byte(i &+ 1) {
        case Self.quote, Self.backslash, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            return i &+ 2
        case 0x75:  // u
            for k in 2..<6 {
                guard i &+ k < end else { throw eof() }
                let h = byte(i &+ k)
                guard h &- 0x30 < 10 || (h | 0x20) &- 0x61 < 6 else {
                    throw JSONValidationError(offset: i, reason: .invalidEscape)
                }
            }
            return i &+ 6
        default:
            throw JSONValidationError(offset: i, reason: .invalidEscape)
        }
    }

    /// Validates the multi-byte UTF-8 sequence starting at `i` (a byte >= 0x80);
    /// returns the offset after it.
    @inline(__always)
    func scanUTF8(_ i: Int) throws(JSONValidationError) -> Int {
        let lead = byte(i)
        // Fast path for the common 2- and 3-byte forms; everything else (and every
        // error) goes through the full table below.
        if lead &- 0xC2 < 0x1E, end &- i >= 2, byte(i &+ 1) & 0xC0 == 0x80 {
            return i &+ 2
        }
        if lead &- 0xE1 < 0x0F, lead != 0xED, end &- i >= 3,
            byte(i &+ 1) & 0xC0 == 0x80, byte(i &+ 2) & 0xC0 == 0x80
        {
            return i &+ 3
        }
        if let length = utf8SequenceLength(at: i) { return i &+ length }
        throw JSONValidationError(offset: i, reason: .invalidUTF8)
    }

    /// The length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7),
    /// or nil.
    func utf8SequenceLength(at i: Int) -> Int? {
        let lead = byte(i)
        @inline(__always) func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            guard i &+ k < end else { return false }
            let b = byte(i &+ k)
            return b >= low && b <= high
        }
        switch lead {
        case 0x00...0x7F:
            return 1
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0...0xEF:
            let ok: Bool =
                switch lead {
                case 0xE0: continuation(1, 0xA0)  // no overlongs
                case 0xED: continuation(1, 0x80, 0x9F)  // no UTF-16 surrogates
                default: continuation(1)
                }
            return ok && continuation(2) ? 3 : nil
        case 0xF0...0xF4:
            let ok: Bool =
                switch lead {
                case 0xF0: continuation(1, 0x90)  // no overlongs
                case 0xF4: continuation(1, 0x80, 0x8F)  // nothing above U+10FFFF
                default: continuation(1)
                }
            return ok && continuation(2) && continuation(3) ? 4 : nil
        default:  // 80...C1 (continuation or overlong lead), F5...FF
            return nil
        }
    }

    /// Scans a number starting at `start` ('-' or a digit); returns its end.
    @inline(__always)
    func scanNumber(_ start: Int) throws(JSONValidationError) -> Int {
        var i = start
        if byte(i) == 0x2D {
            i &+= 1
            guard i < end else { throw eof() }
        }
        let first = byte(i)
        if first == 0x30 {
            i &+= 1
            if i < end, byte(i) &- 0x30 < 10 {
                throw JSONValidationError(offset: i &- 1, reason: .invalidNumber(.leadingZero))
            }
        } else if first &- 0x31 < 9 {
            i &+= 1
            while i < end, byte(i) &- 0x30 < 10 { i &+= 1 }
        } else {
            throw missingIntegerDigits(numberStart: start, at: i)
        }
        guard i < end else { return i }
        var c = byte(i)
        if c == 0x2E {  // .
            i &+= 1
            guard i < end else { throw eof() }
            guard byte(i) &- 0x30 < 10 else {
                throw JSONValidationError(offset: i, reason: .invalidNumber(.missingFractionDigits))
            }
            i &+= 1
            while i < end, byte(i) &- 0x30 < 10 { i &+= 1 }
            guard i < end else { return i }
            c = byte(i)
        }
        if c | 0x20 == 0x65 {  // e E
            i &+= 1
            guard i < end else { throw eof() }
            let sign = byte(i)
            if sign == 0x2B || sign == 0x2D {
                i &+= 1
                guard i < end else { throw eof() }
            }
            guard byte(i) &- 0x30 < 10 else {
                throw JSONValidationError(offset: i, reason: .invalidNumber(.missingExponentDigits))
            }
            i &+= 1
            while i < end, byte(i) &- 0x30 < 10 { i &+= 1 }
        }
        return i
    }

    // MARK: Errors (cold)

    @inline(never)
    func eof() -> JSONValidationError {
        JSONValidationError(offset: end, reason: .unexpectedEndOfInput)
    }

    @inline(never)
    func missingIntegerDigits(numberStart: Int, at i: Int) -> JSONValidationError {
        if hasPrefix("Infinity", at: i) || hasPrefix("NaN", at: i) {
            return JSONValidationError(offset: numberStart, reason: .nonFiniteNumber)
        }
        return JSONValidationError(offset: i, reason: .invalidNumber(.missingIntegerDigits))
    }

    func hasPrefix(_ text: StaticString, at i: Int) -> Bool {
        let count = text.utf8CodeUnitCount
        guard end &- i >= count else { return false }
        let p = text.utf8Start
        for k in 0..<count where byte(i &+ k) != p[k] { return false }
        return true
    }

    /// The offset of the last non-whitespace byte before `i`, if any.
    func previousToken(before i: Int) -> Int? {
        var k = i &- 1
        while k >= 0 {
            let c = byte(k)
            if c > 0x20 || Self.whitespaceMask & (UInt64(1) << UInt64(c)) == 0 { return k }
            k &-= 1
        }
        return nil
    }

    /// The most helpful error for the byte at `i`, which cannot appear there.
    @inline(never)
    func unexpected(_ i: Int, _ context: Context) -> JSONValidationError {
        guard i < end else { return eof() }
        let c = byte(i)
        func error(_ reason: JSONValidationError.Reason, _ offset: Int? = nil) -> JSONValidationError {
            JSONValidationError(offset: offset ?? i, reason: reason)
        }
        if c >= 0x80 {
            if end &- i >= 3, c == 0xEF, byte(i &+ 1) == 0xBB, byte(i &+ 2) == 0xBF { return error(.byteOrderMark) }
            return utf8SequenceLength(at: i) == nil ? error(.invalidUTF8) : error(.unexpectedByte(c))
        }
        if c == 0x2F, i &+ 1 < end, byte(i &+ 1) == 0x2F || byte(i &+ 1) == 0x2A {  // // or /*
            return error(.comment)
        }
        // `[1,]` (a value was due) or `{"a":1,}` (a member name was due).
        if (c == 0x5D && context == .value) || (c == 0x7D && context == .objectKey),
            let comma = previousToken(before: i), byte(comma) == 0x2C
        {
            return error(.trailingComma, comma)
        }
        guard context == .value else { return error(.unexpectedByte(c)) }
        switch c {
        case 0x2B:  // +
            return error(.invalidNumber(.leadingPlus))
        case 0x2E:  // .
            return error(.invalidNumber(.missingIntegerDigits))
        case 0x74, 0x66, 0x6E:  // t f n
            // A truncated keyword at the end of the input ("[tr") is a truncation.
            let keyword: StaticString = c == 0x74 ? "true" : c == 0x66 ? "false" : "null"
            let available = end &- i
            if available < keyword.utf8CodeUnitCount {
                let p = keyword.utf8Start
                if (0..<available).allSatisfy({ byte(i &+ $0) == p[$0] }) { return eof() }
            }
            return error(.invalidLiteral)
        default:
            if hasPrefix("NaN", at: i) || hasPrefix("Infinity", at: i) { return error(.nonFiniteNumber) }
            if (c | 0x20) &- 0x61 < 26 { return error(.invalidLiteral) }
            return error(.unexpectedByte(c))
        }
    }
}
