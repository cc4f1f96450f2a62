/// Adds up a run's evidence and decides which invariants hold.
///
/// Guarantee: each invariant is checked from its own evidence (see docs/stress.md):
/// reads from the readers' own verification, exclusion and commit order from the
/// interval log, lost updates from the final payload's counters against the
/// logged commits, cleanliness from the after-run inspection. A run also fails
/// when it proved nothing: a configured role that made no progress, or kill chaos
/// whose kills never hit a lock holder.
package struct StressReportBuilder {
    package var options: StressOptions
    package var analysis: WriterIntervalAnalysis
    package var outcomes: [WorkerOutcome]
    package var inspection: AfterRunInspection
    package var cliEvents: CLICommitEvents?
    package var measuredSeconds: Double
    package var malformedLogLines: Int
    /// Appends cut short by a kill (see `WriterIntervalLog.Reader.tornAppends`).
    package var tornLogAppends: Int
    /// Set when the coordinator gave up waiting for the writers.
    package var stall: String?
    /// When the measured phase ended (monotonic ns): a kill with no acquisition
    /// after it is tolerated only within the goal of this end.
    package var runEnd: UInt64

    package init(
        options: StressOptions, analysis: WriterIntervalAnalysis, outcomes: [WorkerOutcome],
        inspection: AfterRunInspection, cliEvents: CLICommitEvents? = nil, measuredSeconds: Double,
        malformedLogLines: Int = 0, tornLogAppends: Int = 0, stall: String? = nil, runEnd: UInt64
    ) {
        self.options = options
        self.analysis = analysis
        self.outcomes = outcomes
        self.inspection = inspection
        self.cliEvents = cliEvents
        self.measuredSeconds = measuredSeconds
        self.malformedLogLines = malformedLogLines
        self.tornLogAppends = tornLogAppends
        self.stall = stall
        self.runEnd = runEnd
    }

    package static let reacquireGoalMillis = 1000.0

    package func build() -> StressReport {
        var readLatency = LatencyHistogram()
        var cliRefresh = LatencyHistogram()
        var r = StressReport(
            configuration: options.summary, seed: options.seed, measuredSeconds: (measuredSeconds * 1000).rounded() / 1000,
            readLatencyMicros: LatencySummary(LatencyHistogram(), divisor: 1000),
            lockWaitMicros: LatencySummary(analysis.lockWait, divisor: 1000),
            commitMicros: LatencySummary(analysis.commit, divisor: 1000),
            handoverMicros: LatencySummary(analysis.handover, divisor: 1000),
            reacquireMillis: LatencySummary(analysis.reacquire, divisor: 1e6),
            throughput: Throughput(readsPerSecond: 0, commitsPerSecond: 0, updatesPerSecond: 0))
        var v: [String] = []
        var readProblems: [String] = []
        var writerProblems: [String] = []
        var crashes: [String] = []
        var updatesReported: [Int: Int] = [:]
        var observedCommits: [ObservedCommit] = []

        for outcome in outcomes {
            if let problem = outcome.problem { crashes.append("\(outcome.slot) (pid \(outcome.pid)): \(problem)") }
            guard let s = outcome.stats else { continue }
            r.reads += s.reads
            r.tornReads += s.tornReads
            r.corruptReads += s.corruptReads
            r.missingReads += s.missingReads
            r.readErrors += s.readErrors
            r.staleReads += s.staleReads
            r.writerFailures += s.unexpectedOutcomes
            switch outcome.slot.role {
            case .reader, .cliReader:
                readLatency.merge(s.readLatency)
                readProblems += s.problems
                observedCommits += s.observedCommits
            case .cliRefresher:
                cliRefresh.merge(s.operationLatency)
                writerProblems += s.problems
            case .updater:
                updatesReported[outcome.slot.index, default: 0] += s.updates
                writerProblems += s.problems
            default:
                writerProblems += s.problems
            }
        }
        r.readLatencyMicros = LatencySummary(readLatency, divisor: 1000)
        if options.useCLI { r.cliRefreshMillis = LatencySummary(cliRefresh, divisor: 1e6) }
        r.workerCrashes = crashes.count
        r.updates = analysis.updates
        r.commits = analysis.refreshCommits + analysis.updates
        r.timeouts = analysis.timeouts
        // Failures are counted from the log: a killed writer's earlier failures count too.
        r.writerFailures += analysis.failures
        r.writerOverlaps = analysis.overlaps.count
        r.commitOrderViolations = analysis.commitOrderViolations.count
        var attribution: CLICommitAttribution?
        if let cli = cliEvents {
            r.commits += cli.commits
            r.writerOverlaps += cli.overlaps.count
            r.commitOrderViolations += cli.commitOrderViolations.count
            if cli.commit.count > 0 { r.commitMicros = LatencySummary(cli.commit, divisor: 1000) }
            if cli.lockWait.count > 0 { r.lockWaitMicros = LatencySummary(cli.lockWait, divisor: 1000) }
            let a = CLICommitAttribution(
                events: cli, refreshes: analysis.cliRefreshes, seedGeneration: analysis.seedGeneration, observed: observedCommits)
            r.tornReads += a.mismatches.count
            r.cliCommitsCheckedAgainstReads = a.checked
            attribution = a
        }
        r.kills = analysis.kills.count
        r.killsWhileHolding = analysis.kills.filter(\.hitHolder).count
        r.maxReacquireMillis = analysis.reacquire.count > 0 ? r.reacquireMillis.max : nil
        r.orphanTempsAfterSweep = inspection.orphanTemps.count
        r.sweptAfterRun = inspection.swept.count
        r.lockFreeAfterRun = inspection.lockFree
        r.finalCacheVerified = inspection.finalPayload != nil && inspection.finalCacheProblem == nil
        r.finalGeneration = inspection.finalGeneration
        let seconds = max(measuredSeconds, 0.001)
        r.throughput = Throughput(
            readsPerSecond: (Double(r.reads) / seconds * 10).rounded() / 10,
            commitsPerSecond: (Double(r.commits) / seconds * 10).rounded() / 10,
            updatesPerSecond: (Double(r.updates) / seconds * 10).rounded() / 10)

        // Lost updates: each updater's counter against its logged commits.
        if options.updaters > 0, let final = inspection.finalPayload {
            for slot in 0..<options.updaters {
                let name = UpdaterCounter.name(slot: slot)
                let committed = analysis.updatesBySlot[slot] ?? 0
                let counted = Int(final.counters[name] ?? 0)
                if counted < committed {
                    r.lostUpdates += committed - counted
                    v.append("lost updates: updater \(slot) committed \(committed) updates but its counter \(name) is \(counted)")
                } else if counted > committed {
                    r.phantomUpdates += counted - committed
                    v.append("phantom updates: counter \(name) is \(counted) but updater \(slot) committed only \(committed) updates")
                }
                if let reported = updatesReported[slot], reported != committed {
                    v.append("update accounting: updater \(slot) reported \(reported) successful updates but logged \(committed) commits")
                }
            }
        }

        func first(_ list: [String]) -> String { list.first.map { " (first: \($0))" } ?? "" }
        // (Mismatched CLI commits are counted in `tornReads` too, and named below.)
        let verifiedTorn = r.tornReads - (attribution?.mismatches.count ?? 0)
        if verifiedTorn > 0 {
            v.append("torn reads: \(verifiedTorn) reads failed the harness's own verification" + first(readProblems + writerProblems))
        }
        if r.corruptReads > 0 { v.append("corrupt reads: \(r.corruptReads) reads were rejected as corrupt" + first(readProblems + writerProblems)) }
        if r.missingReads > 0 { v.append("missing reads: \(r.missingReads) reads found no cache although one was committed before the run") }
        if r.readErrors > 0 { v.append("read errors: \(r.readErrors) reads failed" + first(readProblems)) }
        if r.staleReads > 0 { v.append("stale reads: \(r.staleReads) reads returned an older generation than the reader had already seen") }
        if !analysis.overlaps.isEmpty {
            v.append("writer overlaps: \(analysis.overlaps.count) lock intervals overlapped another (first: \(analysis.overlaps[0]))")
        }
        if let cli = cliEvents {
            if !cli.overlaps.isEmpty {
                v.append("writer overlaps: \(cli.overlaps.count) metacache processes acquired the lock while another held it, by the order of the events file (first: \(cli.overlaps[0]))")
            }
            if !cli.commitOrderViolations.isEmpty {
                v.append("commit order: \(cli.commitOrderViolations.count) CLI commits did not follow the previous generation by one, in the events file's order (first: \(cli.commitOrderViolations[0]))")
            }
            if !cli.unterminated.isEmpty {
                v.append("unterminated holds: \(cli.unterminated.count) metacache processes logged acquiring the lock and never a commit or release (first: pid \(cli.unterminated[0]))")
            }
            if cli.malformedLines > 0 { v.append("CLI events: \(cli.malformedLines) malformed lines in the events file") }
        }
        if let a = attribution {
            if !a.mismatches.isEmpty {
                v.append("torn reads: \(a.mismatches.count) CLI reads paired a header with a payload from another commit (first: \(a.mismatches[0]))")
            }
            if !a.uncommitted.isEmpty {
                v.append("CLI reads: readers saw generation(s) \(a.uncommitted.prefix(5).map(String.init).joined(separator: ", ")) that no logged CLI commit produced")
            }
        }
        if !analysis.commitOrderViolations.isEmpty {
            v.append("commit order: \(analysis.commitOrderViolations.count) out-of-sequence generations (first: \(analysis.commitOrderViolations[0]))")
        }
        if r.timeouts > 0 { v.append("timeouts: \(r.timeouts) writer operations gave up waiting for the lock (timeout \(options.lockTimeout))") }
        if r.writerFailures > 0 { v.append("writer failures: \(r.writerFailures) writer operations failed" + first(writerProblems)) }
        if !crashes.isEmpty { v.append("worker crashes: \(crashes.count) workers ended abnormally (first: \(crashes[0]))") }
        let unterminated = analysis.unterminatedIntervals
        if !unterminated.isEmpty {
            v.append("unterminated holds: \(unterminated.count) writers logged acquiring the lock and never releasing or being killed (first: pid \(unterminated[0].pid))")
        }
        if malformedLogLines > 0 { v.append("interval log: \(malformedLogLines) malformed lines") }
        if tornLogAppends > 0 && options.killWritersEveryMilliseconds == nil {
            v.append("interval log: \(tornLogAppends) appends cut short, but no process was killed")
        }
        if let stall { v.append("stalled: \(stall)") }

        // Kill chaos.
        if options.killWritersEveryMilliseconds != nil {
            if r.killsWhileHolding == 0 { v.append("kill chaos: no kill landed on a writer holding the lock") }
            for kill in analysis.kills where kill.hitHolder {
                if let ns = kill.reacquireNanoseconds {
                    let ms = Double(ns) / 1e6
                    if ms >= Self.reacquireGoalMillis {
                        v.append("re-acquire: after killing pid \(kill.pid) the lock was next acquired \(String(format2: ms)) ms later (goal: under 1 s)")
                    }
                } else if runEnd > kill.time, Double(runEnd - kill.time) / 1e6 >= Self.reacquireGoalMillis {
                    v.append("re-acquire: after killing pid \(kill.pid) nobody acquired the lock in the remaining \(String(format2: Double(runEnd - kill.time) / 1e6)) ms of the run")
                }
            }
        }

        // Progress: a run that did nothing proves nothing.
        if options.readers > 0 && r.reads == 0 { v.append("no progress: \(options.readers) readers completed no read") }
        if options.refreshers > 0 && analysis.refreshCommits + (cliEvents?.commits ?? 0) == 0 {
            v.append("no progress: \(options.refreshers) refreshers committed nothing")
        }
        if options.updaters > 0 && r.updates == 0 { v.append("no progress: \(options.updaters) updaters committed nothing") }
        if let cli = cliEvents {
            let succeeded = analysis.cliRefreshes.filter { $0.exitCode == 0 }.count
            if cli.commits != succeeded {
                v.append("CLI accounting: \(succeeded) 'metacache cache refresh' runs exited 0 but the events file records \(cli.commits) commits")
            }
        }

        // After the run.
        if let holder = inspection.sweepSkippedBecauseHeldBy {
            v.append("after the run: the sweeper found the lock still held (by \(holder)) after every worker exited")
        }
        if let error = inspection.sweepError { v.append("after the run: the sweep failed: \(error)") }
        if !inspection.orphanTemps.isEmpty {
            v.append("after the run: \(inspection.orphanTemps.count) temp files remain after the sweep (\(inspection.orphanTemps.prefix(3).joined(separator: ", ")))")
        }
        if !inspection.lockFree {
            var why: [String] = []
            if !inspection.advisoryLockFree { why.append("flock on the lock file would block") }
            if inspection.ownerFilePresent { why.append("an owner file remains") }
            if inspection.libraryReportsLockHeld { why.append("the library reports the lock held") }
            v.append("after the run: the lock is not free (\(why.joined(separator: "; ")))")
        }
        if let problem = inspection.finalCacheProblem {
            v.append("after the run: \(problem)")
        } else if inspection.finalPayload == nil {
            v.append("after the run: the final cache was not verified (no payload was read back)")
        }

        r.violations = v
        r.ok = v.isEmpty
        return r
    }
}

extension String {
    /// Two decimals.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = String(scaled)
    }
}
