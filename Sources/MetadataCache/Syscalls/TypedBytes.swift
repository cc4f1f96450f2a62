/// `withUnsafeBytes` that keeps the body's typed error.
///
/// The standard library's `withUnsafeBytes` on `ContiguousBytes` and `Array` is
/// `rethrows`, which erases a `throws(MetadataCacheError)` body to `any Error`. These
/// carry the error through a `Result` instead, so callers stay precisely typed.
@inline(__always)
package func withBytes<R, E: Error>(
    of value: some ContiguousBytesLike, _ body: (UnsafeRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = value.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }
    return try result.get()
}

@inline(__always)
package func withMutableBytes<R, E: Error>(
    of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeMutableBytes { raw in Result { () throws(E) in try body(raw) } }
    return try result.get()
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Anything exposing contiguous bytes (Foundation's `ContiguousBytes`: `Data`,
/// `[UInt8]`, buffers).
package typealias ContiguousBytesLike = ContiguousBytes
