import MetadataCache
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reader that runs the real CLI: `metacache cache read` as a process per read,
/// verifying the bytes it prints with `SnapshotVerifier`.
///
/// Guarantee: a read is good only if the process exits 0 and its stdout is exactly
/// one complete stress payload (a stray byte, such as an added newline, fails the
/// digest). Exit 65 counts as a corrupt read, 66 as a missing cache; the latency
/// is the whole process, from spawn until its output is complete.
enum CLIReaderWorker {
    static func run(_ w: WorkerInvocation) -> Int32 {
        guard let cli = w.cliPath else {
            CoordinatorChannel.complain("cli-reader \(w.worker): needs --cli")
            return 64
        }
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        var stats = WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid())
        var verifier = SnapshotVerifier()
        let limit = w.iterations
        while !channel.shouldStop, limit.map({ stats.reads < $0 }) ?? true {
            stats.operations += 1
            stats.reads += 1
            let started = MonotonicClock.nanoseconds()
            let output: [UInt8]
            let termination: ChildProcess.Termination
            let stderr: String
            do {
                let child = try ChildProcess(cli, ["cache", "read", "--dir", w.directory], stdout: .pipe, stderr: .captured)
                while try child.readLine(timeout: .seconds(60)) != nil {}
                stats.readLatency.record(MonotonicClock.nanoseconds() - started)
                termination = try child.wait(timeout: .seconds(60))
                output = child.standardOutput
                stderr = child.standardError
            } catch {
                stats.readErrors += 1
                stats.note("read \(stats.reads): running \(cli) failed: \(error)")
                continue
            }
            switch termination {
            case .exited(0):
                let verdict = output.withUnsafeBytes { verifier.check($0, headerGeneration: nil) }
                stats.count(verdict, read: "read \(stats.reads)")
            case .exited(65):
                stats.corruptReads += 1
                stats.note("read \(stats.reads): exit 65: \(stderr.prefix(300))")
            case .exited(66):
                stats.missingReads += 1
                stats.note("read \(stats.reads): exit 66: \(stderr.prefix(300))")
            default:
                stats.readErrors += 1
                stats.note("read \(stats.reads): \(termination): \(stderr.prefix(300))")
            }
        }
        WorkerReport.send(stats)
        return 0
    }
}
