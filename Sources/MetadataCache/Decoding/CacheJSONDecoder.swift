#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes `Decodable` values from JSON, as Foundation's `JSONDecoder` does, several
/// times faster and without building a parse tree. `CacheStore.read(as:)` uses it;
/// a host may use it for any other JSON.
///
/// ```swift
/// var decoder = CacheJSONDecoder()
/// decoder.keyDecodingStrategy = .convertFromSnakeCase
/// let catalogue = try decoder.decode(Catalogue.self, from: data)
/// ```
///
/// ## Same results as `JSONDecoder`
///
/// For every valid JSON document, the same value or the same error: the same
/// `DecodingError` case, coding path and (almost always) debug description;
/// `decodeIfPresent` and `null` handling, nested containers and super decoders,
/// `Date`, `Data`, `URL` and `Decimal` handled as `JSONDecoder` handles them; the
/// date, data, non-conforming float and key decoding strategies are
/// `JSONDecoder`'s own types (so a host's settings carry over). Numbers are
/// correctly rounded; lone surrogate escapes and numbers a type cannot hold are
/// `dataCorrupted` errors, as in Foundation. Differential tests check all of this
/// against `JSONDecoder`. Deliberate differences:
///
/// - Only UTF-8 input: `JSONDecoder` also detects UTF-16 and UTF-32 and skips a
///   byte order mark; here these are invalid JSON.
/// - Only strict JSON (`StrictJSONValidator`): `JSONDecoder` tolerates a trailing
///   comma (`[1,]`) and `allowsJSON5`; a number too large for a `Decimal`
///   (`1e200` as `Decimal`) fails as not representable.
/// - `allKeys` lists keys in document order (Foundation: hash order), so a
///   `[String: T]` with several bad values reports the first bad one in the
///   document.
/// - A type that decodes itself from its own single-value container without
///   end stops with `dataCorrupted` after 1024 nested `init(from:)` calls instead
///   of overflowing the stack.
///
/// ## How
///
/// The decoder walks the JSON bytes in place, led by the `Decodable` types: an
/// object's members are found lazily and compared to `CodingKey.stringValue` as
/// bytes, values a type does not ask for are skipped without being parsed, and
/// strings are copied once, into the `String` the type receives. See
/// docs/design.md, "Typed decoding".
public struct CacheJSONDecoder: Sendable {
    /// As `JSONDecoder.dateDecodingStrategy` (default `.deferredToDate`).
    public var dateDecodingStrategy: JSONDecoder.DateDecodingStrategy = .deferredToDate
    /// As `JSONDecoder.dataDecodingStrategy` (default `.base64`).
    public var dataDecodingStrategy: JSONDecoder.DataDecodingStrategy = .base64
    /// As `JSONDecoder.nonConformingFloatDecodingStrategy` (default `.throw`).
    public var nonConformingFloatDecodingStrategy: JSONDecoder.NonConformingFloatDecodingStrategy = .throw
    /// As `JSONDecoder.keyDecodingStrategy` (default `.useDefaultKeys`).
    public var keyDecodingStrategy: JSONDecoder.KeyDecodingStrategy = .useDefaultKeys
    /// Handed to every `init(from:)` as `decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    /// Decodes a `T` from `data`, which must be one strict JSON text in UTF-8 (any
    /// value at the top level). Invalid JSON throws `DecodingError.dataCorrupted`
    /// whose `underlyingError` is the `JSONValidationError` saying where and why.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            do {
                try StrictJSONValidator(requiresContainerAtTopLevel: false).validate(bytes)
            } catch {
                throw DecodingError.dataCorrupted(DecodingError.Context(
                    codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: error))
            }
            return try decode(type, fromValidated: bytes)
        }
    }

    /// Decodes bytes already validated as strict JSON (a cache payload: validated
    /// when committed, verified by checksum when read). Grammar is not checked
    /// again; on bytes that are not JSON after all, the result is a
    /// `DecodingError` or some value, never a crash or an out-of-bounds read.
    package func decode<T: Decodable>(_ type: T.Type, fromValidated bytes: UnsafeRawBufferPointer) throws -> T {
        var input = JSONInput(borrowing: bytes, configuration: self)
        // A decoder or container kept by a `Decodable` must not outlive the bytes.
        defer { JSONInput.takeOwnershipIfShared(&input) }
        do {
            let value = try Self.decodeTopLevel(type, input)
            if let failure = input.structuralFailure { throw failure }
            return value
        } catch let failure as JSONDecodingFailure {
            throw failure.decodingError
        }
    }

    /// `decode(_:fromValidated:)` of a `Data`.
    package func decode<T: Decodable>(_ type: T.Type, fromValidated data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, fromValidated: $0) }
    }

    private static func decodeTopLevel<T: Decodable>(_ type: T.Type, _ input: JSONInput) throws -> T {
        let value = input.skipWhitespace(0)
        guard value < input.count else { throw JSONDecodingFailure.invalidJSON }
        let decoder = JSONValueDecoder(
            input: input, frame: JSONValueDecoder.Frame(value: value, depth: 0, parent: nil, key: nil, opened: nil))
        var end = -1
        return try decoder.unwrap(T.self, at: value, depth: 0, parent: nil, key: nil, end: &end)
    }
}
