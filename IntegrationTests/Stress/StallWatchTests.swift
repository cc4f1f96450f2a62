import StressHarness
import Testing

/// When the coordinator gives up on a run: never for readers alone, and for
/// writers only after a lock timeout plus a minute of silence in the log.
@Suite struct StallWatchTests {
    static let second: UInt64 = 1_000_000_000

    @Test func aReadersOnlyRunNeverStallsHoweverLongItRuns() {
        let watch = StallWatch(writerSlots: 0, lockTimeoutSeconds: 10, start: 0)
        #expect(watch.stall(now: 100 * Self.second) == nil)
        #expect(watch.stall(now: 86_400 * Self.second) == nil)
    }

    @Test func writersStallAfterTheLockTimeoutPlusAMinuteOfSilence() {
        var watch = StallWatch(writerSlots: 2, lockTimeoutSeconds: 10, start: 0)
        #expect(watch.stall(now: 70 * Self.second) == nil, "exactly the limit is not yet a stall")
        #expect(watch.stall(now: 71 * Self.second) == 71 * Self.second)
        watch.progressed(at: 65 * Self.second)
        #expect(watch.stall(now: 71 * Self.second) == nil, "a record at 65 s restarts the count")
        #expect(watch.stall(now: 136 * Self.second) == 71 * Self.second)
    }

    @Test func anInfiniteLockTimeoutWaitsNineMinutesAndOne() {
        let watch = StallWatch(writerSlots: 1, lockTimeoutSeconds: nil, start: 5 * Self.second)
        #expect(watch.stall(now: 605 * Self.second) == nil)
        #expect(watch.stall(now: 606 * Self.second) != nil)
    }

    @Test func theSelfTestsOverrideShortensTheLimit() {
        var watch = StallWatch(writerSlots: 1, lockTimeoutSeconds: nil, limitSeconds: 1.5, start: 0)
        #expect(watch.limit == 1_500_000_000)
        #expect(watch.stall(now: Self.second) == nil)
        #expect(watch.stall(now: 2 * Self.second) == 2 * Self.second)
        watch.progressed(at: 2 * Self.second)
        #expect(watch.stall(now: 3 * Self.second) == nil)
    }
}
