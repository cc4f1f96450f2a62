import MetadataCache

/// A worker's stats, shared between its loop and the closures the library calls
/// (a refresh's fetch may run on another thread).
final class SharedWorkerStats: Sendable {
    private let value: LockedValue<WorkerStats>

    init(_ stats: WorkerStats) { value = LockedValue(stats) }

    func update(_ body: (inout WorkerStats) -> Void) { value.withLock { body(&$0) } }

    var snapshot: WorkerStats { value.withLock { $0 } }
}
