import Foundation
import Testing
@testable import MetadataCache

/// The holder record's fast path must read exactly what the decoder reads.
@Suite struct HolderRecordWireTests {
    func records() -> [HolderRecord] {
        let plain = HolderRecord(
            pid: 4242, host: "build-host", processStartTime: 123_456, command: "metacache cache refresh",
            acquiredAt: Date(timeIntervalSince1970: 1_765_000_000.123), backend: .advisory,
            leaseID: "9f0c2e7a41b3d655", bootID: "0b8c7f4e-3a52-4c1e-9d2a-6f1e0c9b8a71",
            machineID: "5f2b8c1d9e0a4b7c8d6e5f4a3b2c1d0e", pidNamespace: 4_026_531_836)
        var list = [plain]
        var r = plain
        r.processStartTime = nil
        list.append(r)
        r = plain
        r.processStartTime = .max
        r.pidNamespace = 0
        r.pid = .max
        list.append(r)
        r = plain
        r.bootID = nil
        r.machineID = nil
        r.pidNamespace = nil
        list.append(r)
        r = plain
        r.command = #"tool "quoted" back\slash new\#nline tab\#t ctl\#u{01} é 🚀"#
        r.host = "hôte-ü"
        list.append(r)
        r = plain
        r.backend = .lockFile
        r.leaseSeconds = 30
        list.append(r)
        r = plain
        r.pid = 1
        r.host = ""
        list.append(r)
        return list
    }

    func texts() -> [[UInt8]] {
        records().map { Array($0.encodedJSON().utf8.dropLast()) }  // without the newline, as the slot is trimmed
    }

    func agree(_ bytes: [UInt8], _ comment: String) {
        let data = Data(bytes)
        let fast = HolderRecordWire.read(data)
        let decoder = HolderRecordWire.read(data, fastPath: false)
        #expect(fast == decoder, "\(comment): \(String(decoding: bytes, as: UTF8.self))")
    }

    @Test func theLibrarysOwnRecordsTakeTheFastPathAndReadAsTheDecoderReadsThem() throws {
        for (record, text) in zip(records(), texts()) {
            let data = Data(text)
            let decoded = try #require(HolderRecordWire.read(data, fastPath: false))
            let escapes = text.contains(UInt8(ascii: "\\"))
            if record.leaseSeconds == nil && !escapes {
                #expect(HolderRecordWire.readCanonical(data) == decoded, "not read by the fast path")
            } else {
                #expect(HolderRecordWire.readCanonical(data) == nil, "the fast path read a record it must leave alone")
            }
            #expect(HolderRecordWire.read(data) == decoded)
            #expect(HolderRecord(parsing: text) == HolderRecord(parsing: Array(record.encodedJSON().utf8)))
        }
    }

    /// Every edit of a canonical record — a byte dropped, replaced or inserted —
    /// reads the same through the fast path as through the decoder (most of them
    /// are no record at all; some are records the fast path must refuse).
    @Test func editedRecordsReadTheSameThroughBothPaths() {
        let replacements: [UInt8] = [
            UInt8(ascii: " "), UInt8(ascii: "0"), UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "}"), 0x00, 0xFF, 0xC3,
        ]
        for text in texts() {
            for i in stride(from: 0, to: text.count, by: 3) {
                var dropped = text
                dropped.remove(at: i)
                agree(dropped, "byte \(i) dropped")
                var inserted = text
                inserted.insert(UInt8(ascii: " "), at: i)
                agree(inserted, "space inserted at \(i)")
                for byte in replacements where byte != text[i] {
                    var replaced = text
                    replaced[i] = byte
                    agree(replaced, "byte \(i) replaced by \(byte)")
                }
            }
        }
    }

    @Test func numbersAndShapesAtTheEdges() {
        let base = String(decoding: texts()[0], as: UTF8.self)
        let variants = [
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":04242"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":2147483647"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":2147483648"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":-4242"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":0"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":4242.0"#),
            base.replacingOccurrences(of: #""pid":4242"#, with: #""pid":4242e0"#),
            base.replacingOccurrences(of: #""processStartTime":123456"#, with: #""processStartTime":18446744073709551615"#),
            base.replacingOccurrences(of: #""processStartTime":123456"#, with: #""processStartTime":18446744073709551616"#),
            base.replacingOccurrences(of: #""processStartTime":123456"#, with: #""processStartTime":null"#),
            base.replacingOccurrences(of: #""host":"build-host","#, with: ""),
            base.replacingOccurrences(of: #""host":"build-host","#, with: #""host":"build-host","host":"other","#),
            base.replacingOccurrences(of: "}", with: #","extra":1}"#),
            base.replacingOccurrences(of: "{", with: " {"),
            base + "x",
            base + "}",
        ]
        for variant in variants { agree(Array(variant.utf8), "variant") }
    }
}
