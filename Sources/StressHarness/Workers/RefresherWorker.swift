import Foundation
import MetadataCache

/// A refresher process: `CacheStore.refresh(force: true)` in a loop, the way a
/// host tool refreshes, with the "fetch" building the next self-describing
/// payload from the version found under the lock.
///
/// Guarantee: every refresh is bracketed in the interval log by `WriterLogHooks`
/// (enter at acquisition, exit at the end of the commit, or when the read under
/// the lock fails and nothing is committed); timeouts and failures are logged
/// too, so the coordinator can account for every operation even if this process
/// is killed.
enum RefresherWorker {
    static func run(_ w: WorkerInvocation) async -> Int32 {
        guard let logPath = w.logPath, let log = try? WriterIntervalLog(path: logPath) else {
            CoordinatorChannel.complain("refresher \(w.worker): cannot open the interval log")
            return 70
        }
        let hooks = WriterLogHooks(log: log, pid: getpid(), worker: w.worker, slot: w.slot, role: .refresher)
        let store: CacheStore
        do {
            store = try WorkerStore.make(w, observer: hooks)
        } catch {
            CoordinatorChannel.complain("refresher \(w.worker): \(error)")
            return error.exitCode
        }
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        let shared = SharedWorkerStats(WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid()))
        let succession = PayloadSuccession(writer: UInt64(w.worker), payloadBytes: w.payloadBytes, seed: w.seed)
        var operation = 0
        while !channel.shouldStop, w.iterations.map({ operation < $0 }) ?? true {
            operation += 1
            let sequence = UInt64(operation)
            shared.update { $0.operations += 1 }
            hooks.begin(operation: operation)
            let started = MonotonicClock.nanoseconds()
            do {
                if w.sabotage == .inPlaceWrite {
                    try InPlaceWriter.refresh(store: store, hooks: hooks, succession: succession, sequence: sequence, timeout: w.lockTimeout)
                    shared.update { $0.succeeded += 1 }
                } else {
                    let splice = w.sabotage == .tornPayload
                    let outcome = try await store.refresh(force: true, timeout: w.lockTimeout) { request in
                        // Under the lock: the current version, to carry its counters. A
                        // read that fails fails this refresh: taking it for "no cache"
                        // would commit every update counter reset to zero (and the
                        // report would blame lost updates). Still holding the lock,
                        // so the hold is closed here; nothing is committed.
                        let snapshot: CacheSnapshot?
                        do {
                            snapshot = try store.read()
                        } catch {
                            hooks.exit(committed: false, generation: 0)
                            throw error
                        }
                        let current = PayloadSuccession.inspect(snapshot)
                        if case let .defective(why) = current {
                            shared.update {
                                $0.tornReads += 1
                                $0.note("under the lock, refresh \(sequence) found: \(why)")
                            }
                        }
                        let generation = (request.current?.generation ?? 0) + 1
                        var payload = try succession.next(after: current, sequence: sequence, generation: generation)
                        if splice {
                            let other = try succession.next(after: current, sequence: sequence + 1_000_000, generation: generation)
                            payload = Array(payload[..<(payload.count / 2)] + other[(other.count / 2)...])
                        }
                        hooks.payloadReady()
                        return .payload(Data(payload), source: "metacache-stress refresher \(w.worker)")
                    }
                    if case .fetched = outcome {
                        shared.update { $0.succeeded += 1 }
                    } else {
                        shared.update {
                            $0.unexpectedOutcomes += 1
                            $0.note("refresh \(sequence) with force ended as \(outcome), not fetched")
                        }
                    }
                }
            } catch {
                shared.countFailure(error, of: "refresh \(sequence)", hooks: hooks)
            }
            let elapsed = MonotonicClock.nanoseconds() - started
            shared.update { $0.operationLatency.record(elapsed) }
        }
        hooks.done()
        WorkerReport.send(shared.snapshot)
        return 0
    }
}
