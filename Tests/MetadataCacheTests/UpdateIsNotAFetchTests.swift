import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// `update` is a local edit of the version it read, not a fetch: it keeps that
/// version's fetchedAt, source and validators, so freshness, conditional requests
/// and coalescing still describe what was last fetched.
@Suite struct UpdateIsNotAFetchTests {
    @Test func anUpdateKeepsFetchedAtSourceAndValidators() async throws {
        let t = try TestStore("update-keeps")
        let fetchedAt = Date(timeIntervalSinceNow: -7200)
        try await t.plain().acquireWriterLock().commit(
            samplePayload, source: "https://api.example/catalogue",
            validators: HTTPValidators(etag: "\"v7\"", lastModified: "Tue, 01 Dec 2026 10:00:00 GMT"), fetchedAt: fetchedAt)
        let before = try #require(try t.store.read())

        let receipt = try await t.store.update { _ async in Data(#"{"packages":[],"local":true}"#.utf8) }
        let after = try #require(try t.store.read())
        #expect(after.generation == before.generation + 1)
        #expect(after.commitID != before.commitID)
        #expect(after.fetchedAt == before.fetchedAt)
        #expect(receipt.fetchedAt == before.fetchedAt)
        #expect(after.source == "https://api.example/catalogue")
        #expect(after.validators == before.validators)

        // Two hours since the last fetch: stale, despite the edit a moment ago. The
        // fetch is offered the validators for a conditional request.
        let offered = LockedValue<HTTPValidators?>(nil)
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { request in
            offered.withLock { $0 = request.current?.validators }
            return .notModified()
        }
        guard case .revalidated = outcome else {
            Issue.record("expected the stale cache to be revalidated, got \(outcome)")
            return
        }
        #expect(offered.withLock { $0 } == before.validators)
    }

    /// A refresh that waited while an update committed did not get what it waited
    /// for (an upstream document): it fetches.
    @Test func aRefreshIsNeverCoalescedWithAnUpdate() async throws {
        let t = try TestStore("update-no-coalesce")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -7200))
        let store = t.store
        let events = t.events
        let updating = Task {
            try await store.update { current in
                // Hold the lock until the refresh below waits for it.
                await events.waitFor("lockWaitStarted")
                return Data(#"{"edited":true}"#.utf8)
            }
        }
        await events.waitFor("lockAcquired")
        let fetches = AtomicCell<Int>(0)
        let outcome = try await store.refresh { _ in
            fetches.wrappingAdd(1)
            return .payload(samplePayload, source: "upstream")
        }
        _ = try await updating.value
        guard case .fetched = outcome else {
            Issue.record("expected a fetch, got \(outcome)")
            return
        }
        #expect(fetches.load() == 1)
    }

    /// With nothing to edit, an update creates a payload that was never fetched:
    /// never fresh, so the next refresh with a maximum age fetches.
    @Test func anUpdateOfNothingIsNeverFresh() async throws {
        let t = try TestStore("update-of-nothing")
        try await t.store.update { current in
            #expect(current == nil)
            return Data("[1]".utf8)
        }
        let created = try #require(try t.store.read())
        #expect(!created.wasFetched)
        #expect(created.commitKind == .update)
        #expect(created.source == nil)
        #expect(created.isOlder(than: .seconds(86_400 * 365 * 1000)))
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { request in
            #expect(request.current?.wasFetched == false)
            return .payload(samplePayload, source: "upstream")
        }
        guard case .fetched = outcome else {
            Issue.record("expected a fetch, got \(outcome)")
            return
        }
        let fetched = try #require(try t.store.read())
        #expect(fetched.wasFetched)
        #expect(fetched.commitKind == .fetch)
        #expect(fetched.generation == 2)
    }
}
