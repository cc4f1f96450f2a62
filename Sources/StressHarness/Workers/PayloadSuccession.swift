import Foundation
import MetadataCache

/// Builds a writer's next payload from the version it read under the lock.
///
/// Guarantee: the new payload carries the current update counters forward
/// (incremented for an updater's own counter), names the generation it expects
/// its commit to get (current + 1), and is exactly `payloadBytes` long — so the
/// lost-update check works whether refreshes, updates or both run.
struct PayloadSuccession {
    let writer: UInt64
    let payloadBytes: Int
    let seed: UInt64

    /// What the writer found under the lock.
    enum Current {
        case none
        case good(StressPayload, generation: UInt64)
        case defective(String)
    }

    static func inspect(_ snapshot: CacheSnapshot?) -> Current {
        guard let snapshot else { return .none }
        var verifier = SnapshotVerifier()
        let verdict = snapshot.payload.withUnsafeBytes { verifier.check($0, headerGeneration: snapshot.generation) }
        switch verdict {
        case let .good(payload): return .good(payload, generation: snapshot.generation)
        case let .torn(why): return .defective(why)
        case let .regressed(from, to): return .defective("generation went from \(from) to \(to)")
        }
    }

    /// The next payload. `increment` names a counter to add one to.
    func next(after current: Current, sequence: UInt64, generation: UInt64, increment: String? = nil) throws -> [UInt8] {
        var counters: [String: UInt64] = [:]
        if case let .good(payload, _) = current { counters = payload.counters }
        if let increment { counters[increment, default: 0] += 1 }
        return try StressPayload(
            writer: writer, sequence: sequence, generation: generation, length: payloadBytes, counters: counters
        ).build(fillSeed: seed)
    }
}
