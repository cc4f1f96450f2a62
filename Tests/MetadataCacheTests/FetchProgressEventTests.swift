import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// A refresh's fetch between `fetchStarted` and `fetchFinished`, and the fetch
/// closure's progress reports delivered as `fetchProgress`, throttled.
@Suite struct FetchProgressEventTests {
    struct FetchBroke: Error, CustomStringConvertible {
        var description: String { "the mirror is down" }
    }

    @Test func aFetchIsBracketedAndItsProgressThrottledButNeverLosesTheEnd() async throws {
        let t = try TestStore("fetch-progress")
        let payload = Data(repeating: UInt8(ascii: " "), count: 5000) + Data("[1]".utf8)
        let outcome = try await t.store.refresh { request in
            // Many reports in a tight loop, as a delegate reporting every chunk does.
            for received in stride(from: 0, through: payload.count, by: 5) {
                request.progress.report(received: received, expected: payload.count)
            }
            request.progress.report(received: payload.count, expected: payload.count)
            return .payload(payload, source: "mirror")
        }
        guard case .fetched = outcome else {
            Issue.record("expected fetched, got \(outcome)")
            return
        }
        let names = t.events.names()
        let started = try #require(names.firstIndex(of: "fetchStarted"))
        let finished = try #require(names.firstIndex(of: "fetchFinished"))
        let committed = try #require(names.firstIndex(of: "commitSucceeded"))
        #expect(started < finished && finished < committed, "\(names)")
        let progress = t.events.events.compactMap { event -> (Int, Int?, Duration)? in
            if case let .fetchProgress(_, received, expected, elapsed) = event { return (received, expected, elapsed) }
            return nil
        }
        #expect(progress.first?.0 == 0, "the first report is delivered at once")
        #expect(progress.last?.0 == payload.count, "the report that completes the download is never throttled away")
        #expect(progress.allSatisfy { $0.1 == payload.count })
        // 1001 reports; at most one per 200 ms of the fetch (plus the first and the last).
        guard case let .fetchFinished(_, completion, elapsed)? = t.events.events.first(where: { $0.name == "fetchFinished" }) else {
            Issue.record("no fetchFinished")
            return
        }
        let allowed = 2 + Int((elapsed / FetchProgressReporter.minimumInterval).rounded(.up))
        #expect(progress.count <= allowed, "\(progress.count) progress events in \(elapsed)")
        #expect(completion == .payload(bytes: payload.count))
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.2 <= $1.2 }, "elapsed never goes back")
    }

    @Test func notModifiedAndFailureEndTheFetchToo() async throws {
        let t = try TestStore("fetch-end")
        try t.seed()
        _ = try await t.store.refresh(force: true) { _ in .notModified() }
        let before = try #require(t.cacheBytes)
        await #expect {
            _ = try await t.store.refresh(force: true) { _ in throw FetchBroke() }
        } throws: { error in
            guard case let MetadataCacheError.fetchFailed(_, underlying) = error else { return false }
            return underlying is FetchBroke
        }
        #expect(t.cacheBytes == before, "a failed fetch writes nothing")
        let endings = t.events.events.compactMap { event -> FetchCompletion? in
            if case let .fetchFinished(_, completion, _) = event { return completion }
            return nil
        }
        #expect(endings == [.notModified, .failed("the mirror is down")])
        #expect(t.events.events.filter { $0.name == "fetchStarted" }.count == 2)
    }

    @Test func aCoalescedOrFreshRefreshDoesNotFetch() async throws {
        let t = try TestStore("fetch-none")
        try t.seed()
        _ = try await t.store.refresh(ifOlderThan: .seconds(3600)) { _ in .notModified() }
        #expect(!t.events.names().contains("fetchStarted"))
    }

    @Test func theEventsAsJSONLines() {
        let path = "/c/metadata.json"
        #expect(CacheEvent.fetchStarted(path: path).jsonLine(at: Date(timeIntervalSince1970: 0), pid: 7)
            == #"{"event":"fetchStarted","time":"1970-01-01T00:00:00.000Z","pid":7,"path":"/c/metadata.json"}"#)
        #expect(CacheEvent.fetchProgress(path: path, received: 10, expected: nil, elapsed: .milliseconds(1500))
            .jsonLine(at: Date(timeIntervalSince1970: 0), pid: 7)
            == #"{"event":"fetchProgress","time":"1970-01-01T00:00:00.000Z","pid":7,"path":"/c/metadata.json","receivedBytes":10,"expectedBytes":null,"elapsedMs":1500.0}"#)
        #expect(CacheEvent.fetchFinished(path: path, completion: .failed("x \"y\""), elapsed: .milliseconds(2))
            .jsonLine(at: Date(timeIntervalSince1970: 0), pid: 7)
            == #"{"event":"fetchFinished","time":"1970-01-01T00:00:00.000Z","pid":7,"path":"/c/metadata.json","outcome":"failed","error":"x \"y\"","durationMs":2.0}"#)
        #expect(CacheEvent.fetchFinished(path: path, completion: .payload(bytes: 3), elapsed: .zero).jsonLine(at: Date(timeIntervalSince1970: 0), pid: 7)
            .contains(#""outcome":"payload","bytes":3,"durationMs":0.0"#))
    }
}
