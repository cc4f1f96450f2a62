import Foundation
import MetadataCache

/// An updater process: `CacheStore.update` (read-modify-write under the lock) in a
/// loop, each time adding one to its own counter in the payload.
///
/// Guarantee: each successful `update` is logged (enter/exit with the committed
/// generation) and counted; at the end of the run the counter named after this
/// updater's slot must equal the number of its logged commits.
enum UpdaterWorker {
    static func run(_ w: WorkerInvocation) -> Int32 {
        guard let logPath = w.logPath, let log = try? WriterIntervalLog(path: logPath) else {
            CoordinatorChannel.complain("updater \(w.worker): cannot open the interval log")
            return 70
        }
        let hooks = WriterLogHooks(log: log, pid: getpid(), worker: w.worker, slot: w.slot, role: .updater)
        let store: CacheStore
        do {
            store = try WorkerStore.make(w, observer: hooks)
        } catch {
            CoordinatorChannel.complain("updater \(w.worker): \(error)")
            return error.exitCode
        }
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        let shared = SharedWorkerStats(WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid()))
        let succession = PayloadSuccession(writer: UInt64(w.worker), payloadBytes: w.payloadBytes, seed: w.seed)
        let counter = UpdaterCounter.name(slot: w.slot)
        var operation = 0
        while !channel.shouldStop, w.iterations.map({ operation < $0 }) ?? true {
            operation += 1
            let sequence = UInt64(operation)
            shared.update { $0.operations += 1 }
            hooks.begin(operation: operation)
            let started = MonotonicClock.nanoseconds()
            do {
                try store.update(timeout: w.lockTimeout) { snapshot in
                    let current = PayloadSuccession.inspect(snapshot)
                    if case let .defective(why) = current {
                        shared.update {
                            $0.tornReads += 1
                            $0.note(.tornReads, "under the lock, update \(sequence) found: \(why)")
                        }
                    }
                    let payload = try succession.next(
                        after: current, sequence: sequence, generation: (snapshot?.generation ?? 0) + 1, increment: counter)
                    if w.sabotage == .lockBypass { Sabotage.holdTheWindowOpen() }
                    hooks.payloadReady()
                    return Data(payload)
                }
                shared.update {
                    $0.succeeded += 1
                    $0.updates += 1
                }
            } catch {
                shared.countFailure(error, of: "update \(sequence)", hooks: hooks)
            }
            let elapsed = MonotonicClock.nanoseconds() - started
            shared.update { $0.operationLatency.record(elapsed) }
        }
        hooks.done()
        WorkerReport.send(shared.snapshot)
        return 0
    }
}
