import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// A cache file written by a newer MetadataCache (a higher format version, or a
/// flag this version does not know) is intact, not corrupt: readers say so,
/// writers leave it alone unless told to replace it, repair never moves it.
@Suite struct NewerFormatTests {
    static func newer(version: UInt16 = 2, flags: UInt16 = 0) -> CraftedCacheFile {
        var file = CraftedCacheFile()
        file.version = version
        file.flags = flags
        return file
    }

    @Test(arguments: [(2, 0), (0xFFFF, 0), (1, 0x0001), (1, 0x8000)] as [(UInt16, UInt16)])
    func aNewerFileIsNeitherCorruptNorReplaced(version: UInt16, flags: UInt16) async throws {
        let t = try TestStore("newer")
        let file = Self.newer(version: version, flags: flags)
        try t.directory.write("metadata.json", Data(file.bytes))
        let expected = MetadataCacheError.newerFormat(path: t.store.cachePath, version: version, unknownFlags: flags)

        #expect(throws: expected) { _ = try t.store.read() }
        #expect(throws: expected) { _ = try t.store.readHeader() }
        #expect(try t.store.status().integrity == .newerFormat(version: version, unknownFlags: flags))
        #expect(expected.description.contains("newer"))

        let writer = try await t.store.acquireWriterLock()
        #expect(throws: expected) { _ = try writer.moveCorruptCacheAside() }
        #expect(throws: expected) { try writer.commit(samplePayload) }
        #expect(throws: expected) { try writer.commitRevalidation() }
        writer.release()
        #expect(t.directory.listing().filter { $0.contains(".corrupt-") }.isEmpty, "moved aside")

        let fetched = AtomicCell<Int>(0)
        await #expect(throws: expected) {
            _ = try await t.store.refresh(force: true) { _ in
                fetched.wrappingAdd(1)
                return .payload(samplePayload, source: "x")
            }
        }
        await #expect(throws: expected) { _ = try await t.store.update { _ in samplePayload } }
        #expect(fetched.load() == 0, "fetched although the result could not be committed")
        #expect(t.directory.contents("metadata.json") == Data(file.bytes))
        #expect(t.tempFiles.isEmpty)
    }

    /// With `overwriteNewerFormat` the file counts as no cache: refresh and update
    /// replace it with a version-1 file whose generation restarts at 1.
    @Test func overwritingANewerFileIsAnExplicitChoice() async throws {
        let t = try TestStore("newer-overwrite") { $0.overwriteNewerFormat = true }
        try t.directory.write("metadata.json", Data(Self.newer().bytes))
        let seen = LockedValue<Bool?>(nil)
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { request in
            seen.withLock { $0 = request.current != nil }
            return .payload(samplePayload, source: "upstream")
        }
        guard case let .fetched(receipt) = outcome else {
            Issue.record("expected fetched, got \(outcome)")
            return
        }
        #expect(receipt.generation == 1)
        #expect(seen.withLock { $0 } == false)
        #expect(try t.store.read()?.payload == samplePayload)

        try t.directory.write("metadata.json", Data(Self.newer(version: 3).bytes))
        let edited = try await t.store.update { current in
            #expect(current == nil)
            return Data("[1]".utf8)
        }
        #expect(edited.generation == 1)
    }

    /// Damage is not a newer format: a version field changed without a valid
    /// header checksum is corrupt (and repairable), and version 0 does not exist.
    @Test func aDamagedVersionFieldIsCorrupt() throws {
        let t = try TestStore("newer-damaged")
        var file = Self.newer()
        file.validHeaderChecksum = false
        try t.directory.write("metadata.json", Data(file.bytes))
        #expect(throws: MetadataCacheError.corruptCache(path: t.store.cachePath, problem: .headerChecksumMismatch)) {
            _ = try t.store.read()
        }
        try t.directory.write("metadata.json", Data(Self.newer(version: 0).bytes))
        #expect(throws: MetadataCacheError.corruptCache(
            path: t.store.cachePath, problem: .malformedHeader("format version 0 does not exist"))) { _ = try t.store.read() }
    }
}
