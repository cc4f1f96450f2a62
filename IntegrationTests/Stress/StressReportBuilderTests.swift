import Foundation
import StressHarness
import Testing

/// Every invariant the report decides, on synthetic evidence: a clean run passes,
/// and each kind of evidence alone fails it with that violation named. A check
/// that were removed would leave its test's run passing.
@Suite struct StressReportBuilderTests {
    static let second: UInt64 = 1_000_000_000

    static func enter(_ t: UInt64, pid: Int32, slot: Int = 0, role: WriterRole = .refresher) -> WriterRecord {
        .enter(time: t, attempt: t, pid: pid, worker: Int(pid), slot: slot, role: role, operation: 1)
    }
    static func exit(_ t: UInt64, pid: Int32, generation: UInt64, slot: Int = 0, role: WriterRole = .refresher) -> WriterRecord {
        .exit(time: t, pid: pid, worker: Int(pid), slot: slot, role: role, operation: 1, committed: true, generation: generation,
            commitNanoseconds: 10)
    }

    /// One refresher that committed generation 2 over the seed, one reader that
    /// read ten times; a clean directory afterwards.
    struct Run {
        var options: StressOptions = {
            var o = StressOptions(directory: "/c", seed: 1)
            o.refreshers = 1
            o.readers = 1
            o.updaters = 0
            return o
        }()
        var records: [WriterRecord] = [.seed(time: 0, generation: 1), enter(100, pid: 10), exit(200, pid: 10, generation: 2)]
        var reader: WorkerStats = {
            var s = WorkerStats(role: "reader", worker: 2, slot: 0, pid: 20)
            s.operations = 10
            s.reads = 10
            s.succeeded = 10
            return s
        }()
        var inspection: AfterRunInspection = {
            var i = AfterRunInspection()
            i.finalPayload = StressPayload(writer: 10, sequence: 1, generation: 2, length: 4096)
            i.finalGeneration = 2
            return i
        }()
        var cliEvents: CLICommitEvents?
        var stall: String?
        var runEnd: UInt64 = 10 * second
        var interruption: StressReport.Interruption?
        var extraOutcomes: [WorkerOutcome] = []

        func report() -> StressReport {
            let outcomes = [
                WorkerOutcome(slot: WorkerSlot(role: .refresher, index: 0), pid: 10,
                    stats: WorkerStats(role: "refresher", worker: 1, slot: 0, pid: 10), termination: .exited(0), problem: nil),
                WorkerOutcome(slot: WorkerSlot(role: options.useCLI ? .cliReader : .reader, index: 0), pid: 20, stats: reader,
                    termination: .exited(0), problem: nil),
            ] + extraOutcomes
            return StressReportBuilder(
                options: options, analysis: WriterIntervalAnalysis(records: records + [.stop(time: runEnd)]), outcomes: outcomes,
                inspection: inspection, cliEvents: cliEvents, measuredSeconds: 10, stall: stall, runEnd: runEnd,
                interruption: interruption
            ).build()
        }
    }

    /// The run fails with exactly one violation, which starts with `prefix`, and
    /// the table shows exactly one row VIOLATED (`kind`'s, when given).
    func expectOnly(
        _ prefix: String, in r: StressReport, kind: InvariantKind? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!r.ok, sourceLocation: sourceLocation)
        #expect(r.violations.count == 1, "\(r.violations)", sourceLocation: sourceLocation)
        #expect(r.violations.first?.hasPrefix(prefix) == true, "\(r.violations)", sourceLocation: sourceLocation)
        let violated = InvariantKind.allCases.filter { r.checks[$0]?.verdict == .violated }
        #expect(violated.count == 1, "rows VIOLATED: \(violated)", sourceLocation: sourceLocation)
        if let kind { #expect(violated == [kind], "rows VIOLATED: \(violated)", sourceLocation: sourceLocation) }
        let table = StressReportTable.render(r)
        #expect(table.contains("VIOLATED"), "a FAIL under an all-ok table:\n\(table)", sourceLocation: sourceLocation)
    }

    @Test func aCleanRunPasses() {
        let r = Run().report()
        #expect(r.ok, "\(r.violations)")
        #expect(r.commits == 1)
        #expect(r.finalCacheVerified)
        #expect(r.lockFreeAfterRun)
    }

    @Test func tempsLeftAfterTheSweepFailTheRun() {
        var run = Run()
        run.inspection.orphanTemps = ["metadata.json.tmp-abc"]
        let r = run.report()
        expectOnly("after the run: 1 temp files remain after the sweep (metadata.json.tmp-abc)", in: r)
        #expect(r.orphanTempsAfterSweep == 1)
    }

    @Test func aLockStillHeldAfterTheRunFailsItWithEachReasonNamed() {
        var run = Run()
        run.inspection.advisoryLockFree = false
        var r = run.report()
        expectOnly("after the run: the lock is not free (flock on the lock file would block)", in: r)
        #expect(!r.lockFreeAfterRun)
        run = Run()
        run.inspection.ownerFilePresent = true
        run.inspection.libraryReportsLockHeld = true
        r = run.report()
        expectOnly("after the run: the lock is not free (an owner file remains; the library reports the lock held)", in: r)
        run = Run()
        run.inspection.sweepSkippedBecauseHeldBy = "pid 99"
        expectOnly("after the run: the sweeper found the lock still held (by pid 99)", in: run.report())
    }

    @Test func aFinalCacheThatDoesNotVerifyFailsTheRun() {
        var run = Run()
        run.inspection.finalCacheProblem = "the final cache does not verify: checksum"
        var r = run.report()
        expectOnly("after the run: the final cache does not verify", in: r)
        #expect(!r.finalCacheVerified)
        // No payload and, somehow, no problem named: still not verified.
        run = Run()
        run.inspection.finalPayload = nil
        r = run.report()
        expectOnly("after the run: the final cache was not verified", in: r)
    }

    @Test func aHoldNeverReleasedFailsTheRun() {
        var run = Run()
        run.records.append(Self.enter(300, pid: 11))
        let r = run.report()
        expectOnly("unterminated holds: 1 writers", in: r)
    }

    @Test func staleAndTornReadsFailTheRun() {
        var run = Run()
        run.reader.staleReads = 1
        run.reader.succeeded = 9
        expectOnly("stale reads: 1 reads", in: run.report())
        run = Run()
        run.reader.tornReads = 1
        run.reader.succeeded = 9
        run.reader.note(.tornReads, "read 4: header says generation 3 but the payload was written for generation 2")
        let r = run.report()
        expectOnly("torn reads: 1 reads failed the harness's own verification (first: read 4: header says generation 3", in: r)
    }

    @Test func overlappingHoldsAndOutOfOrderCommitsFailTheRun() {
        var run = Run()
        run.records = [
            .seed(time: 0, generation: 1), Self.enter(100, pid: 10), Self.enter(150, pid: 11),
            Self.exit(200, pid: 10, generation: 2), Self.exit(250, pid: 11, generation: 2),
        ]
        let r = run.report()
        #expect(r.writerOverlaps == 1)
        #expect(r.commitOrderViolations == 1)
        #expect(r.violations.contains { $0.hasPrefix("writer overlaps: 1 lock intervals") }, "\(r.violations)")
        #expect(r.violations.contains { $0.hasPrefix("commit order: 1 out-of-sequence") }, "\(r.violations)")
    }

    @Test func lostAndPhantomUpdatesFailTheRun() {
        var run = Run()
        run.options.refreshers = 0
        run.options.updaters = 1
        run.records = [
            .seed(time: 0, generation: 1),
            Self.enter(100, pid: 30, role: .updater), Self.exit(200, pid: 30, generation: 2, role: .updater),
            Self.enter(300, pid: 30, role: .updater), Self.exit(400, pid: 30, generation: 3, role: .updater),
        ]
        run.inspection.finalPayload = StressPayload(writer: 30, sequence: 2, generation: 3, length: 4096, counters: ["u0": 1])
        run.inspection.finalGeneration = 3
        var r = run.report()
        #expect(r.lostUpdates == 1)
        #expect(r.violations.contains { $0.hasPrefix("lost updates: updater 0 committed 2 updates but its counter u0 is 1") },
            "\(r.violations)")
        run.inspection.finalPayload?.counters = ["u0": 3]
        r = run.report()
        #expect(r.phantomUpdates == 1)
        #expect(r.violations.contains { $0.hasPrefix("phantom updates: counter u0 is 3") }, "\(r.violations)")
        run.inspection.finalPayload?.counters = ["u0": 2]
        #expect(run.report().ok, "\(run.report().violations)")
    }

    @Test func aReacquisitionOfASecondOrMoreFailsTheRun() {
        var run = Run()
        run.options.killWritersEveryMilliseconds = 100
        run.records += [
            Self.enter(300, pid: 11), .kill(time: 400, pid: 11, worker: 11, slot: 0),
            Self.enter(400 + Self.second + 1, pid: 12), Self.exit(400 + Self.second + 100, pid: 12, generation: 4),
        ]
        let r = run.report()
        #expect(r.killsWhileHolding == 1)
        #expect((r.maxReacquireMillis ?? 0) >= 1000)
        expectOnly("re-acquire: after killing pid 11 the lock was next acquired 1000.0 ms later", in: r)
    }

    @Test func aKillWithNoAcquisitionAfterItIsToleratedOnlyWithinASecondOfTheEnd() {
        var run = Run()
        run.options.killWritersEveryMilliseconds = 100
        run.records += [Self.enter(300, pid: 11), .kill(time: 9 * Self.second + 500_000_000, pid: 11, worker: 11, slot: 0)]
        var r = run.report()
        #expect(r.ok, "a kill 0.5 s before the end may go unanswered: \(r.violations)")
        #expect(r.killsWhileHolding == 1)
        #expect(r.reacquireMillis.count == 0)
        run.runEnd = 11 * Self.second
        r = run.report()
        expectOnly("re-acquire: after killing pid 11 nobody acquired the lock in the remaining 1500.0 ms", in: r)
    }

    @Test func killChaosWhoseKillsNeverHitAHolderProvesNothing() {
        var run = Run()
        run.options.killWritersEveryMilliseconds = 100
        run.records.append(.kill(time: 300, pid: 10, worker: 10, slot: 0))  // pid 10 had released at 200
        let r = run.report()
        #expect(r.kills == 1)
        #expect(r.killsWhileHolding == 0)
        expectOnly("kill chaos: no kill landed on a writer holding the lock", in: r)
    }

    @Test func cliEventsThatShowOverlapsOrBrokenOrderFailTheRun() {
        func events(_ lines: [String]) -> CLICommitEvents { CLICommitEvents(text: lines.joined(separator: "\n"), seedGeneration: 1) }
        let acquired = { (pid: Int32) in #"{"event":"lockAcquired","pid":\#(pid),"waitedMs":0}"# }
        let committed = { (pid: Int32, g: UInt64) in #"{"event":"commitSucceeded","pid":\#(pid),"generation":\#(g),"durationMs":1}"# }
        var run = Run()
        run.options.useCLI = true
        run.records = [
            .seed(time: 0, generation: 1),
            .cliRefresh(time: 10, attempt: 1, pid: 5, worker: 1, slot: 0, exitCode: 0, child: 100, sequence: 1),
            .cliRefresh(time: 20, attempt: 2, pid: 6, worker: 2, slot: 1, exitCode: 0, child: 101, sequence: 1),
        ]
        run.cliEvents = events([acquired(100), committed(100, 2), acquired(101), committed(101, 3)])
        #expect(run.report().ok, "\(run.report().violations)")

        run.cliEvents = events([acquired(100), acquired(101), committed(100, 2), committed(101, 3)])
        var r = run.report()
        #expect(r.writerOverlaps == 1)
        expectOnly("writer overlaps: 1 metacache processes acquired the lock while another held it", in: r)

        run.cliEvents = events([acquired(100), committed(100, 2), acquired(101), committed(101, 2)])
        r = run.report()
        #expect(r.commitOrderViolations == 1)
        expectOnly("commit order: 1 CLI commits did not follow the previous generation by one", in: r)

        // A reader saw generation 3 over the payload committed as generation 2.
        run.cliEvents = events([acquired(100), committed(100, 2), acquired(101), committed(101, 3)])
        run.reader.observedCommits = [ObservedCommit(generation: 3, writer: 1, sequence: 1)]
        r = run.report()
        #expect(r.tornReads == 1)
        #expect(r.cliCommitsCheckedAgainstReads == 1)
        expectOnly("torn reads: 1 CLI reads paired a header with a payload from another commit", in: r)
    }

    @Test func aRunThatDidNothingOrStalledFails() {
        var run = Run()
        run.reader.reads = 0
        run.reader.succeeded = 0
        expectOnly("no progress: 1 readers completed no read", in: run.report())
        run = Run()
        run.stall = "no writer logged anything for 71 s"
        expectOnly("stalled: no writer logged anything", in: run.report())
    }

    // MARK: Every violation has a row; checks without a witness say so.

    @Test func everyKindOfViolationHasItsOwnRowAndJSONField() throws {
        // One failing run per kind the synthetic evidence can produce; each must
        // turn exactly its own row VIOLATED, never leave the table all ok.
        var cases: [(InvariantKind, Run)] = []
        var run = Run()
        run.reader.tornReads = 1
        cases.append((.tornReads, run))
        run = Run()
        run.reader.corruptReads = 1
        cases.append((.corruptReads, run))
        run = Run()
        run.reader.missingReads = 1
        cases.append((.missingReads, run))
        run = Run()
        run.reader.readErrors = 1
        cases.append((.readErrors, run))
        run = Run()
        run.reader.staleReads = 1
        cases.append((.staleReads, run))
        run = Run()
        run.records.append(Self.enter(300, pid: 11))
        cases.append((.unterminatedHolds, run))
        run = Run()
        run.stall = "no writer logged anything for 71 s"
        cases.append((.stall, run))
        run = Run()
        run.reader.reads = 0
        cases.append((.progress, run))
        run = Run()
        run.inspection.tempsBeforeSweep = ["metadata.json.tmp-4242-ab"]
        cases.append((.leakedTemps, run))
        run = Run()
        run.inspection.sweepError = "EIO"
        cases.append((.afterRunSweep, run))
        run = Run()
        run.extraOutcomes = [WorkerOutcome(
            slot: WorkerSlot(role: .reader, index: 1), pid: 21, stats: nil, termination: .signaled(9), problem: "signal 9")]
        cases.append((.workerCrashes, run))
        for (kind, run) in cases {
            let r = run.report()
            let check = try #require(r.checks[kind], "\(kind)")
            #expect(check.verdict == .violated, "\(kind): \(check)")
            #expect(check.count >= 1, "\(kind): \(check)")
            #expect(check.note == r.violations.first, "\(kind): the row quotes its violation")
            #expect(r.violations.count == 1, "\(kind): \(r.violations)")
            #expect(StressReportTable.render(r).contains("VIOLATED"))
            // And the JSON carries it under the kind's name.
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any]
            let checks = try #require(json?["checks"] as? [String: Any])
            #expect(Set(checks.keys) == Set(InvariantKind.allCases.map(\.rawValue)))
            #expect((checks[kind.rawValue] as? [String: Any])?["verdict"] as? String == "violated", "\(kind)")
        }
        // The clean run: every row ok or not tested, none violated.
        let clean = Run().report()
        #expect(clean.checks.count == InvariantKind.allCases.count)
        #expect(!clean.checks.values.contains { $0.verdict == .violated })
    }

    @Test func checksThatNothingCouldHaveBrokenAreNotTestedRatherThanOk() {
        // One writer, no readers, no updaters, no kill chaos.
        var run = Run()
        run.options.readers = 0
        run.reader.reads = 0
        run.reader.operations = 0
        run.reader.succeeded = 0
        var r = run.report()
        #expect(r.ok, "\(r.violations)")
        for kind in [InvariantKind.writerOverlaps, .missingReads, .readErrors, .staleReads, .lostUpdates, .phantomUpdates,
            .killChaos, .reacquire, .tempsAfterSweep, .cliCommitAttribution]
        {
            #expect(r.checks[kind]?.verdict == .notTested, "\(kind): \(String(describing: r.checks[kind]))")
            #expect(r.checks[kind]?.note?.isEmpty == false, "\(kind) must say why")
        }
        #expect(r.checks[.writerOverlaps]?.note == "one writer: nobody to overlap with")
        #expect(r.checks[.tornReads]?.verdict == .ok, "the writer read under the lock")
        let table = StressReportTable.render(r)
        #expect(table.contains("not tested (one writer: nobody to overlap with)"), "\(table)")
        #expect(table.contains("PASS: every tested invariant holds ("), "\(table)")

        // Two writers that never competed: still no witness.
        run = Run()
        run.options.refreshers = 2
        run.records += [Self.enter(300, pid: 11, slot: 1), Self.exit(400, pid: 11, generation: 3, slot: 1)]
        r = run.report()
        #expect(r.checks[.writerOverlaps]?.verdict == .notTested)
        #expect(r.checks[.writerOverlaps]?.note == "no two writers ever competed for the lock")
        // Once one waited for the other, the check had its witness.
        run.records = [
            .seed(time: 0, generation: 1), Self.enter(100, pid: 10), Self.exit(200, pid: 10, generation: 2),
            .enter(time: 250, attempt: 150, pid: 11, worker: 11, slot: 1, role: .refresher, operation: 1),
            Self.exit(400, pid: 11, generation: 3, slot: 1),
        ]
        run.inspection.finalPayload?.generation = 3
        run.inspection.finalGeneration = 3
        r = run.report()
        #expect(r.checks[.writerOverlaps]?.verdict == .ok, "\(String(describing: r.checks[.writerOverlaps]))")
    }

    @Test func aTornReadsLineQuotesATornReadNotAStaleOne() {
        var run = Run()
        run.reader.staleReads = 1
        run.reader.note(.staleReads, "read 2: generation went back from 5 to 4")
        run.reader.tornReads = 1
        run.reader.note(.tornReads, "read 7: digest mismatch")
        let r = run.report()
        #expect(r.violations.contains { $0.hasPrefix("torn reads:") && $0.contains("read 7: digest mismatch") }, "\(r.violations)")
        #expect(!r.violations.contains { $0.hasPrefix("torn reads:") && $0.contains("went back") }, "\(r.violations)")
        #expect(r.violations.contains { $0.hasPrefix("stale reads:") && $0.contains("went back from 5 to 4") }, "\(r.violations)")
    }

    // MARK: Temps leaked during the run.

    @Test func aTempNoKillExplainsIsALeakWhetherSweptMidRunOrLeftAtTheEnd() {
        // Left at the end, named after a writer that was never killed.
        var run = Run()
        run.inspection.tempsBeforeSweep = ["metadata.json.tmp-10-5ab07a9e"]
        run.inspection.swept = ["/c/metadata.json.tmp-10-5ab07a9e"]
        var r = run.report()
        expectOnly("leaked temps: 1 temp files were left behind by writers that were not killed (metadata.json.tmp-10-5ab07a9e)",
            in: r, kind: .leakedTemps)
        #expect(r.leakedTemps == 1)
        #expect(r.checks[.tempsAfterSweep]?.verdict == .ok, "the sweeper removed it: that check had its witness and held")

        // Swept by another writer during the run: gone at the end, still a leak.
        run = Run()
        run.records.append(.swept(time: 250, pid: 10, worker: 10, name: "metadata.json.tmp-77-1"))
        expectOnly("leaked temps: 1", in: run.report(), kind: .leakedTemps)

        // Swept by a metacache during a CLI run (its events file says so).
        run = Run()
        run.options.useCLI = true
        run.records = [
            .seed(time: 0, generation: 1),
            .cliRefresh(time: 10, attempt: 1, pid: 5, worker: 1, slot: 0, exitCode: 0, child: 100, sequence: 1),
        ]
        let acquired = #"{"event":"lockAcquired","pid":100,"waitedMs":0}"#
        let swept = #"{"event":"sweepRemoved","pid":100,"path":"/c/metadata.json.tmp-99-ab","reason":"temp file of a writer that died mid-commit"}"#
        let committed = #"{"event":"commitSucceeded","pid":100,"generation":2,"durationMs":1}"#
        run.cliEvents = CLICommitEvents(text: [acquired, swept, committed].joined(separator: "\n"), seedGeneration: 1)
        r = run.report()
        #expect(r.leakedTemps == 1, "\(r.violations)")
        #expect(r.checks[.leakedTemps]?.verdict == .violated)
    }

    @Test func aKilledHolderExplainsOneTempOfItsOwn() {
        var run = Run()
        run.options.killWritersEveryMilliseconds = 100
        run.records += [
            Self.enter(300, pid: 11), .kill(time: 400, pid: 11, worker: 11, slot: 0),
            Self.enter(500, pid: 12), .swept(time: 501, pid: 12, worker: 12, name: "metadata.json.tmp-11-aa"),
            Self.exit(600, pid: 12, generation: 3),
        ]
        run.inspection.finalPayload?.generation = 3
        run.inspection.finalGeneration = 3
        var r = run.report()
        #expect(r.ok, "\(r.violations)")
        #expect(r.leakedTemps == 0)
        #expect(r.checks[.leakedTemps]?.value == "0 of 1 seen")
        // A second temp of the same victim, or one of a victim that was not
        // holding, is not explained.
        run.inspection.tempsBeforeSweep = ["metadata.json.tmp-11-bb", "metadata.json.tmp-10-cc"]
        r = run.report()
        #expect(r.leakedTemps == 2, "\(r.violations)")
    }

    // MARK: Commit-order gaps under kill chaos are examined.

    @Test func aGapIsExplainedOnlyByAHolderKilledBetweenTheTwoCommits() {
        var run = Run()
        run.options.killWritersEveryMilliseconds = 100
        // Generation 3 is missing between 2 (at 200) and 4 (at 600); pid 11 was
        // killed holding at 400, in between: it may have renamed 3 into place.
        run.records += [
            Self.enter(300, pid: 11), .kill(time: 400, pid: 11, worker: 11, slot: 0),
            Self.enter(500, pid: 12), Self.exit(600, pid: 12, generation: 4),
        ]
        run.inspection.finalPayload?.generation = 4
        run.inspection.finalGeneration = 4
        var r = run.report()
        #expect(r.ok, "\(r.violations)")
        #expect(r.unloggedCommitsOfKilledHolders == 1)
        #expect(r.checks[.commitOrder]?.value == "0 (1 gaps after killed holders)")

        // The same gap, but the kill came after the later commit: nothing
        // between the two commits explains it (the old rule, one gap per kill
        // anywhere, let this pass).
        run.records = [
            .seed(time: 0, generation: 1), Self.enter(100, pid: 10), Self.exit(200, pid: 10, generation: 2),
            Self.enter(500, pid: 12), Self.exit(600, pid: 12, generation: 4),
            Self.enter(700, pid: 11), .kill(time: 800, pid: 11, worker: 11, slot: 0),
        ]
        r = run.report()
        #expect(r.commitOrderViolations == 1, "\(r.violations)")
        #expect(r.checks[.commitOrder]?.verdict == .violated)

        // A kill between them that found its victim no longer holding explains nothing.
        run.records = [
            .seed(time: 0, generation: 1), Self.enter(100, pid: 10), Self.exit(200, pid: 10, generation: 2),
            .kill(time: 300, pid: 10, worker: 10, slot: 0),
            Self.enter(500, pid: 12), Self.exit(600, pid: 12, generation: 4),
        ]
        r = run.report()
        #expect(r.commitOrderViolations == 1, "\(r.violations)")
    }

    // MARK: Roles, starvation, configuration, interruption.

    @Test func refresherCommitsUpdatesKillsAndWaitsAreReportedPerRole() {
        var run = Run()
        run.options.refreshers = 1
        run.options.updaters = 1
        run.options.killWritersEveryMilliseconds = 100
        run.records = [
            .seed(time: 0, generation: 1),
            .enter(time: 100, attempt: 40, pid: 10, worker: 10, slot: 0, role: .refresher, operation: 1),
            Self.exit(200, pid: 10, generation: 2),
            .enter(time: 300, attempt: 290, pid: 30, worker: 30, slot: 0, role: .updater, operation: 1),
            Self.exit(400, pid: 30, generation: 3, role: .updater),
            Self.enter(500, pid: 11), .kill(time: 550, pid: 11, worker: 11, slot: 0),
            .enter(time: 600, attempt: 560, pid: 30, worker: 30, slot: 0, role: .updater, operation: 2),
            Self.exit(700, pid: 30, generation: 5, role: .updater),
        ]
        run.inspection.finalPayload = StressPayload(writer: 30, sequence: 2, generation: 5, length: 4096, counters: ["u0": 2])
        run.inspection.finalGeneration = 5
        let r = run.report()
        #expect(r.refreshCommits == 1)
        #expect(r.updates == 2)
        #expect(r.roles.refreshers.commits == 1)
        #expect(r.roles.refreshers.acquisitions == 2, "the killed hold got the lock too")
        #expect(r.roles.updaters.commits == 2)
        #expect(r.roles.refreshers.shareOfAcquisitions == 0.5)
        #expect(r.roles.refreshers.kills == 1 && r.roles.refreshers.killsWhileHolding == 1)
        #expect(r.roles.updaters.kills == 0)
        #expect(r.roles.refreshers.lockWaitMicros.max == 0.06, "60 ns, the refresher's longest wait")
        #expect(r.roles.updaters.lockWaitMicros.max == 0.04)
        #expect(r.roles.refreshers.shareOfWriters == 0.5)
        #expect(r.roles.updaters.commitsPerSlot == [2])
        #expect(r.roles.readers.reads == 10)
    }

    @Test func aRoleFarBelowItsShareOfCommitsIsWarnedAboutButDoesNotFail() {
        func roles(refreshers: [Int], updaters: [Int], refresherWaitMicros: Double = 6_100_000) -> RoleSummaries {
            var r = RoleSummary(workers: refreshers.count)
            r.commits = refreshers.reduce(0, +)
            r.acquisitions = r.commits
            r.commitsPerSlot = refreshers
            var u = RoleSummary(workers: updaters.count)
            u.commits = updaters.reduce(0, +)
            u.acquisitions = u.commits
            u.commitsPerSlot = updaters
            let total = Double(r.commits + u.commits)
            r.shareOfWriters = Double(refreshers.count) / Double(refreshers.count + updaters.count)
            u.shareOfWriters = 1 - r.shareOfWriters!
            r.shareOfCommits = Double(r.commits) / total
            u.shareOfCommits = Double(u.commits) / total
            r.shareOfAcquisitions = r.shareOfCommits
            u.shareOfAcquisitions = u.shareOfCommits
            var h = LatencyHistogram()
            h.record(UInt64(refresherWaitMicros * 1000))
            r.lockWaitMicros = LatencySummary(h, divisor: 1000)
            return RoleSummaries(refreshers: r, updaters: u, readers: RoleSummary(workers: 0))
        }
        // What issue 20 saw on the lock-file backend: 35 and 122 refreshes against ~4,000 updates.
        var w = StarvationCheck.warnings(
            roles: roles(refreshers: [35, 122], updaters: [2000, 2010]), backend: "lockfile", killsDue: nil, killsLanded: 0)
        #expect(w.count == 1, "\(w)")
        #expect(w.first?.hasPrefix(
            "starvation: refreshers are 50 % of the writers but got the lock 3.8 % of the time (157 of 4167 acquisitions) and made 157 of 4167 commits") == true,
            "\(w)")
        #expect(w.first?.contains("longest lock wait was 6.1 s") == true, "\(w)")
        // Kill chaos kills refreshers' holds, so their commits fall short; their
        // acquisitions (killed holds included) are what fairness is about.
        var killed = roles(refreshers: [40, 40], updaters: [500, 500])
        killed.refreshers.acquisitions = 600
        killed.refreshers.shareOfAcquisitions = 600.0 / 1600
        killed.updaters.shareOfAcquisitions = 1000.0 / 1600
        w = StarvationCheck.warnings(roles: killed, backend: "advisory", killsDue: nil, killsLanded: 0)
        #expect(w.isEmpty, "\(w)")
        // A fair split, with ordinary scatter: nothing to say.
        w = StarvationCheck.warnings(
            roles: roles(refreshers: [900, 1200], updaters: [1000, 1100]), backend: "advisory", killsDue: nil, killsLanded: 0)
        #expect(w.isEmpty, "\(w)")
        // One worker of a role left out.
        w = StarvationCheck.warnings(
            roles: roles(refreshers: [1000, 3], updaters: [1000, 1000]), backend: "lockfile", killsDue: nil, killsLanded: 0)
        #expect(w.contains { $0.hasPrefix("starvation: refresher 1 made 3 of its role's 1003 commits") }, "\(w)")
        // Kill chaos that landed a fifth of its kills.
        w = StarvationCheck.warnings(
            roles: roles(refreshers: [100], updaters: [100]), backend: "lockfile", killsDue: 400, killsLanded: 80)
        #expect(w.contains { $0.hasPrefix("starvation: kill chaos landed 80 of ~400 kills due") }, "\(w)")
        // In a report: a warning, and the run still passes.
        var run = Run()
        run.options.refreshers = 1
        run.options.updaters = 1
        var records: [WriterRecord] = [.seed(time: 0, generation: 1), Self.enter(100, pid: 10), Self.exit(150, pid: 10, generation: 2)]
        for i in 0..<40 {
            let t = UInt64(200 + i * 100)
            records += [Self.enter(t, pid: 30, role: .updater), Self.exit(t + 50, pid: 30, generation: UInt64(3 + i), role: .updater)]
        }
        run.records = records
        run.inspection.finalPayload = StressPayload(writer: 30, sequence: 40, generation: 42, length: 4096, counters: ["u0": 40])
        run.inspection.finalGeneration = 42
        let r = run.report()
        #expect(r.ok, "\(r.violations)")
        #expect(r.warnings.count == 1, "\(r.warnings)")
        #expect(StressReportTable.render(r).contains("warnings\n  - starvation: refreshers are 50 % of the writers but got the lock 2.4 % of the time (1 of 41 acquisitions)"))
    }

    @Test func anInterruptedRunIsMarkedPartialAndNeverOk() {
        var run = Run()
        run.interruption = StressReport.Interruption(signal: "SIGINT", afterSeconds: 4.2)
        run.reader.reads = 0  // interrupted before any read: not a lack of progress
        run.reader.succeeded = 0
        let r = run.report()
        #expect(!r.ok)
        #expect(r.violations.isEmpty, "\(r.violations)")
        #expect(r.checks[.progress]?.verdict == .notTested)
        let table = StressReportTable.render(r)
        #expect(table.contains("INTERRUPTED by SIGINT after 4.2 s: a partial report"), "\(table)")
        #expect(!table.contains("PASS"), "\(table)")
    }

    @Test func aHoldTheLibraryEndedWithoutACommitIsNotUnterminated() {
        // An updater whose read under the lock failed: no commit event, the
        // release closes the hold.
        var run = Run()
        run.records += [
            Self.enter(300, pid: 11), .released(time: 350, pid: 11, worker: 11, slot: 0, role: .refresher),
            .failure(time: 351, pid: 11, worker: 11, slot: 0, role: .refresher),
        ]
        let r = run.report()
        #expect(r.unterminatedHolds == 0)
        expectOnly("writer failures: 1", in: r, kind: .writerFailures)
    }

    @Test func theJSONReportHasEveryDocumentedFieldAndStructuredConfiguration() throws {
        var run = Run()
        run.options.lockTimeout = .infinite
        run.options.killWritersEveryMilliseconds = 250
        let data = try JSONEncoder().encode(run.report())
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(json.keys) == Set(StressReport.jsonKeys))
        #expect(Set(StressReport.jsonKeys) == Set(try StressDocs.fields("report")))
        let config = try #require(json["config"] as? [String: Any])
        #expect(Set(config.keys) == Set(try StressDocs.fields("config")))
        #expect((config["refreshers"] as? NSNumber)?.intValue == 1)
        #expect(config["lockTimeoutSeconds"] is NSNull, "infinite is null")
        #expect((config["killWritersEveryMilliseconds"] as? NSNumber)?.intValue == 250)
        #expect((config["seed"] as? NSNumber)?.intValue == 1)
        #expect(config["lockBackend"] as? String == "auto")
        let roles = try #require(json["roles"] as? [String: Any])
        #expect(Set(roles.keys) == ["refreshers", "updaters", "readers"])
        for role in roles.values {
            #expect(Set(try #require(role as? [String: Any]).keys) == Set(try StressDocs.fields("role")))
        }
        let checks = try #require(json["checks"] as? [String: Any])
        #expect(Set(checks.keys) == Set(try StressDocs.fields("checks")))
        for check in checks.values {
            #expect(Set(try #require(check as? [String: Any]).keys) == Set(try StressDocs.fields("check")))
        }
        // And it decodes back.
        let decoded = try JSONDecoder().decode(StressReport.self, from: data)
        #expect(decoded.checks.count == InvariantKind.allCases.count)
        #expect(decoded.config.lockTimeoutSeconds == nil)
    }
}
