/// One line of the writer interval log (see `WriterIntervalLog`).
///
/// Times are `MonotonicClock` nanoseconds. `worker` is unique per process the
/// harness started; `slot` is the position the worker fills (a restarted refresher
/// keeps its slot, and an updater's counter is named after its slot).
public enum WriterRecord: Sendable, Equatable {
    /// Lock acquired. `attempt`: when the writer started trying (before calling
    /// the library), so `time - attempt` is the lock wait and an acquirer whose
    /// `attempt` precedes the previous holder's exit was waiting for it.
    case enter(time: UInt64, attempt: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole, operation: Int)
    /// About to release the lock. `committed`: the commit succeeded, with the
    /// generation the library reported and the commit's duration as the writer
    /// measured it (payload handed over to commit returned).
    case exit(
        time: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole, operation: Int,
        committed: Bool, generation: UInt64, commitNanoseconds: UInt64)
    /// Gave up waiting for the lock (lock timeout).
    case timeout(time: UInt64, attempt: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole)
    /// An operation failed for another reason (details on the worker's stderr).
    case failure(time: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole)
    /// One whole CLI refresh (`metacache cache refresh` as a process): started at
    /// `attempt`, exited at `time` with `exitCode`. `child` is the `metacache`
    /// process's pid (as its `--events` lines name it) and `sequence` the payload
    /// it was given, so a committed generation can be traced to its payload.
    case cliRefresh(
        time: UInt64, attempt: UInt64, pid: Int32, worker: Int, slot: Int, exitCode: Int32, child: Int32, sequence: UInt64)
    /// The worker finished all its work and is about to exit normally.
    case done(time: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole)
    /// The hold ended without a commit: the library released the lock after an
    /// error before any commit was attempted (a read under the lock that failed,
    /// a fetch that threw). Written after the release, when the instant the hold
    /// ended is no longer known, so the analysis ends the hold at its `enter`.
    case released(time: UInt64, pid: Int32, worker: Int, slot: Int, role: WriterRole)
    /// The writer's store removed the temp file `name` while holding the lock (a
    /// writer that died mid-commit left it; only a kill can explain one).
    case swept(time: UInt64, pid: Int32, worker: Int, name: String)
    /// Coordinator: about to SIGKILL `pid` (kill chaos).
    case kill(time: UInt64, pid: Int32, worker: Int, slot: Int)
    /// Coordinator: about to SIGKILL `pid` because the run stalled or was
    /// interrupted and the worker did not stop by itself in time. Ends its hold
    /// like a kill, but is not one of kill chaos's kills.
    case abort(time: UInt64, pid: Int32, worker: Int, slot: Int)
    /// Coordinator: committed the initial payload with this generation.
    case seed(time: UInt64, generation: UInt64)
    /// Coordinator: the run's measured phase ended.
    case stop(time: UInt64)

    public var time: UInt64 {
        switch self {
        case let .enter(t, _, _, _, _, _, _), let .exit(t, _, _, _, _, _, _, _, _), let .timeout(t, _, _, _, _, _),
            let .failure(t, _, _, _, _), let .cliRefresh(t, _, _, _, _, _, _, _), let .done(t, _, _, _, _),
            let .released(t, _, _, _, _), let .swept(t, _, _, _), let .kill(t, _, _, _), let .abort(t, _, _, _),
            let .seed(t, _), let .stop(t):
            t
        }
    }

    /// The line, newline included.
    public var line: String {
        switch self {
        case let .enter(t, a, pid, w, s, r, op): "enter \(t) \(a) \(pid) \(w) \(s) \(r.rawValue) \(op)\n"
        case let .exit(t, pid, w, s, r, op, c, g, ns): "exit \(t) \(pid) \(w) \(s) \(r.rawValue) \(op) \(c ? 1 : 0) \(g) \(ns)\n"
        case let .timeout(t, a, pid, w, s, r): "timeout \(t) \(a) \(pid) \(w) \(s) \(r.rawValue)\n"
        case let .failure(t, pid, w, s, r): "failure \(t) \(pid) \(w) \(s) \(r.rawValue)\n"
        case let .cliRefresh(t, a, pid, w, s, code, child, seq): "cli-refresh \(t) \(a) \(pid) \(w) \(s) \(code) \(child) \(seq)\n"
        case let .done(t, pid, w, s, r): "done \(t) \(pid) \(w) \(s) \(r.rawValue)\n"
        case let .released(t, pid, w, s, r): "released \(t) \(pid) \(w) \(s) \(r.rawValue)\n"
        case let .swept(t, pid, w, name): "swept \(t) \(pid) \(w) \(name)\n"
        case let .kill(t, pid, w, s): "kill \(t) \(pid) \(w) \(s)\n"
        case let .abort(t, pid, w, s): "abort \(t) \(pid) \(w) \(s)\n"
        case let .seed(t, g): "seed \(t) \(g)\n"
        case let .stop(t): "stop \(t)\n"
        }
    }

    /// Parses one line (without its newline); nil if malformed.
    public init?(line: Substring) {
        let f = line.split(separator: " ")
        guard let kind = f.first else { return nil }
        func u(_ i: Int) -> UInt64? { i < f.count ? UInt64(f[i]) : nil }
        func n(_ i: Int) -> Int? { i < f.count ? Int(f[i]) : nil }
        func p(_ i: Int) -> Int32? { i < f.count ? Int32(f[i]) : nil }
        func r(_ i: Int) -> WriterRole? { i < f.count ? WriterRole(rawValue: String(f[i])) : nil }
        switch kind {
        case "enter":
            guard f.count == 8, let t = u(1), let a = u(2), let pid = p(3), let w = n(4), let s = n(5), let role = r(6),
                let op = n(7)
            else { return nil }
            self = .enter(time: t, attempt: a, pid: pid, worker: w, slot: s, role: role, operation: op)
        case "exit":
            guard f.count == 10, let t = u(1), let pid = p(2), let w = n(3), let s = n(4), let role = r(5), let op = n(6),
                let c = n(7), let g = u(8), let ns = u(9)
            else { return nil }
            self = .exit(
                time: t, pid: pid, worker: w, slot: s, role: role, operation: op, committed: c == 1, generation: g,
                commitNanoseconds: ns)
        case "timeout":
            guard f.count == 7, let t = u(1), let a = u(2), let pid = p(3), let w = n(4), let s = n(5), let role = r(6)
            else { return nil }
            self = .timeout(time: t, attempt: a, pid: pid, worker: w, slot: s, role: role)
        case "failure":
            guard f.count == 6, let t = u(1), let pid = p(2), let w = n(3), let s = n(4), let role = r(5) else { return nil }
            self = .failure(time: t, pid: pid, worker: w, slot: s, role: role)
        case "cli-refresh":
            guard f.count == 9, let t = u(1), let a = u(2), let pid = p(3), let w = n(4), let s = n(5), let code = p(6),
                let child = p(7), let seq = u(8)
            else { return nil }
            self = .cliRefresh(time: t, attempt: a, pid: pid, worker: w, slot: s, exitCode: code, child: child, sequence: seq)
        case "done":
            guard f.count == 6, let t = u(1), let pid = p(2), let w = n(3), let s = n(4), let role = r(5) else { return nil }
            self = .done(time: t, pid: pid, worker: w, slot: s, role: role)
        case "released":
            guard f.count == 6, let t = u(1), let pid = p(2), let w = n(3), let s = n(4), let role = r(5) else { return nil }
            self = .released(time: t, pid: pid, worker: w, slot: s, role: role)
        case "swept":
            // A temp name has no spaces (the harness's cache name is "metadata").
            guard f.count == 5, let t = u(1), let pid = p(2), let w = n(3) else { return nil }
            self = .swept(time: t, pid: pid, worker: w, name: String(f[4]))
        case "kill", "abort":
            guard f.count == 5, let t = u(1), let pid = p(2), let w = n(3), let s = n(4) else { return nil }
            self = kind == "kill" ? .kill(time: t, pid: pid, worker: w, slot: s) : .abort(time: t, pid: pid, worker: w, slot: s)
        case "seed":
            guard f.count == 3, let t = u(1), let g = u(2) else { return nil }
            self = .seed(time: t, generation: g)
        case "stop":
            guard f.count == 2, let t = u(1) else { return nil }
            self = .stop(time: t)
        default:
            return nil
        }
    }
}
