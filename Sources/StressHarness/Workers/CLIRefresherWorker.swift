import Foundation
import MetadataCache
import ProcessSpawning

/// A refresher that runs the real CLI: writes its next payload to a source file,
/// then runs `metacache cache refresh --source FILE --force` as a process.
///
/// Guarantee: every CLI refresh is logged with its exit status, duration, the
/// `metacache` pid and the payload sequence it was given. The CLI's critical
/// section is inside another program, so its exclusion and commit order are
/// checked from the order of the events it appends to the shared `--events` file
/// (see `CLICommitEvents`), and the pid ties each committed generation to its
/// payload, for checking what readers saw.
///
/// Under `--sabotage`, the CLI path itself is broken: a spliced source file
/// (torn-payload), the harness standing in for the CLI with a lock that locks
/// nothing or an in-place rewrite (`SabotagedCLI`), or a temp left behind under
/// the name of the `metacache` that just ran (leak-temp).
enum CLIRefresherWorker {
    static func run(_ w: WorkerInvocation) -> Int32 {
        guard let logPath = w.logPath, let log = try? WriterIntervalLog(path: logPath), let cli = w.cliPath,
            let scratch = w.scratchDirectory
        else {
            CoordinatorChannel.complain("cli-refresher \(w.worker): needs --log, --cli and --scratch")
            return 64
        }
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        var stats = WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid())
        let source = scratch + "/source-\(w.worker).json"
        let pid = getpid()
        var operation = 0
        while !channel.shouldStop, w.iterations.map({ operation < $0 }) ?? true {
            operation += 1
            stats.operations += 1
            do {
                // Generation 0: the CLI decides it under the lock; we cannot know it.
                var payload = try StressPayload(
                    writer: UInt64(w.worker), sequence: UInt64(operation), generation: 0, length: w.payloadBytes
                ).build(fillSeed: w.seed)
                if w.sabotage == .tornPayload {
                    payload = Sabotage.splice(payload, try StressPayload(
                        writer: UInt64(w.worker), sequence: UInt64(operation) + 1_000_000, generation: 0, length: w.payloadBytes
                    ).build(fillSeed: w.seed))
                }
                try Data(payload).write(to: URL(fileURLWithPath: source))
            } catch {
                stats.failures += 1
                log.append(.failure(time: MonotonicClock.nanoseconds(), pid: pid, worker: w.worker, slot: w.slot, role: .cliRefresher))
                stats.note(.writerFailures, "writing the source file failed: \(error)")
                continue
            }
            var arguments = [
                "cache", "refresh", "--dir", w.directory, "--source", source, "--force", "--quiet",
                "--lock-timeout", w.lockTimeout.argument, "--lock-backend", w.lockBackend.rawValue,
            ]
            if let events = w.eventsPath { arguments += ["--events", events] }
            var executable = cli
            if let mode = w.sabotage, SabotagedCLI.standsIn(for: mode) {
                executable = HarnessExecutables.current
                arguments = [SabotagedCLI.flag, mode.rawValue] + arguments
            }
            let started = MonotonicClock.nanoseconds()
            let result: ChildProcess.Result
            let child: Int32
            do {
                let process = try ChildProcess(executable, arguments, stdout: .captured, stderr: .captured)
                child = process.pid
                let termination = try process.wait(timeout: .seconds(600))
                result = ChildProcess.Result(termination: termination, stdout: process.standardOutput, stderr: process.standardError)
            } catch {
                stats.failures += 1
                log.append(.failure(time: MonotonicClock.nanoseconds(), pid: pid, worker: w.worker, slot: w.slot, role: .cliRefresher))
                stats.note(.writerFailures, "running \(executable) failed: \(error)")
                continue
            }
            let ended = MonotonicClock.nanoseconds()
            stats.operationLatency.record(ended - started)
            let code = result.exitCode ?? -1
            log.append(.cliRefresh(
                time: ended, attempt: started, pid: pid, worker: w.worker, slot: w.slot, exitCode: code, child: child,
                sequence: UInt64(operation)))
            switch code {
            case 0:
                stats.succeeded += 1
                if w.sabotage == .leakTemp && operation == 1 { TempLeak.plant(directory: w.directory, pid: child) }
            case 75:
                stats.timeouts += 1
                log.append(.timeout(time: ended, attempt: started, pid: pid, worker: w.worker, slot: w.slot, role: .cliRefresher))
            default:
                stats.failures += 1
                log.append(.failure(time: ended, pid: pid, worker: w.worker, slot: w.slot, role: .cliRefresher))
                stats.note(.writerFailures, "metacache cache refresh ended with \(result.termination): \(result.stderr.prefix(300))")
            }
        }
        log.append(.done(time: MonotonicClock.nanoseconds(), pid: pid, worker: w.worker, slot: w.slot, role: .cliRefresher))
        WorkerReport.send(stats)
        return 0
    }
}
