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

    public init(
        path: String, generation: UInt64, commitID: UInt64, payloadBytes: Int, fetchedAt: Date, duration: Duration,
        renameRetries: Int, lockWaited: Duration
    ) {
        self.path = path
        self.generation = generation
        self.commitID = commitID
        self.payloadBytes = payloadBytes
        self.fetchedAt = fetchedAt
        self.duration = duration
        self.renameRetries = renameRetries
        self.lockWaited = lockWaited
    }
}

/// Whether a commit validates the payload as strict JSON first.
public enum PayloadValidation: Sendable {
    /// Validate as strict RFC 8259 JSON within the store's size and depth limits.
    case strictJSON
    /// The caller guarantees the bytes are valid JSON (for example, just produced by
    /// `JSONEncoder`, or already validated); only the size limit is checked.
    case trusted
}
