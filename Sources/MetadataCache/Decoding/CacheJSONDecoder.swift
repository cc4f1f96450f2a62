#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes `Decodable` values from JSON as Foundation's `JSONDecoder` does, about
/// 2.6–3 times faster (docs/benchmarks.md, figure 9; a third of the instructions)
/// and without building a parse tree. `CacheStore.read(as:)` uses it; a host may use it for any other JSON.
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
/// against `JSONDecoder`. Deliberate differences (docs/design.md, "Typed
/// decoding"):
///
/// - Only UTF-8 without byte order mark, only strict JSON (`StrictJSONValidator`):
///   `JSONDecoder` also reads UTF-16/32, skips a BOM and tolerates `[1,]`.
/// - A zero written with an exponent (`0e8`) is 0; `JSONDecoder` rejects some.
/// - `allKeys` lists keys in document order (Foundation: hash order), so a
///   `[String: T]` with several bad values reports the first in the document.
/// - Inside `init(from:)`, an invalid value throws `DecodingError` (Foundation
///   throws an internal error type and converts it at the top).
/// - A number too large for `Decimal` (`1e200` as `Decimal`) is an error.
/// - A key that cannot be decoded (a lone surrogate escape) fails the decode at its
///   end, not when its object is opened: an `init(from:)` that catches that error
///   and falls back to something else still fails, with `dataCorrupted`.
/// - `init(from:)` calls nested more than 1024 deep (a type that decodes itself
///   from its own single-value container) end in an error, not a stack overflow.
///
/// ## How
///
/// The decoder walks the JSON bytes in place, led by the `Decodable` types: an
/// object's members are found lazily and compared to `CodingKey.stringValue` as
/// bytes, values a type does not ask for are skipped without being parsed, and
/// strings are copied once, into the `String` the type receives. On any bytes,
/// valid or not, it returns a value or throws; it never traps or reads out of
/// bounds.
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
            defer {
                input.finishOpenedObjects()  // (also releases them if the decode threw)
                input.releasePooledScans()
            }
            let value = try Self.decodeTopLevel(type, input)
            input.finishOpenedObjects()
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
