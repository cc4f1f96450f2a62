/// Checks every snapshot one reader sees, with the harness's own rules.
///
/// Guarantee: a snapshot is counted good only if its payload parses as one
/// complete `StressPayload` (length and digest match), the payload was written for
/// the generation the header claims (when both are known), and the generation is
/// not older than one this reader already saw. Anything else is reported with
/// what exactly was wrong, so a failure names the defect rather than "bad read".
public struct SnapshotVerifier: Sendable {
    public enum Verdict: Sendable, Equatable {
        case good(StressPayload)
        /// Not one complete payload, or a header and payload from different commits.
        case torn(String)
        /// Complete, but older than a version this reader saw before.
        case regressed(from: UInt64, to: UInt64)
    }

    /// Highest generation seen so far.
    public private(set) var latestGeneration: UInt64 = 0

    public init() {}

    /// - Parameter headerGeneration: the generation the library's header reported,
    ///   nil when unknown (the CLI's `cache read` prints only the payload).
    public mutating func check(_ payload: UnsafeRawBufferPointer, headerGeneration: UInt64?) -> Verdict {
        let decoded: StressPayload
        do {
            decoded = try StressPayload.parse(payload)
        } catch {
            return .torn(error.description)
        }
        if let headerGeneration, decoded.generation != 0, decoded.generation != headerGeneration {
            return .torn(
                "header says generation \(headerGeneration) but the payload was written for generation \(decoded.generation) (writer \(decoded.writer), sequence \(decoded.sequence))")
        }
        let generation = headerGeneration ?? decoded.generation
        if generation != 0 {
            if generation < latestGeneration { return .regressed(from: latestGeneration, to: generation) }
            latestGeneration = generation
        }
        return .good(decoded)
    }
}
