/// What the writer interval log proves about a run: single-writer exclusion,
/// commit order, lock waits, handovers and recovery after kills.
///
/// Guarantee: every conclusion rests only on the log's monotonic timestamps and
/// the harness's own bookkeeping, never on the library's view of itself:
/// - **Overlap**: two recorded hold intervals intersect. Intervals are recorded
///   strictly inside the real hold (enter after acquiring, exit before releasing),
///   so any intersection means two processes held the writer lock at once. A
///   writer killed while holding is taken to hold until the instant the kill was
///   sent (a lower bound of its death, so this never reports a false overlap) —
///   or, if it still logged `exit` after the kill record (the record is written
///   just before the signal is sent), until that exit: it released by itself, so
///   the hold is an ordinary one and the kill did not land on a holder.
/// - **Commit order**: the generations of logged commits, in time order, must rise
///   by exactly one. A gap is examined, not excused: it is explained only by
///   holds that were killed (or aborted) *between* the two commits — each such
///   victim may have renamed its commit into place before it could log it — one
///   missing generation per killed hold. A gap with fewer killed holds in between
///   than generations missing, or a repeated or falling generation, is a
///   violation (a lost commit, or two writers that read the same version).
/// - **Handover**: for consecutive holds A then B where B started trying before A
///   exited (B was waiting), `B.enter - A.exit`.
/// - **Re-acquire after kill**: for each kill that hit a holder, the time from the
///   kill to the next acquisition by anyone.
public struct WriterIntervalAnalysis: Sendable {
    public struct Interval: Sendable, Equatable {
        public var pid: Int32
        public var worker: Int
        public var slot: Int
        public var role: WriterRole
        public var attempt: UInt64
        public var enter: UInt64
        public var end: UInt64
        public var killed: Bool
        /// Never closed by an exit record or a kill (the worker died unexpectedly).
        public var unterminated: Bool
    }

    public struct Overlap: Sendable, Equatable, CustomStringConvertible {
        public var first: Interval
        public var second: Interval
        public var description: String {
            "pid \(second.pid) (worker \(second.worker)) acquired at \(second.enter) while pid \(first.pid) (worker \(first.worker)) held the lock from \(first.enter) until \(first.end) (\(Double(first.end - second.enter) / 1000) µs of overlap)"
        }
    }

    public struct Kill: Sendable, Equatable {
        public var time: UInt64
        public var pid: Int32
        public var worker: Int
        /// The victim's role, from its own records (a refresher if it logged none).
        public var role: WriterRole
        /// The victim held the lock (an open interval) when the kill was sent, and
        /// did not log its `exit` after the kill record.
        public var hitHolder: Bool
        /// Kill to the next acquisition, for kills that hit a holder; nil if no one
        /// acquired before the run ended.
        public var reacquireNanoseconds: UInt64?
    }

    public private(set) var intervals: [Interval] = []
    public private(set) var overlaps: [Overlap] = []
    public private(set) var commitOrderViolations: [String] = []
    public private(set) var kills: [Kill] = []
    public private(set) var lockWait = LatencyHistogram()
    public private(set) var commit = LatencyHistogram()
    public private(set) var handover = LatencyHistogram()
    public private(set) var reacquire = LatencyHistogram()
    /// Successful commits by refreshers (library path).
    public private(set) var refreshCommits = 0
    /// Successful updates per updater slot.
    public private(set) var updatesBySlot: [Int: Int] = [:]
    public private(set) var timeouts = 0
    public private(set) var failures = 0
    /// Per writer role: what its workers did (see `RoleTally`).
    public private(set) var roles: [WriterRole: RoleTally] = [:]
    /// Acquisitions made while another process held the lock and this one was
    /// already asking (`attempt` before the holder's end): the contention that
    /// the exclusion check needs as its witness. Without any, two writers never
    /// competed, and no overlap could have happened whatever the lock did.
    public private(set) var contendedAcquisitions = 0
    /// Generations missing between logged commits that killed holds explain
    /// (each victim renamed its commit into place, then died before logging it).
    public private(set) var unloggedCommitsOfKilledHolders = 0
    /// Temp files the writers' stores swept during the run (`swept` records).
    public private(set) var sweptTemps: [(pid: Int32, name: String)] = []
    /// Pids the coordinator killed after a stall or an interrupt (`abort`).
    public private(set) var abortedPids: Set<Int32> = []
    /// One `metacache cache refresh` process, as its CLI refresher logged it.
    public struct CLIRefresh: Sendable, Equatable {
        public var exitCode: Int32
        public var nanoseconds: UInt64
        public var worker: Int
        /// The `metacache` process's pid, and the payload sequence it was given.
        public var child: Int32
        public var sequence: UInt64

        public init(exitCode: Int32, nanoseconds: UInt64, worker: Int, child: Int32, sequence: UInt64) {
            self.exitCode = exitCode
            self.nanoseconds = nanoseconds
            self.worker = worker
            self.child = child
            self.sequence = sequence
        }
    }

    public private(set) var cliRefreshes: [CLIRefresh] = []
    /// The generation the coordinator committed before the run.
    public private(set) var seedGeneration: UInt64?
    public private(set) var stopTime: UInt64?
    /// Workers (by slot) that logged `done`.
    public private(set) var doneWorkers: Set<Int> = []

    /// What the workers of one writer role did, from the log.
    public struct RoleTally: Sendable, Equatable {
        /// Times this role's workers got the lock (killed holds included).
        public var acquisitions = 0
        /// Successful commits (refreshes, or updates).
        public var commits = 0
        /// Successful commits per slot.
        public var commitsBySlot: [Int: Int] = [:]
        /// Acquisition waits (`enter − attempt`) of this role's holds.
        public var lockWait = LatencyHistogram()
        public var timeouts = 0
        public var failures = 0
        /// Kill chaos's kills of this role's workers, and those that hit a holder.
        public var kills = 0
        public var killsWhileHolding = 0
    }

    public var updates: Int { updatesBySlot.values.reduce(0, +) }
    public var unterminatedIntervals: [Interval] { intervals.filter(\.unterminated) }

    public init(records: [WriterRecord]) {
        var open: [Int32: Interval] = [:]
        /// Holds a kill record closed, by pid: their interval and kill indices, in
        /// case the victim logs its `exit` after the kill record after all.
        var closedByKill: [Int32: (interval: Int, kill: Int)] = [:]
        var commits: [(time: UInt64, generation: UInt64)] = []
        var roleOfPid: [Int32: WriterRole] = [:]
        for record in records {
            switch record {
            case let .enter(t, attempt, pid, worker, slot, role, _):
                closedByKill[pid] = nil
                if let stale = open.removeValue(forKey: pid) {
                    // A second enter without an exit: the first never closed.
                    var s = stale
                    s.unterminated = true
                    s.end = s.enter
                    intervals.append(s)
                }
                open[pid] = Interval(
                    pid: pid, worker: worker, slot: slot, role: role, attempt: attempt, enter: t, end: t, killed: false,
                    unterminated: false)
                lockWait.record(t >= attempt ? t - attempt : 0)
                roles[role, default: RoleTally()].lockWait.record(t >= attempt ? t - attempt : 0)
                roles[role, default: RoleTally()].acquisitions += 1
                roleOfPid[pid] = role
            case let .exit(t, pid, _, slot, role, _, committed, generation, commitNanoseconds):
                if var interval = open.removeValue(forKey: pid) {
                    interval.end = t
                    intervals.append(interval)
                } else if let closed = closedByKill.removeValue(forKey: pid) {
                    // The victim logged its exit between the kill record and the
                    // signal: it held until here (exit precedes the release), and
                    // the kill found it no longer holding.
                    intervals[closed.interval].end = t
                    intervals[closed.interval].killed = false
                    kills[closed.kill].hitHolder = false
                }
                if committed {
                    commit.record(commitNanoseconds)
                    commits.append((t, generation))
                    roles[role, default: RoleTally()].commits += 1
                    roles[role, default: RoleTally()].commitsBySlot[slot, default: 0] += 1
                    switch role {
                    case .refresher, .cliRefresher: refreshCommits += 1
                    case .updater: updatesBySlot[slot, default: 0] += 1
                    }
                }
            case let .timeout(_, _, _, _, _, role):
                timeouts += 1
                roles[role, default: RoleTally()].timeouts += 1
            case let .failure(_, _, _, _, role):
                failures += 1
                roles[role, default: RoleTally()].failures += 1
            case let .released(_, pid, _, _, _):
                // Ended without a commit, at an unknown instant after the last
                // thing it logged: conservatively at its enter (never a false overlap).
                closedByKill[pid] = nil
                if var interval = open.removeValue(forKey: pid) {
                    interval.end = interval.enter
                    intervals.append(interval)
                }
            case let .swept(_, pid, _, name):
                sweptTemps.append((pid, name))
            case let .cliRefresh(t, attempt, _, worker, _, code, child, sequence):
                cliRefreshes.append(CLIRefresh(
                    exitCode: code, nanoseconds: t >= attempt ? t - attempt : 0, worker: worker, child: child, sequence: sequence))
            case let .done(_, _, _, slot, _):
                doneWorkers.insert(slot)
            case let .kill(t, pid, worker, _):
                var hit = false
                if var interval = open.removeValue(forKey: pid) {
                    interval.end = t
                    interval.killed = true
                    closedByKill[pid] = (intervals.count, kills.count)
                    intervals.append(interval)
                    hit = true
                }
                kills.append(Kill(
                    time: t, pid: pid, worker: worker, role: roleOfPid[pid] ?? .refresher, hitHolder: hit, reacquireNanoseconds: nil))
            case let .abort(t, pid, _, _):
                abortedPids.insert(pid)
                if var interval = open.removeValue(forKey: pid) {
                    interval.end = t
                    interval.killed = true
                    intervals.append(interval)
                }
            case let .seed(t, generation):
                seedGeneration = generation
                commits.append((t, generation))
            case let .stop(t):
                stopTime = t
            }
        }
        let killedPids = Set(kills.map(\.pid)).union(abortedPids)
        for var interval in open.values {
            // A victim can log once more between the kill record and its death (the
            // kill is sent right after the record is written): that hold ended with
            // the process, at an unknown instant. Count it from its enter only —
            // conservative, as for every killed hold — and not as a mystery.
            if killedPids.contains(interval.pid) {
                interval.killed = true
            } else {
                interval.unterminated = true
            }
            interval.end = interval.enter
            intervals.append(interval)
        }
        intervals.sort { $0.enter < $1.enter }

        // Overlaps: sweep in enter order, remembering the interval that ends last.
        var latest: Interval?
        for interval in intervals {
            if let l = latest, interval.enter < l.end { overlaps.append(Overlap(first: l, second: interval)) }
            if latest == nil || interval.end > latest!.end { latest = interval }
        }

        // Handovers between consecutive holds where the next one was waiting, and
        // contention: a different process already asking while the previous held.
        for (a, b) in zip(intervals, intervals.dropFirst()) {
            if a.pid != b.pid, b.attempt < a.end { contendedAcquisitions += 1 }
            guard !a.killed && !a.unterminated else { continue }
            if b.attempt < a.end, b.enter >= a.end { handover.record(b.enter - a.end) }
        }

        // Recovery after each kill that hit a holder.
        let enters = intervals.map(\.enter)
        for kill in kills {
            roles[kill.role, default: RoleTally()].kills += 1
            if kill.hitHolder { roles[kill.role, default: RoleTally()].killsWhileHolding += 1 }
        }
        for i in kills.indices where kills[i].hitHolder {
            if let next = Self.firstIndex(in: enters, after: kills[i].time) {
                let ns = enters[next] - kills[i].time
                kills[i].reacquireNanoseconds = ns
                reacquire.record(ns)
            }
        }

        // Commit order. A killed hold lies between two logged commits in time (holds
        // never overlap, or the overlap check says so), so it can explain a missing
        // generation of that one gap only.
        commits.sort { $0.time < $1.time }
        let killedEnters = intervals.filter(\.killed).map(\.enter).sorted()
        for (a, b) in zip(commits, commits.dropFirst()) {
            if b.generation == a.generation + 1 { continue }
            let killedBetween = killedEnters.filter { $0 > a.time && $0 < b.time }.count
            if b.generation > a.generation, b.generation - a.generation - 1 <= UInt64(killedBetween) {
                unloggedCommitsOfKilledHolders += Int(b.generation - a.generation - 1)
                continue
            }
            commitOrderViolations.append(
                "generation \(a.generation) committed at \(a.time) was followed by generation \(b.generation) at \(b.time) (\(killedBetween) holders killed in between)")
        }
    }

    /// Index of the first value greater than `time` in a sorted array.
    private static func firstIndex(in sorted: [UInt64], after time: UInt64) -> Int? {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] > time { high = mid } else { low = mid + 1 }
        }
        return low < sorted.count ? low : nil
    }
}
