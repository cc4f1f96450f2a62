/// What a CLI reader saw once: the header said `generation` (from the read's own
/// `readHit` event) over the payload `writer` built as its number `sequence`.
///
/// The payloads CLI refreshers write cannot name their generation (the CLI picks
/// it under the lock), so whether header and payload belong to one commit is
/// decided by the coordinator, which knows from the events file and the interval
/// log which refresh committed each generation (`CLICommitAttribution`).
public struct ObservedCommit: Codable, Sendable, Hashable {
    public var generation: UInt64
    public var writer: UInt64
    public var sequence: UInt64

    public init(generation: UInt64, writer: UInt64, sequence: UInt64) {
        self.generation = generation
        self.writer = writer
        self.sequence = sequence
    }
}
