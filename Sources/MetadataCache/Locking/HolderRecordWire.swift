#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A holder record's JSON members, as written (`HolderRecord.encodedJSON`), and how
/// they are read back.
///
/// Guarantee: `read(_:)` returns exactly what `CacheJSONDecoder` decodes from the
/// same bytes (nil where it throws): the fast path below accepts only bytes on
/// which both agree, and hands everything else to the decoder.
///
/// Why a fast path. Every waiter parses the holder's record before it blocks.
/// Through the generic `Decodable` machinery that was ~35 K instructions and, run
/// cold after the process slept, ~70 µs of a wait's CPU (a build that skipped the
/// parse: 105 µs per wait instead of 174 µs, figure 4's driver, 200 waits). The
/// records this library writes have one shape: the members in a fixed order,
/// compact, strings as raw UTF-8 unless they need escapes, integers as plain
/// digits. Bytes of exactly that shape are valid RFC 8259 JSON whose members are
/// `Wire`'s, each once, so the decoder would read the same values from them; the
/// fast path reads them directly. Anything else — another order, whitespace, an
/// escape, a number that is not plain digits or does not fit, invalid UTF-8,
/// unknown members, `leaseSeconds` (lock-file records, whose waiters poll anyway)
/// — goes to the decoder, which validates as strictly as before.
package struct HolderRecordWire: Decodable, Equatable, Sendable {
    package var pid: Int32
    package var host: String
    package var processStartTime: UInt64?
    package var command: String?
    package var acquiredAt: String
    package var backend: String?
    package var leaseId: String
    package var leaseSeconds: Double?
    package var bootId: String?
    package var machineId: String?
    package var pidNamespace: UInt64?

    /// The members in `data` (one JSON object), or nil if it is not a record.
    /// - Parameter fastPath: false to always use the decoder (tests compare both).
    package static func read(_ data: Data, fastPath: Bool = true) -> HolderRecordWire? {
        if fastPath, let wire = readCanonical(data) { return wire }
        return try? CacheJSONDecoder().decode(HolderRecordWire.self, from: data)
    }

    /// The fast path alone: the members if `data` has exactly the library's own
    /// shape, else nil (which says nothing about whether it is a record).
    package static func readCanonical(_ data: Data) -> HolderRecordWire? {
        data.withUnsafeBytes { bytes in
            var reader = CanonicalReader(bytes: bytes)
            return reader.record()
        }
    }
}

/// Reads the canonical encoding; nil as soon as the bytes leave it.
private struct CanonicalReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func record() -> HolderRecordWire? {
        guard expect("{\"pid\":"), let pid = unsigned(maximum: UInt64(Int32.max)),
            expect(",\"host\":"), let host = string(),
            expect(",\"processStartTime\":")
        else { return nil }
        var startTime: UInt64?
        if !expect("null") {
            guard let value = unsigned() else { return nil }
            startTime = value
        }
        guard expect(",\"command\":"), let command = string(),
            expect(",\"acquiredAt\":"), let acquiredAt = string(),
            expect(",\"backend\":"), let backend = string(),
            expect(",\"leaseId\":"), let leaseID = string()
        else { return nil }
        var wire = HolderRecordWire(
            pid: Int32(pid), host: host, processStartTime: startTime, command: command, acquiredAt: acquiredAt,
            backend: backend, leaseId: leaseID, leaseSeconds: nil, bootId: nil, machineId: nil, pidNamespace: nil)
        if expect(",\"bootId\":") {
            guard let value = string() else { return nil }
            wire.bootId = value
        }
        if expect(",\"machineId\":") {
            guard let value = string() else { return nil }
            wire.machineId = value
        }
        if expect(",\"pidNamespace\":") {
            guard let value = unsigned() else { return nil }
            wire.pidNamespace = value
        }
        // The closing brace must end the bytes (trailing whitespace was trimmed).
        guard expect("}"), at == bytes.count else { return nil }
        return wire
    }

    /// Consumes `literal` if the bytes continue with it.
    mutating func expect(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - at >= count else { return false }
        let matches = literal.withUTF8Buffer { literal in
            (0..<count).allSatisfy { bytes[at + $0] == literal[$0] }
        }
        if matches { at += count }
        return matches
    }

    /// A string without escapes or control characters, valid UTF-8.
    mutating func string() -> String? {
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        let start = at + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        // Valid UTF-8 only: decoding repairs invalid sequences (to U+FFFD), which
        // changes the bytes. (`String(validating:)` needs macOS 15.)
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        let text = String(decoding: raw, as: UTF8.self)
        guard text.utf8.elementsEqual(raw) else { return nil }
        at = end + 1
        return text
    }

    /// Plain decimal digits without a leading zero (JSON's own rule), at most
    /// `maximum`. A sign, a fraction or an exponent is not plain: the decoder
    /// decides those.
    mutating func unsigned(maximum: UInt64 = .max) -> UInt64? {
        var position = at
        var value: UInt64 = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = sum
            position += 1
        }
        let digits = position - at
        guard digits > 0, !(digits > 1 && bytes[at] == UInt8(ascii: "0")), value <= maximum else { return nil }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") || bytes[position] | 0x20 == UInt8(ascii: "e") {
            return nil
        }
        at = position
        return value
    }
}
