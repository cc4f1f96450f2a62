/// The result of a run: what happened, the verdict on every invariant, and every
/// violation named.
///
/// Guarantee: `ok` is true exactly when the run completed (not `interrupted`)
/// and `violations` is empty; each entry of `violations` names the invariant, the
/// count and the first concrete evidence (a read, an interval, a counter), so a
/// failing run says what broke without re-running it; every violation belongs to
/// one `checks` entry, which is then `violated`, and a check nothing could have
/// broken is `not tested`, never `ok`. The JSON encoding has every field listed
/// in docs/stress.md, absent values as `null` (never omitted), so consumers can
/// rely on every key.
public struct StressReport: Codable, Sendable {
    public var configuration: String
    public var config: RunConfiguration
    public var seed: UInt64
    public var measuredSeconds: Double
    /// Set when SIGINT or SIGTERM ended the run early: the report covers what
    /// happened until then.
    public var interrupted: Interruption?

    public var reads = 0
    /// All commits: refreshes (library or CLI) and updates.
    public var commits = 0
    /// Commits by refreshers alone.
    public var refreshCommits = 0
    public var updates = 0

    public var tornReads = 0
    public var corruptReads = 0
    public var missingReads = 0
    public var readErrors = 0
    public var staleReads = 0
    public var writerOverlaps = 0
    public var commitOrderViolations = 0
    /// Generations missing from the log that killed holders explain.
    public var unloggedCommitsOfKilledHolders = 0
    public var unterminatedHolds = 0
    public var lostUpdates = 0
    public var phantomUpdates = 0
    public var timeouts = 0
    public var writerFailures = 0
    public var workerCrashes = 0
    public var kills = 0
    public var killsWhileHolding = 0
    public var maxReacquireMillis: Double?
    /// Temp files seen during or after the run (swept by a writer, or there at
    /// the end) that no kill of their writer explains.
    public var leakedTemps = 0
    public var orphanTempsAfterSweep = 0
    public var sweptAfterRun = 0
    public var lockFreeAfterRun = true
    public var finalCacheVerified = false
    public var finalGeneration: UInt64?

    public var readLatencyMicros: LatencySummary
    public var lockWaitMicros: LatencySummary
    public var commitMicros: LatencySummary
    public var handoverMicros: LatencySummary
    public var reacquireMillis: LatencySummary
    /// CLI mode: the whole `metacache cache refresh` process.
    public var cliRefreshMillis: LatencySummary?
    /// CLI mode: distinct (generation, payload) pairs the readers saw over a
    /// CLI-written payload that were checked against the refresh that committed
    /// the generation (null without `--use-cli`).
    public var cliCommitsCheckedAgainstReads: Int?
    public var throughput: Throughput
    public var roles: RoleSummaries

    /// The verdict on each kind of evidence, keyed by `InvariantKind`.
    public var checks: [InvariantKind: InvariantCheck] = [:]
    /// Observations that are not violations (starvation of a role).
    public var warnings: [String] = []
    public var violations: [String] = []
    /// True exactly when the run completed and `violations` is empty (set by
    /// `StressReportBuilder`).
    public var ok = false

    public struct Interruption: Codable, Sendable, Equatable {
        /// `SIGINT` or `SIGTERM`.
        public var signal: String
        /// Into the measured phase.
        public var afterSeconds: Double

        public init(signal: String, afterSeconds: Double) {
            self.signal = signal
            self.afterSeconds = afterSeconds
        }
    }

    /// The checks that had no witness, in table order.
    public var notTested: [InvariantKind] { InvariantKind.allCases.filter { checks[$0]?.verdict == .notTested } }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case configuration, config, seed, measuredSeconds, interrupted, reads, commits, refreshCommits, updates
        case tornReads, corruptReads, missingReads, readErrors, staleReads, writerOverlaps, commitOrderViolations
        case unloggedCommitsOfKilledHolders, unterminatedHolds, lostUpdates, phantomUpdates, timeouts, writerFailures
        case workerCrashes, kills, killsWhileHolding, maxReacquireMillis, leakedTemps, orphanTempsAfterSweep
        case sweptAfterRun, lockFreeAfterRun, finalCacheVerified, finalGeneration, readLatencyMicros, lockWaitMicros
        case commitMicros, handoverMicros, reacquireMillis, cliRefreshMillis, cliCommitsCheckedAgainstReads, throughput
        case roles, checks, warnings, violations, ok
    }

    /// Every top-level key of the JSON report, as docs/stress.md lists them.
    public static var jsonKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(config, forKey: .config)
        try c.encode(seed, forKey: .seed)
        try c.encode(measuredSeconds, forKey: .measuredSeconds)
        try c.encode(interrupted, forKey: .interrupted)
        try c.encode(reads, forKey: .reads)
        try c.encode(commits, forKey: .commits)
        try c.encode(refreshCommits, forKey: .refreshCommits)
        try c.encode(updates, forKey: .updates)
        try c.encode(tornReads, forKey: .tornReads)
        try c.encode(corruptReads, forKey: .corruptReads)
        try c.encode(missingReads, forKey: .missingReads)
        try c.encode(readErrors, forKey: .readErrors)
        try c.encode(staleReads, forKey: .staleReads)
        try c.encode(writerOverlaps, forKey: .writerOverlaps)
        try c.encode(commitOrderViolations, forKey: .commitOrderViolations)
        try c.encode(unloggedCommitsOfKilledHolders, forKey: .unloggedCommitsOfKilledHolders)
        try c.encode(unterminatedHolds, forKey: .unterminatedHolds)
        try c.encode(lostUpdates, forKey: .lostUpdates)
        try c.encode(phantomUpdates, forKey: .phantomUpdates)
        try c.encode(timeouts, forKey: .timeouts)
        try c.encode(writerFailures, forKey: .writerFailures)
        try c.encode(workerCrashes, forKey: .workerCrashes)
        try c.encode(kills, forKey: .kills)
        try c.encode(killsWhileHolding, forKey: .killsWhileHolding)
        try c.encode(maxReacquireMillis, forKey: .maxReacquireMillis)
        try c.encode(leakedTemps, forKey: .leakedTemps)
        try c.encode(orphanTempsAfterSweep, forKey: .orphanTempsAfterSweep)
        try c.encode(sweptAfterRun, forKey: .sweptAfterRun)
        try c.encode(lockFreeAfterRun, forKey: .lockFreeAfterRun)
        try c.encode(finalCacheVerified, forKey: .finalCacheVerified)
        try c.encode(finalGeneration, forKey: .finalGeneration)
        try c.encode(readLatencyMicros, forKey: .readLatencyMicros)
        try c.encode(lockWaitMicros, forKey: .lockWaitMicros)
        try c.encode(commitMicros, forKey: .commitMicros)
        try c.encode(handoverMicros, forKey: .handoverMicros)
        try c.encode(reacquireMillis, forKey: .reacquireMillis)
        try c.encode(cliRefreshMillis, forKey: .cliRefreshMillis)
        try c.encode(cliCommitsCheckedAgainstReads, forKey: .cliCommitsCheckedAgainstReads)
        try c.encode(throughput, forKey: .throughput)
        try c.encode(roles, forKey: .roles)
        try c.encode(checks, forKey: .checks)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(violations, forKey: .violations)
        try c.encode(ok, forKey: .ok)
    }
}

/// What `--json` prints when the run could not be carried out or was refused:
/// still one JSON object, so a consumer never has to parse an empty output.
public struct StressErrorReport: Codable, Sendable, Equatable {
    /// Always false.
    public var ok = false
    public var error: String
    /// The exit status that follows (2, 64, 130, 143).
    public var exitCode: Int32
    /// The run's configuration when the command line was valid, else null.
    public var config: RunConfiguration?

    public init(error: String, exitCode: Int32, config: RunConfiguration?) {
        self.error = error
        self.exitCode = exitCode
        self.config = config
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok, forKey: .ok)
        try c.encode(error, forKey: .error)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(config, forKey: .config)
    }
}
