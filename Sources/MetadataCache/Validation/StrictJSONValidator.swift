#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
// TEMPORARY STUB — replaced by the real validator.
public struct JSONValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public var description: String { "invalid JSON at byte \(offset)" }
}
public struct StrictJSONValidator: Sendable {
    public var maxDepth: Int
    public var requiresContainerAtTopLevel: Bool
    public init(maxDepth: Int = 512, requiresContainerAtTopLevel: Bool = true) { self.maxDepth = maxDepth; self.requiresContainerAtTopLevel = requiresContainerAtTopLevel }
    public func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONValidationError) {
        if bytes.isEmpty { throw JSONValidationError(offset: 0) }
    }
}
