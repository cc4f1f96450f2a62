import Foundation
import StressHarness
import Testing

/// The harness's own verification: every kind of damage a torn or mixed read
/// produces is rejected, by code that shares nothing with the library's checksum.
@Suite struct StressPayloadTests {
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
            for bit in [0, 3, 6] {
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

    @Test func theDigestIsNotTheLibrarysAndSeesEveryByte() {
        let zeros = [UInt8](repeating: 0, count: 64)
        var one = zeros
        one[63] = 1
        #expect(PayloadDigest.digest(zeros) != PayloadDigest.digest(one))
        #expect(PayloadDigest.digest(zeros) != PayloadDigest.digest(Array(zeros.prefix(63))), "length matters")
        #expect(PayloadDigest.hex(0xABC) == "0000000000000abc")
    }
}
