import Foundation
import Testing
@testable import MetadataCache

/// The bytes of a `read(2)` from an inotify descriptor, split into events — and
/// never a trap or an out-of-bounds read, whatever the bytes.
@Suite struct InotifyEventParserTests {
    /// One record as the kernel lays it out: wd, mask, cookie, len, NUL-padded name.
    func record(watch: Int32, mask: UInt32, name: String?, padTo: Int = 16) -> [UInt8] {
        var nameBytes = Array((name ?? "").utf8)
        if name != nil {
            nameBytes.append(0)
            while nameBytes.count % padTo != 0 { nameBytes.append(0) }
        }
        var out: [UInt8] = []
        for field in [UInt32(bitPattern: watch), mask, 0, UInt32(nameBytes.count)] {
            withUnsafeBytes(of: field) { out += $0 }
        }
        return out + nameBytes
    }

    func parse(_ bytes: [UInt8]) -> [InotifyEvent] {
        bytes.withUnsafeBytes { InotifyEventParser.events(in: $0) }
    }

    @Test func splitsRecordsWithAndWithoutNames() {
        let bytes = record(watch: 1, mask: 0x80, name: "metadata.json")
            + record(watch: 1, mask: 0x8, name: "metadata.json.tmp-42-0123456789abcdef")
            + record(watch: 2, mask: 0x400, name: nil)
            + record(watch: -1, mask: 0x4000, name: nil)
        #expect(parse(bytes) == [
            InotifyEvent(watch: 1, mask: 0x80, name: "metadata.json"),
            InotifyEvent(watch: 1, mask: 0x8, name: "metadata.json.tmp-42-0123456789abcdef"),
            InotifyEvent(watch: 2, mask: 0x400, name: nil),
            InotifyEvent(watch: -1, mask: 0x4000, name: nil),
        ])
    }

    @Test func aTruncatedRecordEndsTheParseWithoutReadingPastTheBuffer() {
        let whole = record(watch: 1, mask: 0x80, name: "metadata.json") + record(watch: 3, mask: 0x80, name: "other")
        for cut in 0..<whole.count {
            let events = parse(Array(whole.prefix(cut)))
            // Only complete records come out, and the first is exact when present.
            #expect(events.count <= 2)
            if let first = events.first { #expect(first == InotifyEvent(watch: 1, mask: 0x80, name: "metadata.json")) }
        }
        #expect(parse(whole).count == 2)
    }

    @Test func aLengthBeyondTheBufferIsNotTrusted() {
        var bytes = record(watch: 1, mask: 0x80, name: "x")
        // len = 0xFFFFFFFF: would wrap a naive 32-bit offset computation.
        bytes.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(parse(bytes).isEmpty)
    }

    @Test func namesWithoutATerminatorOrWithInvalidUTF8DoNotTrap() {
        var bytes: [UInt8] = []
        for field: UInt32 in [5, 0x80, 0, 4] { withUnsafeBytes(of: field) { bytes += $0 } }
        bytes += [0xFF, 0xFE, 0x41, 0x42]  // no NUL, invalid UTF-8
        let events = parse(bytes)
        #expect(events.count == 1)
        #expect(events.first?.name != "metadata.json")
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...96, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Often small lengths, so records chain instead of stopping at once.
            if count >= 16, Bool.random(using: &generator) { bytes[12] = UInt8.random(in: 0...32); bytes[13] = 0; bytes[14] = 0; bytes[15] = 0 }
            let events = parse(bytes)
            #expect(events.count <= count / InotifyEventParser.headerSize)
        }
    }
}
