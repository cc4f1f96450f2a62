import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// A refresh heals a cache whose payload no longer verifies, and coalesces only
/// with commits its `RefreshCoalescing` accepts.
@Suite struct RefreshRecoveryAndCoalescingTests {
    /// Flips the last payload byte: the header still decodes, the payload checksum
    /// no longer matches.
    private static func corruptPayload(_ t: TestStore) throws {
        var bytes = try #require(t.cacheBytes)
        bytes[bytes.count - 1] ^= 0x01
        try t.directory.write("metadata.json", bytes)
        #expect(throws: MetadataCacheError.self) { _ = try t.store.read() }
    }

    @Test func aCorruptPayloadIsNeverFreshAndIsRefetchedWithoutValidators() async throws {
        let t = try TestStore("corrupt-fresh")
        try await t.plain().acquireWriterLock().commit(
            samplePayload, source: "https://example.test/c", validators: HTTPValidators(etag: "\"v1\""))
        try Self.corruptPayload(t)

        let sawCurrent = LockedValue<CachedVersion??>(nil)
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { request in
            sawCurrent.withLock { $0 = .some(request.current) }
            return .payload(Data("[7]".utf8), source: "https://example.test/c")
        }
        guard case let .fetched(receipt) = outcome else {
            Issue.record("a cache that does not verify was reported as \(outcome)")
            return
        }
        // The corrupt cache counts as none: no stored validators reach the fetch, so
        // a server cannot answer 304 for bytes that no longer verify.
        #expect(sawCurrent.withLock { $0 } == .some(nil))
        // Numbering continues from the header, which still verifies on its own.
        #expect(receipt.generation == 2)
        #expect(try t.store.read()?.payload == Data("[7]".utf8))
        #expect(t.events.names().contains("readCorrupt"))
    }

    @Test func aRevalidationIgnoresAPayloadLimitLoweredSinceTheCommit() async throws {
        let big = Data(("[" + String(repeating: "1,", count: 600) + "1]").utf8)
        let t = try TestStore("revalidate-limit") { $0.maximumPayloadBytes = 100 }
        try t.seed(big, fetchedAt: Date(timeIntervalSinceNow: -7200))
        let outcome = try await t.store.refresh(force: true) { _ in .notModified() }
        guard case .revalidated = outcome else {
            Issue.record("expected revalidated, got \(outcome)")
            return
        }
        #expect(try t.store.read()?.payload == big)
        // A new payload of that size is still refused.
        await #expect(throws: MetadataCacheError.self) {
            _ = try await t.store.refresh(force: true) { _ in .payload(big, source: nil) }
        }
    }

    /// Runs two refreshes in this process: the first takes the lock and commits from
    /// source "a" once the second is waiting; returns the second's outcome and the
    /// number of fetches.
    private func secondRefresh(coalescing: RefreshCoalescing) async throws -> (RefreshOutcome, Int) {
        let t = try TestStore("coalescing")
        try t.seed(fetchedAt: Date(timeIntervalSinceNow: -7200))
        let store = t.store
        let events = t.events
        let fetches = AtomicCell<Int>(0)
        let first = Task {
            try await store.refresh { _ in
                fetches.wrappingAdd(1)
                await events.waitFor("lockWaitStarted")
                return .payload(Data("[1]".utf8), source: "a")
            }
        }
        await events.waitFor("lockAcquired")
        let second = try await store.refresh(coalescing: coalescing) { _ in
            fetches.wrappingAdd(1)
            return .payload(Data("[2]".utf8), source: "b")
        }
        _ = try await first.value
        return (second, fetches.load())
    }

    @Test func aCommitFromTheSameSourceCoalesces() async throws {
        let (outcome, fetches) = try await secondRefresh(coalescing: .sameSource("a"))
        guard case let .coalesced(version, _) = outcome else {
            Issue.record("expected coalesced, got \(outcome)")
            return
        }
        #expect(version.source == "a")
        #expect(fetches == 1)
    }

    @Test(arguments: [RefreshCoalescing.sameSource("b"), .never])
    func aCommitFromAnotherSourceDoesNotSatisfyTheRefresh(coalescing: RefreshCoalescing) async throws {
        let (outcome, fetches) = try await secondRefresh(coalescing: coalescing)
        guard case .fetched = outcome else {
            Issue.record("expected fetched, got \(outcome)")
            return
        }
        #expect(fetches == 2)
    }

    @Test func anIOErrorReadingThePreviousHeaderFailsTheCommitInsteadOfRestartingTheGeneration() throws {
        let t = try TestStore("header-eio", faults: [InjectedFault(.pread, occurrence: 1, pathContains: "metadata.json", action: .fail(.ioError))])
        try t.seed()
        let before = t.cacheBytes
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Data("[3]".utf8)) }
        guard case let .failure(.io(_, _, errno)) = outcome else {
            Issue.record("expected an I/O error, got \(outcome)")
            return
        }
        #expect(errno == .ioError)
        #expect(t.cacheBytes == before)
        #expect(t.tempFiles.isEmpty)
    }
}
