import Foundation
import MetacacheCLI
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
/// a directory holding a cache the harness did not write is never touched; and
/// SIGINT or SIGTERM ends the measured phase as the deadline would, with a
/// partial report marked as interrupted (workers that do not stop within a
/// grace period are killed, and logged as such).
final class StressCoordinator {
    let options: StressOptions

    /// Why a run could not be carried out (exit 2), was refused (exit 64), or
    /// was interrupted before it began (130/143).
    struct RunFailure: Error, CustomStringConvertible {
        let description: String
        let exitCode: Int32
        /// The configuration, for the JSON error report.
        var config: RunConfiguration?
    }

    /// How the measured phase ended.
    enum PhaseEnd: Equatable {
        case finished
        case stalled(String)
        case interrupted(signal: Int32)
    }

    /// How long workers get to stop by themselves after an interrupt (one
    /// operation, on a loaded machine), and after a stall (whoever stalled will
    /// not; the others stop at once).
    static let interruptGrace: Duration = .seconds(5)
    static let stallGrace: Duration = .seconds(2)

    init(options: StressOptions) { self.options = options }

    func run() throws(RunFailure) -> StressReport {
        // Ctrl-C reaches the whole foreground process group; the workers left it
        // (`WorkerProcessGroup`), so only the coordinator hears it, and it stops
        // them in order.
        InterruptSignals.installHandlers()
        let interrupts = InterruptSignals.shared
        var cliPath: String?
        if options.useCLI {
            let path = HarnessExecutables.cli
            switch HarnessExecutables.probeCLI(at: path) {
            case .usable: cliPath = path
            case let .missing(why), let .placeholder(why), let .broken(why):
                throw failure("--use-cli: \(why)", exitCode: 2)
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
                    throw failure("cannot start a \(r.rawValue) worker: \(error)", exitCode: 2)
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
            throw failure("workers did not start: \(error)", exitCode: 2)
        }
        let everyone = Set(WorkerInvocation.Role.allCases)
        let log: WriterIntervalLog
        do {
            log = try WriterIntervalLog(path: layout.logPath)
        } catch {
            throw failure(error.description, exitCode: 2)
        }
        if let signal = interrupts.receivedSignal {
            // Workers that never got `go` exit as soon as their stdin closes.
            fleet.stop(everyone)
            _ = fleet.collect(everyone, timeout: Self.interruptGrace, abort: (log, "the run was interrupted before it began"))
            throw failure("interrupted by \(Self.signalName(signal)) before the run began; nothing was measured", exitCode: 128 + signal)
        }

        // 3. Go.
        let start = MonotonicClock.nanoseconds()
        var deadline: UInt64 = 0
        if case let .duration(seconds) = options.length { deadline = start + UInt64(seconds * 1e9) }
        fleet.goAll(deadline: deadline)

        // 4. The measured phase: follow the log, kill when due, until done.
        let logReader = WriterIntervalLog.Reader(path: layout.logPath)
        var records: [WriterRecord] = []
        var end = PhaseEnd.finished
        if !(readersStopThemselves && deadline == 0) {
            end = drive(fleet: fleet, log: log, logReader: logReader, records: &records, start: start, deadline: deadline)
        }

        // 5. Stop everyone, collect, and look at what is left.
        var stop = MonotonicClock.nanoseconds()
        if readersStopThemselves && deadline == 0 {
            // Readers-only with --iterations: they stop by themselves.
        } else {
            log.append(.stop(time: stop))
            fleet.stop(everyone)
        }
        let outcomes: [WorkerOutcome]
        switch end {
        case .finished:
            let collectTimeout: Duration = options.lockTimeout.duration.map { $0 + .seconds(120) } ?? .seconds(600)
            outcomes = fleet.collect(everyone, timeout: collectTimeout, abort: nil)
        case .stalled:
            outcomes = fleet.collect(everyone, timeout: Self.stallGrace, abort: (log, "the run stalled"))
        case .interrupted:
            outcomes = fleet.collect(everyone, timeout: Self.interruptGrace, abort: (log, "the run was interrupted"))
        }
        if readersStopThemselves && deadline == 0 {
            stop = MonotonicClock.nanoseconds()
            log.append(.stop(time: stop))
        }
        // A signal during a readers-only --iterations run (no measured phase to
        // end early) still marks the report as partial.
        if end == .finished, let signal = interrupts.receivedSignal { end = .interrupted(signal: signal) }
        records += logReader.poll()
        let analysis = WriterIntervalAnalysis(records: records)
        let inspection = AfterRunInspection.inspect(directory: layout.directory, backend: options.lockBackend)
        let measured = Double(stop - start) / 1e9
        var stall: String?
        var interruption: StressReport.Interruption?
        switch end {
        case .finished: break
        case let .stalled(why): stall = why
        case let .interrupted(signal):
            interruption = StressReport.Interruption(signal: Self.signalName(signal), afterSeconds: (measured * 1000).rounded() / 1000)
        }
        let builder = StressReportBuilder(
            options: options, analysis: analysis, outcomes: outcomes, inspection: inspection,
            cliEvents: options.useCLI ? CLICommitEvents(path: layout.cliEventsPath, seedGeneration: analysis.seedGeneration) : nil,
            measuredSeconds: measured, malformedLogLines: logReader.malformedLines, tornLogAppends: logReader.tornAppends,
            stall: stall, runEnd: stop, interruption: interruption, cliPath: cliPath)
        return builder.build()
    }

    /// The exit status for a report: 0 pass, 1 violations, 128+signal interrupted.
    static func exitCode(for report: StressReport) -> Int32 {
        if let i = report.interrupted { return i.signal == "SIGTERM" ? 128 + SIGTERM : 128 + SIGINT }
        return report.ok ? 0 : 1
    }

    static func signalName(_ signal: Int32) -> String {
        signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)"
    }

    private func failure(_ description: String, exitCode: Int32) -> RunFailure {
        RunFailure(description: description, exitCode: exitCode, config: RunConfiguration(options, cli: nil))
    }

    /// Follows the log until the deadline, until every writer slot is done, until
    /// the run stalls or a signal arrives; performs kill chaos.
    private func drive(
        fleet: WorkerFleet, log: WriterIntervalLog, logReader: WriterIntervalLog.Reader, records: inout [WriterRecord],
        start: UInt64, deadline: UInt64
    ) -> PhaseEnd {
        var chaos = options.killWritersEveryMilliseconds.map { KillChaos(intervalMilliseconds: $0, start: start, seed: options.seed) }
        let writerSlots = Set(fleet.current.keys.filter { $0.role != .reader && $0.role != .cliReader })
        var done: Set<WorkerSlot> = []
        var commitsBySlot: [Int: Int] = [:]
        var stallWatch = StallWatch(
            writerSlots: writerSlots.count,
            lockTimeoutSeconds: options.lockTimeout.duration.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 },
            limitSeconds: options.stallAfterSeconds, start: start)
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
            if let signal = InterruptSignals.shared.receivedSignal { return .interrupted(signal: signal) }
            let now = MonotonicClock.nanoseconds()
            if deadline != 0 {
                if now >= deadline { return .finished }
            } else if writerSlots.isSubset(of: done) {
                return .finished
            }
            if let idle = stallWatch.stall(now: now) {
                let waiting = writerSlots.subtracting(done).map(\.description).sorted()
                return .stalled(
                    "no writer logged anything for \(String(format2: Double(idle) / 1e9)) s (limit \(String(format2: Double(stallWatch.limit) / 1e9)) s); still running: \(waiting)")
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
                        return .stalled("could not restart \(victim.slot) after killing it")
                    }
                }
                chaos = c
            }
            var pause = chaos == nil ? 10_000_000 : 500_000
            if deadline != 0 { pause = min(pause, Int(deadline - min(deadline, now)) + 1) }
            // A signal ends the sleep early (EINTR), and the loop sees it at once.
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

    /// Makes sure `--dir` is a usable directory, refuses a foreign cache, creates
    /// the run directory, commits the initial payload (all update counters at 0)
    /// and logs its generation. Anything wrong with `--dir` itself — cannot be
    /// created, not a directory, not private, not writable — is the command
    /// line's mistake (64), named with what to do; a failure after that is the
    /// run's (2).
    private func prepare() throws(RunFailure) -> RunLayout {
        let directory = options.directory
        if let why = Self.makeDirectory(directory) { throw failure("cannot use --dir \(directory): \(why)", exitCode: 64) }
        var storeOptions = CacheStoreOptions()
        storeOptions.lockBackend = options.lockBackend
        let store: CacheStore
        do {
            store = try CacheStore(directory: directory, options: storeOptions)
            if let existing = try store.read() {
                let foreign = existing.payload.withUnsafeBytes { raw -> Bool in
                    (try? StressPayload.parse(raw)) == nil
                }
                if foreign {
                    throw failure(
                        "\(store.cachePath) holds a cache metacache-stress did not write; refusing to overwrite it (use an empty directory)",
                        exitCode: 64)
                }
            }
        } catch let error as RunFailure {
            throw error
        } catch let error as MetadataCacheError {
            throw unusableDirectory(error)
        } catch {
            throw failure("cannot use --dir \(directory): \(error)", exitCode: 64)
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
        } catch let error as MetadataCacheError {
            throw unusableDirectory(error, otherwise: "cannot prepare \(store.directory)")
        } catch {
            throw failure("cannot prepare \(store.directory): \(error)", exitCode: 2)
        }
        return layout
    }

    /// A library error about `--dir`: 64 when the directory is the problem
    /// (unsafe, not ours, not writable), else 2 with `otherwise` as the context.
    private func unusableDirectory(_ error: MetadataCacheError, otherwise: String? = nil) -> RunFailure {
        let directory = options.directory
        if case let .unsafeDirectory(path, problem) = error {
            // The library's remedy names its allowSharedDirectory store option,
            // which the harness does not offer: a stress run wants a private
            // directory of its own.
            let what = path == directory ? "" : "\(path): "
            return failure(
                "refusing --dir \(directory): \(what)\(problem); give the harness a private directory of your own "
                    + "(chmod 700 \(path)), or a new path it will create", exitCode: 64)
        }
        let directoryErrors: Set<Int32> = [EACCES, EPERM, EROFS, ENOTDIR, ENOENT]
        if let errno = error.errno, directoryErrors.contains(errno.rawValue) {
            return failure("cannot use --dir \(directory): \(error)", exitCode: 64)
        }
        return failure("\(otherwise ?? "cannot use --dir \(directory)"): \(error)", exitCode: otherwise == nil ? 64 : 2)
    }

    /// Creates `path` and any missing parents (mode 0700), like `mkdir -p`.
    /// Nil on success (or if it is already a directory), else why not.
    static func makeDirectory(_ path: String) -> String? {
        var status = stat()
        if stat(path, &status) == 0 {
            return (status.st_mode & S_IFMT) == S_IFDIR ? nil : "it exists and is not a directory"
        }
        guard errno == ENOENT else { return "\(path): \(String(cString: strerror(errno)))" }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, let why = makeDirectory(parent) { return why }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            return "cannot create \(path): \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
