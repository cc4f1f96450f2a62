/// The harness's own 64-bit payload digest, written here so that it shares
/// nothing with the library's XXH64.
///
/// Guarantee: for inputs of equal length, any change confined to one aligned
/// 8-byte word — any number of flipped bits in it — always changes the digest,
/// because each step below is a bijection of the state for a fixed word and of
/// the word for a fixed state. (A payload of another length already fails its
/// `length` field.) A change spread over several words goes undetected only if
/// the difference the first word leaves in the state is exactly cancelled by the
/// others; the carries of the multiplications make that difference depend on
/// the data, so — unlike one multiply per word, where flipping bit 63 of two
/// words always cancelled — no fixed pattern of flips is known to cancel. Beyond
/// that no bound is proven — it is not cryptographic, and need not be: the
/// damage it must catch is accidental (torn, truncated or spliced reads the
/// library's checksum missed). The tests try many random multi-bit changes.
///
/// Per 8-byte little-endian word `w`: `k = rotl(w·C1, 31)·C2`, then
/// `h = rotl(h ⊕ k, 27)·5 + C3` (the body of MurmurHash3's 64-bit lane); the
/// 1–7 tail bytes form one zero-padded word; then the length is mixed in and a
/// finaliser (MurmurHash3's fmix64) spreads every bit over the whole digest.
/// Words rather than bytes: per-byte FNV-1a is several times slower, and the
/// readers verify every 64 KiB snapshot they get.
public enum PayloadDigest {
    static let seed: UInt64 = 0x6D65_7461_6361_6368  // "metacach"
    static let c1: UInt64 = 0x87C3_7B91_1142_53D5
    static let c2: UInt64 = 0x4CF5_AD43_2745_937F
    static let c3: UInt64 = 0x52DC_E729

    /// One word into the state: a bijection of `h` for a fixed word, and of the
    /// word for a fixed `h` (odd multipliers, rotations, xor, add).
    @inline(__always)
    static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        var k = word &* c1
        k = ((k << 31) | (k >> 33)) &* c2
        let x = h ^ k
        return ((x << 27) | (x >> 37)) &* 5 &+ c3
    }

    public static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = seed
        let (c1, c2, c3) = (Self.c1, Self.c2, Self.c3)
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            // `mix`, written out with local constants: debug builds (the harness
            // under `swift test`) inline neither, and this loop covers every byte
            // of every snapshot a reader gets.
            var k = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* c1
            k = ((k << 31) | (k >> 33)) &* c2
            h ^= k
            h = ((h << 27) | (h >> 37)) &* 5 &+ c3
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h, tail)
        }
        // The length (the zero-padded tail alone cannot tell "ab" from "ab\0"),
        // then fmix64: xor-shifts and odd multiplies, each a bijection.
        h ^= UInt64(count)
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    public static func digest(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { digest($0) }
    }

    /// Sixteen lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        var v = value
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}
