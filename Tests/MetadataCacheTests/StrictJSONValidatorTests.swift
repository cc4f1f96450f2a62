import Foundation
import Testing
import TestSupport
@testable import MetadataCache

extension Result {
    fileprivate var failure: Failure? {
        if case let .failure(error) = self { return error }
        return nil
    }
}

@Suite(.serialized, .dedicatedThread) struct StrictJSONValidatorTests {
    typealias Reason = JSONValidationError.Reason

    /// The error `validate` throws for `bytes`, or nil if they are accepted.
    static func failure(_ bytes: [UInt8], _ validator: StrictJSONValidator = StrictJSONValidator()) -> JSONValidationError? {
        do {
            try validator.validate(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func failure(_ text: String, _ validator: StrictJSONValidator = StrictJSONValidator()) -> JSONValidationError? {
        failure(Array(text.utf8), validator)
    }

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    // MARK: Accepted documents

    static let validDocuments: [String] = [
        "{}", "[]", " {} ", "\n\t\r [ ] \n\t\r", "[[]]", "[{}]", "{\"\":{}}", "[[],[[]],{}]",
        #"{"a":1}"#, #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"[1,-1,0,-0,0.5,-0.5,10,1234567890,1e5,1E5,1e+5,1e-5,1.5e10,-1.25E-300,0e0,0.0]"#,
        #"[123456789012345678901234567890, -1e-400, 1.7976931348623157e308]"#,
        #"["", "a", "\"", "\\", "\/", "\b\f\n\r\t", "\u0000", "\u00e9\u00E9", "\uD83D\uDE00", "\uFFFF"]"#,
        #"["\uD800", "\uDC00", "\uDBFF\uD800x"]"#,  // lone surrogate escapes: syntactically valid (documented)
        "[\"é ü € 日本語 😀 \u{7F}\"]",  // raw UTF-8 of every length, and DEL (not a control character)
        "{\"ключ\": \"значение\", \"€\": [\"€\"]}",
        "[\"\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}\"]",
        "{\n  \"a\" : [ 1 , 2 ] ,\n  \"b\" : { \"c\" : null }\n}\n",
        "[\"12345678\", \"1234567\\\"\", \"abcdefghijklmnopqrstuvwxyz0123456789\", \"abcdefg\\u0041hijklmnopé\"]",
        "[true,false,null,true]", "[ true , false , null ]", "{\"t\":true}", "{\"n\":null}",
        "[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "]",
    ]

    @Test(arguments: validDocuments)
    func acceptsValidDocument(_ text: String) throws {
        #expect(Self.failure(text) == nil)
        // And so does Foundation (proper surrogate pairs only; see the lone-surrogate test).
        if !text.contains(#"\uD800"#) {
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
        }
    }

    @Test(arguments: ["\"abc\"", "\"\"", "0", "-0.5e10", "1", " 42 ", "true", "false", "null", "\n[]\n", "{}"])
    func acceptsAnyTopLevelValueWhenAllowed(_ text: String) {
        let anyValue = StrictJSONValidator(requiresContainerAtTopLevel: false)
        #expect(Self.failure(text, anyValue) == nil)
    }

    @Test func acceptsTheFixtures() throws {
        for name in ["catalog-sample.json", "catalog-1mib.json"] {
            let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
            #expect(data.count > 100_000, "\(name)")
            #expect(Self.failure([UInt8](data)) == nil, "\(name)")
            try StrictJSONValidator().validate(data)
            // Non-ASCII text is present, so the UTF-8 path is exercised.
            #expect(data.contains(where: { $0 >= 0x80 }), "\(name)")
        }
    }

    @Test func convenienceOverloadsAgree() throws {
        let good = Array(#"{"a":[1,2]}"#.utf8)
        let bad = Array(#"{"a":[1,2,]}"#.utf8)
        let validator = StrictJSONValidator()
        try validator.validate(good)
        try validator.validate(Data(good))
        try validator.validate(good[...])
        try good.withUnsafeBytes { buffer in try validator.validate(buffer) }
        let expected = JSONValidationError(offset: 9, reason: .trailingComma)
        #expect(throws: expected) { try validator.validate(bad) }
        #expect(throws: expected) { try validator.validate(Data(bad)) }
        #expect(throws: expected) { try bad.withUnsafeBytes { try validator.validate($0) } }
        #expect(throws: JSONValidationError(offset: 0, reason: .emptyInput)) { try validator.validate(Data()) }
        #expect(throws: JSONValidationError(offset: 0, reason: .emptyInput)) {
            try validator.validate(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    // MARK: Rejected documents

    struct Rejection: Sendable, CustomTestStringConvertible {
        let bytes: [UInt8]
        let reason: Reason
        let offset: Int
        var allowAnyTopLevel = false

        init(_ text: String, _ reason: Reason, at offset: Int, anyTopLevel: Bool = false) {
            self.init(Array(text.utf8), reason, at: offset, anyTopLevel: anyTopLevel)
        }

        init(_ bytes: [UInt8], _ reason: Reason, at offset: Int, anyTopLevel: Bool = false) {
            self.bytes = bytes
            self.reason = reason
            self.offset = offset
            self.allowAnyTopLevel = anyTopLevel
        }

        var testDescription: String {
            String(decoding: bytes, as: UTF8.self).debugDescription + " -> \(reason) at \(offset)"
        }
    }

    /// `"[\"" + bytes + "\"]"`: the bytes inside a string in an array.
    static func inString(_ bytes: [UInt8]) -> [UInt8] { [0x5B, 0x22] + bytes + [0x22, 0x5D] }

    static let rejections: [Rejection] = [
        // Empty, whitespace, BOM, top level.
        Rejection("", .emptyInput, at: 0),
        Rejection("   \n\t", .emptyInput, at: 5),
        Rejection("\u{FEFF}{}", .byteOrderMark, at: 0),
        Rejection([0xEF, 0xBB, 0xBF], .byteOrderMark, at: 0),
        Rejection(" \u{FEFF}{}", .byteOrderMark, at: 1),
        Rejection("\"abc\"", .topLevelNotContainer, at: 0),
        Rejection(" 42", .topLevelNotContainer, at: 1),
        Rejection("-1", .topLevelNotContainer, at: 0),
        Rejection("true", .topLevelNotContainer, at: 0),
        Rejection("null", .topLevelNotContainer, at: 0),
        Rejection("1 2", .trailingData, at: 2, anyTopLevel: true),
        Rejection("<html>", .unexpectedByte(UInt8(ascii: "<")), at: 0),
        // NaN, Infinity, comments, trailing commas.
        Rejection("NaN", .nonFiniteNumber, at: 0),
        Rejection("[NaN]", .nonFiniteNumber, at: 1),
        Rejection("[Infinity]", .nonFiniteNumber, at: 1),
        Rejection("[-Infinity]", .nonFiniteNumber, at: 1),
        Rejection("{\"x\": -NaN}", .nonFiniteNumber, at: 6),
        Rejection("/* c */ []", .comment, at: 0),
        Rejection("// c\n[]", .comment, at: 0),
        Rejection("[/* c */ 1]", .comment, at: 1),
        Rejection("[1 // c\n]", .comment, at: 3),
        Rejection("{\"a\":1 /* x */}", .comment, at: 7),
        Rejection("[1,]", .trailingComma, at: 2),
        Rejection("[1 ,\n ]", .trailingComma, at: 3),
        Rejection("{\"a\":1,}", .trailingComma, at: 6),
        Rejection("[[],]", .trailingComma, at: 3),
        Rejection("[,1]", .unexpectedByte(UInt8(ascii: ",")), at: 1),
        Rejection("[1,,2]", .unexpectedByte(UInt8(ascii: ",")), at: 3),
        Rejection("{,}", .unexpectedByte(UInt8(ascii: ",")), at: 1),
        // Numbers.
        Rejection("[01]", .invalidNumber(.leadingZero), at: 1),
        Rejection("[-01]", .invalidNumber(.leadingZero), at: 2),
        Rejection("[00]", .invalidNumber(.leadingZero), at: 1),
        Rejection("[+1]", .invalidNumber(.leadingPlus), at: 1),
        Rejection("[.5]", .invalidNumber(.missingIntegerDigits), at: 1),
        Rejection("[-]", .invalidNumber(.missingIntegerDigits), at: 2),
        Rejection("[-.5]", .invalidNumber(.missingIntegerDigits), at: 2),
        Rejection("[- 1]", .invalidNumber(.missingIntegerDigits), at: 2),
        Rejection("[1.]", .invalidNumber(.missingFractionDigits), at: 3),
        Rejection("[1.e5]", .invalidNumber(.missingFractionDigits), at: 3),
        Rejection("[1e]", .invalidNumber(.missingExponentDigits), at: 3),
        Rejection("[1e+]", .invalidNumber(.missingExponentDigits), at: 4),
        Rejection("[1E-x]", .invalidNumber(.missingExponentDigits), at: 4),
        Rejection("[0x1F]", .unexpectedByte(UInt8(ascii: "x")), at: 2),
        Rejection("[1.5.3]", .unexpectedByte(UInt8(ascii: ".")), at: 4),
        Rejection("[1 2]", .unexpectedByte(UInt8(ascii: "2")), at: 3),
        // '/' and ':' surround the digits in ASCII.
        Rejection("[/]", .unexpectedByte(UInt8(ascii: "/")), at: 1),
        Rejection("[:]", .unexpectedByte(UInt8(ascii: ":")), at: 1),
        Rejection("[-/]", .invalidNumber(.missingIntegerDigits), at: 2),
        Rejection("[-:]", .invalidNumber(.missingIntegerDigits), at: 2),
        Rejection("[0:]", .unexpectedByte(UInt8(ascii: ":")), at: 2),
        Rejection("[19:]", .unexpectedByte(UInt8(ascii: ":")), at: 3),
        Rejection("[19/]", .unexpectedByte(UInt8(ascii: "/")), at: 3),
        Rejection("[1./]", .invalidNumber(.missingFractionDigits), at: 3),
        Rejection("[1.:]", .invalidNumber(.missingFractionDigits), at: 3),
        Rejection("[1.09:]", .unexpectedByte(UInt8(ascii: ":")), at: 5),
        Rejection("[1e/]", .invalidNumber(.missingExponentDigits), at: 3),
        Rejection("[1e:]", .invalidNumber(.missingExponentDigits), at: 3),
        Rejection("[1e+:]", .invalidNumber(.missingExponentDigits), at: 4),
        Rejection("[1e09:]", .unexpectedByte(UInt8(ascii: ":")), at: 5),
        Rejection("[1e09/]", .unexpectedByte(UInt8(ascii: "/")), at: 5),
        Rejection("[1d5]", .unexpectedByte(UInt8(ascii: "d")), at: 2),
        Rejection("[1.5D2]", .unexpectedByte(UInt8(ascii: "D")), at: 4),
        Rejection("01", .invalidNumber(.leadingZero), at: 0, anyTopLevel: true),
        Rejection("1.", .unexpectedEndOfInput, at: 2, anyTopLevel: true),
        // Literals.
        Rejection("[tru]", .invalidLiteral, at: 1),
        Rejection("[fals]", .invalidLiteral, at: 1),
        Rejection("[nul]", .invalidLiteral, at: 1),
        Rejection("[True]", .invalidLiteral, at: 1),
        Rejection("[undefined]", .invalidLiteral, at: 1),
        Rejection("{\"a\":nil}", .invalidLiteral, at: 5),
        Rejection("[truex]", .unexpectedByte(UInt8(ascii: "x")), at: 5),
        Rejection("[nulll]", .unexpectedByte(UInt8(ascii: "l")), at: 5),
        Rejection("['a']", .unexpectedByte(UInt8(ascii: "'")), at: 1),
        // Strings and escapes.
        Rejection("[\"a\nb\"]", .controlCharacterInString(0x0A), at: 3),
        Rejection("[\"a\tb\"]", .controlCharacterInString(0x09), at: 3),
        Rejection(inString([0x00]), .controlCharacterInString(0x00), at: 2),
        Rejection(inString(Array("0123456789abcdef\u{1F}".utf8)), .controlCharacterInString(0x1F), at: 18),
        Rejection(#"["\x41"]"#, .invalidEscape, at: 2),
        Rejection(#"["ab\u12"]"#, .invalidEscape, at: 4),
        Rejection(#"["\u12G4"]"#, .invalidEscape, at: 2),
        Rejection(#"["\U0041"]"#, .invalidEscape, at: 2),
        Rejection(#"["\'"]"#, .invalidEscape, at: 2),
        Rejection(#"["\ "]"#, .invalidEscape, at: 2),
        // Invalid UTF-8, inside and outside strings.
        Rejection(inString([0x80]), .invalidUTF8, at: 2),
        Rejection(inString([0x41, 0xBF, 0x41]), .invalidUTF8, at: 3),
        Rejection(inString([0xC0, 0xAF]), .invalidUTF8, at: 2),
        Rejection(inString([0xC1, 0xBF]), .invalidUTF8, at: 2),
        Rejection(inString([0xE0, 0x80, 0xAF]), .invalidUTF8, at: 2),
        Rejection(inString([0xE0, 0x9F, 0xBF]), .invalidUTF8, at: 2),
        Rejection(inString([0xED, 0xA0, 0x80]), .invalidUTF8, at: 2),
        Rejection(inString([0xED, 0xBF, 0xBF]), .invalidUTF8, at: 2),
        Rejection(inString([0xF0, 0x80, 0x80, 0xAF]), .invalidUTF8, at: 2),
        Rejection(inString([0xF4, 0x90, 0x80, 0x80]), .invalidUTF8, at: 2),
        Rejection(inString([0xF5, 0x80, 0x80, 0x80]), .invalidUTF8, at: 2),
        Rejection(inString([0xFF]), .invalidUTF8, at: 2),
        Rejection(inString([0xFE]), .invalidUTF8, at: 2),
        Rejection(inString([0xC3]), .invalidUTF8, at: 2),
        Rejection(inString([0xE2, 0x82]), .invalidUTF8, at: 2),
        Rejection(inString([0xF0, 0x9F, 0x98]), .invalidUTF8, at: 2),
        Rejection(inString([0xC3, 0xA9, 0xC3, 0x41]), .invalidUTF8, at: 4),
        Rejection(inString(Array("abcdefgh12345678".utf8) + [0xC3, 0x28]), .invalidUTF8, at: 18),
        Rejection([0x5B, 0x22, 0xE2, 0x82], .invalidUTF8, at: 2),  // truncated at the end of the input
        Rejection([0x5B, 0xFF, 0x5D], .invalidUTF8, at: 1),
        Rejection([0x5B, 0x31, 0x80, 0x5D], .invalidUTF8, at: 2),
        Rejection([0x5B, 0xC3, 0xA9, 0x5D], .unexpectedByte(0xC3), at: 1),  // valid "é", but not a value
        Rejection([0xC3, 0xA9], .unexpectedByte(0xC3), at: 0),
        // NUL and other bytes outside strings.
        Rejection([0x5B, 0x00, 0x5D], .unexpectedByte(0x00), at: 1),
        Rejection([0x00, 0x5B, 0x5D], .unexpectedByte(0x00), at: 0),
        Rejection([0x5B, 0x31, 0x00, 0x5D], .unexpectedByte(0x00), at: 2),
        Rejection([0x5B, 0x01, 0x5D], .unexpectedByte(0x01), at: 1),
        Rejection([0x5B, 0x0C, 0x5D], .unexpectedByte(0x0C), at: 1),  // form feed is not JSON whitespace
        // Trailing data.
        Rejection("{}x", .trailingData, at: 2),
        Rejection("[1] [2]", .trailingData, at: 4),
        Rejection("{}}", .trailingData, at: 2),
        Rejection([0x5B, 0x5D, 0x00], .trailingData, at: 2),
        Rejection([0x5B, 0x5D, 0x0A, 0xFF], .trailingData, at: 3),
        // Structure.
        Rejection("[1}", .unexpectedByte(UInt8(ascii: "}")), at: 2),
        Rejection("{\"a\":1]", .unexpectedByte(UInt8(ascii: "]")), at: 6),
        Rejection("{]", .unexpectedByte(UInt8(ascii: "]")), at: 1),
        Rejection("[}", .unexpectedByte(UInt8(ascii: "}")), at: 1),
        Rejection("{1:2}", .unexpectedByte(UInt8(ascii: "1")), at: 1),
        Rejection("{a:2}", .unexpectedByte(UInt8(ascii: "a")), at: 1),
        Rejection("{\"a\" 1}", .unexpectedByte(UInt8(ascii: "1")), at: 5),
        Rejection("{\"a\"=1}", .unexpectedByte(UInt8(ascii: "=")), at: 4),
        Rejection("{\"a\":1 \"b\":2}", .unexpectedByte(UInt8(ascii: "\"")), at: 7),
        Rejection("[\"a\":1]", .unexpectedByte(UInt8(ascii: ":")), at: 4),
        Rejection("{\"a\":}", .unexpectedByte(UInt8(ascii: "}")), at: 5),
        Rejection("]", .unexpectedByte(UInt8(ascii: "]")), at: 0),
        // Truncated input: always the end of the input.
        Rejection("[", .unexpectedEndOfInput, at: 1),
        Rejection("{", .unexpectedEndOfInput, at: 1),
        Rejection("[1", .unexpectedEndOfInput, at: 2),
        Rejection("[1,", .unexpectedEndOfInput, at: 3),
        Rejection("[1.", .unexpectedEndOfInput, at: 3),
        Rejection("[1e", .unexpectedEndOfInput, at: 3),
        Rejection("[1e-", .unexpectedEndOfInput, at: 4),
        Rejection("[-", .unexpectedEndOfInput, at: 2),
        Rejection("[\"abc", .unexpectedEndOfInput, at: 5),
        Rejection("[\"abcdefghijklmnop", .unexpectedEndOfInput, at: 18),
        Rejection("[\"ab\\", .unexpectedEndOfInput, at: 5),
        Rejection("[\"\\u12", .unexpectedEndOfInput, at: 6),
        Rejection("[tr", .unexpectedEndOfInput, at: 3),
        Rejection("[fals", .unexpectedEndOfInput, at: 5),
        Rejection("{\"a\"", .unexpectedEndOfInput, at: 4),
        Rejection("{\"a\":", .unexpectedEndOfInput, at: 5),
        Rejection("{\"a\":1 ", .unexpectedEndOfInput, at: 7),
        Rejection("[[[]]", .unexpectedEndOfInput, at: 5),
        Rejection("\"abc", .unexpectedEndOfInput, at: 4, anyTopLevel: true),
        Rejection("-", .unexpectedEndOfInput, at: 1, anyTopLevel: true),
    ]

    @Test(arguments: rejections)
    func rejects(_ rejection: Rejection) {
        let validator = StrictJSONValidator(requiresContainerAtTopLevel: !rejection.allowAnyTopLevel)
        let error = Self.failure(rejection.bytes, validator)
        #expect(error == JSONValidationError(offset: rejection.offset, reason: rejection.reason))
    }

    @Test(arguments: Array(UInt8(0)...UInt8(0x1F)))
    func rejectsEveryRawControlCharacterInStrings(_ byte: UInt8) {
        #expect(Self.failure(Self.inString([0x61, byte, 0x62])) == JSONValidationError(offset: 3, reason: .controlCharacterInString(byte)))
    }

    @Test func acceptsExactlyTheEightSingleCharacterEscapes() {
        let allowed = Set(#""\/bfnrt"#.utf8)
        for byte in UInt8(0x20)...UInt8(0x7E) where byte != UInt8(ascii: "u") {
            let error = Self.failure(Self.inString([0x5C, byte]))
            if allowed.contains(byte) {
                #expect(error == nil, "\\\(Character(Unicode.Scalar(byte)))")
            } else {
                #expect(error == JSONValidationError(offset: 2, reason: .invalidEscape), "\\\(Character(Unicode.Scalar(byte)))")
            }
        }
    }

    @Test func unicodeEscapesNeedFourHexDigits() {
        for hex in ["0041", "abcd", "ABCD", "00e9", "FfFf", "D83D"] {
            #expect(Self.failure(#"["\u"# + hex + #""]"#) == nil, "\(hex)")
        }
        for hex in ["004", "00G1", "0x41", "+041", " 041", "-041", "00é1"] {
            #expect(Self.failure(#"["\u"# + hex + #""]"#) == JSONValidationError(offset: 2, reason: .invalidEscape), "\(hex)")
        }
    }

    /// Documented decision: RFC 8259's grammar allows any `\uXXXX`, so lone and
    /// mismatched surrogate escapes are accepted, although Foundation rejects them.
    @Test func loneSurrogateEscapesAreAcceptedButFoundationRejectsThem() {
        for text in [#"["\uD800"]"#, #"["\uDFFF"]"#, #"["\uDC00\uD800"]"#, #"{"\uD83D":"x"}"#] {
            #expect(Self.failure(text) == nil, "\(text)")
            #expect(throws: (any Error).self, "\(text)") { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
        }
    }

    /// Documented decision: the grammar puts no limit on a number's magnitude, so
    /// numbers that overflow a Double are accepted, although Foundation rejects them.
    @Test func numbersBeyondDoubleRangeAreAcceptedButFoundationRejectsThem() {
        for text in [#"[1e400]"#, #"[-1.8e308]"#, #"{"n":123.456e+789}"#] {
            #expect(Self.failure(text) == nil, "\(text)")
            #expect(throws: (any Error).self, "\(text)") { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
        }
    }

    @Test(arguments: [
        #"[0]"#, #"[-0]"#, #"[9]"#, #"[10]"#, #"[-10]"#, #"[0.0]"#, #"[0.000]"#, #"[1.25]"#, #"[0e0]"#, #"[0E+0]"#,
        #"[0e-0]"#, #"[1e99]"#, #"[-1.5E-7]"#, #"[123.456e-789]"#, #"[1,2]"#, #"[1 ]"#, #"[1]"#, #"{"n":-0.0e-0}"#,
    ])
    func acceptsNumbers(_ text: String) {
        #expect(Self.failure(text) == nil)
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
    }

    // MARK: UTF-8 against the standard library's decoder

    /// `String(validating:as:)` decides well-formedness independently of the validator.
    static func isWellFormedUTF8(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    @Test func utf8AcceptanceMatchesTheStandardLibrary() {
        // Bytes that a JSON string may hold as-is when well-formed UTF-8.
        let plain = (UInt8(0x20)...UInt8(0xFF)).filter { $0 != 0x22 && $0 != 0x5C }
        var sequences: [[UInt8]] = []
        for b0 in UInt8(0x80)...UInt8(0xFF) {
            for b1 in plain { sequences.append([b0, b1]) }
        }
        for b0 in UInt8(0xE0)...UInt8(0xEF) {
            for b1 in plain { for b2: UInt8 in [0x41, 0x7F, 0x80, 0xBF, 0xC0] { sequences.append([b0, b1, b2]) } }
        }
        for b0 in UInt8(0xF0)...UInt8(0xF7) {
            for b1 in plain { for b2: UInt8 in [0x41, 0x80, 0xBF] { for b3: UInt8 in [0x80, 0xBF, 0xC0] { sequences.append([b0, b1, b2, b3]) } } }
        }
        var accepted = 0
        for sequence in sequences {
            let error = Self.failure(Self.inString(sequence))
            let expected = Self.isWellFormedUTF8(sequence)
            #expect((error == nil) == expected, "\(sequence.map { String($0, radix: 16) })")
            if expected { accepted += 1 }
            if let error, !expected {
                #expect(error.reason == .invalidUTF8, "\(sequence.map { String($0, radix: 16) })")
            }
        }
        #expect(accepted > 1000)
        #expect(sequences.count - accepted > 1000)
    }

    // MARK: Depth

    static func nested(_ depth: Int) -> [UInt8] {
        Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
    }

    @Test func nestingLimitIsExactAndMatchesFoundation() throws {
        #expect(Self.failure(Self.nested(512)) == nil)
        #expect(Self.failure(Self.nested(513)) == JSONValidationError(offset: 512, reason: .nestingTooDeep(limit: 512)))
        // Same limit as Foundation: whatever we accept with the default, a host can decode.
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(Self.nested(512))) }
        #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: Data(Self.nested(513))) }
        // Objects count too.
        let objects = String(repeating: "{\"a\":", count: 513) + "1" + String(repeating: "}", count: 513)
        #expect(Self.failure(objects) == JSONValidationError(offset: 512 * 5, reason: .nestingTooDeep(limit: 512)))
        #expect(Self.failure(objects, StrictJSONValidator(maxDepth: 513)) == nil)
    }

    @Test func configurableDepth() {
        #expect(Self.failure("[]", StrictJSONValidator(maxDepth: 0)) == JSONValidationError(offset: 0, reason: .nestingTooDeep(limit: 0)))
        #expect(Self.failure("1", StrictJSONValidator(maxDepth: 0, requiresContainerAtTopLevel: false)) == nil)
        #expect(Self.failure("[1,{}]", StrictJSONValidator(maxDepth: 1)) == JSONValidationError(offset: 3, reason: .nestingTooDeep(limit: 1)))
        #expect(Self.failure("[1,2] ", StrictJSONValidator(maxDepth: 1)) == nil)
        #expect(Self.failure(" [[[]]]", StrictJSONValidator(maxDepth: 2)) == JSONValidationError(offset: 3, reason: .nestingTooDeep(limit: 2)))
        #expect(Self.failure(Self.nested(1000), StrictJSONValidator(maxDepth: .max)) == nil)
        #expect(Self.failure("[]", StrictJSONValidator(maxDepth: -1)) == JSONValidationError(offset: 0, reason: .nestingTooDeep(limit: -1)))
    }

    @Test func hundredThousandDeepIsRejectedWithoutCrashing() {
        #expect(Self.failure(Self.nested(100_000)) == JSONValidationError(offset: 512, reason: .nestingTooDeep(limit: 512)))
        // Unclosed, too: the limit is hit first.
        let open = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(Self.failure(open) == JSONValidationError(offset: 512, reason: .nestingTooDeep(limit: 512)))
    }

    @Test func hundredThousandDeepIsAcceptedWithRaisedLimit() {
        let validator = StrictJSONValidator(maxDepth: 200_000)
        #expect(Self.failure(Self.nested(100_000), validator) == nil)
        // Objects and arrays alternating: the explicit stack remembers each level's kind.
        let depth = 100_000
        var bytes: [UInt8] = []
        for level in 0..<depth { bytes += level % 3 == 0 ? Array("{\"k\":".utf8) : [UInt8(ascii: "[")] }
        bytes += Array("0".utf8)
        for level in (0..<depth).reversed() { bytes.append(level % 3 == 0 ? UInt8(ascii: "}") : UInt8(ascii: "]")) }
        #expect(Self.failure(bytes, validator) == nil)
        // Close one level with the wrong bracket: detected exactly there.
        let wrongLevel = 64 * 3  // an object level, at a 64-bit word boundary of the stack
        let wrongOffset = bytes.count - 1 - wrongLevel
        var wrong = bytes
        wrong[wrongOffset] = UInt8(ascii: "]")
        #expect(Self.failure(wrong, validator) == JSONValidationError(offset: wrongOffset, reason: .unexpectedByte(UInt8(ascii: "]"))))
        // Unclosed: the end of the input.
        #expect(Self.failure(Array(bytes.dropLast()), validator) == JSONValidationError(offset: bytes.count - 1, reason: .unexpectedEndOfInput))
    }

    // MARK: Messages

    @Test(arguments: [
        (JSONValidationError(offset: 1043, reason: .unexpectedEndOfInput), "unexpected end of input at byte 1043"),
        (JSONValidationError(offset: 17, reason: .invalidUTF8), "invalid UTF-8 sequence at byte 17"),
        (JSONValidationError(offset: 250, reason: .trailingData), "trailing data after the JSON value at byte 250"),
        (JSONValidationError(offset: 512, reason: .nestingTooDeep(limit: 512)), "nesting deeper than 512 levels at byte 512"),
        (JSONValidationError(offset: 30, reason: .invalidNumber(.leadingZero)), "leading zero in number at byte 30"),
        (JSONValidationError(offset: 1, reason: .invalidNumber(.leadingPlus)), "leading '+' in number at byte 1"),
        (JSONValidationError(offset: 1, reason: .invalidNumber(.missingIntegerDigits)), "missing integer digits in number at byte 1"),
        (JSONValidationError(offset: 3, reason: .invalidNumber(.missingFractionDigits)), "missing digits after the decimal point at byte 3"),
        (JSONValidationError(offset: 3, reason: .invalidNumber(.missingExponentDigits)), "missing digits in the exponent of a number at byte 3"),
        (JSONValidationError(offset: 0, reason: .emptyInput), "empty input (no JSON value) at byte 0"),
        (JSONValidationError(offset: 0, reason: .byteOrderMark), "byte order mark (not allowed in JSON) at byte 0"),
        (JSONValidationError(offset: 0, reason: .topLevelNotContainer), "top-level value is not an object or array at byte 0"),
        (JSONValidationError(offset: 2, reason: .unexpectedByte(UInt8(ascii: "}"))), "unexpected character '}' at byte 2"),
        (JSONValidationError(offset: 1, reason: .unexpectedByte(0)), "unexpected NUL byte at byte 1"),
        (JSONValidationError(offset: 1, reason: .unexpectedByte(0xC3)), "unexpected byte 0xC3 at byte 1"),
        (JSONValidationError(offset: 3, reason: .controlCharacterInString(0x0A)), "unescaped control character 0x0A in string at byte 3"),
        (JSONValidationError(offset: 2, reason: .invalidEscape), "invalid escape sequence in string at byte 2"),
        (JSONValidationError(offset: 1, reason: .nonFiniteNumber), "NaN or Infinity (not allowed in JSON) at byte 1"),
        (JSONValidationError(offset: 1, reason: .invalidLiteral), "invalid literal (only true, false and null are allowed) at byte 1"),
        (JSONValidationError(offset: 3, reason: .comment), "comment (not allowed in JSON) at byte 3"),
        (JSONValidationError(offset: 2, reason: .trailingComma), "trailing comma (not allowed in JSON) at byte 2"),
    ])
    func describesTheProblemAndOffset(_ error: JSONValidationError, _ message: String) {
        #expect(error.description == message)
        #expect("\(error)" == message)
    }

    // MARK: Memory safety

    /// Runs `body` with `bytes` placed flush against an inaccessible page (after
    /// them, or before them): any read outside the buffer crashes the test.
    static func withGuardedBytes<R>(_ bytes: [UInt8], atPageEnd: Bool, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataPages = max(1, (bytes.count + page - 1) / page)
        let total = (dataPages + 2) * page
        guard let region = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), region != MAP_FAILED else {
            fatalError("mmap failed")
        }
        defer { munmap(region, total) }
        precondition(mprotect(region, page, PROT_NONE) == 0)
        precondition(mprotect(region + (dataPages + 1) * page, page, PROT_NONE) == 0)
        let start = atPageEnd ? (dataPages + 1) * page - bytes.count : page
        let buffer = UnsafeMutableRawBufferPointer(start: region + start, count: bytes.count)
        buffer.copyBytes(from: bytes)
        return body(UnsafeRawBufferPointer(buffer))
    }

    @Test func neverReadsOutsideTheBuffer() {
        var inputs = Self.rejections.map(\.bytes) + Self.validDocuments.map { Array($0.utf8) }
        // Every truncation of string-, number- and keyword-heavy text, so that each
        // 8-byte and 4-byte load meets the end of the input at every alignment.
        let texts = [
            "[\"abcdefghijklmnopqrstuvwxyz\\u00e9\\n\", \"é€😀\", true, false, null, -12.5e+10, 0]",
            "{\n        \"key\":\n                \"value\"\n}\n                ",
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            for length in 0...bytes.count { inputs.append(Array(bytes[..<length])) }
        }
        var accepted = 0
        for bytes in inputs {
            let expected = Self.failure(bytes)
            for atPageEnd in [true, false] {
                let error = Self.withGuardedBytes(bytes, atPageEnd: atPageEnd) { buffer in
                    Result { () throws(JSONValidationError) in try StrictJSONValidator().validate(buffer) }
                }.failure
                #expect(error == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
                if error == nil { accepted += 1 }
            }
        }
        #expect(accepted >= 2 * (Self.validDocuments.count + 2))
    }

    // MARK: Truncation and fuzzing

    @Test func everyTruncationIsRejectedAtTheEnd() {
        let text = "{\"name\": \"Zürich € 😀\", \"list\": [1, -2.5e3, true, null, \"\\u00e9\\n\"], \"o\": {}}"
        let bytes = Array(text.utf8)
        #expect(Self.failure(bytes) == nil)
        for length in 1..<bytes.count {
            let prefix = Array(bytes[..<length])
            let error = Self.failure(prefix)
            // A prefix ending inside a multi-byte character leaves a truncated sequence.
            let continuationFollows = bytes[length] & 0xC0 == 0x80
            if continuationFollows {
                #expect(error?.reason == .invalidUTF8, "prefix \(length)")
            } else {
                #expect(error == JSONValidationError(offset: length, reason: .unexpectedEndOfInput), "prefix \(length)")
            }
        }
    }

    /// SplitMix64, so the fuzz cases are the same on every run and platform.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Whether the text holds a `\uXXXX` surrogate escape that is not part of a
    /// high-low pair (which we accept and Foundation rejects, by design).
    static func hasUnpairedSurrogateEscape(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        let units = Array(text.utf8)
        func escape(at i: Int) -> UInt16? {
            guard i + 6 <= units.count, units[i] == 0x5C, units[i + 1] == UInt8(ascii: "u") else { return nil }
            return UInt16(String(decoding: units[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16)
        }
        var i = 0
        while i < units.count {
            if units[i] == 0x5C, i + 1 < units.count, units[i + 1] != UInt8(ascii: "u") { i += 2; continue }
            if let unit = escape(at: i) {
                if (0xD800...0xDBFF).contains(unit) {
                    if let low = escape(at: i + 6), (0xDC00...0xDFFF).contains(low) { i += 12; continue }
                    return true
                }
                if (0xDC00...0xDFFF).contains(unit) { return true }
                i += 6
                continue
            }
            i += 1
        }
        return false
    }

    /// Whether the (accepted) text holds a number that overflows a Double (which
    /// we accept and Foundation rejects, by design).
    static func hasNumberBeyondDoubleRange(_ bytes: [UInt8]) -> Bool {
        var inString = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                if c == 0x5C { i += 2; continue }
                if c == 0x22 { inString = false }
                i += 1
            } else if c == 0x22 {
                inString = true
                i += 1
            } else if c == UInt8(ascii: "-") || (0x30...0x39).contains(c) {
                var j = i + 1
                while j < bytes.count, Array("0123456789.eE+-".utf8).contains(bytes[j]) { j += 1 }
                if let value = Double(String(decoding: bytes[i..<j], as: UTF8.self)), value.isInfinite { return true }
                i = j
            } else {
                i += 1
            }
        }
        return false
    }

    static let fuzzSeeds: [String] = [
        #"{"a":[1,2,{"b":null}],"c":"d\u00e9\n","e":-1.5e+3,"f":true,"g":false}"#,
        "{\n  \"vendor\": \"Zürich € 😀\",\n  \"sizes\": [0, 10, 2.5, -3e-2],\n  \"ok\": [true, false, null]\n}\n",
        #"[{"id":"x","v":"21.0.5+11","sha":"0123456789abcdef0123456789abcdef","n":[[],{},[{}]]},"\ud83d\ude00"]"#,
        #"[ "tab\tquote\" slash\/ back\\", 0, -0, 0.0, 1E5, {"k" : {"k" : [ ] } } ]"#,
    ]

    @Test func fuzzedDocumentsAreNeverAcceptedWhenFoundationRejects() {
        var rng = SeededGenerator(state: 0x5EED_CAFE)
        let interesting: [UInt8] = Array(#"{}[]",:\/ -+.eE0123456789tfnaxu"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        var accepted = 0
        var rejected = 0
        for caseNumber in 0..<4000 {
            var bytes = Array(Self.fuzzSeeds[caseNumber % Self.fuzzSeeds.count].utf8)
            for _ in 0...Int.random(in: 0...2, using: &rng) {
                let position = Int.random(in: 0..<bytes.count, using: &rng)
                let byte = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                case 2: if bytes.count > 1 { bytes.remove(at: position) }
                default: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                }
            }
            let error = Self.failure(bytes)
            let foundationAccepts = (try? JSONSerialization.jsonObject(with: Data(bytes))) != nil
            let description = String(decoding: bytes, as: UTF8.self).debugDescription
            if let error {
                rejected += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count, "\(description): \(error)")
            } else {
                accepted += 1
                #expect(
                    foundationAccepts || Self.hasUnpairedSurrogateEscape(bytes) || Self.hasNumberBeyondDoubleRange(bytes),
                    "we accept, Foundation rejects: \(description)")
            }
        }
        // Both outcomes occur, so the cross-check above is not vacuous.
        #expect(accepted > 200)
        #expect(rejected > 2000)
    }
}
