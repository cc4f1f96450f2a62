#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading one scalar value at an offset, with `JSONDecoder`'s checks in
/// `JSONDecoder`'s order and its errors word for word (differential tests hold us
/// to that). Every reader returns the offset after the value too, so the
/// container it came from never scans the value twice.
///
/// `path` builds the coding path for an error; it runs only when one is thrown.
/// (`end` is an inout rather than a tuple element: a generic `(T, Int)` would
/// cost a runtime metadata lookup per call in unspecialized code.)
extension JSONInput {
    func readBool(at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> Bool {
        if v >= 0, count &- v >= 5 {
            // One 32-bit comparison per literal.
            let word = UnsafeRawPointer(base + v).loadUnaligned(as: UInt32.self)
            if word == UInt32(littleEndian: 0x6575_7274) {  // "true"
                end = v &+ 4
                return true
            }
            if word == UInt32(littleEndian: 0x736C_6166), base[v &+ 4] == 0x65 {  // "fals" "e"
                end = v &+ 5
                return false
            }
        } else if hasLiteral("true", at: v) {
            end = v &+ 4
            return true
        }
        // Foundation does not check for null here: a null Bool is a type mismatch.
        throw mismatch(Bool.self, at: v, path())
    }

    func readString(at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> String {
        let kind = kind(at: v)
        guard kind == .string else {
            if kind == .null { throw DecodingErrors.valueNotFound(String.self, path()) }
            throw mismatch(String.self, at: v, path())
        }
        let (value, stringEnd) = try surfacingDecodingErrors { try string(at: v) }
        end = stringEnd
        return value
    }

    func readInteger<T: FixedWidthInteger>(_ type: T.Type, at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> T {
        let kind = kind(at: v)
        guard kind == .number else {
            if kind == .null { throw DecodingErrors.valueNotFound(T.self, path()) }
            throw mismatch(T.self, at: v, path())
        }
        let value = try surfacingDecodingErrors {
            let number = try JSONNumber(self, at: v)
            end = number.end
            return try number.integer(T.self, self)
        }
        return value
    }

    func readDouble(at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> Double {
        let kind = kind(at: v)
        if kind == .number {
            return try surfacingDecodingErrors {
                let number = try JSONNumber(self, at: v)
                end = number.end
                return try number.double(self)
            }
        }
        return try nonConformingFloat(Double.self, kind, at: v, end: &end, path)
    }

    func readFloat(at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> Float {
        let kind = kind(at: v)
        if kind == .number {
            return try surfacingDecodingErrors {
                let number = try JSONNumber(self, at: v)
                end = number.end
                return try number.float(self)
            }
        }
        return try nonConformingFloat(Float.self, kind, at: v, end: &end, path)
    }

    /// A string where a float belongs: one of the `convertFromString` names
    /// (compared byte for byte, only for strings without escapes, as Foundation
    /// does), or the error.
    private func nonConformingFloat<F: BinaryFloatingPoint>(
        _ type: F.Type, _ kind: JSONValueKind, at v: Int, end: inout Int, _ path: () -> [any CodingKey]
    ) throws -> F {
        if kind == .null { throw DecodingErrors.valueNotFound(F.self, path()) }
        if kind == .string,
            case let .convertFromString(positiveInfinity, negativeInfinity, nan) =
                configuration.nonConformingFloatDecodingStrategy
        {
            let (afterString, flags) = try surfacingDecodingErrors { try self.stringEnd(v) }
            if !flags.contains(.escaped) {
                let content = bytes(v &+ 1, afterString &- 1)
                func equals(_ name: String) -> Bool {
                    var name = name
                    return name.withUTF8 { $0.count == content.count && ObjectScan.equalBytes(content.baseAddress!, $0.baseAddress, $0.count) }
                }
                end = afterString
                if equals(positiveInfinity) { return F.infinity }
                if equals(negativeInfinity) { return -F.infinity }
                if equals(nan) { return F.nan }
            }
        }
        throw mismatch(F.self, at: v, path())
    }

    /// Whether the value at `v` is `null` (a missing `superDecoder` value is too).
    @inline(__always)
    func isNull(at v: Int) -> Bool {
        v < 0 || (byte(v) == 0x6E && hasLiteral("null", at: v))
    }

    /// "Expected to decode T but found X instead." — or, for bytes that are not a
    /// value at all, the invalid-JSON failure.
    func mismatch(_ type: Any.Type, at v: Int, _ path: [any CodingKey]) -> any Error {
        let kind = kind(at: v)
        if kind == .invalid { return JSONDecodingFailure.invalidJSON.decodingError }
        return DecodingErrors.typeMismatch(type, found: kind, path)
    }
}

/// The `DecodingError`s of `JSONDecoder`, with its wording.
enum DecodingErrors {
    static func typeMismatch(_ type: Any.Type, found: JSONValueKind, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, DecodingError.Context(
            codingPath: path, debugDescription: "Expected to decode \(type) but found \(found.foundDescription) instead."))
    }

    static func valueNotFound(_ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        .valueNotFound(type, DecodingError.Context(
            codingPath: path, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
    }

    static func keyNotFound(_ key: some CodingKey, _ path: [any CodingKey]) -> DecodingError {
        .keyNotFound(key, DecodingError.Context(
            codingPath: path, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
    }

    static func dataCorrupted(_ path: [any CodingKey], _ description: String) -> DecodingError {
        .dataCorrupted(DecodingError.Context(codingPath: path, debugDescription: description))
    }

    /// An unkeyed container asked for an element past its end.
    static func atEnd(_ type: Any.Type, _ path: [any CodingKey], superDecoder: Bool = false) -> DecodingError {
        .valueNotFound(type, DecodingError.Context(
            codingPath: path,
            debugDescription: superDecoder
                ? "Cannot get superDecoder() -- unkeyed container is at end." : "Unkeyed container is at end."))
    }
}
