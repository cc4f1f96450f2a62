#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// `cache read --refresh-after` (issue 13): a stale cache is served at once and
/// refreshed by one detached background process, however many readers find it
/// stale; failures are remembered and back off; SIGKILL of the background refresh
/// leaves the old or the new cache.
///
/// Every pid checked here is one this test learnt (the `metacache` it started, or
/// the background refresh's pid from the events file): nothing looks at this test
/// process's children as a whole, which other suites share.
@Suite struct StaleWhileRevalidateTests {
    /// A catalogue server: the first request is answered at once (it populates the
    /// cache); later ones as `later` says, each with a payload of its own seed.
    final class CatalogueServer: @unchecked Sendable {
        let server: LoopbackHTTPServer
        let gate = LoopbackHTTPServer.Gate()
        let first = sampleCatalogue(entries: 12, seed: 0)

        enum Later { case stalledUntilGateOpens, trickle, failing, failingThenOK }

        init(later: Later) throws {
            let gate = self.gate
            let first = self.first
            let count = Counter()
            let recovered = Flag()
            self.recovered = recovered
            server = try LoopbackHTTPServer { _ in
                let n = count.next()
                if n == 1 { return .respond(status: 200, headers: [("Content-Type", "application/json")], body: first) }
                let body = sampleCatalogue(entries: 12, seed: n)
                switch later {
                case .stalledUntilGateOpens:
                    return .stall(until: gate, then: .respond(status: 200, body: body))
                case .trickle:
                    return .trickle(status: 200, body: body, chunks: 8, interval: .milliseconds(50))
                case .failing, .failingThenOK:
                    if recovered.isSet { return .respond(status: 200, body: body) }
                    return .respond(status: 503, body: Array("down for maintenance".utf8))
                }
            }
        }

        let recovered: Flag
        var url: String { server.url("/catalog.json") }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
        func set() { lock.lock(); value = true; lock.unlock() }
    }

    struct Fixture {
        let directory = TemporaryDirectory("swr")
        var cacheDir: String { directory.file("cache") }
        var events: String { directory.file("events.jsonl") }

        func populate(from url: String) throws {
            let result = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url])
            try #require(result.exitCode == 0, "populating the cache failed: \(result.summary)")
        }

        func staleReadArguments(_ url: String, extra: [String] = []) -> [String] {
            ["cache", "read", "--dir", cacheDir, "--refresh-after", "0s", "--source", url, "--events", events] + extra
        }

        /// The events file's lines as objects (empty before the first).
        func eventLines() -> [[String: Any]] {
            guard let data = FileManager.default.contents(atPath: events) else { return [] }
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        func events(named name: String) -> [[String: Any]] { eventLines().filter { $0["event"] as? String == name } }

        func status() throws -> [String: Any] {
            let result = try Metacache.run(["cache", "status", "--json", "--dir", cacheDir])
            try #require(result.exitCode == 0, "\(result.summary)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        }

        func payload() throws -> [UInt8] {
            let result = try Metacache.run(["cache", "read", "--dir", cacheDir])
            try #require(result.exitCode == 0, "\(result.summary)")
            return result.stdout
        }
    }

    /// Polls `condition` until it holds, pacing the checks (the pause paces, it
    /// does not synchronise: the condition is the event). False after `timeout`.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(2)
        while true {
            if try condition() { return true }
            if ContinuousClock.now > deadline { return false }
            var ts = timespec(tv_sec: 0, tv_nsec: Int(pause.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// `/proc/PID/stat`: state, parent, process group, session, controlling tty.
    struct ProcessStat {
        let state: Character
        let parent: Int32
        let group: Int32
        let session: Int32
        let tty: Int32

        init?(pid: Int32) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            // The command name is in parentheses and may contain spaces.
            guard let close = text.lastIndex(of: ")") else { return nil }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 4, let state = fields[0].first, let parent = Int32(fields[1]), let group = Int32(fields[2]),
                let session = Int32(fields[3]), let tty = Int32(fields[4])
            else { return nil }
            (self.state, self.parent, self.group, self.session, self.tty) = (state, parent, group, session, tty)
        }
    }

    /// Whether `pid` (a process this test learnt about) has exited: gone, or a
    /// zombie awaiting its (new) parent's wait.
    static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = ProcessStat(pid: pid) else { return true }
        return stat.state == "Z" || stat.state == "X"
    }

    static func backgroundPIDs(_ fixture: Fixture) -> [Int32] {
        fixture.events(named: "backgroundRefreshStarted").compactMap { ($0["backgroundPid"] as? Int).map(Int32.init) }
    }

    // MARK: Coalescing

    /// The issue's test: 32 concurrent stale reads, a server that does not answer
    /// until the test says so. All 32 print the old payload and exit while the
    /// fetch is still stalled (so none waited for the server), exactly one
    /// background refresh starts and the server sees exactly one request; once it
    /// answers, the cache holds the new generation.
    @Test func thirtyTwoConcurrentStaleReadsStartExactlyOneFetch() throws {
        let source = try CatalogueServer(later: .stalledUntilGateOpens)
        let fixture = Fixture()
        try fixture.populate(from: source.url)
        #expect(source.server.requests.count == 1)

        let readers = try (0..<32).map { _ in
            try ChildProcess(
                Metacache.path, fixture.staleReadArguments(source.url), environment: Metacache.environment(),
                stdout: .captured, stderr: .captured)
        }
        for reader in readers {
            let termination = try reader.wait(timeout: .seconds(120))
            #expect(termination == .exited(0), "\(reader.command): \(reader.standardError)")
            #expect(FileBytes(reader.standardOutput) == FileBytes(source.first), "every reader prints the old payload")
            #expect(reader.standardError.contains("warning: serving a stale cache"), "\(reader.standardError)")
            #expect(!reader.standardOutputText.contains("warning"), "the warning is on stderr only")
        }
        // Every reader has exited and the only fetch is still stalled: nobody waited.
        #expect(source.server.waitForRequests(2, timeout: .seconds(60)), "the background refresh reached the server")
        #expect(source.server.requests.count == 2, "one fetch for 32 stale readers (plus the populating one)")
        let started = Self.backgroundPIDs(fixture)
        #expect(started.count == 1, "exactly one background refresh: \(started)")
        #expect(fixture.events(named: "backgroundRefreshSkipped").count == 31)
        #expect(try fixture.status()["generation"] as? Int == 1, "the stalled fetch has committed nothing yet")

        source.gate.open()
        let pid = try #require(started.first)
        #expect(Self.eventually { fixture.events(named: "commitSucceeded").contains { $0["pid"] as? Int == Int(pid) } },
                "the background refresh commits once the server answers")
        #expect(Self.eventually { Self.hasExited(pid) }, "and then exits")
        #expect(try fixture.status()["generation"] as? Int == 2)
        #expect(FileBytes(try fixture.payload()) == FileBytes(sampleCatalogue(entries: 12, seed: 2)))
        #expect(source.server.requests.count == 2, "still exactly one background fetch")
    }

    // MARK: Detachment

    /// The reader exits at once; the refresh it started outlives it, in a session
    /// and process group of its own with no controlling terminal and stdio on
    /// /dev/null, reparented away from the exited reader (so the reader leaves no
    /// zombie: nothing of it waits for a wait that will never come), and finishes
    /// the refresh after the reader is gone.
    @Test func theReaderExitsAtOnceAndTheDetachedRefreshFinishesAfterIt() throws {
        let source = try CatalogueServer(later: .stalledUntilGateOpens)
        let fixture = Fixture()
        try fixture.populate(from: source.url)

        let reader = try ChildProcess(
            Metacache.path, fixture.staleReadArguments(source.url), environment: Metacache.environment(),
            stdout: .captured, stderr: .captured)
        #expect(try reader.wait(timeout: .seconds(60)) == .exited(0), "\(reader.standardError)")
        let readerPID = reader.pid
        #expect(source.server.waitForRequests(2, timeout: .seconds(60)), "the background refresh is fetching")
        let pid = try #require(Self.backgroundPIDs(fixture).first)
        #expect(pid != readerPID)

        let stat = try #require(ProcessStat(pid: pid), "the background refresh is still running after the reader exited")
        #expect(stat.state != "Z", "alive, not a zombie")
        #expect(stat.parent != readerPID, "reparented: the exited reader is not its parent")
        #expect(stat.session == pid && stat.group == pid, "its own session and process group: \(stat)")
        #expect(stat.tty == 0, "no controlling terminal")
        for fd in 0...2 {
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
            #expect(target == "/dev/null", "fd \(fd) → \(target ?? "?")")
        }
        #expect(try fixture.status()["backgroundRefreshPID"] as? Int == Int(pid), "status names the running refresh")

        source.gate.open()
        #expect(Self.eventually { Self.hasExited(pid) })
        #expect(try fixture.status()["generation"] as? Int == 2, "the refresh finished after its parent had exited")
        #expect(try fixture.status()["backgroundRefreshPID"] is NSNull, "nothing runs any more")
    }

    // MARK: SIGKILL

    /// SIGKILL of the background refresh at random points of a slow download and
    /// commit: the cache verifies and is the old or a new payload every time, the
    /// marker dies with the process, and the next read starts a new refresh.
    @Test func sigkillOfTheBackgroundRefreshLeavesOldOrNewAndTheNextReadStartsAnother() throws {
        let source = try CatalogueServer(later: .trickle)
        let fixture = Fixture()
        try fixture.populate(from: source.url)
        var known = [FileBytes(source.first)] + (2...40).map { FileBytes(sampleCatalogue(entries: 12, seed: $0)) }
        known.append(FileBytes(source.first))
        var generator = SystemRandomNumberGenerator()

        for round in 1...8 {
            let before = Self.backgroundPIDs(fixture).count
            let reader = try Metacache.run(fixture.staleReadArguments(source.url))
            #expect(reader.exitCode == 0, "\(reader.summary)")
            let pids = Self.backgroundPIDs(fixture)
            #expect(pids.count == before + 1, "round \(round): the read started a new refresh (\(reader.stderr))")
            guard let pid = pids.last else { continue }
            // A random point: the download trickles for ~400 ms, then the commit.
            var pause = timespec(tv_sec: 0, tv_nsec: Int.random(in: 0..<600_000_000, using: &generator))
            nanosleep(&pause, nil)
            kill(pid, SIGKILL)
            #expect(Self.eventually { Self.hasExited(pid) }, "round \(round): pid \(pid) ended")

            let verify = try Metacache.run(["cache", "verify", "--dir", fixture.cacheDir])
            #expect(verify.exitCode == 0, "round \(round): \(verify.summary)")
            let payload = FileBytes(try fixture.payload())
            #expect(known.contains(payload), "round \(round): the old or a served payload, never anything else")
            #expect(try fixture.status()["backgroundRefreshPID"] is NSNull, "round \(round): the marker died with the process")
        }
    }

    // MARK: Failure memory and backoff

    /// The source is down: every read still serves the stale copy (exit 0, a
    /// warning), each failed attempt is recorded once, and reads during the
    /// backoff start no fetch (counted at the server). The backoff doubles; the
    /// test moves the record's next-attempt time into the past instead of waiting
    /// minutes. A success clears the record.
    @Test func aDownServerIsServedStaleAndHitOncePerBackoffWindow() throws {
        let source = try CatalogueServer(later: .failing)
        let fixture = Fixture()
        try fixture.populate(from: source.url)
        let recordPath = fixture.cacheDir + "/metadata.refresh-failure.json"

        func read() throws -> ChildProcess.Result {
            let result = try Metacache.run(fixture.staleReadArguments(source.url))
            #expect(result.exitCode == 0, "\(result.summary)")
            #expect(FileBytes(result.stdout) == FileBytes(source.first), "the stale copy is served")
            return result
        }
        func record() throws -> [String: Any] {
            let data = try #require(FileManager.default.contents(atPath: recordPath), "the failure is recorded")
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func waitForAttempt(_ attempts: Int) throws {
            let pid = try #require(Self.backgroundPIDs(fixture).last)
            #expect(Self.eventually { Self.hasExited(pid) }, "the background refresh \(pid) ends")
            #expect(try record()["attempts"] as? Int == attempts)
        }
        /// Moves the next attempt into the past, as the passing of the backoff would.
        func makeNextAttemptDue() throws {
            var object = try record()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let shift = (object["nextAttemptAtMs"] as? Int64 ?? now) - now + 1000
            object["lastErrorAtMs"] = (object["lastErrorAtMs"] as? Int64 ?? now) - shift
            object["nextAttemptAtMs"] = now - 1000
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: recordPath))
        }
        func backoffMs() throws -> Int64 {
            let object = try record()
            return (object["nextAttemptAtMs"] as? Int64 ?? 0) - (object["lastErrorAtMs"] as? Int64 ?? 0)
        }

        let first = try read()
        #expect(first.stderr.contains("refreshing it in the background"), "\(first.stderr)")
        try waitForAttempt(1)
        #expect(source.server.requests.count == 2)
        #expect(try backoffMs() == 60_000, "1 minute after the first failure")
        let status = try fixture.status()
        #expect((status["lastRefreshError"] as? String)?.contains("503") == true, "\(status)")
        #expect(status["lastRefreshErrorAt"] is String && status["nextRefreshAttemptAt"] is String)

        for _ in 0..<4 {
            let during = try read()
            #expect(during.stderr.contains("not refreshing until"), "\(during.stderr)")
        }
        #expect(source.server.requests.count == 2, "no fetch during the backoff")
        #expect(fixture.events(named: "backgroundRefreshSkipped").count == 4)

        for (attempt, expected) in [(2, Int64(120_000)), (3, 240_000), (4, 480_000)] {
            try makeNextAttemptDue()
            _ = try read()
            try waitForAttempt(attempt)
            #expect(source.server.requests.count == attempt + 1, "one request per elapsed backoff")
            #expect(try backoffMs() == expected, "attempt \(attempt): the backoff doubles")
            _ = try read()
            #expect(source.server.requests.count == attempt + 1, "and none before it elapses")
        }

        source.recovered.set()
        try makeNextAttemptDue()
        _ = try read()
        let pid = try #require(Self.backgroundPIDs(fixture).last)
        #expect(Self.eventually { Self.hasExited(pid) })
        #expect(!FileManager.default.fileExists(atPath: recordPath), "a success clears the failure memory")
        let cleared = try fixture.status()
        #expect(cleared["lastRefreshError"] is NSNull && cleared["nextRefreshAttemptAt"] is NSNull)
        #expect(cleared["generation"] as? Int == 2)
    }

    // MARK: Foreground, stale-if-error, offline, usage

    @Test func noCacheRefreshesInTheForegroundAndStaleIfErrorServesAFailedRefresh() throws {
        let source = try CatalogueServer(later: .failing)
        let fixture = Fixture()
        // No cache: refreshed in the foreground (the first request succeeds).
        let firstRead = try Metacache.run(fixture.staleReadArguments(source.url))
        #expect(firstRead.exitCode == 0, "\(firstRead.summary)")
        #expect(FileBytes(firstRead.stdout) == FileBytes(source.first), "only the payload on stdout")
        #expect(Self.backgroundPIDs(fixture).isEmpty, "a foreground refresh, not a background one")

        // Older than --max-stale: foreground again; it fails; --stale-if-error serves.
        let served = try Metacache.run(fixture.staleReadArguments(source.url, extra: ["--max-stale", "0s", "--stale-if-error", "1h"]))
        #expect(served.exitCode == 0, "\(served.summary)")
        #expect(FileBytes(served.stdout) == FileBytes(source.first))
        #expect(served.stderr.contains("warning: refresh failed, serving the cached copy"), "\(served.stderr)")
        // Without --stale-if-error the failure is the command's (69: source unavailable).
        let failed = try Metacache.run(fixture.staleReadArguments(source.url, extra: ["--max-stale", "0s"]))
        #expect(failed.exitCode == 69, "\(failed.summary)")
        #expect(failed.stdout.isEmpty)
    }

    @Test func offlineNeverFetchesAndFailsOnlyWithoutACache() throws {
        let source = try CatalogueServer(later: .failing)
        let fixture = Fixture()
        let missing = try Metacache.run(["cache", "read", "--dir", fixture.cacheDir, "--offline"])
        #expect(missing.exitCode == 66, "\(missing.summary)")
        #expect(missing.stderr.contains("--offline"), "\(missing.stderr)")
        try fixture.populate(from: source.url)
        let offline = try Metacache.run(fixture.staleReadArguments(source.url, extra: ["--offline"]))
        #expect(offline.exitCode == 0, "\(offline.summary)")
        #expect(FileBytes(offline.stdout) == FileBytes(source.first))
        #expect(offline.stderr.contains("offline"), "\(offline.stderr)")
        #expect(source.server.requests.count == 1, "nothing fetched")
        #expect(Self.backgroundPIDs(fixture).isEmpty)
    }

    @Test func freshnessOptionsWithoutRefreshAfterAreUsageErrors() throws {
        let fixture = Fixture()
        for extra in [["--max-stale", "1h"], ["--stale-if-error", "1h"], ["--source", "x.json"], ["--refresh-after", "soon"]] {
            let result = try Metacache.run(["cache", "read", "--dir", fixture.cacheDir] + extra)
            #expect(result.exitCode == 64, "\(extra): \(result.summary)")
        }
    }
}
}
