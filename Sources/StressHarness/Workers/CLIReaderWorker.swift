import Foundation
import MetadataCache
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reader that runs the real CLI: `metacache cache read --events FILE` as a
/// process per read, verifying the bytes it prints with `SnapshotVerifier`.
///
/// Guarantee: a read is good only if the process exits 0, its stdout is exactly
/// one complete stress payload (a stray byte, such as an added newline, fails the
/// digest), and the same read's `readHit` event (the reader's own events file,
/// one line per read) reports as many payload bytes as were printed. The event's
/// generation is the header's, so the stale-read check applies as for library
/// readers, and the header must match the payload's own generation when the
/// payload names one (the seed). Over a CLI-written payload (generation 0) the
/// pair is recorded as an `ObservedCommit` for the coordinator to check; two
/// different payloads under one generation are torn at once. Exit 65 counts as a
/// corrupt read, 66 as a missing cache; the latency is the whole process, from
/// spawn until its output is complete. The printed bytes are verified in full
/// whatever the event says: the event adds checks, it replaces none.
enum CLIReaderWorker {
    static func run(_ w: WorkerInvocation) -> Int32 {
        guard let cli = w.cliPath, let scratch = w.scratchDirectory else {
            CoordinatorChannel.complain("cli-reader \(w.worker): needs --cli and --scratch")
            return 64
        }
        let eventsPath = scratch + "/reader-\(w.worker).jsonl"
        let events = AppendedLines(path: eventsPath)
        guard let channel = CoordinatorChannel.announceReadyAndAwaitGo() else { return 0 }
        var stats = WorkerStats(role: w.role.rawValue, worker: w.worker, slot: w.slot, pid: getpid())
        var verifier = SnapshotVerifier()
        var seen: [UInt64: ObservedCommit] = [:]
        let limit = w.iterations
        while !channel.shouldStop, limit.map({ stats.reads < $0 }) ?? true {
            stats.operations += 1
            stats.reads += 1
            let read = "read \(stats.reads)"
            let started = MonotonicClock.nanoseconds()
            let output: [UInt8]
            let termination: ChildProcess.Termination
            let stderr: String
            do {
                let child = try ChildProcess(
                    cli, ["cache", "read", "--dir", w.directory, "--events", eventsPath], stdout: .pipe, stderr: .captured)
                while try child.readLine(timeout: .seconds(60)) != nil {}
                stats.readLatency.record(MonotonicClock.nanoseconds() - started)
                termination = try child.wait(timeout: .seconds(60))
                output = child.standardOutput
                stderr = child.standardError
            } catch {
                _ = events.poll()
                stats.readErrors += 1
                stats.note(.readErrors, "\(read): running \(cli) failed: \(error)")
                continue
            }
            let hits = events.poll().compactMap(ReadHit.init)
            switch termination {
            case .exited(0):
                guard hits.count == 1, let hit = hits.first else {
                    stats.readErrors += 1
                    stats.note(.readErrors, "\(read): expected one readHit event from the read, got \(hits.count)")
                    continue
                }
                guard hit.bytes == output.count else {
                    stats.tornReads += 1
                    stats.note(.tornReads, "\(read): the header (generation \(hit.generation)) says \(hit.bytes) payload bytes, the CLI printed \(output.count)")
                    continue
                }
                let verdict = output.withUnsafeBytes { verifier.check($0, headerGeneration: hit.generation) }
                if case let .good(payload) = verdict, payload.generation == 0 {
                    let observed = ObservedCommit(generation: hit.generation, writer: payload.writer, sequence: payload.sequence)
                    if let earlier = seen[hit.generation], earlier != observed {
                        stats.tornReads += 1
                        stats.note(
                            .tornReads,
                            "\(read): generation \(hit.generation) carried writer \(observed.writer)'s payload \(observed.sequence), but earlier writer \(earlier.writer)'s payload \(earlier.sequence)")
                        continue
                    }
                    seen[hit.generation] = observed
                }
                stats.count(verdict, read: "\(read) (generation \(hit.generation))")
            case .exited(65):
                stats.corruptReads += 1
                stats.note(.corruptReads, "\(read): exit 65: \(stderr.prefix(300))")
            case .exited(66):
                stats.missingReads += 1
                stats.note(.missingReads, "\(read): exit 66: \(stderr.prefix(300))")
            default:
                stats.readErrors += 1
                stats.note(.readErrors, "\(read): \(termination): \(stderr.prefix(300))")
            }
        }
        stats.observedCommits = seen.values.sorted { $0.generation < $1.generation }
        WorkerReport.send(stats)
        return 0
    }

    /// The `readHit` line of one `metacache cache read --events`.
    struct ReadHit {
        let generation: UInt64
        let bytes: Int

        init?(_ line: String) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] as? String == "readHit",
                let generation = (object["generation"] as? NSNumber)?.uint64Value,
                let bytes = (object["bytes"] as? NSNumber)?.intValue
            else { return nil }
            self.generation = generation
            self.bytes = bytes
        }
    }
}
