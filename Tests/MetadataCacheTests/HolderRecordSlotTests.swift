import Foundation
import Testing
@testable import MetadataCache

/// The holder record's fixed-size slot in the advisory lock file.
@Suite struct HolderRecordSlotTests {
    func record(command: String = "metacache cache refresh", host: String = "build-host") -> HolderRecord {
        HolderRecord(
            pid: 4242, host: host, processStartTime: 123_456, command: command,
            acquiredAt: Date(timeIntervalSince1970: 0), backend: .advisory, leaseID: "9f0c2e7a41b3d655")
    }

    @Test func aStampedSlotParsesBackToTheSameRecordWithTheNewTime() throws {
        var slot = HolderRecordSlot(record())
        let before = Date()
        slot.stamp()
        #expect(slot.bytes.count == HolderRecordSlot.size)
        #expect(slot.bytes.last == UInt8(ascii: "\n"))
        let parsed = try #require(HolderRecordSlot.parse(slot.bytes))
        #expect(parsed == slot.record)
        #expect(parsed.pid == 4242)
        #expect(parsed.command == "metacache cache refresh")
        #expect(parsed.leaseID == "9f0c2e7a41b3d655")
        // Millisecond precision, taken from the wall clock at the stamp.
        #expect(abs(parsed.acquiredAt.timeIntervalSince(before)) < 60)
        #expect(parsed.acquiredAt != Date(timeIntervalSince1970: 0))
    }

    @Test func restampingRewritesOnlyTheTimestamp() throws {
        var slot = HolderRecordSlot(record())
        slot.stamp()
        let first = slot.bytes
        slot.stamp()
        let differing = zip(first, slot.bytes).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        let text = String(decoding: slot.bytes, as: UTF8.self)
        let start = try #require(text.range(of: #""acquiredAt":""#)).upperBound
        let offset = text.utf8.distance(from: text.startIndex, to: start)
        #expect(differing.allSatisfy { (offset..<offset + ISO8601Timestamp.length).contains($0) })
    }

    @Test func aQuoteInTheCommandDoesNotMisplaceTheTimestamp() throws {
        var slot = HolderRecordSlot(record(command: #"tool "acquiredAt":"2000-01-01T00:00:00.000Z""#))
        slot.stamp()
        let parsed = try #require(HolderRecordSlot.parse(slot.bytes))
        #expect(parsed.command == #"tool "acquiredAt":"2000-01-01T00:00:00.000Z""#)
        #expect(parsed.acquiredAt > Date(timeIntervalSince1970: 1_000_000_000))
    }

    @Test func aCommandTooLongForTheSlotIsShortenedNotDropped() throws {
        // Control characters are escaped six bytes wide: 200 of them cannot fit.
        let command = String(repeating: "\u{01}", count: 200)
        var slot = HolderRecordSlot(record(command: command))
        slot.stamp()
        #expect(slot.bytes.count == HolderRecordSlot.size)
        let parsed = try #require(HolderRecordSlot.parse(slot.bytes))
        #expect(parsed.pid == 4242)
        #expect(parsed.command.hasSuffix("..."))
    }

    @Test func aRecordThatCannotFitIsPublishedAsBlanks() {
        var slot = HolderRecordSlot(record(host: String(repeating: "\u{02}", count: 400)))
        slot.stamp()
        #expect(slot.bytes == HolderRecordSlot.cleared)
        #expect(HolderRecordSlot.parse(slot.bytes) == nil)
    }

    @Test func blanksAndTornWritesDoNotParse() {
        var slot = HolderRecordSlot(record())
        slot.stamp()
        #expect(HolderRecordSlot.parse(HolderRecordSlot.cleared) == nil)
        // A read during the publishing or clearing pwrite: part record, part blanks.
        for cut in stride(from: 1, to: HolderRecordSlot.size - 1, by: 7) {
            let prefix = Array(slot.bytes.prefix(cut)) + HolderRecordSlot.cleared.dropFirst(cut)
            let suffix = Array(HolderRecordSlot.cleared.prefix(cut)) + slot.bytes.dropFirst(cut)
            let recordEnd = slot.bytes.lastIndex(of: UInt8(ascii: "}"))!
            if cut <= recordEnd { #expect(HolderRecordSlot.parse(prefix) == nil, "prefix cut at \(cut)") }
            if cut > 0 && cut <= recordEnd { #expect(HolderRecordSlot.parse(suffix) == nil, "suffix cut at \(cut)") }
        }
    }

    @Test func bytesAfterTheSlotAreIgnored() throws {
        var slot = HolderRecordSlot(record())
        slot.stamp()
        // An older version's longer file, or garbage appended by something else.
        let parsed = HolderRecordSlot.parse(slot.bytes + Array("{\"garbage\": true}".utf8))
        #expect(parsed == slot.record)
    }

    /// Acquisitions copy a per-process template and write their lease id into it:
    /// the bytes must be exactly what encoding the record afresh produces, with a
    /// new lease id each time.
    @Test func theProcessTemplateGivesTheBytesOfAFreshEncodingWithANewLeaseID() throws {
        var first = HolderRecordSlot.forCurrentProcess(backend: .advisory)
        var second = HolderRecordSlot.forCurrentProcess(backend: .advisory)
        first.stamp()
        second.stamp()
        #expect(first.record.leaseID != second.record.leaseID)
        for slot in [first, second] {
            #expect(slot.record.pid == getpid())
            #expect(slot.record.leaseID.utf8.count == 16)
            #expect(slot.bytes == HolderRecordSlot(slot.record).bytes)
            #expect(HolderRecordSlot.parse(slot.bytes) == slot.record)
        }
    }

    /// A record whose padding is not plain spaces (an older writer's newline-only
    /// tail, tabs) parses the same.
    @Test func trailingWhitespaceOfAnyKindIsIgnored() throws {
        var slot = HolderRecordSlot(record())
        slot.stamp()
        let end = try #require(slot.bytes.lastIndex(of: UInt8(ascii: "}")))
        let text = Array(slot.bytes[...end])
        #expect(HolderRecordSlot.parse(text) == slot.record)
        #expect(HolderRecordSlot.parse(text + Array(" \t\r\n\n".utf8)) == slot.record)
        #expect(HolderRecordSlot.parse(Array(" \n".utf8) + text) == slot.record)
        #expect(HolderRecordSlot.parse(Array(text.dropLast()) + Array("   ".utf8)) == nil)
    }
}
