import Foundation
import MetadataCache
import Testing
import TestSupport

/// Issue 18 item 3: `read(as:)`, `refresh`, `update` and `commit(encoding:)` throw
/// `MetadataCacheError` and only that, so a host switches over one type; what the
/// host's own code threw is kept inside the case that says where it happened.
@Suite struct TypedErrorSurfaceTests {
    struct UpstreamDown: Error, Equatable { let status: Int }
    struct MergeConflict: Error {}

    /// Compile-time proof: in a `do throws(MetadataCacheError)` block, a call that
    /// throws any other type does not compile. Before: `read(as:)`, `refresh`,
    /// `update` and `commit(encoding:)` were `throws` (any Error).
    @Test func theThrowingSurfaceIsTyped() async throws {
        let t = try TestStore("typed")
        struct Model: Codable { var packages: [String] }
        do throws(MetadataCacheError) {
            _ = try await t.store.refresh { _ in .payload(Data(#"{"packages":["a"]}"#.utf8), source: "test") }
            _ = try t.store.read(as: Model.self)
            _ = try t.store.read(as: Model.self, decoder: JSONDecoder())
            try await t.store.update { current in current?.payload ?? Data("{}".utf8) }
            let writer = try await t.store.acquireWriterLock()
            try writer.commit(encoding: Model(packages: ["b"]))
            writer.release()
        } catch {
            let typed: MetadataCacheError = error   // the block's error type, checked by the compiler
            throw typed
        }
        #expect(try t.store.read(as: Model.self)?.value.packages == ["b"])
    }

    @Test func aFailingFetchIsWrappedWithTheSourceAndTheCacheIsUnchanged() async throws {
        let t = try TestStore("fetch-failed")
        try t.seed()
        let before = try #require(t.cacheBytes)
        do {
            _ = try await t.store.refresh(force: true, source: "https://api.example/catalogue.json") { _ in
                throw UpstreamDown(status: 503)
            }
            Issue.record("the refresh should have thrown")
        } catch {
            guard case let .fetchFailed(source, underlying) = error else {
                Issue.record("expected fetchFailed, got \(error)")
                return
            }
            #expect(source == "https://api.example/catalogue.json")
            #expect(underlying as? UpstreamDown == UpstreamDown(status: 503), "the host's error, unchanged")
            #expect(error.description.contains("https://api.example/catalogue.json"))
        }
        #expect(t.cacheBytes == before)
    }

    /// Without a `source:`, the error names what the cache recorded.
    @Test func aFailingFetchWithoutASourceNamesTheRecordedOne() async throws {
        let t = try TestStore("fetch-failed-recorded")
        try await t.plain().acquireWriterLock().commit(samplePayload, source: "https://recorded.example/c.json")
        await #expect {
            _ = try await t.store.refresh(force: true) { _ in throw UpstreamDown(status: 500) }
        } throws: { error in
            guard case let MetadataCacheError.fetchFailed(source, _) = error else { return false }
            return source == "https://recorded.example/c.json"
        }
    }

    @Test func aFailingTransformIsWrappedAndTheCacheIsUnchanged() async throws {
        let t = try TestStore("update-failed")
        try t.seed()
        let before = try #require(t.cacheBytes)
        await #expect {
            try await t.store.update { _ in throw MergeConflict() }
        } throws: { error in
            guard case let MetadataCacheError.updateFailed(path, underlying) = error else { return false }
            return path == t.store.cachePath && underlying is MergeConflict
        }
        #expect(t.cacheBytes == before)
    }

    /// An `init(from:)` that throws its own error still yields a `DecodingError`
    /// (`dataCorrupted`, the host's error as `underlyingError`).
    @Test func aTypesOwnDecodingErrorArrivesInsideADecodingError() throws {
        let t = try TestStore("decode-own")
        try t.seed(Data(#"{"version":"not-semver"}"#.utf8))
        struct Refused: Error {}
        struct Strict: Decodable { init(from decoder: any Decoder) throws { throw Refused() } }
        #expect {
            try t.store.read(as: Strict.self)
        } throws: { error in
            guard case let MetadataCacheError.decodingFailed(_, type, .dataCorrupted(context)) = error else { return false }
            return type == "Strict" && context.underlyingError is Refused
        }
    }

    @Test func aValueThatDoesNotEncodeThrowsEncodingFailedAndWritesNothing() async throws {
        let t = try TestStore("encode")
        try t.seed()
        let before = try #require(t.cacheBytes)
        let writer = try await t.store.acquireWriterLock()
        #expect {
            try writer.commit(encoding: ["ratio": Double.nan])
        } throws: { error in
            guard case MetadataCacheError.encodingFailed(_, .invalidValue) = error else { return false }
            return true
        }
        writer.release()
        #expect(t.cacheBytes == before)
    }

    /// A cancelled task's refresh ends in `cancelled`, not in the fetch's error.
    @Test func cancellingDuringTheFetchThrowsCancelled() async throws {
        let t = try TestStore("cancel-fetch")
        let store = t.store
        let task = Task {
            try await store.refresh(force: true) { _ in
                withUnsafeCurrentTask { $0?.cancel() }
                throw URLError(.cancelled)
            }
        }
        await #expect {
            _ = try await task.value
        } throws: { error in
            guard case MetadataCacheError.cancelled = error else { return false }
            return true
        }
    }
}
