import Foundation
import Testing
import TestSupport
@testable import MetadataCache

@Suite struct CacheFileFormatTests {
    func header(source: String? = "https://api.example/catalog", etag: String? = "\"v1\"") -> CacheHeader {
        CacheHeader(
            payloadLength: 42, payloadChecksum: 0x1234_5678_9ABC_DEF0, generation: 7, commitID: 99,
            fetchedAtMilliseconds: 1_764_000_000_123, committedAtMilliseconds: 1_764_000_000_456, writerPID: 4242,
            source: source, etag: etag, lastModified: "Tue, 25 Nov 2026 09:00:00 GMT", writerHost: "build-host")
    }

    @Test func headerRoundTripsEveryField() throws {
        let original = header()
        let bytes = original.encoded()
        let (decoded, length) = try bytes.withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(decoded == original)
        #expect(length == bytes.count)
        #expect(Array(bytes.prefix(8)) == CacheHeader.magic)
    }

    @Test func absentOptionalFieldsStayAbsent() throws {
        let original = header(source: nil, etag: nil)
        let (decoded, _) = try original.encoded().withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(decoded.source == nil)
        #expect(decoded.etag == nil)
        #expect(decoded.lastModified == original.lastModified)
    }

    @Test func overlongSourceIsShortenedOnACharacterBoundaryAndOverlongETagDropped() throws {
        var h = header(source: String(repeating: "é", count: 6000), etag: String(repeating: "x", count: 9000))
        h.source = String(repeating: "é", count: 6000)
        let (decoded, _) = try h.encoded().withUnsafeBytes { try CacheHeader.decode($0) }
        let source = try #require(decoded.source)
        #expect(source.utf8.count <= CacheHeader.maximumFieldBytes)
        #expect(source.allSatisfy { $0 == "é" })
        #expect(decoded.etag == nil)
    }

    /// Every flipped bit is damage, reported as corrupt — including bits of the
    /// version and flags, which the checksum covers: a flip there must never pass
    /// for a newer format (which would be left alone instead of repaired).
    @Test func flippingAnyHeaderBitIsDetected() {
        let bytes = header().encoded()
        for index in 0..<bytes.count {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect {
                _ = try damaged.withUnsafeBytes { try CacheHeader.decode($0) }
            } throws: { error in
                guard case .corrupt? = error as? HeaderRejection else { return false }
                return true
            }
        }
    }

    /// Re-seals `bytes` (a whole header) with a correct header checksum.
    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes.dropLast(8))
        out.appendLittleEndian(XXH64.hash(out))
        return out
    }

    @Test func anIntactHeaderOfALaterVersionOrWithUnknownFlagsIsANewerFormat() {
        var version2 = header().encoded()
        version2[8] = 2
        #expect(throws: HeaderRejection.newerFormat(version: 2, unknownFlags: 0)) {
            _ = try resealed(version2).withUnsafeBytes { try CacheHeader.decode($0) }
        }
        var flagged = header().encoded()
        flagged[10] = 0x05
        #expect(throws: HeaderRejection.newerFormat(version: 1, unknownFlags: 5)) {
            _ = try resealed(flagged).withUnsafeBytes { try CacheHeader.decode($0) }
        }
        var version0 = header().encoded()
        version0[8] = 0
        #expect(throws: HeaderRejection.corrupt(.malformedHeader("format version 0 does not exist"))) {
            _ = try resealed(version0).withUnsafeBytes { try CacheHeader.decode($0) }
        }
    }

    @Test func theCommitKindRoundTripsAndIsAFetchWhenAbsent() throws {
        var h = header()
        #expect(h.effectiveCommitKind == .fetch)
        for kind in [CommitKind.fetch, .revalidation, .update, CommitKind(rawValue: "future-kind")] {
            h.commitKind = kind
            let (decoded, _) = try h.encoded().withUnsafeBytes { try CacheHeader.decode($0) }
            #expect(decoded.commitKind == kind)
        }
        #expect(!CommitKind(rawValue: "future-kind").isFromSource)
    }

    /// docs/format.md: fields may come in any order, a repeated tag's last value
    /// wins, and unknown tags are opaque (their bytes need not be UTF-8).
    @Test func fieldsInAnyOrderRepeatedTagsAndOpaqueUnknownValues() throws {
        var file = CraftedCacheFile()
        file.fields = [
            (4, Array("host".utf8)), (200, [0xFF, 0xFE, 0x00]), (1, Array("first".utf8)), (2, Array("\"e\"".utf8)),
            (1, Array("second".utf8)), (0, []),
        ]
        let (decoded, length) = try file.header.withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(length == file.header.count)
        #expect(decoded.source == "second")
        #expect(decoded.writerHost == "host")
        #expect(decoded.etag == "\"e\"")
        #expect(decoded.commitKind == nil)
    }

    /// A field value longer than writers write (8192 bytes) is read in full.
    @Test func readersAcceptFieldsLongerThanWritersWrite() throws {
        var file = CraftedCacheFile()
        let long = String(repeating: "s", count: 60_000)
        file.fields = [(1, Array(long.utf8))]
        let (decoded, _) = try file.header.withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(decoded.source == long)
    }

    /// The writer pid is signed (pid_t): a negative value reads back as written.
    @Test func theWriterPIDIsSigned() throws {
        var file = CraftedCacheFile()
        file.writerPID = -2
        let (decoded, _) = try file.header.withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(decoded.writerPID == -2)
        var h = header()
        h.writerPID = .min
        let (again, _) = try h.encoded().withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(again.writerPID == .min)
    }

    @Test func unknownFieldTagsAreSkipped() throws {
        // A future writer adds tag 99; a version-1 reader must still read the file.
        var bytes = Array(header(source: nil, etag: nil).encoded().dropLast(8))
        bytes.appendLittleEndian(UInt16(99))
        bytes.appendLittleEndian(UInt16(3))
        bytes += Array("new".utf8)
        let length = UInt32(bytes.count + 8)
        bytes.replaceSubrange(12..<16, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
        bytes.appendLittleEndian(XXH64.hash(bytes))
        let (decoded, _) = try bytes.withUnsafeBytes { try CacheHeader.decode($0) }
        #expect(decoded.generation == 7)
    }
}
