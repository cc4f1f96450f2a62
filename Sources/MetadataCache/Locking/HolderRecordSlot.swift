#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The holder record's fixed-size place at the start of the advisory lock file.
///
/// Guarantee: a reader of the first `size` bytes of `NAME.lock` sees a complete
/// record, blanks, or — if it reads during the one `pwrite` that publishes or clears
/// a record — a mix of that record with blanks, which never parses (a strict prefix
/// lacks the closing brace; a strict suffix starts mid-record) and is ignored. Only
/// the lock holder writes the slot, and every holder blanks it before unlocking, so
/// two holders' records can meet in one read only after a holder died without
/// clearing, and then the dead one cannot be mistaken for a live ancestor.
///
/// Why a fixed slot. The record is written by the new holder in the microseconds
/// after the kernel grants it the lock and cleared by the holder just before it
/// unlocks, so both writes sit on the handover's critical path (issue 2's goal:
/// ≤ 100 µs median). Writing a variable-length record needs `ftruncate` to cut off a
/// longer predecessor's tail, and clearing it needs `ftruncate(0)`; on ext4 each
/// truncate frees or re-allocates a block and joins the journal, 10–60 µs apiece on
/// the development machine (`Benchmarks/experiments/handover-fileops.c`). Every
/// record is instead padded with spaces to exactly `size` bytes and written by one
/// `pwrite` at offset 0 over a block the file already owns; clearing writes `size`
/// blanks the same way. The file's length never changes after the first holder.
///
/// Why a template. Everything in the record except `acquiredAt` is known before the
/// wait begins (pid, host, start time, command, lease id), so it is encoded then;
/// once the lock is granted, only the 24 timestamp bytes are stamped in place.
package struct HolderRecordSlot: Sendable {
    /// Bytes the slot occupies at offset 0 of the lock file. Readers read exactly
    /// this much; anything after it (a longer record from an older version) is
    /// ignored.
    package static let size = 1024

    /// The slot's content when nobody holds the lock: spaces and a final newline,
    /// which parse as no record.
    package static let cleared: [UInt8] = Array(repeating: UInt8(ascii: " "), count: size - 1) + [UInt8(ascii: "\n")]

    /// The record this slot describes, with the `acquiredAt` of the last `stamp`.
    package private(set) var record: HolderRecord
    /// The encoded, padded slot.
    package private(set) var bytes: [UInt8]
    /// Where the 24 bytes of the `acquiredAt` text start in `bytes`.
    private let timestampOffset: Int

    /// Encodes `record` into a slot. A record too long for the slot (a command line
    /// full of characters that JSON escapes six bytes wide, an absurd host name) is
    /// published with its command shortened, then without it.
    package init(_ record: HolderRecord) {
        var fitted = record
        var text = Array(fitted.encodedJSON().utf8)
        for shorter in ["\(record.command.prefix(40))...", "?"] where text.count > Self.size {
            fitted.command = shorter
            text = Array(fitted.encodedJSON().utf8)
        }
        // A record that still does not fit (only a host name near 1 KiB can do
        // that) is published as blanks: waiters then say "held by an unknown
        // process", which is true enough, and the lock itself is unaffected.
        guard text.count <= Self.size, let offset = Self.timestampOffset(in: text) else {
            self.record = record
            self.bytes = Self.cleared
            self.timestampOffset = -1
            return
        }
        if text.last == UInt8(ascii: "\n") { text.removeLast() }
        text += Array(repeating: UInt8(ascii: " "), count: Self.size - 1 - text.count) + [UInt8(ascii: "\n")]
        self.record = fitted
        self.bytes = text
        self.timestampOffset = offset
    }

    /// A slot describing this process, for a new acquisition of `backend`: a fresh
    /// lease id, `acquiredAt` now (stamp it again once the lock is granted).
    ///
    /// Why a per-process template. Everything in an advisory record but the lease
    /// id and the timestamp is fixed for the life of the process, and encoding it
    /// (JSON string escaping, one `String` append at a time) was half the cost of
    /// an uncontended acquire + release (`perf record` of figure 3: 11 of 24 µs).
    /// So the advisory record is encoded once per process, with a placeholder
    /// lease id of the same fixed width, and each acquisition copies the bytes and
    /// writes its 16 lease-id digits in place: the same bytes a fresh encoding
    /// would produce. A forked child (another pid) encodes afresh.
    package static func forCurrentProcess(backend: LockBackendKind, leaseSeconds: Double? = nil) -> HolderRecordSlot {
        guard backend == .advisory, leaseSeconds == nil, let template = advisoryTemplate,
            template.pid == ProcessIdentity.currentPID
        else {
            return HolderRecordSlot(HolderRecord.forCurrentProcess(backend: backend, leaseSeconds: leaseSeconds))
        }
        var slot = template.slot
        let digits = Array(Hex.format(UInt64.random(in: 1...UInt64.max)).utf8)
        slot.bytes.replaceSubrange(template.leaseIDOffset..<template.leaseIDOffset + digits.count, with: digits)
        slot.record.leaseID = String(decoding: digits, as: UTF8.self)
        slot.record.acquiredAt = Date()
        return slot
    }

    /// This process's advisory slot with a placeholder lease id, and where the id's
    /// 16 digits sit; nil when the record does not fit the slot (then every
    /// acquisition encodes its own, and publishes blanks as `init` does).
    private static let advisoryTemplate: (pid: Int32, slot: HolderRecordSlot, leaseIDOffset: Int)? = {
        var record = HolderRecord.forCurrentProcess(backend: .advisory)
        record.leaseID = Hex.format(0)
        let slot = HolderRecordSlot(record)
        guard slot.timestampOffset >= 0, let offset = offset(after: #""leaseId":""#, in: slot.bytes),
            offset + 16 <= slot.bytes.count
        else { return nil }
        return (record.pid, slot, offset)
    }()

    /// Sets `acquiredAt` to now (wall clock, millisecond precision) in both the
    /// record and the encoded bytes, without allocating.
    package mutating func stamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let milliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        record.acquiredAt = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        guard timestampOffset >= 0 else { return }
        ISO8601Timestamp.write(millisecondsSinceEpoch: milliseconds, into: &bytes, at: timestampOffset)
    }

    /// The record in a slot read from a lock file, or nil when it is blank, torn or
    /// malformed. Only the first `size` bytes count.
    package static func parse(_ bytes: some Collection<UInt8>) -> HolderRecord? {
        HolderRecord(parsing: bytes.prefix(size))
    }

    /// Start of the timestamp text: right after the first `"acquiredAt":"`. The
    /// first match is the key: inside an encoded string every `"` is escaped as
    /// `\"`, so the pattern cannot occur within the host or the command.
    private static func timestampOffset(in text: [UInt8]) -> Int? {
        guard let offset = offset(after: #""acquiredAt":""#, in: text) else { return nil }
        return offset + ISO8601Timestamp.length <= text.count ? offset : nil
    }

    /// Where the text right after the first occurrence of `key` starts (the same
    /// reasoning as for the timestamp: an encoded string cannot contain `key`).
    private static func offset(after key: String, in text: [UInt8]) -> Int? {
        let key = Array(key.utf8)
        guard text.count >= key.count else { return nil }
        for start in 0...(text.count - key.count) where text[start..<start + key.count].elementsEqual(key) {
            return start + key.count
        }
        return nil
    }
}
