/// The harness's own payload digest: FNV-1a-64 applied to 64-bit little-endian
/// words (the tail byte by byte), then a final avalanche.
///
/// Guarantee: computed by code that shares nothing with the library's XXH64, so a
/// payload the library wrongly accepted (a torn, truncated or mixed read that its
/// checksum missed) still fails here. It is not cryptographic and need not be: the
/// damage it must catch is accidental (splices of two payloads, lost or doubled
/// blocks), and any change of any byte changes the digest with probability about
/// 1 - 2^-64.
///
/// Words rather than bytes: one multiply per 8 bytes keeps verifying every read
/// cheap next to the read itself (plain byte-wise FNV-1a is ~8x slower).
public enum PayloadDigest {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    public static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = offsetBasis
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            hash = (hash ^ word) &* prime
            offset += 8
        }
        while offset < count {
            hash = (hash ^ UInt64(bytes[offset])) &* prime
            offset += 1
        }
        // Length and avalanche: without them, a word-wise FNV leaves the high bits
        // of the last word weakly mixed.
        hash ^= UInt64(count)
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
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
