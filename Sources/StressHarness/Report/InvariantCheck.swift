/// Every kind of evidence a run is judged on: each is one row of the text
/// report, one key of the JSON report's `checks` object, and the kind every
/// violation is filed under.
///
/// Guarantee: the cases are listed in the order the table shows them, and the
/// raw value is the JSON key; a violation always belongs to exactly one kind, so
/// an all-`ok` table can never sit above a FAIL.
public enum InvariantKind: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    // What readers (and writers, under the lock) saw.
    case tornReads, corruptReads, missingReads, readErrors, staleReads, cliCommitAttribution
    // Writers.
    case writerOverlaps, commitOrder, unterminatedHolds, lostUpdates, phantomUpdates, updateAccounting
    case timeouts, writerFailures, workerCrashes
    // The evidence itself, and whether the run did enough to mean something.
    case intervalLog, cliEvents, cliAccounting, progress, stall
    // Kill chaos.
    case killChaos, reacquire
    // After the run.
    case leakedTemps, tempsAfterSweep, afterRunSweep, lockFreeAfterRun, finalCache

    /// The row's label in the text report.
    public var label: String {
        switch self {
        case .tornReads: "torn reads (harness digest)"
        case .corruptReads: "corrupt reads (library)"
        case .missingReads: "missing reads"
        case .readErrors: "failed reads"
        case .staleReads: "stale reads"
        case .cliCommitAttribution: "CLI reads matched to their commit"
        case .writerOverlaps: "writer overlaps"
        case .commitOrder: "commit order violations"
        case .unterminatedHolds: "unterminated holds"
        case .lostUpdates: "lost updates"
        case .phantomUpdates: "phantom updates"
        case .updateAccounting: "update accounting"
        case .timeouts: "lock timeouts"
        case .writerFailures: "writer failures"
        case .workerCrashes: "worker crashes"
        case .intervalLog: "interval log intact"
        case .cliEvents: "CLI events file intact"
        case .cliAccounting: "CLI exits match commits"
        case .progress: "progress"
        case .stall: "stall watch"
        case .killChaos: "kills that hit the holder"
        case .reacquire: "re-acquire after kill < 1 s"
        case .leakedTemps: "temps leaked during the run"
        case .tempsAfterSweep: "temps left after sweep"
        case .afterRunSweep: "after-run sweep"
        case .lockFreeAfterRun: "lock free after run"
        case .finalCache: "final cache verifies"
        }
    }
}

/// The verdict on one kind of evidence.
public struct InvariantCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        /// Checked, with a witness, and it held.
        case ok
        /// Checked and broken: at least one violation of this kind is listed.
        case violated
        /// The run produced nothing that could have broken it (no reads, one
        /// writer, no updaters, ...): passing it would prove nothing. `note` says why.
        case notTested = "not tested"
    }

    public var verdict: Verdict
    /// How many violations of this kind (0 unless violated).
    public var count: Int
    /// The figure the table shows ("0", "3 (2 gaps explained by kills)", "yes").
    public var value: String
    /// Why it was not tested, or the first violation of this kind; null otherwise
    /// (or an observation worth showing next to an `ok`).
    public var note: String?

    public init(verdict: Verdict, count: Int, value: String, note: String?) {
        self.verdict = verdict
        self.count = count
        self.value = value
        self.note = note
    }

    // Absent notes are written as null, never omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(count, forKey: .count)
        try c.encode(value, forKey: .value)
        try c.encode(note, forKey: .note)
    }
}
