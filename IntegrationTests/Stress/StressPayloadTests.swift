import Foundation
import StressHarness
import Testing
import TestSupport

/// The harness's own verification: every kind of damage a torn or mixed read
/// produces is rejected, by code that shares nothing with the library's checksum.
@Suite(.serialized, .dedicatedThread) struct StressPayloadTests {
    static let payload = StressPayload(writer: 3, sequence: 17, generation: 42, length: 4096, counters: ["u0": 5, "u1": 9])

    @Test func aBuiltPayloadIsExactlyItsLengthValidJSONAndParsesBack() throws {
        let bytes = try Self.payload.build(fillSeed: 1)
        #expect(bytes.count == 4096)
        #expect(try StressPayload.parse(bytes) == Self.payload)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["writer"] as? Int == 3)
        #expect((object["counters"] as? [String: Int])?["u1"] == 9)
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let bytes = try Self.payload.build(fillSeed: 1)
        for offset in stride(from: 0, to: bytes.count, by: 37) {
            for bit in [0, 3, 6, 7] {
                var damaged = bytes
                damaged[offset] ^= UInt8(1 << bit)
                #expect(throws: StressPayload.Defect.self, "flip at \(offset) bit \(bit)") { try StressPayload.parse(damaged) }
            }
        }
    }

    @Test func truncationExtensionAndSplicesAreRejected() throws {
        let a = try Self.payload.build(fillSeed: 1)
        var other = Self.payload
        other.sequence = 18
        let b = try other.build(fillSeed: 1)
        #expect(a != b)
        for cut in [1, 29, 30, 2048, 4095] {
            #expect(throws: StressPayload.Defect.self) { try StressPayload.parse(Array(a.prefix(cut))) }
        }
        #expect(throws: StressPayload.Defect.self) { try StressPayload.parse(a + [0x20]) }
        for split in [100, 2048, 4000] {
            #expect(throws: StressPayload.Defect.self, "splice at \(split)") {
                try StressPayload.parse(Array(a[..<split] + b[split...]))
            }
        }
        // Same length, same everything but the writer: a different digest.
        var third = Self.payload
        third.writer = 4
        #expect(try third.build(fillSeed: 1) != a)
    }

    @Test func aPayloadTooSmallForItsFieldsIsRefused() {
        #expect(throws: StressPayload.BuildError.self) { try StressPayload(writer: 1, sequence: 1, generation: 1, length: 64).build(fillSeed: 0) }
    }

    @Test func theVerifierCatchesAHeaderAndPayloadFromDifferentCommitsAndRegressions() throws {
        let bytes = try Self.payload.build(fillSeed: 1)
        var verifier = SnapshotVerifier()
        #expect(bytes.withUnsafeBytes { verifier.check($0, headerGeneration: 42) } == .good(Self.payload))
        guard case .torn = bytes.withUnsafeBytes({ verifier.check($0, headerGeneration: 43) }) else {
            Issue.record("a header of generation 43 over a payload written for 42 was accepted")
            return
        }
        var older = Self.payload
        older.generation = 41
        let olderBytes = try older.build(fillSeed: 1)
        #expect(olderBytes.withUnsafeBytes { verifier.check($0, headerGeneration: 41) } == .regressed(from: 42, to: 41))
    }

    /// Flipping the top bit of two words: with one multiply per word (the
    /// earlier digest) the change stays in bit 63 and the second flip cancels
    /// the first, for every payload.
    @Test func flippingTheTopBitOfTwoWordsChangesTheDigest() throws {
        let bytes = try Self.payload.build(fillSeed: 1)
        let original = PayloadDigest.digest(bytes)
        for (first, second) in [(7, 15), (7, 4095 - 8 * 3), (1023, 2047), (8 * 100 + 7, 8 * 101 + 7)] {
            var damaged = bytes
            damaged[first] ^= 0x80
            damaged[second] ^= 0x80
            #expect(PayloadDigest.digest(damaged) != original, "bit 7 of bytes \(first) and \(second)")
        }
        var damaged = bytes
        damaged[7] ^= 0x80
        damaged[15] ^= 0x80
        #expect(throws: StressPayload.Defect.self) { try StressPayload.parse(damaged) }
    }

    /// Random damage of 2 to 16 flipped bits anywhere, and the structured kind
    /// (the same bit flipped in 2 to 4 words), over many payload-like inputs.
    @Test func manyRandomMultiBitChangesAllChangeTheDigest() {
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let length = 512
        var collisions: [String] = []
        for trial in 0..<20_000 {
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }
            if trial % 2 == 0 { for i in bytes.indices { bytes[i] = 0x61 + bytes[i] % 26 } }  // ASCII, like the filler
            let original = PayloadDigest.digest(bytes)
            var damaged = bytes
            var flips: [(Int, Int)] = []
            if trial % 4 == 3 {
                let bit = Int(next() % 64)
                for _ in 0..<(2 + Int(next() % 3)) { flips.append((Int(next() % UInt64(length / 8)) * 8 + bit / 8, bit % 8)) }
            } else {
                for _ in 0..<(2 + Int(next() % 15)) { flips.append((Int(next() % UInt64(length)), Int(next() % 8))) }
            }
            for (offset, bit) in flips { damaged[offset] ^= UInt8(1 << bit) }
            guard damaged != bytes else { continue }  // the flips cancelled each other
            if PayloadDigest.digest(damaged) == original { collisions.append("trial \(trial): \(flips)") }
        }
        #expect(collisions.isEmpty, "\(collisions.count) collisions, first: \(collisions.prefix(3))")
    }

    @Test func theDigestIsNotTheLibrarysAndSeesEveryByte() {
        let zeros = [UInt8](repeating: 0, count: 64)
        var one = zeros
        one[63] = 1
        #expect(PayloadDigest.digest(zeros) != PayloadDigest.digest(one))
        #expect(PayloadDigest.digest(zeros) != PayloadDigest.digest(Array(zeros.prefix(63))), "length matters")
        #expect(PayloadDigest.hex(0xABC) == "0000000000000abc")
    }
}
