import Foundation
import Testing
import TestSupport
@testable import MetadataCache

@Suite(.serialized, .dedicatedThread) struct RefreshAndUpdateTests {
    @Test func aFreshCacheIsSkippedWithoutTakingTheLock() async throws {
        let t = try TestStore("fresh")
        try t.seed()
        let fetches = AtomicCell<Int>(0)
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { _ in
            fetches.wrappingAdd(1)
            return .payload(samplePayload, source: nil)
        }
        guard case .skippedFresh = outcome else {
            Issue.record("expected skippedFresh, got \(outcome)")
            return
        }
        #expect(fetches.load() == 0)
        #expect(!t.events.names().contains("lockAcquired"))
    }

    @Test func aStaleCacheIsFetchedAndForceAlwaysFetches() async throws {
        let t = try TestStore("stale")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -7200))
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { request in
            #expect(request.current?.generation == 1)
            return .payload(Data("[1]".utf8), source: "src", validators: HTTPValidators(etag: "\"e\""))
        }
        guard case let .fetched(receipt) = outcome else {
            Issue.record("expected fetched, got \(outcome)")
            return
        }
        #expect(receipt.generation == 2)
        let forced = try await t.store.refresh(ifOlderThan: .seconds(3600), force: true) { request in
            #expect(request.current?.validators.etag == "\"e\"")
            return .notModified()
        }
        guard case let .revalidated(again) = forced else {
            Issue.record("expected revalidated, got \(forced)")
            return
        }
        #expect(again.generation == 2)
        #expect(try t.store.read()?.payload == Data("[1]".utf8))
    }

    @Test func invalidFetchedJSONLeavesTheCacheUntouched() async throws {
        let t = try TestStore("invalid-fetch")
        try t.seed()
        let before = try #require(t.cacheBytes)
        await #expect(throws: MetadataCacheError.self) {
            _ = try await t.store.refresh(force: true) { _ in .payload(Data("<html>502</html>".utf8), source: nil) }
        }
        #expect(t.cacheBytes == before)
        #expect(t.tempFiles.isEmpty)
    }

    @Test func sixteenConcurrentProcessesRefreshingAStaleCacheFetchOnce() throws {
        let t = try TestStore("coalesce")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -7200))
        let log = t.directory.file("fetches.log")
        var agents: [ChildProcess] = []
        for _ in 0..<16 {
            agents.append(try Agent.start(["refresh", "--dir", t.directory.path, "--fetch-log", log, "--timeout", "60"]))
        }
        // Exactly one agent gets the lock and starts fetching; the fetch blocks until
        // we close its stdin, which we do only once the 15 others are all waiting.
        var fetcher: ChildProcess?
        var waiting = 0
        for agent in agents {
            let line = try agent.readLine(until: { $0 == "FETCHING" || $0.hasPrefix("WAITING") }, timeout: .seconds(60))
            if line == "FETCHING" {
                #expect(fetcher == nil, "two processes fetched at once")
                fetcher = agent
            } else {
                waiting += 1
            }
        }
        #expect(waiting == 15)
        let only = try #require(fetcher)
        only.closeStdin()
        for agent in agents {
            agent.closeStdin()
            #expect(try agent.wait(timeout: .seconds(60)) == .exited(0))
        }
        let outcomes = agents.map { $0.standardOutputText }
        #expect(outcomes.filter { $0.contains("FETCHED") }.count == 1)
        #expect(outcomes.filter { $0.contains("COALESCED by=\(only.pid)") }.count == 15)
        let fetchLines = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n") ?? []
        #expect(fetchLines.count == 1)
    }

    @Test func concurrentRefreshesInOneProcessQueueAndCoalesce() async throws {
        let t = try TestStore("in-process")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -7200))
        let store = t.store
        let fetches = SharedCounter()
        let events = t.events
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let outcome = try await store.refresh(ifOlderThan: .seconds(60)) { _ in
                        fetches.increment()
                        // Hold the fetch until the other seven are queued on the lock.
                        await events.waitFor("lockWaitStarted", count: 7)
                        return .payload(Data("[42]".utf8), source: nil)
                    }
                    switch outcome {
                    case .fetched: return "fetched"
                    case .coalesced: return "coalesced"
                    case .skippedFresh: return "skipped"
                    case .revalidated: return "revalidated"
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(fetches.value == 1)
        #expect(outcomes.filter { $0 == "fetched" }.count == 1)
        #expect(outcomes.filter { $0 == "coalesced" }.count == 7)
    }

    @Test func updatesFromManyProcessesAreNeverLost() throws {
        let t = try TestStore("updates")
        let perProcess = 40
        let agents = try (0..<4).map { index in
            try Agent.start(["update", "--dir", t.directory.path, "--counter", "w\(index)", "--times", "\(perProcess)"])
        }
        for agent in agents {
            #expect(try agent.wait(timeout: .seconds(120)) == .exited(0), "\(agent.standardOutputText)")
        }
        let snapshot = try #require(try t.store.read())
        let object = try #require(try JSONSerialization.jsonObject(with: snapshot.payload) as? [String: Any])
        let counters = try #require(object["counters"] as? [String: Int])
        #expect(counters == ["w0": perProcess, "w1": perProcess, "w2": perProcess, "w3": perProcess])
        #expect(snapshot.generation == UInt64(4 * perProcess))
    }
}

final class SharedCounter: Sendable {
    private let count = AtomicCell<Int>(0)
    func increment() { count.wrappingAdd(1) }
    var value: Int { count.load() }
}
