import Foundation
import Testing
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

    @Test func flippingAnyHeaderBitIsDetected() {
        let bytes = header().encoded()
        for index in 0..<bytes.count {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: CacheCorruption.self) {
                _ = try damaged.withUnsafeBytes { try CacheHeader.decode($0) }
            }
        }
    }

    @Test func unknownVersionIsReportedAsSuch() {
        var bytes = header().encoded()
        bytes[8] = 2
        #expect(throws: CacheCorruption.unsupportedVersion(2)) {
            _ = try bytes.withUnsafeBytes { try CacheHeader.decode($0) }
        }
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
