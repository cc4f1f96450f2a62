import Testing
@testable import MetadataCache

/// Vectors computed with the reference implementation's Python binding
/// (`xxhash.xxh64(data, seed=0).intdigest()`, xxhash 3.x).
@Suite struct XXH64Tests {
    static let vectors: [(bytes: [UInt8], hash: UInt64)] = [
        ([], 0xef46_db37_51d8_e999),
        (Array("a".utf8), 0xd24e_c4f1_a98c_6e5b),
        (Array("abc".utf8), 0x44bc_2cf5_ad77_0999),
        (Array("message digest".utf8), 0x066e_d728_fcee_b3be),
        (Array("abcdefghijklmnopqrstuvwxyz".utf8), 0xcfe1_f278_fa89_835c),
        (Array((0..<4).flatMap { _ in (0...255).map { UInt8($0) } }), 0x6f39_14f1_8fe4_df57),
        (Array(repeating: UInt8(ascii: "x"), count: 31), 0x60dd_0d01_083b_99f0),
        (Array(repeating: UInt8(ascii: "x"), count: 32), 0xe2df_261f_c2ec_30eb),
        (Array(repeating: UInt8(ascii: "x"), count: 33), 0xb3fa_465f_5542_08a6),
        (Array(String(repeating: "0123456789abcdef", count: 3).utf8) + Array("xyz".utf8), 0xdeb1_c83f_420a_99ef),
    ]

    @Test(arguments: 0..<vectors.count)
    func matchesReferenceImplementation(index: Int) {
        let vector = Self.vectors[index]
        #expect(XXH64.hash(vector.bytes) == vector.hash, "length \(vector.bytes.count)")
    }

    @Test func everySingleBitFlipChangesTheHash() {
        let base = Array((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let original = XXH64.hash(base)
        for byte in 0..<base.count {
            for bit in 0..<8 {
                var flipped = base
                flipped[byte] ^= 1 << bit
                #expect(XXH64.hash(flipped) != original)
            }
        }
    }

    @Test func truncationChangesTheHash() {
        let base = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0) })
        let full = XXH64.hash(base)
        for cut in [1, 7, 8, 31, 32, 33, 500, 999] {
            #expect(XXH64.hash(Array(base.prefix(base.count - cut))) != full)
        }
    }
}
