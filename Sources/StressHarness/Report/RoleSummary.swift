/// What each kind of worker did, for comparing roles and backends honestly: a
/// role that gets far fewer commits than its share of the writers is starved,
/// and the report says so (`StarvationCheck`).
///
/// Guarantee: all three roles are always present (zeros for a role the run did
/// not have); the figures are from the harness's own evidence — commits and
/// waits from the interval log (CLI refreshers: from their events file), reads
/// from the readers' stats.
public struct RoleSummaries: Codable, Sendable, Equatable {
    public var refreshers: RoleSummary
    public var updaters: RoleSummary
    public var readers: RoleSummary

    public init(refreshers: RoleSummary, updaters: RoleSummary, readers: RoleSummary) {
        self.refreshers = refreshers
        self.updaters = updaters
        self.readers = readers
    }
}

public struct RoleSummary: Codable, Sendable, Equatable {
    /// Configured workers (slots) of this role.
    public var workers: Int
    /// Times its workers got the lock, killed holds included (0 for readers):
    /// what fairness is about — kill chaos kills refreshers' holds, so their
    /// commits fall short of their acquisitions by design.
    public var acquisitions: Int
    /// Successful commits (refreshes, or updates); 0 for readers.
    public var commits: Int
    /// Commits per slot, by slot index.
    public var commitsPerSlot: [Int]
    /// This role's fraction of the writer workers, of the writers' lock
    /// acquisitions and of their commits (null for readers, and when there
    /// were none).
    public var shareOfWriters: Double?
    public var shareOfAcquisitions: Double?
    public var shareOfCommits: Double?
    /// Reads (readers only).
    public var reads: Int
    public var timeouts: Int
    public var failures: Int
    /// Kill chaos's kills of this role's workers, and those that hit a holder.
    public var kills: Int
    public var killsWhileHolding: Int
    /// How long this role's writers waited for the lock before getting it.
    public var lockWaitMicros: LatencySummary

    public init(workers: Int) {
        self.workers = workers
        acquisitions = 0
        commits = 0
        commitsPerSlot = Array(repeating: 0, count: workers)
        reads = 0
        timeouts = 0
        failures = 0
        kills = 0
        killsWhileHolding = 0
        lockWaitMicros = LatencySummary(LatencyHistogram(), divisor: 1000)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workers, forKey: .workers)
        try c.encode(acquisitions, forKey: .acquisitions)
        try c.encode(commits, forKey: .commits)
        try c.encode(commitsPerSlot, forKey: .commitsPerSlot)
        try c.encode(shareOfWriters, forKey: .shareOfWriters)
        try c.encode(shareOfAcquisitions, forKey: .shareOfAcquisitions)
        try c.encode(shareOfCommits, forKey: .shareOfCommits)
        try c.encode(reads, forKey: .reads)
        try c.encode(timeouts, forKey: .timeouts)
        try c.encode(failures, forKey: .failures)
        try c.encode(kills, forKey: .kills)
        try c.encode(killsWhileHolding, forKey: .killsWhileHolding)
        try c.encode(lockWaitMicros, forKey: .lockWaitMicros)
    }
}
