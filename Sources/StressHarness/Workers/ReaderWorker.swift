import Foundation
import MetadataCache

/// A reader process: reads the cache through the library in a tight loop and
/// verifies every snapshot with `SnapshotVerifier`.
///
/// Guarantee: every read is timed (the library call alone, not the verification)
/// and classified exactly once: good, torn (harness check failed), corrupt
/// (library rejected it), missing, stale (older than already seen) or error.
enum ReaderWorker {
    static func run(_ w: WorkerInvocation) -> Int32 {
        let store: CacheStore
        do {
            store = try WorkerStore.make(w, observer: nil)
        } catch {
            CoordinatorChannel.complain("reader \(w.worker): \(error)")
            return error.exitCode
        }
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        var stats = WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid())
        var verifier = SnapshotVerifier()
        // Without writers, a reader stops after --iterations reads; with writers, the
        // coordinator closes stdin when they are done.
        let limit = w.iterations
        while !channel.shouldStop, limit.map({ stats.reads < $0 }) ?? true {
            stats.operations += 1
            stats.reads += 1
            let started = MonotonicClock.nanoseconds()
            let snapshot: CacheSnapshot?
            do {
                snapshot = try store.read()
            } catch {
                stats.readLatency.record(MonotonicClock.nanoseconds() - started)
                if case .corruptCache = error {
                    stats.corruptReads += 1
                    stats.note(.corruptReads, "read \(stats.reads): \(error)")
                } else {
                    stats.readErrors += 1
                    stats.note(.readErrors, "read \(stats.reads): \(error)")
                }
                continue
            }
            stats.readLatency.record(MonotonicClock.nanoseconds() - started)
            guard let snapshot else {
                stats.missingReads += 1
                stats.note(.missingReads, "read \(stats.reads): no cache")
                continue
            }
            let verdict = snapshot.payload.withUnsafeBytes { verifier.check($0, headerGeneration: snapshot.generation) }
            stats.count(verdict, read: "read \(stats.reads) (generation \(snapshot.generation))")
        }
        WorkerReport.send(stats)
        return 0
    }
}
