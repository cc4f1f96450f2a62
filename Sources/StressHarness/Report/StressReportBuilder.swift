/// Adds up a run's evidence and decides which invariants hold.
///
/// Guarantee: each invariant is checked from its own evidence (see docs/stress.md):
/// reads from the readers' own verification, exclusion and commit order from the
/// interval log, lost updates from the final payload's counters against the
/// logged commits, leaks and cleanliness from the temps seen during and after the
/// run. Every violation is filed under one `InvariantKind`, whose check is then
/// `violated`; a check the run gave no witness (nothing could have broken it) is
/// `not tested`, with the reason. A run also fails when it proved nothing: a
/// configured role that made no progress, or kill chaos whose kills never hit a
/// lock holder.
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
    /// Set when SIGINT/SIGTERM ended the run.
    package var interruption: StressReport.Interruption?
    /// The `metacache` the CLI workers ran.
    package var cliPath: String?

    package init(
        options: StressOptions, analysis: WriterIntervalAnalysis, outcomes: [WorkerOutcome],
        inspection: AfterRunInspection, cliEvents: CLICommitEvents? = nil, measuredSeconds: Double,
        malformedLogLines: Int = 0, tornLogAppends: Int = 0, stall: String? = nil, runEnd: UInt64,
        interruption: StressReport.Interruption? = nil, cliPath: String? = nil
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
        self.interruption = interruption
        self.cliPath = cliPath
    }

    package static let reacquireGoalMillis = 1000.0

    /// Violations filed by kind, in the order found.
    private struct Ledger {
        var entries: [(kind: InvariantKind, text: String)] = []
        mutating func add(_ kind: InvariantKind, _ text: String) { entries.append((kind, text)) }
        func count(_ kind: InvariantKind) -> Int { entries.count(where: { $0.kind == kind }) }
        func first(_ kind: InvariantKind) -> String? { entries.first(where: { $0.kind == kind })?.text }
    }

    package func build() -> StressReport {
        var readLatency = LatencyHistogram()
        var cliRefresh = LatencyHistogram()
        var r = StressReport(
            configuration: options.summary, config: RunConfiguration(options, cli: cliPath), seed: options.seed,
            measuredSeconds: (measuredSeconds * 1000).rounded() / 1000, interrupted: interruption,
            readLatencyMicros: LatencySummary(LatencyHistogram(), divisor: 1000),
            lockWaitMicros: LatencySummary(analysis.lockWait, divisor: 1000),
            commitMicros: LatencySummary(analysis.commit, divisor: 1000),
            handoverMicros: LatencySummary(analysis.handover, divisor: 1000),
            reacquireMillis: LatencySummary(analysis.reacquire, divisor: 1e6),
            throughput: Throughput(readsPerSecond: 0, commitsPerSecond: 0, updatesPerSecond: 0),
            roles: RoleSummaries(
                refreshers: RoleSummary(workers: options.refreshers), updaters: RoleSummary(workers: options.updaters),
                readers: RoleSummary(workers: options.readers)))
        var v = Ledger()
        var problems: [WorkerStats.Problem] = []
        var crashes: [String] = []
        var updatesReported: [Int: Int] = [:]
        var observedCommits: [ObservedCommit] = []

        for outcome in outcomes {
            if let problem = outcome.problem, !outcome.abortedByCoordinator {
                crashes.append("\(outcome.slot) (pid \(outcome.pid)): \(problem)")
            }
            guard let s = outcome.stats else { continue }
            r.reads += s.reads
            r.tornReads += s.tornReads
            r.corruptReads += s.corruptReads
            r.missingReads += s.missingReads
            r.readErrors += s.readErrors
            r.staleReads += s.staleReads
            r.writerFailures += s.unexpectedOutcomes
            problems += s.problems
            switch outcome.slot.role {
            case .reader, .cliReader:
                readLatency.merge(s.readLatency)
                observedCommits += s.observedCommits
            case .cliRefresher:
                cliRefresh.merge(s.operationLatency)
            case .updater:
                updatesReported[outcome.slot.index, default: 0] += s.updates
            default:
                break
            }
        }
        func example(_ kind: InvariantKind) -> String {
            problems.first { $0.kind == kind }.map { " (first: \($0.text))" } ?? ""
        }
        r.readLatencyMicros = LatencySummary(readLatency, divisor: 1000)
        if options.useCLI { r.cliRefreshMillis = LatencySummary(cliRefresh, divisor: 1e6) }
        r.workerCrashes = crashes.count
        r.updates = analysis.updates
        r.refreshCommits = analysis.refreshCommits + (cliEvents?.commits ?? 0)
        r.commits = r.refreshCommits + analysis.updates
        r.timeouts = analysis.timeouts
        // Failures are counted from the log: a killed writer's earlier failures count too.
        r.writerFailures += analysis.failures
        r.writerOverlaps = analysis.overlaps.count
        r.commitOrderViolations = analysis.commitOrderViolations.count
        r.unloggedCommitsOfKilledHolders = analysis.unloggedCommitsOfKilledHolders
        r.unterminatedHolds = analysis.unterminatedIntervals.count
        var attribution: CLICommitAttribution?
        if let cli = cliEvents {
            r.writerOverlaps += cli.overlaps.count
            r.commitOrderViolations += cli.commitOrderViolations.count
            r.unterminatedHolds += cli.unterminated.count
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
        r.roles = roleSummaries(readers: r.reads)

        // Reads.
        let verifiedTorn = r.tornReads - (attribution?.mismatches.count ?? 0)
        if verifiedTorn > 0 {
            v.add(.tornReads, "torn reads: \(verifiedTorn) reads failed the harness's own verification" + example(.tornReads))
        }
        if r.corruptReads > 0 { v.add(.corruptReads, "corrupt reads: \(r.corruptReads) reads were rejected as corrupt" + example(.corruptReads)) }
        if r.missingReads > 0 {
            v.add(.missingReads, "missing reads: \(r.missingReads) reads found no cache although one was committed before the run" + example(.missingReads))
        }
        if r.readErrors > 0 { v.add(.readErrors, "read errors: \(r.readErrors) reads failed" + example(.readErrors)) }
        if r.staleReads > 0 {
            v.add(.staleReads, "stale reads: \(r.staleReads) reads returned an older generation than the reader had already seen" + example(.staleReads))
        }
        if let a = attribution {
            if !a.mismatches.isEmpty {
                v.add(.cliCommitAttribution, "torn reads: \(a.mismatches.count) CLI reads paired a header with a payload from another commit (first: \(a.mismatches[0]))")
            }
            if !a.uncommitted.isEmpty {
                v.add(.cliCommitAttribution, "CLI reads: readers saw generation(s) \(a.uncommitted.prefix(5).map(String.init).joined(separator: ", ")) that no logged CLI commit produced")
            }
        }

        // Writers.
        if !analysis.overlaps.isEmpty {
            v.add(.writerOverlaps, "writer overlaps: \(analysis.overlaps.count) lock intervals overlapped another (first: \(analysis.overlaps[0]))")
        }
        if let cli = cliEvents {
            if !cli.overlaps.isEmpty {
                v.add(.writerOverlaps, "writer overlaps: \(cli.overlaps.count) metacache processes acquired the lock while another held it (first: \(cli.overlaps[0]))")
            }
            if !cli.commitOrderViolations.isEmpty {
                v.add(.commitOrder, "commit order: \(cli.commitOrderViolations.count) CLI commits did not follow the previous generation by one, in the events file's order (first: \(cli.commitOrderViolations[0]))")
            }
            if !cli.unterminated.isEmpty {
                v.add(.unterminatedHolds, "unterminated holds: \(cli.unterminated.count) metacache processes logged acquiring the lock and never a commit or release (first: pid \(cli.unterminated[0]))")
            }
            if cli.malformedLines > 0 { v.add(.cliEvents, "CLI events: \(cli.malformedLines) malformed lines in the events file") }
            let succeeded = analysis.cliRefreshes.filter { $0.exitCode == 0 }.count
            if cli.commits != succeeded {
                v.add(.cliAccounting, "CLI accounting: \(succeeded) 'metacache cache refresh' runs exited 0 but the events file records \(cli.commits) commits")
            }
        }
        if !analysis.commitOrderViolations.isEmpty {
            v.add(.commitOrder, "commit order: \(analysis.commitOrderViolations.count) out-of-sequence generations (first: \(analysis.commitOrderViolations[0]))")
        }
        let unterminated = analysis.unterminatedIntervals
        if !unterminated.isEmpty {
            v.add(.unterminatedHolds, "unterminated holds: \(unterminated.count) writers logged acquiring the lock and never releasing or being killed (first: pid \(unterminated[0].pid))")
        }
        // Lost updates: each updater's counter against its logged commits.
        if options.updaters > 0, let final = inspection.finalPayload {
            for slot in 0..<options.updaters {
                let name = UpdaterCounter.name(slot: slot)
                let committed = analysis.updatesBySlot[slot] ?? 0
                let counted = Int(final.counters[name] ?? 0)
                if counted < committed {
                    r.lostUpdates += committed - counted
                    v.add(.lostUpdates, "lost updates: updater \(slot) committed \(committed) updates but its counter \(name) is \(counted)")
                } else if counted > committed {
                    r.phantomUpdates += counted - committed
                    v.add(.phantomUpdates, "phantom updates: counter \(name) is \(counted) but updater \(slot) committed only \(committed) updates")
                }
                if let reported = updatesReported[slot], reported != committed {
                    v.add(.updateAccounting, "update accounting: updater \(slot) reported \(reported) successful updates but logged \(committed) commits")
                }
            }
        }
        if r.timeouts > 0 { v.add(.timeouts, "timeouts: \(r.timeouts) writer operations gave up waiting for the lock (timeout \(options.lockTimeout))") }
        if r.writerFailures > 0 { v.add(.writerFailures, "writer failures: \(r.writerFailures) writer operations failed" + example(.writerFailures)) }
        if !crashes.isEmpty { v.add(.workerCrashes, "worker crashes: \(crashes.count) workers ended abnormally (first: \(crashes[0]))") }

        // The evidence, and whether there is enough of it.
        if malformedLogLines > 0 { v.add(.intervalLog, "interval log: \(malformedLogLines) malformed lines") }
        if tornLogAppends > 0 && analysis.kills.isEmpty && analysis.abortedPids.isEmpty {
            v.add(.intervalLog, "interval log: \(tornLogAppends) appends cut short, but no process was killed")
        }
        if let stall { v.add(.stall, "stalled: \(stall)") }
        if interruption == nil {
            if options.readers > 0 && r.reads == 0 { v.add(.progress, "no progress: \(options.readers) readers completed no read") }
            if options.refreshers > 0 && r.refreshCommits == 0 {
                v.add(.progress, "no progress: \(options.refreshers) refreshers committed nothing")
            }
            if options.updaters > 0 && r.updates == 0 { v.add(.progress, "no progress: \(options.updaters) updaters committed nothing") }
        }

        // Kill chaos.
        var reacquireOverGoal = 0
        if options.killWritersEveryMilliseconds != nil {
            if r.killsWhileHolding == 0 && interruption == nil { v.add(.killChaos, "kill chaos: no kill landed on a writer holding the lock") }
            for kill in analysis.kills where kill.hitHolder {
                if let ns = kill.reacquireNanoseconds {
                    let ms = Double(ns) / 1e6
                    if ms >= Self.reacquireGoalMillis {
                        reacquireOverGoal += 1
                        v.add(.reacquire, "re-acquire: after killing pid \(kill.pid) the lock was next acquired \(String(format2: ms)) ms later (goal: under 1 s)")
                    }
                } else if runEnd > kill.time, Double(runEnd - kill.time) / 1e6 >= Self.reacquireGoalMillis {
                    reacquireOverGoal += 1
                    v.add(.reacquire, "re-acquire: after killing pid \(kill.pid) nobody acquired the lock in the remaining \(String(format2: Double(runEnd - kill.time) / 1e6)) ms of the run")
                }
            }
        }

        // Temps: every temp file the run left — swept by a writer during the run,
        // or still there at the end — must belong to a holder that was killed
        // (one temp per killed hold; the library names temps after their pid).
        let killedHolders = Set(analysis.kills.filter(\.hitHolder).map(\.pid)).union(analysis.abortedPids)
        var explainedBy: [Int32: Int] = [:]
        var leaked: [String] = []
        let seenTemps = analysis.sweptTemps.map(\.name).filter { $0.contains(".json.tmp-") }
            + (cliEvents?.sweptTemps ?? []) + inspection.tempsBeforeSweep
        for name in seenTemps {
            if let pid = Self.writerPID(ofTemp: name), killedHolders.contains(pid), explainedBy[pid, default: 0] == 0 {
                explainedBy[pid] = 1
            } else {
                leaked.append(name)
            }
        }
        r.leakedTemps = leaked.count
        if !leaked.isEmpty {
            v.add(.leakedTemps, "leaked temps: \(leaked.count) temp files were left behind by writers that were not killed (\(leaked.prefix(3).joined(separator: ", ")))")
        }

        // After the run.
        if let holder = inspection.sweepSkippedBecauseHeldBy {
            v.add(.afterRunSweep, "after the run: the sweeper found the lock still held (by \(holder)) after every worker exited")
        }
        if let error = inspection.sweepError { v.add(.afterRunSweep, "after the run: the sweep failed: \(error)") }
        if !inspection.orphanTemps.isEmpty {
            v.add(.tempsAfterSweep, "after the run: \(inspection.orphanTemps.count) temp files remain after the sweep (\(inspection.orphanTemps.prefix(3).joined(separator: ", ")))")
        }
        if !inspection.lockFree {
            var why: [String] = []
            if !inspection.advisoryLockFree { why.append("flock on the lock file would block") }
            if inspection.ownerFilePresent { why.append("an owner file remains") }
            if inspection.libraryReportsLockHeld { why.append("the library reports the lock held") }
            v.add(.lockFreeAfterRun, "after the run: the lock is not free (\(why.joined(separator: "; ")))")
        }
        if let problem = inspection.finalCacheProblem {
            v.add(.finalCache, "after the run: \(problem)")
        } else if inspection.finalPayload == nil {
            v.add(.finalCache, "after the run: the final cache was not verified (no payload was read back)")
        }

        // The verdict on each kind: violated, not tested (and why), or ok.
        let counts: [InvariantKind: Int] = [
            .tornReads: verifiedTorn, .corruptReads: r.corruptReads, .missingReads: r.missingReads, .readErrors: r.readErrors,
            .staleReads: r.staleReads,
            .cliCommitAttribution: (attribution?.mismatches.count ?? 0) + (attribution?.uncommitted.count ?? 0),
            .writerOverlaps: r.writerOverlaps, .commitOrder: r.commitOrderViolations, .unterminatedHolds: r.unterminatedHolds,
            .lostUpdates: r.lostUpdates, .phantomUpdates: r.phantomUpdates, .timeouts: r.timeouts,
            .writerFailures: r.writerFailures, .workerCrashes: r.workerCrashes, .reacquire: reacquireOverGoal,
            .leakedTemps: r.leakedTemps, .tempsAfterSweep: r.orphanTempsAfterSweep,
        ]
        for kind in InvariantKind.allCases {
            let violations = v.count(kind)
            let value = displayValue(kind, r, attribution: attribution, leaked: leaked.count, seen: seenTemps.count)
            if violations > 0 {
                r.checks[kind] = InvariantCheck(
                    verdict: .violated, count: max(counts[kind] ?? violations, 1), value: value, note: v.first(kind))
            } else if let why = missingWitness(kind, r, attribution: attribution) {
                r.checks[kind] = InvariantCheck(verdict: .notTested, count: 0, value: value, note: why)
            } else {
                r.checks[kind] = InvariantCheck(verdict: .ok, count: 0, value: value, note: observation(kind, r))
            }
        }

        var killsDue: Int?
        if let interval = options.killWritersEveryMilliseconds { killsDue = Int(measuredSeconds * 1000 / Double(interval)) }
        r.warnings = StarvationCheck.warnings(
            roles: r.roles, backend: options.lockBackend.rawValue, killsDue: killsDue, killsLanded: r.killsWhileHolding)
        r.violations = v.entries.map(\.text)
        r.ok = v.entries.isEmpty && interruption == nil
        return r
    }

    /// The pid in a temp's name (`NAME.json.tmp-PID-RANDOM`), if it has one.
    static func writerPID(ofTemp name: String) -> Int32? {
        guard let range = name.range(of: ".json.tmp-") else { return nil }
        return name[range.upperBound...].split(separator: "-").first.flatMap { Int32($0) }
    }

    private func roleSummaries(readers reads: Int) -> RoleSummaries {
        func summary(_ role: WriterRole, workers: Int) -> RoleSummary {
            var s = RoleSummary(workers: workers)
            guard let tally = analysis.roles[role] else { return s }
            s.acquisitions = tally.acquisitions
            s.commits = tally.commits
            for (slot, n) in tally.commitsBySlot where slot >= 0 {
                if slot >= s.commitsPerSlot.count { s.commitsPerSlot += Array(repeating: 0, count: slot - s.commitsPerSlot.count + 1) }
                s.commitsPerSlot[slot] = n
            }
            s.timeouts = tally.timeouts
            s.failures = tally.failures
            s.kills = tally.kills
            s.killsWhileHolding = tally.killsWhileHolding
            s.lockWaitMicros = LatencySummary(tally.lockWait, divisor: 1000)
            return s
        }
        var refreshers = summary(options.useCLI ? .cliRefresher : .refresher, workers: options.refreshers)
        if let cli = cliEvents {
            // The CLI's critical section is inside metacache: its commits and
            // waits come from the events file, per refresher slot from the log.
            refreshers.commits = cli.commits
            refreshers.acquisitions = cli.acquisitions
            refreshers.lockWaitMicros = LatencySummary(cli.lockWait, divisor: 1000)
            var bySlot = Array(repeating: 0, count: options.refreshers)
            var slotOfWorker: [Int: Int] = [:]
            for outcome in outcomes where outcome.slot.role == .cliRefresher {
                if let stats = outcome.stats { slotOfWorker[stats.worker] = outcome.slot.index }
            }
            let attributed = CLICommitAttribution(
                events: cli, refreshes: analysis.cliRefreshes, seedGeneration: analysis.seedGeneration, observed: [])
            for payload in attributed.committedPayload.values {
                if let slot = slotOfWorker[Int(payload.writer)], slot < bySlot.count { bySlot[slot] += 1 }
            }
            refreshers.commitsPerSlot = bySlot
        }
        var updaters = summary(.updater, workers: options.updaters)
        var readers = RoleSummary(workers: options.readers)
        readers.commitsPerSlot = []
        readers.reads = reads
        let writers = options.refreshers + options.updaters
        let commits = refreshers.commits + updaters.commits
        let acquisitions = refreshers.acquisitions + updaters.acquisitions
        if acquisitions > 0 {
            refreshers.shareOfAcquisitions = Double(refreshers.acquisitions) / Double(acquisitions)
            updaters.shareOfAcquisitions = Double(updaters.acquisitions) / Double(acquisitions)
        }
        if writers > 0 {
            refreshers.shareOfWriters = Double(options.refreshers) / Double(writers)
            updaters.shareOfWriters = Double(options.updaters) / Double(writers)
        }
        if commits > 0 {
            refreshers.shareOfCommits = Double(refreshers.commits) / Double(commits)
            updaters.shareOfCommits = Double(updaters.commits) / Double(commits)
        }
        return RoleSummaries(refreshers: refreshers, updaters: updaters, readers: readers)
    }

    /// Why nothing in this run could have broken `kind`, or nil if something could.
    private func missingWitness(_ kind: InvariantKind, _ r: StressReport, attribution: CLICommitAttribution?) -> String? {
        let writers = options.refreshers + options.updaters
        let libraryHolds = !analysis.intervals.isEmpty
        let noReads = "no reads"
        switch kind {
        case .tornReads, .corruptReads:
            return r.reads > 0 || libraryHolds ? nil : "no reads: no reader read and no writer read under the lock"
        case .missingReads, .readErrors:
            return r.reads > 0 ? nil : noReads
        case .staleReads:
            if r.reads == 0 { return noReads }
            return r.commits > 0 ? nil : "no commits: the generation never moved"
        case .cliCommitAttribution:
            guard options.useCLI else { return "not a --use-cli run" }
            return (attribution?.checked ?? 0) > 0 ? nil : "no CLI reader saw a CLI-written payload"
        case .writerOverlaps:
            let contended = analysis.contendedAcquisitions + (cliEvents?.contendedWaits ?? 0)
            if contended > 0 { return nil }
            return writers < 2 ? "one writer: nobody to overlap with" : "no two writers ever competed for the lock"
        case .commitOrder:
            return r.commits > 0 ? nil : "no commits"
        case .unterminatedHolds:
            return libraryHolds || (cliEvents?.acquisitions ?? 0) > 0 ? nil : "no writer held the lock"
        case .lostUpdates, .phantomUpdates:
            if options.updaters == 0 { return "no updaters" }
            return r.updates > 0 ? nil : "no update committed"
        case .updateAccounting:
            return options.updaters > 0 ? nil : "no updaters"
        case .timeouts, .writerFailures, .intervalLog:
            return writers > 0 ? nil : "no writers"
        case .cliEvents, .cliAccounting:
            guard options.useCLI else { return "not a --use-cli run" }
            return options.refreshers > 0 ? nil : "no CLI refreshers"
        case .stall:
            return writers > 0 ? nil : "readers log nothing, so a readers-only run cannot be watched"
        case .killChaos:
            return options.killWritersEveryMilliseconds != nil ? nil : "no --kill-writers-every"
        case .reacquire:
            guard options.killWritersEveryMilliseconds != nil else { return "no --kill-writers-every" }
            return analysis.reacquire.count > 0 ? nil : "no kill of a holder was followed by an acquisition"
        case .leakedTemps:
            return r.commits > 0 ? nil : "no commits, so no temp file was ever made"
        case .tempsAfterSweep:
            return inspection.tempsBeforeSweep.isEmpty ? "nothing was left to sweep" : nil
        case .progress:
            return interruption == nil ? nil : "the run was interrupted"
        case .workerCrashes, .afterRunSweep, .lockFreeAfterRun, .finalCache:
            return nil
        }
    }

    /// What the table shows for `kind`.
    private func displayValue(
        _ kind: InvariantKind, _ r: StressReport, attribution: CLICommitAttribution?, leaked: Int, seen: Int
    ) -> String {
        switch kind {
        case .tornReads: return "\(r.tornReads - (attribution?.mismatches.count ?? 0))"
        case .corruptReads: return "\(r.corruptReads)"
        case .missingReads: return "\(r.missingReads)"
        case .readErrors: return "\(r.readErrors)"
        case .staleReads: return "\(r.staleReads)"
        case .cliCommitAttribution:
            return "\(attribution?.checked ?? 0) checked, \((attribution?.mismatches.count ?? 0) + (attribution?.uncommitted.count ?? 0)) wrong"
        case .writerOverlaps: return "\(r.writerOverlaps)"
        case .commitOrder:
            return r.unloggedCommitsOfKilledHolders > 0
                ? "\(r.commitOrderViolations) (\(r.unloggedCommitsOfKilledHolders) gaps after killed holders)" : "\(r.commitOrderViolations)"
        case .unterminatedHolds: return "\(r.unterminatedHolds)"
        case .lostUpdates: return "\(r.lostUpdates)"
        case .phantomUpdates: return "\(r.phantomUpdates)"
        case .updateAccounting: return options.updaters > 0 ? "\(r.updates) logged" : "-"
        case .timeouts: return "\(r.timeouts)"
        case .writerFailures: return "\(r.writerFailures)"
        case .workerCrashes: return "\(r.workerCrashes)"
        case .intervalLog: return "\(malformedLogLines) malformed, \(tornLogAppends) torn"
        case .cliEvents: return "\(cliEvents?.malformedLines ?? 0) malformed"
        case .cliAccounting:
            return "\(analysis.cliRefreshes.filter { $0.exitCode == 0 }.count) exits 0 / \(cliEvents?.commits ?? 0) commits"
        case .progress: return "\(r.reads) reads, \(r.commits) commits"
        case .stall: return stall == nil ? "no stall" : "stalled"
        case .killChaos: return "\(r.kills) (\(r.killsWhileHolding) hit holder)"
        case .reacquire: return r.maxReacquireMillis.map { "max \(String(format2: $0)) ms" } ?? "-"
        case .leakedTemps: return "\(leaked) of \(seen) seen"
        case .tempsAfterSweep: return "\(r.orphanTempsAfterSweep) (\(r.sweptAfterRun) swept)"
        case .afterRunSweep:
            return inspection.sweepSkippedBecauseHeldBy != nil ? "skipped" : inspection.sweepError != nil ? "failed" : "ran"
        case .lockFreeAfterRun: return r.lockFreeAfterRun ? "yes" : "no"
        case .finalCache: return r.finalCacheVerified ? "yes (generation \(r.finalGeneration ?? 0))" : "no"
        }
    }

    /// A remark worth showing next to an `ok` (what the check rested on).
    private func observation(_ kind: InvariantKind, _ r: StressReport) -> String? {
        switch kind {
        case .commitOrder where r.unloggedCommitsOfKilledHolders > 0:
            "each missing generation lies between two logged commits with a killed holder between them"
        case .writerOverlaps:
            "\(analysis.contendedAcquisitions + (cliEvents?.contendedWaits ?? 0)) contended acquisitions"
        default:
            nil
        }
    }
}

extension String {
    /// Two decimals.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = String(scaled)
    }
}
