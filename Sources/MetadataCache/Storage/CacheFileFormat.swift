/// The header of a cache file, format version 1 (specified in docs/format.md).
///
/// A cache file is `header ++ payload`. The header is self-verifying (its own XXH64)
/// and carries the payload's exact length and XXH64, so a reader detects a
/// truncated, extended, bit-flipped, foreign or mixed file before handing out a
/// single byte. All integers are little-endian.
///
///     offset size field
///          0    8 magic 0x89 'M' 'C' 'A' 'C' 'H' 'E' 0x0A
///          8    2 format version (1)
///         10    2 flags (0; readers reject unknown flags)
///         12    4 header length H, including this prelude, the fields and the
///                 trailing header checksum (80 <= H <= 65536)
///         16    8 payload length N
///         24    8 payload checksum: XXH64(payload, seed 0)
///         32    8 generation (1 for the first commit, +1 per new payload)
///         40    8 commit id (random, distinct per commit)
///         48    8 fetchedAt, milliseconds since the Unix epoch (signed)
///         56    8 committedAt, milliseconds since the Unix epoch (signed)
///         64    4 writer pid
///         68    4 reserved (0)
///         72  ... fields: repeated (tag u16, length u16, UTF-8 bytes)
///                 1 source, 2 ETag, 3 Last-Modified, 4 writer host;
///                 unknown tags are skipped
///        H-8    8 header checksum: XXH64(bytes 0 ..< H-8, seed 0)
///          H    N payload, exactly as committed
///
/// The file size must be exactly H + N.
package struct CacheHeader: Sendable, Equatable {
    package static let magic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x43, 0x48, 0x45, 0x0A]
    package static let formatVersion: UInt16 = 1
    package static let fixedPrefixLength = 72
    package static let minimumLength = fixedPrefixLength + 8
    package static let maximumLength = 65536
    /// Longest text field kept; longer source descriptions are shortened, longer
    /// validators dropped (no server sends an 8 KiB ETag in good faith).
    package static let maximumFieldBytes = 8192

    package enum FieldTag: UInt16 {
        case source = 1
        case etag = 2
        case lastModified = 3
        case writerHost = 4
    }

    package var payloadLength: UInt64
    package var payloadChecksum: UInt64
    package var generation: UInt64
    package var commitID: UInt64
    package var fetchedAtMilliseconds: Int64
    package var committedAtMilliseconds: Int64
    package var writerPID: Int32
    package var source: String?
    package var etag: String?
    package var lastModified: String?
    package var writerHost: String?

    package init(
        payloadLength: UInt64, payloadChecksum: UInt64, generation: UInt64, commitID: UInt64,
        fetchedAtMilliseconds: Int64, committedAtMilliseconds: Int64, writerPID: Int32,
        source: String?, etag: String?, lastModified: String?, writerHost: String?
    ) {
        self.payloadLength = payloadLength
        self.payloadChecksum = payloadChecksum
        self.generation = generation
        self.commitID = commitID
        self.fetchedAtMilliseconds = fetchedAtMilliseconds
        self.committedAtMilliseconds = committedAtMilliseconds
        self.writerPID = writerPID
        self.source = source
        self.etag = etag
        self.lastModified = lastModified
        self.writerHost = writerHost
    }

    // MARK: Encoding

    /// The complete header bytes, checksum included.
    package func encoded() -> [UInt8] {
        var fields: [UInt8] = []
        func append(_ tag: FieldTag, _ text: String?, shortenIfLong: Bool) {
            guard let text else { return }
            var bytes = Array(text.utf8)
            if bytes.count > Self.maximumFieldBytes {
                guard shortenIfLong else { return }
                bytes = Array(bytes.prefix(Self.maximumFieldBytes))
                // Do not leave half a UTF-8 sequence at the cut.
                while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
                if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
            }
            fields.appendLittleEndian(tag.rawValue)
            fields.appendLittleEndian(UInt16(bytes.count))
            fields += bytes
        }
        append(.source, source, shortenIfLong: true)
        append(.etag, etag, shortenIfLong: false)
        append(.lastModified, lastModified, shortenIfLong: false)
        append(.writerHost, writerHost, shortenIfLong: true)

        let length = Self.fixedPrefixLength + fields.count + 8
        var out: [UInt8] = []
        out.reserveCapacity(length)
        out += Self.magic
        out.appendLittleEndian(Self.formatVersion)
        out.appendLittleEndian(UInt16(0))
        out.appendLittleEndian(UInt32(length))
        out.appendLittleEndian(payloadLength)
        out.appendLittleEndian(payloadChecksum)
        out.appendLittleEndian(generation)
        out.appendLittleEndian(commitID)
        out.appendLittleEndian(UInt64(bitPattern: fetchedAtMilliseconds))
        out.appendLittleEndian(UInt64(bitPattern: committedAtMilliseconds))
        out.appendLittleEndian(UInt32(bitPattern: writerPID))
        out.appendLittleEndian(UInt32(0))
        out += fields
        out.appendLittleEndian(XXH64.hash(out))
        return out
    }

    // MARK: Decoding

    /// The header length announced by a prefix of a file, after checking the magic,
    /// version and flags; use it to know how many bytes `decode` needs.
    package static func announcedLength(_ prefix: UnsafeRawBufferPointer) throws(CacheCorruption) -> Int {
        guard prefix.count >= 16 else { throw .truncatedHeader(size: prefix.count) }
        for i in 0..<8 where prefix[i] != magic[i] { throw .badMagic }
        let version: UInt16 = prefix.loadLittleEndian(at: 8)
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        let flags: UInt16 = prefix.loadLittleEndian(at: 10)
        guard flags == 0 else { throw .malformedHeader("unknown flags 0x\(String(flags, radix: 16))") }
        let length = Int(prefix.loadLittleEndian(at: 12) as UInt32)
        guard length >= minimumLength, length <= maximumLength else {
            throw .malformedHeader("header length \(length) out of range")
        }
        return length
    }

    /// Decodes and verifies a header from the start of a file. `bytes` must hold at
    /// least the announced header length.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(CacheCorruption) -> (header: CacheHeader, length: Int) {
        let length = try announcedLength(bytes)
        guard bytes.count >= length else { throw .truncatedHeader(size: bytes.count) }
        let stored: UInt64 = bytes.loadLittleEndian(at: length - 8)
        let computed = XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 8)]))
        guard stored == computed else { throw .headerChecksumMismatch }

        var header = CacheHeader(
            payloadLength: bytes.loadLittleEndian(at: 16),
            payloadChecksum: bytes.loadLittleEndian(at: 24),
            generation: bytes.loadLittleEndian(at: 32),
            commitID: bytes.loadLittleEndian(at: 40),
            fetchedAtMilliseconds: Int64(bitPattern: bytes.loadLittleEndian(at: 48)),
            committedAtMilliseconds: Int64(bitPattern: bytes.loadLittleEndian(at: 56)),
            writerPID: Int32(bitPattern: bytes.loadLittleEndian(at: 64)),
            source: nil, etag: nil, lastModified: nil, writerHost: nil)

        var offset = fixedPrefixLength
        let end = length - 8
        while offset < end {
            guard offset + 4 <= end else { throw .malformedHeader("truncated field at byte \(offset)") }
            let tag: UInt16 = bytes.loadLittleEndian(at: offset)
            let count = Int(bytes.loadLittleEndian(at: offset + 2) as UInt16)
            offset += 4
            guard offset + count <= end else { throw .malformedHeader("field overruns the header at byte \(offset)") }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            offset += count
            guard let kind = FieldTag(rawValue: tag) else { continue }
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw .malformedHeader("field \(tag) is not valid UTF-8")
            }
            switch kind {
            case .source: header.source = text
            case .etag: header.etag = text
            case .lastModified: header.lastModified = text
            case .writerHost: header.writerHost = text
            }
        }
        return (header, length)
    }
}

extension [UInt8] {
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadLittleEndian<T: FixedWidthInteger>(at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
