import MetadataCache

/// A cache file built field by field from docs/format.md, with valid checksums
/// unless told otherwise: for tests of what readers do with unusual values that a
/// buggy or hostile writer can produce (XXH64 is public, so a valid checksum
/// proves nothing about the values).
///
/// Deliberately independent of `CacheHeader.encoded()`: it writes the layout the
/// specification describes, so a test built on it also checks the encoder and the
/// decoder against the page.
public struct CraftedCacheFile: Sendable {
    public var version: UInt16 = 1
    public var flags: UInt16 = 0
    public var payload: [UInt8]
    /// The announced payload length N; nil: the payload's real length.
    public var payloadLength: UInt64?
    /// The announced payload checksum; nil: the payload's real XXH64.
    public var payloadChecksum: UInt64?
    public var generation: UInt64 = 1
    public var commitID: UInt64 = 0x0123_4567_89AB_CDEF
    public var fetchedAtMilliseconds: Int64 = 1_764_000_000_000
    public var committedAtMilliseconds: Int64 = 1_764_000_000_000
    public var writerPID: Int32 = 4242
    public var reserved: UInt32 = 0
    /// Fields in file order: tag and raw value bytes.
    public var fields: [(tag: UInt16, value: [UInt8])] = [(1, Array("crafted".utf8)), (4, Array("crafted-host".utf8))]
    /// When false, the header checksum is deliberately wrong.
    public var validHeaderChecksum = true

    public init(payload: [UInt8] = Array(#"{"crafted":true}"#.utf8)) {
        self.payload = payload
    }

    /// The header alone, checksum included.
    public var header: [UInt8] {
        var out: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x43, 0x48, 0x45, 0x0A]
        let fieldBytes = fields.reduce(0) { $0 + 4 + $1.value.count }
        func le<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        le(version)
        le(flags)
        le(UInt32(72 + fieldBytes + 8))
        le(payloadLength ?? UInt64(payload.count))
        le(payloadChecksum ?? payload.withUnsafeBytes { XXH64.hash($0) })
        le(generation)
        le(commitID)
        le(fetchedAtMilliseconds)
        le(committedAtMilliseconds)
        le(writerPID)
        le(reserved)
        for field in fields {
            le(field.tag)
            le(UInt16(truncatingIfNeeded: field.value.count))
            out += field.value
        }
        let checksum = out.withUnsafeBytes { XXH64.hash($0) }
        le(validHeaderChecksum ? checksum : ~checksum)
        return out
    }

    /// The whole file: header and payload.
    public var bytes: [UInt8] { header + payload }
}
