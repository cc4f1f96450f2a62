/// Which CLI refresh committed each generation, and whether what the CLI readers
/// saw under that generation is that refresh's payload.
///
/// Guarantee: a generation is attributed to a refresh only when the evidence is
/// unambiguous: the events file names the `metacache` pid that committed it, and
/// the interval log names the refresher and payload sequence of the process with
/// that pid. Pids are reused (32768 of them by default on Linux, and a CLI run
/// starts thousands of processes), so the k-th commit by a pid is matched to the
/// k-th successful refresh by a process of that pid, and a pid whose numbers of
/// commits and successful refreshes differ is left unattributed. Then, for every
/// reader observation: a header generation whose committed payload is another
/// than the one printed is a **mismatch** (header and payload from different
/// commits); a generation above the seed that no CLI process committed is
/// **uncommitted** (a read of a version nobody wrote, or a lost events line).
package struct CLICommitAttribution: Sendable {
    package struct Payload: Sendable, Equatable {
        package var writer: UInt64
        package var sequence: UInt64

        package init(writer: UInt64, sequence: UInt64) {
            self.writer = writer
            self.sequence = sequence
        }
    }

    package private(set) var committedPayload: [UInt64: Payload] = [:]
    package private(set) var mismatches: [String] = []
    package private(set) var uncommitted: [UInt64] = []
    /// Observations compared with an attributed commit (matching or not).
    package private(set) var checked = 0

    package init(
        events: CLICommitEvents, refreshes: [WriterIntervalAnalysis.CLIRefresh], seedGeneration: UInt64?,
        observed: [ObservedCommit]
    ) {
        var generationsByPid: [Int32: [UInt64]] = [:]
        for commit in events.committed { generationsByPid[commit.pid, default: []].append(commit.generation) }
        var refreshesByPid: [Int32: [WriterIntervalAnalysis.CLIRefresh]] = [:]
        for refresh in refreshes where refresh.exitCode == 0 { refreshesByPid[refresh.child, default: []].append(refresh) }
        for (pid, generations) in generationsByPid {
            guard let runs = refreshesByPid[pid], runs.count == generations.count else { continue }
            for (generation, run) in zip(generations, runs) {
                committedPayload[generation] = Payload(writer: UInt64(run.worker), sequence: run.sequence)
            }
        }
        let committedGenerations = Set(events.committed.map(\.generation))
        for seen in Set(observed).sorted(by: { ($0.generation, $0.writer, $0.sequence) < ($1.generation, $1.writer, $1.sequence) }) {
            if let expected = committedPayload[seen.generation] {
                checked += 1
                if expected != Payload(writer: seen.writer, sequence: seen.sequence) {
                    mismatches.append(
                        "a reader saw generation \(seen.generation) over writer \(seen.writer)'s payload \(seen.sequence), but that generation was committed with writer \(expected.writer)'s payload \(expected.sequence)")
                }
            } else if !committedGenerations.contains(seen.generation), seen.generation > (seedGeneration ?? 0) {
                uncommitted.append(seen.generation)
            }
        }
    }
}
