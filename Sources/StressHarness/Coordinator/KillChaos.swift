/// Chooses when and whom `--kill-writers-every` kills.
///
/// Guarantee: a kill is due every `interval` and lands only on a refresher that
/// the interval log shows holding the lock at that moment (it has logged `enter`
/// and not yet `exit`) — a writer killed mid-refresh, never an idle one, never an
/// updater (whose counter must stay exact) — chosen with the run's seeded
/// generator. If no refresher holds the lock when a kill is due, the kill waits
/// until one does.
package struct KillChaos {
    package struct Holder: Equatable, Sendable {
        package var pid: Int32
        package var role: WriterRole
    }

    package let intervalNanoseconds: UInt64
    package private(set) var nextKill: UInt64
    private var random: SeededGenerator
    /// Open intervals by pid, from the log.
    package private(set) var holders: [Int32: Holder] = [:]

    package init(intervalMilliseconds: Int, start: UInt64, seed: UInt64) {
        intervalNanoseconds = UInt64(intervalMilliseconds) * 1_000_000
        nextKill = start + intervalNanoseconds
        random = SeededGenerator(seed: seed ^ 0x6B69_6C6C)
    }

    /// Follows the log: who holds the lock now.
    package mutating func observe(_ records: [WriterRecord]) {
        for record in records {
            switch record {
            case let .enter(_, _, pid, _, _, role, _): holders[pid] = Holder(pid: pid, role: role)
            case let .exit(_, pid, _, _, _, _, _, _, _): holders[pid] = nil
            case let .kill(_, pid, _, _): holders[pid] = nil
            default: break
            }
        }
    }

    /// The pid to kill now, if a kill is due and a refresher holds the lock.
    package mutating func victim(now: UInt64, isOurs: (Int32) -> Bool) -> Int32? {
        guard now >= nextKill else { return nil }
        let candidates = holders.values.filter { $0.role == .refresher && isOurs($0.pid) }.map(\.pid).sorted()
        return candidates.randomElement(using: &random)
    }

    /// Schedules the next kill one interval after this one.
    package mutating func killed(pid: Int32, at time: UInt64) {
        holders[pid] = nil
        nextKill = time + intervalNanoseconds
    }
}
