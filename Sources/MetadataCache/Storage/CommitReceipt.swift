#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a successful commit wrote.
public struct CommitReceipt: Sendable, Equatable {
    public let path: String
    public let generation: UInt64
    public let commitID: UInt64
    public let payloadBytes: Int
    public let fetchedAt: Date
    /// Time from the start of the commit (validation included) to the directory fsync.
    public let duration: Duration
    public let renameRetries: Int
    /// How long the writer waited for the lock before committing.
    public let lockWaited: Duration
}

/// Whether a commit validates the payload as strict JSON first.
public enum PayloadValidation: Sendable {
    /// Validate as strict RFC 8259 JSON within the store's size and depth limits.
    case strictJSON
    /// The caller guarantees the bytes are valid JSON (for example, just produced by
    /// `JSONEncoder`, or already validated); only the size limit is checked.
    case trusted
}
