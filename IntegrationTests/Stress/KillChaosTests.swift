import StressHarness
import Testing

/// Whom and when kill chaos kills: only a refresher that holds the lock, only
/// when a kill is due, never an updater or a process that is not the run's.
@Suite struct KillChaosTests {
    static func enter(_ pid: Int32, role: WriterRole = .refresher) -> WriterRecord {
        .enter(time: 1, attempt: 1, pid: pid, worker: Int(pid), slot: 0, role: role, operation: 1)
    }
    static func exit(_ pid: Int32, role: WriterRole = .refresher) -> WriterRecord {
        .exit(time: 2, pid: pid, worker: Int(pid), slot: 0, role: role, operation: 1, committed: true, generation: 2,
            commitNanoseconds: 1)
    }

    @Test func aKillWaitsUntilItIsDueAndForARefresherHoldingTheLock() {
        var chaos = KillChaos(intervalMilliseconds: 100, start: 0, seed: 1)
        chaos.observe([Self.enter(10)])
        #expect(chaos.victim(now: 99_999_999, isOurs: { _ in true }) == nil, "not due yet")
        #expect(chaos.victim(now: 100_000_000, isOurs: { _ in true }) == 10)
        chaos.observe([Self.exit(10)])
        #expect(chaos.victim(now: 100_000_000, isOurs: { _ in true }) == nil, "nobody holds the lock")
    }

    @Test func updatersAndOtherProcessesAreNeverChosen() {
        var chaos = KillChaos(intervalMilliseconds: 1, start: 0, seed: 1)
        chaos.observe([Self.enter(20, role: .updater)])
        #expect(chaos.victim(now: .max, isOurs: { _ in true }) == nil, "an updater's counter must stay exact")
        chaos.observe([Self.exit(20, role: .updater), Self.enter(30)])
        #expect(chaos.victim(now: .max, isOurs: { $0 != 30 }) == nil, "not one of the run's current workers")
        #expect(chaos.victim(now: .max, isOurs: { _ in true }) == 30)
    }

    @Test func aKillSchedulesTheNextOneIntervalLaterAndForgetsTheVictim() {
        var chaos = KillChaos(intervalMilliseconds: 100, start: 0, seed: 1)
        chaos.observe([Self.enter(10)])
        chaos.killed(pid: 10, at: 150_000_000)
        #expect(chaos.nextKill == 250_000_000)
        #expect(chaos.holders.isEmpty)
        chaos.observe([Self.enter(11), .kill(time: 3, pid: 11, worker: 11, slot: 0)])
        #expect(chaos.holders.isEmpty, "a kill record ends the hold")
    }
}
