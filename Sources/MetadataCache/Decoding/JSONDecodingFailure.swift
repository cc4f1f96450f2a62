#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bytes the decoder cannot turn into a value: not JSON, or JSON that Swift
/// cannot represent.
///
/// A `Decodable` never sees this type: every container method converts it to
/// `DecodingError.dataCorrupted` with an empty coding path and the debug
/// description "The given data was not valid JSON." — what `JSONDecoder` reports
/// at the top for the same input — with this value as the `underlyingError`,
/// saying what was wrong (Foundation gives none on Linux). (`JSONDecoder` throws
/// its internal `JSONError` through `init(from:)` and converts it only at the
/// top; a host's `catch` of `DecodingError` in `init(from:)` works here.)
enum JSONDecodingFailure: Error, Equatable, CustomStringConvertible {
    /// Bytes that are not JSON where a value, key or separator belongs.
    case invalidJSON
    /// A number outside the range of the requested type (`1e400` as a `Double`,
    /// `300` as a `UInt8`, `1.5` as an `Int`).
    case numberNotRepresentable(String)
    /// A `\uD800`-`\uDFFF` escape that is not half of a surrogate pair.
    case loneSurrogate
    /// Containers nested deeper than the limit (512).
    case nestingTooDeep(limit: Int)
    /// `init(from:)` calls nested deeper than the limit (1024): a type that
    /// decodes itself from its own single-value container without end.
    case decodingTooDeep(limit: Int)

    var description: String {
        switch self {
        case .invalidJSON: "bytes that are not JSON"
        case let .numberNotRepresentable(text): "number \(text) is not representable in the requested type"
        case .loneSurrogate: "unpaired UTF-16 surrogate escape in a string"
        case let .nestingTooDeep(limit): "nesting deeper than \(limit) levels"
        case let .decodingTooDeep(limit): "init(from:) calls nested deeper than \(limit)"
        }
    }

    /// The `DecodingError` the decode throws for this failure (as `JSONDecoder` does).
    var decodingError: DecodingError {
        .dataCorrupted(DecodingError.Context(
            codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: self))
    }
}

/// Runs `body`, turning a `JSONDecodingFailure` into its `DecodingError` (the
/// boundary between the scanning code and the container methods).
@inline(__always)
func surfacingDecodingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as JSONDecodingFailure {
        throw failure.decodingError
    }
}
