/// Test-only: defects the lock-file backend once had, switched back on one at a
/// time, so that each test of a safety property can show that it catches the
/// defect it guards against (a test that passes whatever the code does proves
/// nothing).
///
/// Package access only: a host cannot set it, and the default (empty) changes
/// nothing. The test agent sets it from `--sabotage NAME`.
package struct LockFileSabotage: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Version 1's identity: a holder whose host *name* equals ours is judged by
    /// its pid alone (`kill(pid, 0)` and start time), whatever its pid namespace
    /// or boot; any other holder's lease by its owner file's mtime against our
    /// wall clock.
    package static let hostNameIdentity = LockFileSabotage(rawValue: 1 << 0)
    /// Breakers do not serialise on a claim: two of them may each replace the
    /// stale owner file they judged, the second replacing the first's new one.
    package static let unserialisedBreaks = LockFileSabotage(rawValue: 1 << 1)
    /// Version 1's sweep: holding the lock, every temp file counts as an orphan,
    /// even where only owner files exclude writers and a holder stopped past its
    /// lease may still be inside its commit.
    package static let sweepEveryTemp = LockFileSabotage(rawValue: 1 << 2)

    /// The names the test agent accepts.
    package static let byName: [String: LockFileSabotage] = [
        "host-name-identity": .hostNameIdentity, "unserialised-breaks": .unserialisedBreaks,
        "sweep-every-temp": .sweepEveryTemp,
    ]
}
