/// The result of a run: what happened, the invariants, and every violation named.
///
/// Guarantee: `ok` is true exactly when `violations` is empty, and each entry of
/// `violations` names the invariant, the count and the first concrete evidence
/// (a read, an interval, a counter), so a failing run says what broke without
/// re-running it. The JSON encoding carries at least the fields issue 4 lists,
/// absent values as `null` (never omitted), so consumers can rely on every key.
public struct StressReport: Codable, Sendable {
    public var configuration: String
    public var seed: UInt64
    public var measuredSeconds: Double

    public var reads = 0
    public var commits = 0
    public var updates = 0

    public var tornReads = 0
    public var corruptReads = 0
    public var missingReads = 0
    public var readErrors = 0
    public var staleReads = 0
    public var writerOverlaps = 0
    public var commitOrderViolations = 0
    public var lostUpdates = 0
    public var phantomUpdates = 0
    public var timeouts = 0
    public var writerFailures = 0
    public var workerCrashes = 0
    public var kills = 0
    public var killsWhileHolding = 0
    public var maxReacquireMillis: Double?
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

    public var violations: [String] = []
    /// True exactly when `violations` is empty (set by `StressReportBuilder`).
    public var ok = false

    enum CodingKeys: String, CodingKey {
        case configuration, seed, measuredSeconds, reads, commits, updates, tornReads, corruptReads, missingReads
        case readErrors, staleReads, writerOverlaps, commitOrderViolations, lostUpdates, phantomUpdates, timeouts
        case writerFailures, workerCrashes, kills, killsWhileHolding, maxReacquireMillis, orphanTempsAfterSweep
        case sweptAfterRun, lockFreeAfterRun, finalCacheVerified, finalGeneration, readLatencyMicros, lockWaitMicros
        case commitMicros, handoverMicros, reacquireMillis, cliRefreshMillis, cliCommitsCheckedAgainstReads, throughput
        case violations, ok
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(seed, forKey: .seed)
        try c.encode(measuredSeconds, forKey: .measuredSeconds)
        try c.encode(reads, forKey: .reads)
        try c.encode(commits, forKey: .commits)
        try c.encode(updates, forKey: .updates)
        try c.encode(tornReads, forKey: .tornReads)
        try c.encode(corruptReads, forKey: .corruptReads)
        try c.encode(missingReads, forKey: .missingReads)
        try c.encode(readErrors, forKey: .readErrors)
        try c.encode(staleReads, forKey: .staleReads)
        try c.encode(writerOverlaps, forKey: .writerOverlaps)
        try c.encode(commitOrderViolations, forKey: .commitOrderViolations)
        try c.encode(lostUpdates, forKey: .lostUpdates)
        try c.encode(phantomUpdates, forKey: .phantomUpdates)
        try c.encode(timeouts, forKey: .timeouts)
        try c.encode(writerFailures, forKey: .writerFailures)
        try c.encode(workerCrashes, forKey: .workerCrashes)
        try c.encode(kills, forKey: .kills)
        try c.encode(killsWhileHolding, forKey: .killsWhileHolding)
        try c.encode(maxReacquireMillis, forKey: .maxReacquireMillis)
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
        try c.encode(violations, forKey: .violations)
        try c.encode(ok, forKey: .ok)
    }
}
