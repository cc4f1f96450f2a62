import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        // The re-acquire check's control: a keeper child holds each hold's lock.
        let keeper = w.sabotage == .lockOutlivesHolder ? LockKeeper() : nil
        let hooks = WriterLogHooks(
            log: log, pid: getpid(), worker: w.worker, slot: w.slot, role: .refresher,
            callbacks: keeper.map { keeper in
                WriterLogHooks.HoldCallbacks(entered: { keeper.start(lockPath: $0) }, leaving: { keeper.stop() })
            })
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
                    try InPlaceWriter.refresh(
                        store: store, timeout: w.lockTimeout,
                        payload: { snapshot, generation in
                            let next = try succession.next(
                                after: PayloadSuccession.inspect(snapshot), sequence: sequence, generation: generation)
                            hooks.payloadReady()
                            return next
                        },
                        finished: { generation, _, _ in hooks.exit(committed: generation != nil, generation: generation ?? 0) })
                    shared.update { $0.succeeded += 1 }
                } else {
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
                                $0.note(.tornReads, "under the lock, refresh \(sequence) found: \(why)")
                            }
                        }
                        let generation = (request.current?.generation ?? 0) + 1
                        var payload = try succession.next(after: current, sequence: sequence, generation: generation)
                        switch w.sabotage {
                        case .tornPayload?:
                            payload = Sabotage.splice(payload, try succession.next(
                                after: current, sequence: sequence + 1_000_000, generation: generation))
                        case .lockBypass?:
                            // Keep "holding" a moment: two bypassing writers are then
                            // sure to overlap, not merely likely to.
                            Sabotage.holdTheWindowOpen()
                        case .freezeHolder?:
                            // Stop while holding the lock: the stall watch must notice.
                            raise(SIGSTOP)
                        default:
                            break
                        }
                        hooks.payloadReady()
                        return .payload(Data(payload), source: "metacache-stress refresher \(w.worker)")
                    }
                    if case .fetched = outcome {
                        shared.update { $0.succeeded += 1 }
                        if w.sabotage == .leakTemp && operation == 1 { TempLeak.plant(directory: store.directory, pid: getpid()) }
                    } else {
                        shared.update {
                            $0.unexpectedOutcomes += 1
                            $0.note(.writerFailures, "refresh \(sequence) with force ended as \(outcome), not fetched")
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
