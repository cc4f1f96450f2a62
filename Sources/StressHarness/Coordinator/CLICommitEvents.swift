import Foundation

/// What the CLI refreshers' `--events` file says about their critical sections.
///
/// Guarantee: counts every `commitSucceeded` event and finds generations
/// committed more than once. Each CLI refresh reads the current generation and
/// commits the next one under the lock, so two commits of the same generation
/// mean two `metacache` processes were inside the critical section at once —
/// the single-writer check for writers whose inside the harness cannot log.
struct CLICommitEvents {
    var commits = 0
    var duplicateGenerations: [UInt64] = []
    var lockWait = LatencyHistogram()
    var commit = LatencyHistogram()
    var malformedLines = 0

    init(path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var seen: Set<UInt64> = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let event = object["event"] as? String
            else {
                malformedLines += 1
                continue
            }
            switch event {
            case "commitSucceeded":
                commits += 1
                if let g = (object["generation"] as? NSNumber)?.uint64Value, !seen.insert(g).inserted {
                    duplicateGenerations.append(g)
                }
                if let ms = (object["durationMs"] as? NSNumber)?.doubleValue { commit.record(UInt64(ms * 1e6)) }
            case "lockAcquired":
                if let ms = (object["waitedMs"] as? NSNumber)?.doubleValue { lockWait.record(UInt64(ms * 1e6)) }
            default:
                break
            }
        }
    }
}
