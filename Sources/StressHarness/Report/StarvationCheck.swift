/// Makes an unfair lock visible: warns when a role gets the lock far less often
/// than its share of the writers (by acquisitions, killed holds included, so
/// kill chaos — which kills refreshers' holds on purpose — is not mistaken for
/// starvation), when one worker of a role makes far fewer commits than its
/// role's fair share, or when kill chaos finds refreshers holding the lock far
/// less often than its kills fall due.
///
/// Guarantee: a warning, never a violation (an unfair lock breaks no invariant,
/// but it decides what a comparison of backends means); raised only with enough
/// commits to judge (`minimumCommits`), and only below a quarter of the fair
/// share (`ratio`), so an ordinary run's scatter does not raise one. Each warning
/// names the role, its share of the writers and of the commits, the counts, and
/// its longest lock wait.
package enum StarvationCheck {
    /// Below this fraction of its fair share, a role or worker is starved.
    package static let ratio = 0.25
    /// Fewer commits than this (in the role, or in all) prove nothing either way.
    package static let minimumCommits = 20
    /// Fewer kills due than this prove nothing either way.
    package static let minimumKillsDue = 8

    package static func warnings(
        roles: RoleSummaries, backend: String, killsDue: Int?, killsLanded: Int
    ) -> [String] {
        var out: [String] = []
        let writerRoles = [("refreshers", "refresher", roles.refreshers), ("updaters", "updater", roles.updaters)]
            .filter { $0.2.workers > 0 }
        let total = writerRoles.reduce(0) { $0 + $1.2.commits }
        let acquisitions = writerRoles.reduce(0) { $0 + $1.2.acquisitions }
        if writerRoles.count > 1, acquisitions >= minimumCommits {
            for (name, _, role) in writerRoles {
                guard let workers = role.shareOfWriters, let got = role.shareOfAcquisitions, got < workers * ratio else { continue }
                out.append(
                    "starvation: \(name) are \(percent(workers)) of the writers but got the lock \(percent(got)) of the time "
                        + "(\(role.acquisitions) of \(acquisitions) acquisitions) and made \(role.commits) of \(total) commits; "
                        + "their longest lock wait was \(wait(role)) (backend \(backend))")
            }
        }
        for (_, singular, role) in writerRoles where role.workers > 1 && role.commits >= minimumCommits {
            let fair = Double(role.commits) / Double(role.workers)
            for (slot, commits) in role.commitsPerSlot.enumerated() where Double(commits) < fair * ratio {
                out.append(
                    "starvation: \(singular) \(slot) made \(commits) of its role's \(role.commits) commits (a fair share is \(Int(fair.rounded()))); "
                        + "the role's longest lock wait was \(wait(role)) (backend \(backend))")
            }
        }
        if let due = killsDue, due >= minimumKillsDue, Double(killsLanded) < Double(due) * ratio {
            out.append(
                "starvation: kill chaos landed \(killsLanded) of ~\(due) kills due: refreshers seldom held the lock "
                    + "(\(roles.refreshers.shareOfCommits.map(percent) ?? "no share") of the commits, backend \(backend))")
        }
        return out
    }

    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return (p >= 10 ? String(Int(p.rounded())) : String((p * 10).rounded() / 10)) + " %"
    }

    static func wait(_ role: RoleSummary) -> String {
        guard let micros = role.lockWaitMicros.max else { return "-" }
        return micros >= 1_000_000 ? "\(String(format2: micros / 1_000_000)) s" : "\(String(format2: micros / 1000)) ms"
    }
}
