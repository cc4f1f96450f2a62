/// The header of a cache file, format version 1 (specified in docs/format.md).
///
/// A cache file is `header ++ payload`. The header is self-verifying (its own XXH64)
/// and carries the payload's exact length and XXH64, so a reader detects a
/// truncated, extended, bit-flipped, foreign or mixed file before handing out a
/// single byte. All integers are little-endian; nothing is aligned.
///
///     offset size field
///          0    8 magic 0x89 'M' 'C' 'A' 'C' 'H' 'E' 0x0A
///          8    2 format version (u16: 1)
///         10    2 format flags (u16: 0; a bit a reader does not know = newer format)
///         12    4 header length H (u32), including this prelude, the fields and
///                 the trailing header checksum (80 <= H <= 65536)
///         16    8 payload length N (u64)
///         24    8 payload checksum: XXH64(payload, seed 0)
///         32    8 generation (u64: 1 for the first commit, +1 per commit that is not a 304)
///         40    8 commit id (u64, random, non-zero, distinct per commit)
///         48    8 fetchedAt, milliseconds since the Unix epoch (i64; INT64_MIN = never fetched)
///         56    8 committedAt, milliseconds since the Unix epoch (i64)
///         64    4 writer pid (i32)
///         68    4 reserved (0; readers ignore it)
///         72  ... fields: repeated (tag u16, length u16, value bytes), in any order;
///                 1 source, 2 ETag, 3 Last-Modified, 4 writer host, 5 commit kind
///                 (UTF-8 text); unknown tags are skipped unread; a repeated tag:
///                 the last one wins
///        H-8    8 header checksum: XXH64(bytes 0 ..< H-8, seed 0)
///          H    N payload, exactly as committed
///
/// The file size must be exactly H + N (compared as `N == size - H`: `H + N`
/// overflows for the N a damaged or hostile header may announce).
///
/// Growth (docs/format.md, "How the format grows"): bytes 0 ..< 16 and the header
/// checksum at H-8 keep their meaning in every version, so a reader can tell an
/// intact file of a newer version (refused as `newerFormat`, never "corrupt")
/// from a damaged one.
package struct CacheHeader: Sendable, Equatable {
    package static let magic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x43, 0x48, 0x45, 0x0A]
    package static let formatVersion: UInt16 = 1
    /// The format flags this version understands: none. A flag is how a later
    /// writer marks a file that a version-1 reader must not read as version 1.
    package static let knownFlags: UInt16 = 0
    package static let fixedPrefixLength = 72
    package static let minimumLength = fixedPrefixLength + 8
    package static let maximumLength = 65536
    /// Longest text field kept; longer source descriptions and host names are
    /// shortened, longer validators dropped (no server sends an 8 KiB ETag in good
    /// faith). Readers accept any length that fits in the header.
    package static let maximumFieldBytes = 8192
    /// `fetchedAt` of a payload that was never fetched (created by `update`).
    package static let neverFetched = Int64.min

    package enum FieldTag: UInt16 {
        case source = 1
        case etag = 2
        case lastModified = 3
        case writerHost = 4
        case commitKind = 5
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
    /// What made this commit; nil when the writer did not record it (files written
    /// before the field existed, whose commits all counted as fetches).
    package var commitKind: CommitKind?

    package init(
        payloadLength: UInt64, payloadChecksum: UInt64, generation: UInt64, commitID: UInt64,
        fetchedAtMilliseconds: Int64, committedAtMilliseconds: Int64, writerPID: Int32,
        source: String?, etag: String?, lastModified: String?, writerHost: String?, commitKind: CommitKind? = nil
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
        self.commitKind = commitKind
    }

    /// The commit kind readers act on: an absent field means a fetch.
    package var effectiveCommitKind: CommitKind { commitKind ?? .fetch }

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
        append(.commitKind, commitKind?.rawValue, shortenIfLong: false)

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

    /// The header length announced by a prefix of a file, after checking the
    /// magic and the range of H — the parts every format version keeps; use it to
    /// know how many bytes `decode` needs.
    package static func announcedLength(_ prefix: UnsafeRawBufferPointer) throws(CacheCorruption) -> Int {
        guard prefix.count >= 16 else { throw .truncatedHeader(size: prefix.count) }
        for i in 0..<8 where prefix[i] != magic[i] { throw .badMagic }
        let length = Int(prefix.loadLittleEndian(at: 12) as UInt32)
        guard length >= minimumLength, length <= maximumLength else {
            throw .malformedHeader("header length \(length) out of range \(minimumLength)...\(maximumLength)")
        }
        return length
    }

    /// Decodes and verifies a header from the start of a file. `bytes` must hold at
    /// least the announced header length.
    ///
    /// The header checksum is verified before the version and flags are looked at:
    /// a bit flip in the version field is damage (corrupt), while an intact header
    /// of a later version or with an unknown flag is a newer format, which must be
    /// refused without being called corrupt (or repaired, or overwritten).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(HeaderRejection) -> (header: CacheHeader, length: Int) {
        let length: Int
        do {
            length = try announcedLength(bytes)
        } catch {
            throw .corrupt(error)
        }
        guard bytes.count >= length else { throw .corrupt(.truncatedHeader(size: bytes.count)) }
        let stored: UInt64 = bytes.loadLittleEndian(at: length - 8)
        let computed = XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 8)]))
        guard stored == computed else { throw .corrupt(.headerChecksumMismatch) }

        let version: UInt16 = bytes.loadLittleEndian(at: 8)
        let flags: UInt16 = bytes.loadLittleEndian(at: 10)
        guard version != 0 else { throw .corrupt(.malformedHeader("format version 0 does not exist")) }
        if version > formatVersion || flags & ~knownFlags != 0 {
            throw .newerFormat(version: version, unknownFlags: flags & ~knownFlags)
        }

        var header = CacheHeader(
            payloadLength: bytes.loadLittleEndian(at: 16),
            payloadChecksum: bytes.loadLittleEndian(at: 24),
            generation: bytes.loadLittleEndian(at: 32),
            commitID: bytes.loadLittleEndian(at: 40),
            fetchedAtMilliseconds: Int64(bitPattern: bytes.loadLittleEndian(at: 48)),
            committedAtMilliseconds: Int64(bitPattern: bytes.loadLittleEndian(at: 56)),
            writerPID: Int32(bitPattern: bytes.loadLittleEndian(at: 64)),
            source: nil, etag: nil, lastModified: nil, writerHost: nil)

        // Fields: 4 <= remaining checks keep every offset within `end` (<= 65536),
        // so no sum below can overflow.
        var offset = fixedPrefixLength
        let end = length - 8
        while offset < end {
            guard end - offset >= 4 else { throw .corrupt(.malformedHeader("truncated field at byte \(offset)")) }
            let tag: UInt16 = bytes.loadLittleEndian(at: offset)
            let count = Int(bytes.loadLittleEndian(at: offset + 2) as UInt16)
            offset += 4
            guard count <= end - offset else {
                throw .corrupt(.malformedHeader("field \(tag) overruns the header at byte \(offset)"))
            }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            offset += count
            // Unknown tags are opaque: skipped without looking at their bytes.
            guard let kind = FieldTag(rawValue: tag) else { continue }
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw .corrupt(.malformedHeader("field \(tag) is not valid UTF-8"))
            }
            switch kind {
            case .source: header.source = text
            case .etag: header.etag = text
            case .lastModified: header.lastModified = text
            case .writerHost: header.writerHost = text
            case .commitKind: header.commitKind = CommitKind(rawValue: text)
            }
        }
        return (header, length)
    }
}

/// Why a header cannot be read as format version 1.
package enum HeaderRejection: Error, Equatable {
    /// Damaged, truncated or not a cache file.
    case corrupt(CacheCorruption)
    /// Intact (its checksum verifies), but written in a later format version or
    /// with format flags this version does not know.
    case newerFormat(version: UInt16, unknownFlags: UInt16)

    /// The store-level error for the file at `path`.
    package func error(at path: String) -> MetadataCacheError {
        switch self {
        case let .corrupt(problem): .corruptCache(path: path, problem: problem)
        case let .newerFormat(version, flags): .newerFormat(path: path, version: version, unknownFlags: flags)
        }
    }
}

/// What made a commit, recorded in its header (field 5) so that readers can tell
/// a fetched payload from a local edit of one.
///
/// Values are short words; a reader that meets one it does not know treats the
/// commit as neither a fetch nor a revalidation.
public struct CommitKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A payload fetched from its source (`refresh`, or a writer's `commit`).
    public static let fetch = CommitKind(rawValue: "fetch")
    /// The source confirmed the cached payload is current (HTTP 304).
    public static let revalidation = CommitKind(rawValue: "revalidation")
    /// A read-modify-write of the previous version (`update`): a local edit,
    /// which keeps the fetchedAt, source and validators of the version it edited.
    public static let update = CommitKind(rawValue: "update")

    /// Whether the commit came from the source (a fetch or a revalidation): only
    /// such a commit can satisfy a refresh that waited for it.
    public var isFromSource: Bool { self == .fetch || self == .revalidation }

    public var description: String { rawValue }
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
