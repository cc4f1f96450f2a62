/// A self-describing payload: valid JSON that says who wrote it, which of that
/// writer's payloads it is, how long it is, and carries a digest of itself.
///
///     {"stress":1,"writer":7,"sequence":42,"generation":1234,"length":65536,
///      "counters":{"u0":17,"u1":16},"body":"<filler>","digest":"<16 hex digits>"}
///
/// Guarantee: `parse` accepts only bytes that are exactly one complete payload as
/// built by `build`. The digest (`PayloadDigest`, the harness's own code) covers
/// every byte before `,"digest":"`, and `length` must equal the byte count, so a
/// truncated, extended, spliced or bit-flipped payload is rejected even when the
/// library's checksum blessed it.
///
/// - `generation` is the generation the writer expected its commit to get (the one
///   it read under the lock, plus one): a reader that sees a header generation
///   different from the payload's has a header and a payload from different
///   commits. 0 means unknown (CLI refreshers cannot know it in advance).
/// - `counters` carry the update mode's per-updater counts; refreshers copy them
///   forward unchanged so that refreshes and updates can run together.
/// - The filler is pseudo-random per (seed, writer, sequence), so two payloads of the
///   same length still differ in almost every byte.
public struct StressPayload: Sendable, Equatable {
    public var writer: UInt64
    public var sequence: UInt64
    public var generation: UInt64
    public var length: Int
    public var counters: [String: UInt64]

    public init(writer: UInt64, sequence: UInt64, generation: UInt64, length: Int, counters: [String: UInt64] = [:]) {
        self.writer = writer
        self.sequence = sequence
        self.generation = generation
        self.length = length
        self.counters = counters
    }

    /// `,"digest":"` + 16 hex digits + `"}`.
    static let tailLength = 29
    static let digestMarker = Array(#","digest":""#.utf8)

    /// The smallest `length` that fits a payload with these counters.
    public func minimumLength() -> Int {
        head(length: 999_999_999).count + 1 + Self.tailLength
    }

    private func head(length: Int) -> [UInt8] {
        var text = #"{"stress":1,"writer":\#(writer),"sequence":\#(sequence),"generation":\#(generation),"length":\#(length),"counters":{"#
        var first = true
        for key in counters.keys.sorted() {
            if !first { text += "," }
            first = false
            text += "\"\(key)\":\(counters[key] ?? 0)"
        }
        text += #"},"body":""#
        return Array(text.utf8)
    }

    public enum BuildError: Error, CustomStringConvertible {
        case tooSmall(requested: Int, minimum: Int)
        public var description: String {
            switch self {
            case let .tooSmall(requested, minimum): "payload of \(requested) bytes requested, at least \(minimum) needed"
            }
        }
    }

    /// The payload bytes, exactly `length` long. `fillSeed` varies the filler.
    public func build(fillSeed: UInt64) throws(BuildError) -> [UInt8] {
        var bytes = head(length: length)
        let filler = length - bytes.count - 1 - Self.tailLength
        guard filler >= 0 else { throw .tooSmall(requested: length, minimum: bytes.count + 1 + Self.tailLength) }
        bytes.reserveCapacity(length)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz012345".utf8)
        var state = fillSeed ^ (writer &* 0x9E37_79B9_7F4A_7C15) ^ (sequence &* 0xC2B2_AE3D_27D4_EB4F)
        var remaining = filler
        while remaining > 0 {
            var random = SplitMix64.next(&state)
            for _ in 0..<min(12, remaining) {
                bytes.append(alphabet[Int(random & 31)])
                random >>= 5
            }
            remaining -= min(12, remaining)
        }
        bytes.append(UInt8(ascii: "\""))
        let digest = PayloadDigest.digest(bytes)
        bytes += Self.digestMarker
        bytes += Array(PayloadDigest.hex(digest).utf8)
        bytes += Array(#""}"#.utf8)
        return bytes
    }

    /// What is wrong with bytes that are not one complete payload.
    public enum Defect: Error, Sendable, Equatable, CustomStringConvertible {
        case tooShort(Int)
        case missingDigest
        case digestMismatch(declared: String, computed: String)
        case malformed(String)
        case lengthMismatch(declared: Int, actual: Int)

        public var description: String {
            switch self {
            case let .tooShort(n): "only \(n) bytes, shorter than any stress payload"
            case .missingDigest: "does not end with a digest field (truncated or not a stress payload)"
            case let .digestMismatch(declared, computed): "digest mismatch: payload says \(declared), bytes hash to \(computed)"
            case let .malformed(what): "malformed: \(what)"
            case let .lengthMismatch(declared, actual): "length mismatch: payload says \(declared) bytes, got \(actual)"
            }
        }
    }

    /// Checks and decodes `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(Defect) -> StressPayload {
        let count = bytes.count
        guard count >= 64 else { throw .tooShort(count) }
        // Tail: ,"digest":"<16 hex>"}
        let markerStart = count - tailLength
        for (i, b) in digestMarker.enumerated() where bytes[markerStart + i] != b { throw .missingDigest }
        guard bytes[count - 2] == UInt8(ascii: "\""), bytes[count - 1] == UInt8(ascii: "}") else { throw .missingDigest }
        var declared: UInt64 = 0
        for i in 0..<16 {
            let c = bytes[markerStart + digestMarker.count + i]
            let v: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = UInt64(c - UInt8(ascii: "a") + 10)
            default: throw .missingDigest
            }
            declared = declared << 4 | v
        }
        let computed = PayloadDigest.digest(UnsafeRawBufferPointer(rebasing: bytes[0..<markerStart]))
        guard computed == declared else {
            throw .digestMismatch(declared: PayloadDigest.hex(declared), computed: PayloadDigest.hex(computed))
        }

        var cursor = Cursor(bytes: bytes, end: markerStart)
        try cursor.expect(#"{"stress":1,"writer":"#)
        let writer = try cursor.integer()
        try cursor.expect(#","sequence":"#)
        let sequence = try cursor.integer()
        try cursor.expect(#","generation":"#)
        let generation = try cursor.integer()
        try cursor.expect(#","length":"#)
        let length = try cursor.integer()
        try cursor.expect(#","counters":{"#)
        var counters: [String: UInt64] = [:]
        if !cursor.peek(UInt8(ascii: "}")) {
            while true {
                let key = try cursor.quotedKey()
                try cursor.expect(":")
                counters[key] = try cursor.integer()
                if cursor.peek(UInt8(ascii: ",")) {
                    try cursor.expect(",")
                    continue
                }
                break
            }
        }
        try cursor.expect(#"},"body":""#)
        guard Int(clamping: length) == count else { throw .lengthMismatch(declared: Int(clamping: length), actual: count) }
        return StressPayload(
            writer: writer, sequence: sequence, generation: generation, length: Int(length), counters: counters)
    }

    public static func parse(_ bytes: [UInt8]) throws(Defect) -> StressPayload {
        try bytes.withUnsafeBytes { raw in Result { () throws(Defect) in try parse(raw) } }.get()
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        let end: Int
        var offset = 0

        init(bytes: UnsafeRawBufferPointer, end: Int) {
            self.bytes = bytes
            self.end = end
        }

        func peek(_ byte: UInt8) -> Bool { offset < end && bytes[offset] == byte }

        mutating func expect(_ literal: String) throws(Defect) {
            for b in literal.utf8 {
                guard offset < end, bytes[offset] == b else { throw .malformed("expected \(literal) at byte \(offset)") }
                offset += 1
            }
        }

        mutating func integer() throws(Defect) -> UInt64 {
            var value: UInt64 = 0
            var digits = 0
            while offset < end, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(bytes[offset] - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw .malformed("integer overflow at byte \(offset)") }
                value = a
                offset += 1
                digits += 1
            }
            guard digits > 0 else { throw .malformed("expected a number at byte \(offset)") }
            return value
        }

        mutating func quotedKey() throws(Defect) -> String {
            try expect("\"")
            let start = offset
            while offset < end, bytes[offset] != UInt8(ascii: "\"") {
                guard offset - start < 64 else { throw .malformed("counter name too long at byte \(start)") }
                offset += 1
            }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
            try expect("\"")
            return key
        }
    }
}
