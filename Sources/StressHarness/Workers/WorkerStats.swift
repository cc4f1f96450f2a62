/// What one worker did and saw, sent to the coordinator as its last line
/// (`STATS {json}`).
///
/// Guarantee: every count is the worker's own observation; the coordinator adds
/// them up but never infers one from another. Writer commits are counted from the
/// interval log instead (a killed writer cannot report), so these stats carry a
/// writer's failures and its in-lock reads, not its commits.
public struct WorkerStats: Codable, Sendable, Equatable {
    public var role: String
    public var worker: Int
    public var slot: Int
    public var pid: Int32
    /// Operations started (reads, refreshes or updates).
    public var operations = 0
    /// Operations that ended as intended (a verified read, a fetched refresh, an update).
    public var succeeded = 0
    /// Reads by readers (not writers' reads under the lock).
    public var reads = 0
    /// Reads the library accepted but the harness's own verification rejected.
    public var tornReads = 0
    /// Reads the library rejected as corrupt (or, for the CLI, exit 65).
    public var corruptReads = 0
    /// Reads that found no cache, although one was committed before the run.
    public var missingReads = 0
    /// Reads that failed for another reason.
    public var readErrors = 0
    /// Reads that returned an older generation than this reader saw before.
    public var staleReads = 0
    public var timeouts = 0
    /// Writer operations that failed other than by timing out.
    public var failures = 0
    /// `refresh(force: true)` ending other than `.fetched`.
    public var unexpectedOutcomes = 0
    /// Successful updates (updaters), to cross-check against the log.
    public var updates = 0
    /// Per read: the library's `read()` (or the whole `metacache cache read` process).
    public var readLatency = LatencyHistogram()
    /// Per writer operation: the whole refresh/update (or `metacache cache refresh`).
    public var operationLatency = LatencyHistogram()
    /// CLI readers: each distinct header generation seen over a CLI-written
    /// payload, with that payload's writer and sequence (checked by the
    /// coordinator against the refresh that committed the generation).
    public var observedCommits: [ObservedCommit] = []
    /// The first few problems of each kind, verbatim (so a report quotes an
    /// example of the very violation it names, never one of another kind).
    public var problems: [Problem] = []

    public struct Problem: Codable, Sendable, Equatable {
        public var kind: InvariantKind
        public var text: String
    }

    public init(role: String, worker: Int, slot: Int, pid: Int32) {
        self.role = role
        self.worker = worker
        self.slot = slot
        self.pid = pid
    }

    public mutating func note(_ kind: InvariantKind, _ problem: String) {
        if problems.count(where: { $0.kind == kind }) < 3 { problems.append(Problem(kind: kind, text: problem)) }
    }
}
