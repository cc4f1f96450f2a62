import Foundation

/// What the CLI refreshers' shared `--events` file proves about their critical
/// sections, from the order of its lines alone — no clock.
///
/// Guarantee: each line is one `O_APPEND` write by the `metacache` process named
/// in its `pid`, so the order of lines in the file is the order in which they
/// were written. The library writes `lockAcquired` after the lock is granted and
/// `commitSucceeded`/`commitFailed` before it is released; `lockReleased` comes
/// after the unlock and so proves nothing about when the hold ended. Hence:
/// - **Overlap**: another pid's `lockAcquired` between a pid's `lockAcquired` and
///   its `commitSucceeded`/`commitFailed` means that process acquired while the
///   first still held the lock. (One that lies before a `lockReleased` with no
///   commit in between proves nothing, and is not reported.)
/// - **Commit order**: the generations of `commitSucceeded` lines, in file order,
///   rise by exactly one, starting right after the seed — every CLI refresh reads
///   the current generation under the lock and commits the next one, so a repeat
///   or a gap means two processes were inside at once or a commit was lost.
/// - **Unterminated**: a `lockAcquired` never followed by a commit or release line
///   of the same pid: a `metacache` that died holding the lock.
/// - Which process committed each generation (`committed`, in file order), for
///   attributing what readers saw to the refresh that wrote it.
/// - **Contention**: `lockWaitStarted` lines — a process found the lock held and
///   waited. Without any, no two refreshes ever competed, and the overlap check
///   had nothing to catch.
/// - **Swept temps**: `sweepRemoved` lines naming a temp file: a `metacache`
///   found a temp a dead writer left. The run kills no CLI process, so each is a
///   leak.
package struct CLICommitEvents: Sendable {
    package var commits = 0
    package var overlaps: [String] = []
    package var commitOrderViolations: [String] = []
    /// Pids that acquired and never logged a commit or release afterwards.
    package var unterminated: [Int32] = []
    /// Every `commitSucceeded`, in file order: the committing `metacache` pid and
    /// the generation.
    package var committed: [(pid: Int32, generation: UInt64)] = []
    package var lockWait = LatencyHistogram()
    package var commit = LatencyHistogram()
    package var malformedLines = 0
    /// `lockWaitStarted` lines: acquisitions that had to wait for another holder.
    package var contendedWaits = 0
    /// `lockAcquired` lines.
    package var acquisitions = 0
    /// File names of the temps `sweepRemoved` lines name.
    package var sweptTemps: [String] = []

    /// Reads the file (a missing file is an empty one).
    package init(path: String, seedGeneration: UInt64?) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        self.init(text: text, seedGeneration: seedGeneration)
    }

    /// - Parameter seedGeneration: the generation the coordinator committed before
    ///   the run (the first CLI commit must be the next), nil if unknown.
    package init(text: String, seedGeneration: UInt64?) {
        /// Holds that started and have not ended, by pid: where they started and
        /// who acquired since (an overlap if this hold then logs its commit).
        var open: [Int32: (line: Int, acquiredSince: [(pid: Int32, line: Int)])] = [:]
        var lastGeneration = seedGeneration
        for (index, line) in text.split(separator: "\n").enumerated() {
            let number = index + 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let event = object["event"] as? String, let pid = (object["pid"] as? NSNumber)?.int32Value
            else {
                malformedLines += 1
                continue
            }
            switch event {
            case "lockAcquired":
                acquisitions += 1
                if open[pid] != nil { unterminated.append(pid) }  // a reused pid: the first died holding
                for other in open.keys where other != pid { open[other]?.acquiredSince.append((pid, number)) }
                open[pid] = (number, [])
                if let ms = (object["waitedMs"] as? NSNumber)?.doubleValue { lockWait.record(UInt64(ms * 1e6)) }
            case "commitSucceeded", "commitFailed":
                if let hold = open.removeValue(forKey: pid) {
                    for intruder in hold.acquiredSince {
                        overlaps.append(
                            "pid \(intruder.pid) acquired the lock (line \(intruder.line)) while pid \(pid) held it from line \(hold.line) until its \(event) on line \(number)")
                    }
                }
                guard event == "commitSucceeded" else { break }
                commits += 1
                if let ms = (object["durationMs"] as? NSNumber)?.doubleValue { commit.record(UInt64(ms * 1e6)) }
                guard let generation = (object["generation"] as? NSNumber)?.uint64Value else {
                    malformedLines += 1
                    break
                }
                if let last = lastGeneration, generation != last + 1 {
                    commitOrderViolations.append(
                        "pid \(pid) committed generation \(generation) (line \(number)) right after generation \(last)")
                }
                lastGeneration = generation
                committed.append((pid, generation))
            case "lockWaitStarted":
                contendedWaits += 1
            case "sweepRemoved":
                if let path = object["path"] as? String, let name = path.split(separator: "/").last,
                    name.contains(".json.tmp-")
                {
                    sweptTemps.append(String(name))
                }
            case "lockReleased":
                // Written after the unlock: whoever acquired meanwhile may have
                // done so after the release. No conclusion.
                open[pid] = nil
            default:
                break
            }
        }
        unterminated += open.keys.sorted()
    }
}
