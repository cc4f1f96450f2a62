import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one stress test: prepares the directory, starts the workers together,
/// drives kill chaos, collects everything, inspects the directory and reports.
///
/// Guarantee: the cache directory ends the run with no worker alive; the report
/// covers every worker the run started (killed ones through the interval log);
/// and a directory holding a cache the harness did not write is never touched.
final class StressCoordinator {
    let options: StressOptions

    /// Why a run could not be carried out (exit 2), or was refused (exit 64).
    struct RunFailure: Error, CustomStringConvertible {
        let description: String
        let exitCode: Int32
    }

    init(options: StressOptions) { self.options = options }

    func run() throws(RunFailure) -> StressReport {
        var cliPath: String?
        if options.useCLI {
            let path = HarnessExecutables.cli
            switch HarnessExecutables.probeCLI(at: path) {
            case .usable: cliPath = path
            case let .missing(why), let .placeholder(why), let .broken(why):
                throw RunFailure(description: "--use-cli: \(why)", exitCode: 2)
            }
        }

        // 1. The directory, the run's scratch space, and the initial payload.
        let layout = try prepare()

        // 2. Workers, all ready before any starts.
        let fleet = WorkerFleet(executable: HarnessExecutables.current)
        var template = WorkerInvocation(role: .reader, directory: layout.directory)
        template.payloadBytes = options.payloadBytes
        template.lockTimeout = options.lockTimeout
        template.lockBackend = options.lockBackend
        template.logPath = layout.logPath
        template.eventsPath = options.useCLI ? layout.cliEventsPath : nil
        template.scratchDirectory = layout.runDirectory
        template.seed = options.seed
        template.cliPath = cliPath
        template.sabotage = options.sabotage
        var iterations: Int?
        if case let .iterations(n) = options.length { iterations = n }
        func role(_ r: WorkerInvocation.Role, count: Int, iterations: Int?) throws(RunFailure) {
            var t = template
            t.role = r
            t.iterations = iterations
            for index in 0..<count {
                do {
                    try fleet.start(WorkerSlot(role: r, index: index), t)
                } catch {
                    throw RunFailure(description: "cannot start a \(r.rawValue) worker: \(error)", exitCode: 2)
                }
            }
        }
        try role(options.useCLI ? .cliRefresher : .refresher, count: options.refreshers, iterations: iterations)
        try role(.updater, count: options.updaters, iterations: iterations)
        let readersStopThemselves = options.writerCount == 0
        try role(options.useCLI ? .cliReader : .reader, count: options.readers, iterations: readersStopThemselves ? iterations : nil)
        do {
            try fleet.awaitReady(timeout: .seconds(120))
        } catch {
            throw RunFailure(description: "workers did not start: \(error)", exitCode: 2)
        }

        // 3. Go.
        let log: WriterIntervalLog
        do {
            log = try WriterIntervalLog(path: layout.logPath)
        } catch {
            throw RunFailure(description: error.description, exitCode: 2)
        }
        let start = MonotonicClock.nanoseconds()
        var deadline: UInt64 = 0
        if case let .duration(seconds) = options.length { deadline = start + UInt64(seconds * 1e9) }
        fleet.goAll(deadline: deadline)

        // 4. The measured phase: follow the log, kill when due, until done.
        let logReader = WriterIntervalLog.Reader(path: layout.logPath)
        var records: [WriterRecord] = []
        var stall: String?
        if !(readersStopThemselves && deadline == 0) {
            stall = drive(fleet: fleet, log: log, logReader: logReader, records: &records, start: start, deadline: deadline)
        }

        // 5. Stop everyone, collect, and look at what is left.
        var stop = MonotonicClock.nanoseconds()
        if readersStopThemselves && deadline == 0 {
            // Readers-only with --iterations: they stop by themselves.
        } else {
            log.append(.stop(time: stop))
            fleet.stop(Set(WorkerInvocation.Role.allCases))
        }
        let collectTimeout: Duration = options.lockTimeout.duration.map { $0 + .seconds(120) } ?? .seconds(600)
        let outcomes = fleet.collect(Set(WorkerInvocation.Role.allCases), timeout: collectTimeout)
        if readersStopThemselves && deadline == 0 {
            stop = MonotonicClock.nanoseconds()
            log.append(.stop(time: stop))
        }
        records += logReader.poll()
        let analysis = WriterIntervalAnalysis(records: records)
        let inspection = AfterRunInspection.inspect(directory: layout.directory, backend: options.lockBackend)
        let builder = StressReportBuilder(
            options: options, analysis: analysis, outcomes: outcomes, inspection: inspection,
            cliEvents: options.useCLI ? CLICommitEvents(path: layout.cliEventsPath, seedGeneration: analysis.seedGeneration) : nil,
            measuredSeconds: Double(stop - start) / 1e9, malformedLogLines: logReader.malformedLines, tornLogAppends: logReader.tornAppends, stall: stall,
            runEnd: stop)
        return builder.build()
    }

    /// Follows the log until the deadline or until every writer slot is done;
    /// performs kill chaos. Returns a description if the run stalled.
    private func drive(
        fleet: WorkerFleet, log: WriterIntervalLog, logReader: WriterIntervalLog.Reader, records: inout [WriterRecord],
        start: UInt64, deadline: UInt64
    ) -> String? {
        var chaos = options.killWritersEveryMilliseconds.map { KillChaos(intervalMilliseconds: $0, start: start, seed: options.seed) }
        let writerSlots = Set(fleet.current.keys.filter { $0.role != .reader && $0.role != .cliReader })
        var done: Set<WorkerSlot> = []
        var commitsBySlot: [Int: Int] = [:]
        var stallWatch = StallWatch(
            writerSlots: writerSlots.count, lockTimeoutSeconds: options.lockTimeout.duration.map { Double($0.components.seconds) },
            start: start)
        func follow() {
            let fresh = logReader.poll()
            if !fresh.isEmpty { stallWatch.progressed(at: MonotonicClock.nanoseconds()) }
            records += fresh
            chaos?.observe(fresh)
            for record in fresh {
                switch record {
                case let .done(_, _, _, slot, role):
                    done.insert(WorkerSlot(role: Self.workerRole(role, useCLI: options.useCLI), index: slot))
                case let .exit(_, _, _, slot, .refresher, _, true, _, _):
                    commitsBySlot[slot, default: 0] += 1
                default:
                    break
                }
            }
        }
        while true {
            follow()
            let now = MonotonicClock.nanoseconds()
            if deadline != 0 {
                if now >= deadline { return nil }
            } else if writerSlots.isSubset(of: done) {
                return nil
            }
            if let idle = stallWatch.stall(now: now) {
                return "no writer logged anything for \(idle / 1_000_000_000) s; still running: \(writerSlots.subtracting(done).sorted { $0.description < $1.description })"
            }
            if var c = chaos {
                if let pid = c.victim(now: now, isOurs: { fleet.member(pid: $0) != nil }), let victim = fleet.member(pid: pid) {
                    let time = MonotonicClock.nanoseconds()
                    log.append(.kill(time: time, pid: pid, worker: victim.invocation.worker, slot: victim.slot.index))
                    fleet.kill(victim)
                    c.killed(pid: pid, at: time)
                    // The victim is gone: everything it logged is in the file now, so
                    // what its slot still owes is exact.
                    chaos = c
                    follow()
                    c = chaos!
                    var replacement = victim.invocation
                    if case let .iterations(total) = options.length {
                        // What the slot still owes; the victim may have committed once
                        // more without logging it, which only makes the slot do one extra.
                        let left = total - (commitsBySlot[victim.slot.index] ?? 0)
                        replacement.iterations = left
                        if left <= 0 {
                            done.insert(victim.slot)
                            chaos = c
                            continue
                        }
                    }
                    if let member = try? fleet.start(victim.slot, replacement) {
                        fleet.go(member, deadline: deadline)
                    } else {
                        return "could not restart \(victim.slot) after killing it"
                    }
                }
                chaos = c
            }
            var pause = chaos == nil ? 10_000_000 : 500_000
            if deadline != 0 { pause = min(pause, Int(deadline - min(deadline, now)) + 1) }
            var ts = timespec(tv_sec: 0, tv_nsec: pause)
            nanosleep(&ts, nil)
        }
    }

    static func workerRole(_ role: WriterRole, useCLI: Bool) -> WorkerInvocation.Role {
        switch role {
        case .refresher: .refresher
        case .updater: .updater
        case .cliRefresher: .cliRefresher
        }
    }

    struct RunLayout {
        let directory: String
        let runDirectory: String
        var logPath: String { runDirectory + "/intervals.log" }
        var cliEventsPath: String { runDirectory + "/cli-events.jsonl" }
    }

    /// Refuses a foreign cache, creates the run directory, commits the initial
    /// payload (all update counters at 0) and logs its generation.
    private func prepare() throws(RunFailure) -> RunLayout {
        var storeOptions = CacheStoreOptions()
        storeOptions.lockBackend = options.lockBackend
        let store: CacheStore
        do {
            store = try CacheStore(directory: options.directory, options: storeOptions)
            if let existing = try store.read() {
                let foreign = existing.payload.withUnsafeBytes { raw -> Bool in
                    (try? StressPayload.parse(raw)) == nil
                }
                if foreign {
                    throw RunFailure(
                        description: "\(store.cachePath) holds a cache metacache-stress did not write; refusing to overwrite it (use an empty directory)",
                        exitCode: 64)
                }
            }
        } catch let error as RunFailure {
            throw error
        } catch {
            throw RunFailure(description: "cannot use \(options.directory): \(error)", exitCode: 64)
        }
        let layout = RunLayout(directory: store.directory, runDirectory: store.directory + "/stress-run")
        do {
            let writer = try store.acquireWriterLock(timeout: options.lockTimeout)
            let fm = FileManager.default
            if fm.fileExists(atPath: layout.runDirectory) { try fm.removeItem(atPath: layout.runDirectory) }
            try fm.createDirectory(atPath: layout.runDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let current = try writer.read()
            let counters = Dictionary(uniqueKeysWithValues: (0..<options.updaters).map { (UpdaterCounter.name(slot: $0), UInt64(0)) })
            let payload = try StressPayload(
                writer: 0, sequence: 0, generation: (current?.generation ?? 0) + 1, length: options.payloadBytes,
                counters: counters
            ).build(fillSeed: options.seed)
            let receipt = try writer.commit(Data(payload), source: "metacache-stress seed")
            try WriterIntervalLog(path: layout.logPath).append(.seed(time: MonotonicClock.nanoseconds(), generation: receipt.generation))
            writer.release()
        } catch {
            throw RunFailure(description: "cannot prepare \(store.directory): \(error)", exitCode: 2)
        }
        return layout
    }
}
