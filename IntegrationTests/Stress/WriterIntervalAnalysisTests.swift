import StressHarness
import Testing

/// The single-writer, commit-order, handover and re-acquire conclusions drawn
/// from interval logs, on logs whose answer is known.
@Suite struct WriterIntervalAnalysisTests {
    static func enter(_ t: UInt64, attempt: UInt64? = nil, pid: Int32, slot: Int = 0, role: WriterRole = .refresher) -> WriterRecord {
        .enter(time: t, attempt: attempt ?? t, pid: pid, worker: Int(pid), slot: slot, role: role, operation: 1)
    }

    static func exit(_ t: UInt64, pid: Int32, generation: UInt64, slot: Int = 0, role: WriterRole = .refresher) -> WriterRecord {
        .exit(time: t, pid: pid, worker: Int(pid), slot: slot, role: role, operation: 1, committed: true, generation: generation,
            commitNanoseconds: 10)
    }

    @Test func disjointHoldsAreNotOverlapsAndWaitingSuccessorsAreHandovers() {
        let a = WriterIntervalAnalysis(records: [
            .seed(time: 0, generation: 1),
            Self.enter(100, pid: 1), Self.exit(200, pid: 1, generation: 2),
            Self.enter(230, attempt: 150, pid: 2), Self.exit(300, pid: 2, generation: 3),
            // Not waiting: started trying after the previous exit.
            Self.enter(400, attempt: 350, pid: 1), Self.exit(500, pid: 1, generation: 4),
        ])
        #expect(a.overlaps.isEmpty)
        #expect(a.commitOrderViolations.isEmpty)
        #expect(a.handover.count == 1)
        #expect(a.handover.max == 30)
        #expect(a.refreshCommits == 3)
        #expect(a.lockWait.max == 80)
    }

    @Test func anOverlapIsReportedWithBothHolders() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), Self.enter(150, pid: 2),
            Self.exit(200, pid: 1, generation: 2), Self.exit(250, pid: 2, generation: 2),
        ])
        #expect(a.overlaps.count == 1)
        #expect(a.overlaps.first?.first.pid == 1)
        #expect(a.overlaps.first?.second.pid == 2)
        #expect(a.commitOrderViolations.count == 1, "generation 2 twice")
    }

    @Test func aKilledHolderEndsAtTheKillAndItsUnloggedCommitMayLeaveAGap() {
        let a = WriterIntervalAnalysis(records: [
            .seed(time: 0, generation: 1),
            Self.enter(100, pid: 1),
            .kill(time: 150, pid: 1, worker: 1, slot: 0),
            Self.enter(170, attempt: 120, pid: 2), Self.exit(200, pid: 2, generation: 3),
            .stop(time: 1000),
        ])
        #expect(a.overlaps.isEmpty)
        #expect(a.commitOrderViolations.isEmpty, "the victim may have committed generation 2 before dying")
        #expect(a.kills.count == 1)
        #expect(a.kills.first?.hitHolder == true)
        #expect(a.kills.first?.reacquireNanoseconds == 20)
        #expect(a.handover.count == 0, "a kill is not a handover")
    }

    @Test func aVictimThatLogsOnceMoreAfterTheKillRecordIsNotAMystery() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), Self.exit(140, pid: 1, generation: 2),
            .kill(time: 150, pid: 1, worker: 1, slot: 0),
            // Logged by the victim after the kill record, before the signal landed.
            Self.enter(155, pid: 1),
            Self.enter(300, attempt: 120, pid: 2), Self.exit(400, pid: 2, generation: 3),
        ])
        #expect(a.unterminatedIntervals.isEmpty)
        #expect(a.overlaps.isEmpty)
        #expect(a.kills.first?.hitHolder == false)
    }

    @Test func aVictimThatExitsAfterTheKillRecordHeldUntilItsExit() {
        // The kill record is written before SIGKILL is sent: the victim can still
        // log its exit (and release) in between, so it held until 160, and pid 2
        // entering at 155 overlapped it.
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), .kill(time: 150, pid: 1, worker: 1, slot: 0),
            Self.enter(155, pid: 2), Self.exit(160, pid: 1, generation: 2),
            Self.exit(200, pid: 2, generation: 3),
        ])
        #expect(a.overlaps.count == 1)
        #expect(a.overlaps.first?.first.pid == 1)
        #expect(a.overlaps.first?.first.end == 160)
        #expect(a.kills.first?.hitHolder == false, "the victim had released when the signal came")
        #expect(a.kills.first?.reacquireNanoseconds == nil)
        #expect(a.intervals.first { $0.pid == 1 }?.killed == false)
    }

    @Test func aVictimThatExitsAfterTheKillRecordIsAnOrdinaryHold() {
        let a = WriterIntervalAnalysis(records: [
            .seed(time: 0, generation: 1),
            Self.enter(100, pid: 1), .kill(time: 150, pid: 1, worker: 1, slot: 0), Self.exit(160, pid: 1, generation: 2),
            Self.enter(170, attempt: 120, pid: 2), Self.exit(200, pid: 2, generation: 3),
        ])
        #expect(a.overlaps.isEmpty)
        #expect(a.commitOrderViolations.isEmpty)
        #expect(a.kills.first?.hitHolder == false)
        #expect(a.reacquire.count == 0)
        #expect(a.handover.count == 1, "pid 2 was waiting for pid 1's release")
    }

    @Test func anAcquisitionBeforeTheKillOfTheHolderIsAnOverlap() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), Self.enter(140, pid: 2), .kill(time: 150, pid: 1, worker: 1, slot: 0),
            Self.exit(200, pid: 2, generation: 2),
        ])
        #expect(a.overlaps.count == 1)
    }

    @Test func aGapWithoutAKillIsACommitOrderViolation() {
        let a = WriterIntervalAnalysis(records: [
            .seed(time: 0, generation: 1), Self.enter(100, pid: 1), Self.exit(200, pid: 1, generation: 3),
        ])
        #expect(a.commitOrderViolations.count == 1)
    }

    @Test func updatesAreCountedPerSlotAndAnUnclosedHoldIsReported() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 5, slot: 1, role: .updater), Self.exit(200, pid: 5, generation: 2, slot: 1, role: .updater),
            Self.enter(300, pid: 5, slot: 1, role: .updater), Self.exit(400, pid: 5, generation: 3, slot: 1, role: .updater),
            Self.enter(500, pid: 6),
        ])
        #expect(a.updatesBySlot == [1: 2])
        #expect(a.unterminatedIntervals.map(\.pid) == [6])
    }

    @Test func recordsRoundTripThroughTheirLines() {
        let records: [WriterRecord] = [
            Self.enter(1, attempt: 0, pid: 9), Self.exit(2, pid: 9, generation: 7),
            .timeout(time: 3, attempt: 1, pid: 9, worker: 9, slot: 2, role: .updater),
            .failure(time: 4, pid: 9, worker: 9, slot: 2, role: .cliRefresher),
            .cliRefresh(time: 5, attempt: 4, pid: 9, worker: 9, slot: 0, exitCode: 75, child: 12, sequence: 3),
            .done(time: 6, pid: 9, worker: 9, slot: 0, role: .refresher), .kill(time: 7, pid: 9, worker: 9, slot: 0),
            .seed(time: 8, generation: 1), .stop(time: 9),
            .released(time: 10, pid: 9, worker: 9, slot: 1, role: .updater),
            .swept(time: 11, pid: 9, worker: 9, name: "metadata.json.tmp-12-ab"), .abort(time: 12, pid: 9, worker: 9, slot: 0),
        ]
        for record in records {
            #expect(WriterRecord(line: Substring(record.line.dropLast())) == record)
        }
        #expect(WriterRecord(line: "enter 1 2") == nil)
    }

    @Test func aHoldReleasedWithoutACommitEndsAtItsEnterAndIsNotUnterminated() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), .released(time: 180, pid: 1, worker: 1, slot: 0, role: .refresher),
            // 150 is after pid 1's enter but before its (unknown) release: not an
            // overlap the log can prove, so none is reported.
            Self.enter(150, pid: 2), Self.exit(200, pid: 2, generation: 2),
        ])
        #expect(a.unterminatedIntervals.isEmpty)
        #expect(a.overlaps.isEmpty)
        #expect(a.intervals.first { $0.pid == 1 }?.end == 100)
    }

    @Test func anAbortedHolderIsClosedAsKilledWithoutCountingAsAKill() {
        let a = WriterIntervalAnalysis(records: [
            .seed(time: 0, generation: 1),
            Self.enter(100, pid: 1), .abort(time: 500, pid: 1, worker: 1, slot: 0),
            Self.enter(600, pid: 2), Self.exit(700, pid: 2, generation: 3),
        ])
        #expect(a.unterminatedIntervals.isEmpty)
        #expect(a.kills.isEmpty)
        #expect(a.abortedPids == [1])
        #expect(a.commitOrderViolations.isEmpty, "the aborted holder may have renamed generation 2 into place")
        #expect(a.unloggedCommitsOfKilledHolders == 1)
    }

    @Test func contentionSweptTempsAndPerRoleTalliesAreCounted() {
        let a = WriterIntervalAnalysis(records: [
            Self.enter(100, pid: 1), Self.exit(200, pid: 1, generation: 2),
            // Asked at 150, while pid 1 held: contended.
            Self.enter(210, attempt: 150, pid: 2, slot: 1, role: .updater), Self.exit(300, pid: 2, generation: 3, slot: 1, role: .updater),
            // Asked after pid 2's exit: not.
            Self.enter(400, attempt: 350, pid: 1), Self.exit(500, pid: 1, generation: 4),
            .swept(time: 401, pid: 1, worker: 1, name: "metadata.json.tmp-9-ab"),
            .timeout(time: 600, attempt: 550, pid: 2, worker: 2, slot: 1, role: .updater),
        ])
        #expect(a.contendedAcquisitions == 1)
        #expect(a.sweptTemps.map(\.name) == ["metadata.json.tmp-9-ab"])
        #expect(a.roles[.refresher]?.commits == 2)
        #expect(a.roles[.refresher]?.commitsBySlot == [0: 2])
        #expect(a.roles[.updater]?.commits == 1)
        #expect(a.roles[.updater]?.timeouts == 1)
        #expect(a.roles[.updater]?.lockWait.max == 60)
    }
}
