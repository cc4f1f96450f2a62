import MetadataCache
import StressHarness
import Testing

/// The `--use-cli` exclusion and commit-order checks, on events files whose
/// answer is known. The lines are the library's own `jsonLine`, so a renamed
/// event or field fails here rather than silently disabling a check.
@Suite struct CLICommitEventsTests {
    static func acquired(_ pid: Int32) -> String {
        CacheEvent.lockAcquired(lockPath: "/c/metadata.lock", backend: .advisory, waited: .milliseconds(2)).jsonLine(pid: pid)
    }
    static func committed(_ pid: Int32, _ generation: UInt64) -> String {
        CacheEvent.commitSucceeded(path: "/c/metadata.json", generation: generation, bytes: 10, duration: .milliseconds(1), renameRetries: 0)
            .jsonLine(pid: pid)
    }
    static func failed(_ pid: Int32) -> String {
        CacheEvent.commitFailed(path: "/c/metadata.json", error: .cancelled(lockPath: "/c/metadata.lock", waited: .zero), renameRetries: 0)
            .jsonLine(pid: pid)
    }
    static func released(_ pid: Int32) -> String {
        CacheEvent.lockReleased(lockPath: "/c/metadata.lock", heldFor: .milliseconds(3)).jsonLine(pid: pid)
    }
    static func events(_ lines: [String], seed: UInt64? = 1) -> CLICommitEvents {
        CLICommitEvents(text: lines.joined(separator: "\n") + "\n", seedGeneration: seed)
    }

    @Test func consecutiveHoldsAreClean() {
        let e = Self.events([
            Self.acquired(10), Self.committed(10, 2), Self.released(10),
            // A hold that committed nothing.
            Self.acquired(11), Self.released(11),
            // 13 acquires before 12's release line: that line is written after
            // the unlock, so this is an ordinary handover.
            Self.acquired(12), Self.committed(12, 3), Self.acquired(13), Self.released(12), Self.committed(13, 4), Self.released(13),
        ])
        #expect(e.overlaps.isEmpty, "\(e.overlaps)")
        #expect(e.commitOrderViolations.isEmpty, "\(e.commitOrderViolations)")
        #expect(e.unterminated.isEmpty)
        #expect(e.commits == 3)
        #expect(e.committed.map(\.generation) == [2, 3, 4])
        #expect(e.lockWait.count == 4)
        #expect(e.malformedLines == 0)
    }

    @Test func anAcquisitionBeforeTheHoldersCommitIsAnOverlap() {
        let e = Self.events([Self.acquired(10), Self.acquired(11), Self.committed(10, 2), Self.committed(11, 3)])
        #expect(e.overlaps.count == 1)
        #expect(e.overlaps.first?.contains("pid 11 acquired") == true, "\(e.overlaps)")
        #expect(e.overlaps.first?.contains("while pid 10 held") == true, "\(e.overlaps)")
    }

    @Test func aFailedCommitAlsoProvesTheHold() {
        let e = Self.events([Self.acquired(10), Self.acquired(11), Self.failed(10), Self.committed(11, 2)])
        #expect(e.overlaps.count == 1)
    }

    @Test func anAcquisitionBeforeAReleaseWithoutCommitProvesNothing() {
        let e = Self.events([Self.acquired(10), Self.acquired(11), Self.released(10), Self.committed(11, 2)])
        #expect(e.overlaps.isEmpty)
    }

    @Test func generationsMustRiseByOneFromTheSeed() {
        #expect(Self.events([Self.acquired(10), Self.committed(10, 3)]).commitOrderViolations.count == 1, "a gap after the seed")
        let repeated = Self.events([
            Self.acquired(10), Self.committed(10, 2), Self.released(10), Self.acquired(11), Self.committed(11, 2),
        ])
        #expect(repeated.commitOrderViolations.count == 1, "the same generation twice")
        #expect(repeated.overlaps.isEmpty, "in file order these holds did not overlap")
        let falling = Self.events([Self.committed(10, 2), Self.committed(11, 3), Self.committed(12, 2)])
        #expect(falling.commitOrderViolations.count == 1)
        #expect(Self.events([Self.committed(10, 7), Self.committed(11, 8)], seed: nil).commitOrderViolations.isEmpty)
    }

    @Test func aHolderThatNeverLogsAgainIsUnterminatedAndGarbageIsCounted() {
        let e = Self.events([Self.acquired(10), "{\"event\":\"lockAcq", Self.acquired(11), Self.committed(11, 2)])
        #expect(e.unterminated == [10])
        #expect(e.malformedLines == 1)
        #expect(e.overlaps.isEmpty, "pid 10 never proved it still held when 11 acquired")
    }

    @Test func waitsAcquisitionsAndSweptTempsAreCounted() {
        let waited = CacheEvent.lockWaitStarted(lockPath: "/c/metadata.lock", holder: nil, timeout: .infinite).jsonLine(pid: 11)
        let swept = CacheEvent.sweepRemoved(path: "/c/metadata.json.tmp-77-ab", reason: "temp file of a writer that died mid-commit")
            .jsonLine(pid: 11)
        let owner = CacheEvent.sweepRemoved(path: "/c/metadata.lock.owner", reason: "stale lock owner file").jsonLine(pid: 11)
        let e = Self.events([
            Self.acquired(10), waited, Self.committed(10, 2), Self.released(10), Self.acquired(11), swept, owner,
            Self.committed(11, 3),
        ])
        #expect(e.contendedWaits == 1)
        #expect(e.acquisitions == 2)
        #expect(e.sweptTemps == ["metadata.json.tmp-77-ab"], "an owner file is not a temp")
        #expect(e.malformedLines == 0)
    }
}
