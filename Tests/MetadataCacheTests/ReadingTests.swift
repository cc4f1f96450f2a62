import Foundation
import Testing
import TestSupport
@testable import MetadataCache

@Suite struct ReadingTests {
    /// A store holding one committed sample payload.
    func committed() throws -> TestStore {
        let t = try TestStore("read")
        let writer = try t.store.acquireWriterLock()
        try writer.commit(samplePayload, source: "fixture", validators: HTTPValidators(etag: "\"abc\""))
        return t
    }

    @Test func missingCacheReadsAsNilAndCreatesNothing() throws {
        let dir = TemporaryDirectory("missing")
        let store = try CacheStore(directory: dir.path + "/not-yet")
        #expect(try store.read() == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/not-yet"))
        #expect(dir.listing().isEmpty)
    }

    @Test func readReturnsExactBytesAndHeaderFacts() throws {
        let t = try committed()
        let snapshot = try #require(try t.store.read())
        #expect(snapshot.payload == samplePayload)
        #expect(snapshot.generation == 1)
        #expect(snapshot.source == "fixture")
        #expect(snapshot.validators.etag == "\"abc\"")
        #expect(snapshot.writerPID == getpid())
        #expect(snapshot.age < .seconds(60))
        #expect(t.events.names().contains("readHit"))
    }

    @Test func readNeverCreatesOrLocksAnything() throws {
        let t = try committed()
        let before = t.directory.listing()
        let lockBefore = t.directory.contents("metadata.lock")
        for _ in 0..<3 { _ = try t.store.read() }
        #expect(t.directory.listing() == before)
        #expect(t.directory.contents("metadata.lock") == lockBefore)
        // And it works while another writer holds the lock.
        let writer = try t.plain().acquireWriterLock()
        #expect(try t.store.read()?.payload == samplePayload)
        writer.release()
    }

    @Test func decodesIntoATypedModel() throws {
        struct Catalogue: Decodable { struct Package: Decodable { let vendor: String }; let packages: [Package] }
        let t = try committed()
        let (catalogue, snapshot) = try #require(try t.store.read(as: Catalogue.self))
        #expect(catalogue.packages.first?.vendor == "temurin")
        #expect(snapshot.generation == 1)
    }

    @Test func hasChangedIsFalseUntilTheNextCommit() throws {
        let t = try committed()
        let snapshot = try #require(try t.store.read())
        #expect(try !t.store.hasChanged(since: snapshot))
        try t.store.update { _ in Data("[1]".utf8) }
        #expect(try t.store.hasChanged(since: snapshot))
    }

    enum Damage: String, CaseIterable {
        case empty, truncatedHeader, truncatedPayload, payloadBitFlip, headerBitFlip, unknownVersion
        case garbage, trailingData, mixedFiles, plainJSON
    }

    @Test(arguments: Damage.allCases)
    func everyKindOfCorruptionIsDetectedAndNamed(damage: Damage) throws {
        let t = try committed()
        let good = try #require(t.cacheBytes)
        var bad = good
        let headerLength = good.count - samplePayload.count
        switch damage {
        case .empty: bad = Data()
        case .truncatedHeader: bad = good.prefix(40)
        case .truncatedPayload: bad = good.prefix(good.count - 5)
        case .payloadBitFlip: bad[good.count - 3] ^= 0x01
        case .headerBitFlip: bad[33] ^= 0x80
        case .unknownVersion: bad[8] = 9  // without resealing: damage, caught by the header checksum
        case .garbage: bad = Data((0..<500).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        case .trailingData: bad.append(contentsOf: Array("tail".utf8))
        case .mixedFiles:
            // The header of this commit with the payload of another commit of the
            // same length: every length check passes, only the checksum can tell.
            let other = Data(String(decoding: samplePayload, as: UTF8.self).replacingOccurrences(of: "temurin", with: "zuluabc").utf8)
            #expect(other.count == samplePayload.count)
            bad = good.prefix(headerLength) + other
        case .plainJSON: bad = samplePayload
        }
        try t.directory.write("metadata.json", bad)
        let outcome = Result { () throws(MetadataCacheError) in try t.store.read() }
        guard case let .failure(.corruptCache(path, problem)) = outcome else {
            Issue.record("\(damage) was not detected: \(outcome)")
            return
        }
        #expect(path == t.store.cachePath)
        #expect(Self.isExpected(problem, for: damage), "\(damage) reported as \(problem)")
        #expect(!problem.description.isEmpty)
        #expect(t.events.names().contains("readCorrupt"))
    }

    static func isExpected(_ problem: CacheCorruption, for damage: Damage) -> Bool {
        switch damage {
        case .empty: if case .empty = problem { return true }
        case .truncatedHeader:
            if case .truncatedHeader = problem { return true }
            if case .badMagic = problem { return true }
        case .truncatedPayload, .trailingData: if case .lengthMismatch = problem { return true }
        case .payloadBitFlip, .mixedFiles: if case .payloadChecksumMismatch = problem { return true }
        case .headerBitFlip: if case .headerChecksumMismatch = problem { return true }
        case .unknownVersion: if case .headerChecksumMismatch = problem { return true }
        case .garbage: if case .badMagic = problem { return true }
        case .plainJSON:
            if case .badMagic = problem { return true }
            if case .truncatedHeader = problem { return true }
        }
        return false
    }

    @Test func aSymlinkInPlaceOfTheCacheIsRefusedNotFollowed() throws {
        let t = try committed()
        let elsewhere = t.directory.file("elsewhere.json")
        try FileManager.default.moveItem(atPath: t.store.cachePath, toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: t.store.cachePath, withDestinationPath: elsewhere)
        #expect(throws: MetadataCacheError.corruptCache(path: t.store.cachePath, problem: .notARegularFile)) {
            _ = try t.store.read()
        }
    }

    @Test func corruptCacheIsMovedAsideNeverDeleted() throws {
        let t = try committed()
        var bad = try #require(t.cacheBytes)
        bad[bad.count - 1] ^= 1
        try t.directory.write("metadata.json", bad)
        let aside = try #require(try t.store.moveCorruptCacheAside())
        #expect(aside.hasPrefix(t.store.cachePath + ".corrupt-"))
        #expect(FileManager.default.contents(atPath: aside) == bad)
        #expect(try t.store.read() == nil)
        // A healthy cache is left alone.
        try t.store.update { _ in samplePayload }
        #expect(try t.store.moveCorruptCacheAside() == nil)
        #expect(try t.store.read()?.payload == samplePayload)
    }
}
