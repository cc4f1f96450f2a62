import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// The freshness policy's verdicts, the backoff arithmetic and the failure
/// record's format (pure; the processes are in BackgroundRefreshReapingTests and
/// IntegrationTests/StaleWhileRevalidateTests).
@Suite struct FreshnessPolicyTests {
    @Test func decisionsFollowRefreshAfterAndMaxStale() {
        let policy = FreshnessPolicy(refreshAfter: .seconds(60), maxStale: .seconds(3600))
        #expect(policy.decision(forAge: nil) == .refreshInForeground)
        #expect(policy.decision(forAge: .seconds(60)) == .serveFresh)
        #expect(policy.decision(forAge: .seconds(61)) == .serveStale(offline: false))
        #expect(policy.decision(forAge: .seconds(3600)) == .serveStale(offline: false))
        #expect(policy.decision(forAge: .seconds(3601)) == .refreshInForeground)
        #expect(FreshnessPolicy(refreshAfter: .zero).decision(forAge: .seconds(1 << 40)) == .serveStale(offline: false),
                "no maxStale: any age is served")
        #expect(FreshnessPolicy.offline.decision(forAge: nil) == .missingOffline)
        #expect(FreshnessPolicy.offline.decision(forAge: .seconds(1 << 40)) == .serveFresh)
    }

    @Test func backoffDoublesFromOneMinuteToOneHourAndNeverOverflows() {
        let backoff = RefreshBackoff()
        let seconds = (1...9).map { backoff.delay(afterFailures: $0).components.seconds }
        #expect(seconds == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
        #expect(backoff.delay(afterFailures: 0) == .seconds(60))
        #expect(backoff.delay(afterFailures: .max) == .seconds(3600))
        let custom = RefreshBackoff(initial: .milliseconds(1500), maximum: .seconds(5))
        #expect((1...4).map { custom.delay(afterFailures: $0) } == [.milliseconds(1500), .seconds(3), .seconds(5), .seconds(5)])
        let huge = RefreshBackoff(initial: .seconds(Int64.max / 2), maximum: .seconds(Int64.max))
        #expect(huge.delay(afterFailures: 5) <= .seconds(Int64.max))
    }

    @Test func aRecordCountsAttemptsAndRoundTrips() throws {
        let first = RefreshFailureRecord.after(nil, error: "HTTP 503 \"x\"\n", now: 1_000_000, backoff: RefreshBackoff(), pid: 42)
        #expect(first.attempts == 1)
        #expect(first.nextAttemptAtMilliseconds == 1_060_000)
        #expect(first.isBackingOff(now: 1_059_999) && !first.isBackingOff(now: 1_060_000))
        let second = RefreshFailureRecord.after(first, error: "again", now: 2_000_000, backoff: RefreshBackoff(), pid: 43)
        #expect(second.attempts == 2 && second.nextAttemptAtMilliseconds == 2_120_000)
        #expect(RefreshFailureRecord.parse(first.encoded()) == first)
        let atTheEdge = RefreshFailureRecord.after(
            RefreshFailureRecord(attempts: .max, lastError: "", lastErrorAtMilliseconds: 0, nextAttemptAtMilliseconds: 0, pid: 1),
            error: "e", now: .max, backoff: RefreshBackoff(), pid: 1)
        #expect(atTheEdge.attempts == .max && atTheEdge.nextAttemptAtMilliseconds == .max, "saturates, never traps")
    }

    @Test func anythingButAWellFormedRecordCountsAsNone() {
        for text in ["", "{", "[]", "null", "{\"format\":2,\"attempts\":1,\"lastErrorAtMs\":0,\"nextAttemptAtMs\":0,\"lastError\":\"\"}",
                     "{\"format\":1,\"attempts\":0,\"lastErrorAtMs\":0,\"nextAttemptAtMs\":0,\"lastError\":\"\"}",
                     "{\"format\":1,\"attempts\":1,\"lastErrorAtMs\":1e999,\"nextAttemptAtMs\":0,\"lastError\":\"\"}",
                     "{\"format\":1,\"attempts\":99999999999999999999,\"lastErrorAtMs\":0,\"nextAttemptAtMs\":0,\"lastError\":\"\"}"] {
            #expect(RefreshFailureRecord.parse(Array(text.utf8)) == nil, "\(text)")
        }
    }
}

/// A host that lives on reaps the background refresh it started (no zombie while
/// it runs), and the marker, inherited by a program that knows nothing of it,
/// keeps a second start from starting anything while that program runs.
@Suite(.serialized, .dedicatedThread) struct BackgroundRefreshReapingTests {
    @Test func aLongLivedHostReapsItsBackgroundRefreshAndStartsOneAtATime() throws {
        let t = try TestStore("bg-reap")
        try t.store.update { _ in Data("{\"v\":1}".utf8) }
        // The "refresh" is `cat FIFO`: it runs until the test closes the FIFO's
        // write end, and knows nothing about the marker on its fd 3.
        let fifo = t.directory.path + "/refresh.fifo"
        try #require(mkfifo(fifo, 0o600) == 0)
        let host = try Agent.start(["start-background", "--dir", t.directory.path, "--", "/bin/cat", fifo])
        host.send("start\n")
        let started = try host.readLine(until: { $0.hasPrefix("STARTED") || $0.hasPrefix("SKIPPED") || $0.hasPrefix("ERROR") })
        let pid = try #require(Int32(started.dropFirst("STARTED pid=".count)), "\(started)")
        #expect(t.store.backgroundRefreshPID() == pid, "status names it")

        host.send("again\n")
        let second = try host.readLine(until: { $0.hasPrefix("STARTED") || $0.hasPrefix("SKIPPED") })
        #expect(second == "SKIPPED reason=a background refresh is already running", "the inherited marker is held")

        // Opening blocks until cat has opened its end; closing lets cat finish.
        let writer = open(fifo, O_WRONLY)
        try #require(writer >= 0)
        close(writer)
        // The host stays alive; its reaper thread must collect the exit status, so
        // the pid disappears instead of lingering as the host's zombie.
        #expect(StaleWaits.eventually { !FileManager.default.fileExists(atPath: "/proc/\(pid)") },
                "pid \(pid) reaped by the host that started it")
        #expect(t.store.backgroundRefreshPID() == nil, "the marker died with the process")
        host.send("third\n")
        let third = try host.readLine(until: { $0.hasPrefix("STARTED") || $0.hasPrefix("SKIPPED") })
        #expect(third.hasPrefix("STARTED"), "\(third)")
        host.closeStdin()
        #expect(try host.readLine(until: { $0 == "DONE" }) == "DONE")
        #expect(try host.wait() == .exited(0))
    }
}

enum StaleWaits {
    /// Polls `condition` (the event), pacing the checks; false after `timeout`.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(2)
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            var ts = timespec(tv_sec: 0, tv_nsec: Int(pause.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
            pause = min(pause * 2, .milliseconds(50))
        }
        return true
    }
}

/// `CacheStore.read(policy:)` and the failure memory of `refresh`, in process.
@Suite(.serialized, .dedicatedThread) struct FreshnessReadTests {
    struct SourceDown: Error, CustomStringConvertible {
        var description: String { "HTTP 503 from the test" }
    }

    @Test func aMissingCacheIsRefreshedInTheForegroundAndAStaleOneServedAtOnce() async throws {
        let t = try TestStore("policy-missing")
        let policy = FreshnessPolicy(refreshAfter: .seconds(60))
        let store = t.store
        let first = try await store.read(policy: policy, background: nil) {
            _ = try await store.refresh { _ in .payload(samplePayload, source: "s") }
        }
        #expect(first?.served == .fresh)
        #expect(first?.snapshot.payload == samplePayload)

        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -600))
        let stale = try await store.read(policy: policy, background: nil) {
            Issue.record("a stale cache within maxStale is not refreshed in the foreground")
        }
        guard case let .stale(age)? = stale?.served else {
            Issue.record("expected stale, got \(String(describing: stale?.served))")
            return
        }
        #expect(age >= .seconds(600))
        #expect(stale?.backgroundRefresh == nil, "no command given, nothing started")
    }

    @Test func staleIfErrorServesAFailedForegroundRefreshAndOnlyWithinItsLimit() async throws {
        let t = try TestStore("policy-error")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -600))
        let store = t.store
        let covered = FreshnessPolicy(refreshAfter: .seconds(60), maxStale: .seconds(120), staleIfError: .seconds(3600))
        let served = try await store.read(policy: covered, background: nil) { throw SourceDown() }
        guard case let .staleAfterError(age, error)? = served?.served else {
            Issue.record("expected staleAfterError, got \(String(describing: served?.served))")
            return
        }
        #expect(age >= .seconds(600) && error == "HTTP 503 from the test")
        await #expect(throws: CancellationError.self, "a cancelled refresh is not served stale: the user stopped it") {
            _ = try await store.read(policy: covered, background: nil) { throw CancellationError() }
        }
        let tooOld = FreshnessPolicy(refreshAfter: .seconds(60), maxStale: .seconds(120), staleIfError: .seconds(300))
        await #expect(throws: SourceDown.self) {
            _ = try await store.read(policy: tooOld, background: nil) { throw SourceDown() }
        }
    }

    @Test func offlineNeverCallsTheRefreshAndReturnsNilWithoutACache() async throws {
        let t = try TestStore("policy-offline")
        let store = t.store
        let none = try await store.read(policy: .offline, background: nil) { Issue.record("offline fetched") }
        #expect(none == nil)
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -86_400 * 365))
        let old = try await store.read(policy: .offline, background: nil) { Issue.record("offline fetched") }
        #expect(old?.snapshot.payload == samplePayload)
    }

    /// A failure record's temp file left by a writer killed mid-write is swept like
    /// a commit's (the first writer of a store instance sweeps under the lock).
    @Test func anOrphanedFailureRecordTempIsSwept() throws {
        let t = try TestStore("failure-temp-sweep")
        let orphan = t.directory.path + "/metadata.refresh-failure.json.new-999999-0123456789abcdef"
        try Data("{".utf8).write(to: URL(fileURLWithPath: orphan))
        #expect(try t.store.status().orphanTemps == [orphan], "status lists it")
        try t.store.update { _ in samplePayload }
        #expect(!FileManager.default.fileExists(atPath: orphan))
    }

    /// The failure memory: one record per failed attempt (attempts counted under
    /// the lock), the configured backoff, nothing for a cancellation, cleared by
    /// a success.
    @Test func refreshRecordsFailuresWithBackoffAndASuccessClearsThem() async throws {
        let t = try TestStore("failure-memory") { $0.refreshBackoff = RefreshBackoff(initial: .seconds(5), maximum: .seconds(12)) }
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -600))
        let store = t.store
        #expect(store.refreshFailure() == nil)
        for attempt in 1...3 {
            await #expect(throws: MetadataCacheError.self) { _ = try await store.refresh { _ in throw SourceDown() } }
            let record = try #require(store.refreshFailure())
            #expect(record.attempts == attempt)
            #expect(record.lastError == "HTTP 503 from the test")
            #expect(record.nextAttemptAtMilliseconds - record.lastErrorAtMilliseconds == [5_000, 10_000, 12_000][attempt - 1])
        }
        // A fetch ended by cancellation (the host's Ctrl-C) records nothing.
        await #expect(throws: MetadataCacheError.self) { _ = try await store.refresh { _ in throw CancellationError() } }
        #expect(store.refreshFailure()?.attempts == 3, "a cancelled refresh is not a failure of the source")
        #expect(try store.status().refreshFailure?.attempts == 3)

        _ = try await store.refresh { _ in .payload(samplePayload, source: "s") }
        #expect(store.refreshFailure() == nil, "a success clears the record")
        #expect(!FileManager.default.fileExists(atPath: store.layout.refreshFailurePath))
    }
}
