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

        func report() -> StressReport {
            let outcomes = [
                WorkerOutcome(slot: WorkerSlot(role: .refresher, index: 0), pid: 10,
                    stats: WorkerStats(role: "refresher", worker: 1, slot: 0, pid: 10), termination: .exited(0), problem: nil),
                WorkerOutcome(slot: WorkerSlot(role: options.useCLI ? .cliReader : .reader, index: 0), pid: 20, stats: reader,
                    termination: .exited(0), problem: nil),
            ]
            return StressReportBuilder(
                options: options, analysis: WriterIntervalAnalysis(records: records + [.stop(time: runEnd)]), outcomes: outcomes,
                inspection: inspection, cliEvents: cliEvents, measuredSeconds: 10, stall: stall, runEnd: runEnd
            ).build()
        }
    }

    /// The run fails with exactly one violation, which starts with `prefix`.
    func expectOnly(_ prefix: String, in r: StressReport, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.ok, sourceLocation: sourceLocation)
        #expect(r.violations.count == 1, "\(r.violations)", sourceLocation: sourceLocation)
        #expect(r.violations.first?.hasPrefix(prefix) == true, "\(r.violations)", sourceLocation: sourceLocation)
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
        run.reader.note("read 4: header says generation 3 but the payload was written for generation 2")
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
}
