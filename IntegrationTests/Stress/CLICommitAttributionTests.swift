import StressHarness
import Testing

/// Tying what CLI readers saw to the refresh that committed it: header and
/// payload from different commits are caught, pid reuse is handled, and
/// ambiguity is never guessed at.
@Suite struct CLICommitAttributionTests {
    typealias Refresh = WriterIntervalAnalysis.CLIRefresh

    static func refresh(child: Int32, worker: Int, sequence: UInt64, exit: Int32 = 0) -> Refresh {
        Refresh(exitCode: exit, nanoseconds: 1, worker: worker, child: child, sequence: sequence)
    }

    static func events(_ commits: [(Int32, UInt64)]) -> CLICommitEvents {
        let lines = commits.map { pid, generation in
            #"{"event":"commitSucceeded","pid":\#(pid),"generation":\#(generation),"durationMs":1}"#
        }
        return CLICommitEvents(text: lines.joined(separator: "\n"), seedGeneration: 1)
    }

    @Test func readsOfTheCommittedPayloadMatchAndOthersAreMismatches() {
        let a = CLICommitAttribution(
            events: Self.events([(100, 2), (101, 3)]),
            refreshes: [Self.refresh(child: 100, worker: 1, sequence: 5), Self.refresh(child: 101, worker: 2, sequence: 7)],
            seedGeneration: 1,
            observed: [
                ObservedCommit(generation: 2, writer: 1, sequence: 5), ObservedCommit(generation: 3, writer: 2, sequence: 7),
                // Header of generation 3 over the payload committed as generation 2.
                ObservedCommit(generation: 3, writer: 1, sequence: 5),
            ])
        #expect(a.checked == 3)
        #expect(a.mismatches.count == 1)
        #expect(a.mismatches.first?.contains("generation 3 over writer 1's payload 5") == true, "\(a.mismatches)")
        #expect(a.uncommitted.isEmpty)
    }

    @Test func aReusedPidIsMatchedInOrderAndFailedRefreshesAreSkipped() {
        let a = CLICommitAttribution(
            events: Self.events([(100, 2), (200, 3), (100, 4)]),
            refreshes: [
                Self.refresh(child: 100, worker: 1, sequence: 1), Self.refresh(child: 200, worker: 2, sequence: 1),
                Self.refresh(child: 100, worker: 3, sequence: 9, exit: 75),  // timed out: committed nothing
                Self.refresh(child: 100, worker: 2, sequence: 2),
            ],
            seedGeneration: 1, observed: [])
        #expect(a.committedPayload[2] == .init(writer: 1, sequence: 1))
        #expect(a.committedPayload[3] == .init(writer: 2, sequence: 1))
        #expect(a.committedPayload[4] == .init(writer: 2, sequence: 2))
    }

    @Test func anAmbiguousPidIsLeftUnattributedNotGuessed() {
        let a = CLICommitAttribution(
            events: Self.events([(100, 2), (100, 3)]), refreshes: [Self.refresh(child: 100, worker: 1, sequence: 1)],
            seedGeneration: 1, observed: [ObservedCommit(generation: 3, writer: 1, sequence: 1)])
        #expect(a.committedPayload.isEmpty)
        #expect(a.checked == 0)
        #expect(a.mismatches.isEmpty)
        #expect(a.uncommitted.isEmpty, "generation 3 was committed, just not attributable")
    }

    @Test func aGenerationNobodyCommittedIsReported() {
        let a = CLICommitAttribution(
            events: Self.events([(100, 2)]), refreshes: [Self.refresh(child: 100, worker: 1, sequence: 1)], seedGeneration: 1,
            observed: [ObservedCommit(generation: 1, writer: 0, sequence: 0), ObservedCommit(generation: 9, writer: 1, sequence: 4)])
        #expect(a.uncommitted == [9])
    }
}
