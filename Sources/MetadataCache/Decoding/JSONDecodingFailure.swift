#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bytes the decoder cannot turn into a value: not JSON, or JSON that Swift
/// cannot represent.
///
/// Like Foundation's `JSONDecoder`, which throws its internal `JSONError` through
/// `init(from:)` and converts it at the top, the decode converts this to
/// `DecodingError.dataCorrupted` with an empty coding path and the debug
/// description "The given data was not valid JSON."; this value is the error's
/// `underlyingError`, saying what was wrong (Foundation gives none on Linux).
enum JSONDecodingFailure: Error, Equatable, CustomStringConvertible {
    /// Bytes that are not JSON where a value, key or separator belongs.
    case invalidJSON
    /// A number outside the range of the requested type (`1e400` as a `Double`,
    /// `300` as a `UInt8`, `1.5` as an `Int`).
    case numberNotRepresentable(String)
    /// A `\uD800`-`\uDFFF` escape that is not half of a surrogate pair.
    case loneSurrogate
    /// Containers nested deeper than the limit (512), or decoders that recurse
    /// without end.
    case nestingTooDeep(limit: Int)

    var description: String {
        switch self {
        case .invalidJSON: "bytes that are not JSON"
        case let .numberNotRepresentable(text): "number \(text) is not representable in the requested type"
        case .loneSurrogate: "unpaired UTF-16 surrogate escape in a string"
        case let .nestingTooDeep(limit): "nesting deeper than \(limit) levels"
        }
    }

    /// The `DecodingError` the decode throws for this failure (as `JSONDecoder` does).
    var decodingError: DecodingError {
        .dataCorrupted(DecodingError.Context(
            codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: self))
    }
}
