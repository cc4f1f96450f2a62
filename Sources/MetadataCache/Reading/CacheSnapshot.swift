#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP validators stored with a payload, sent back on the next conditional refresh.
public struct HTTPValidators: Sendable, Hashable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    public var isEmpty: Bool { etag == nil && lastModified == nil }
}

/// The identity of one cache file on disk, from `stat` alone. Commits replace the
/// file by rename, so any commit changes the inode and ctime; comparing identities
/// answers "changed since?" without reading a byte.
public struct CacheFileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modificationNanoseconds: Int64
    public var changeNanoseconds: Int64

    init(_ status: FileStatus) {
        device = status.device
        inode = status.inode
        size = status.size
        modificationNanoseconds = status.modificationNanoseconds
        changeNanoseconds = status.changeNanoseconds
    }
}

/// One verified version of the cache: the payload bytes exactly as committed, and
/// what the header says about them.
public struct CacheSnapshot: Sendable {
    /// The payload, byte for byte as committed (verified against its checksum).
    public let payload: Data
    /// 1 for the first commit, +1 for every commit that is not a `304 Not
    /// Modified` revalidation (which keeps the generation: the payload did not change).
    public let generation: UInt64
    /// Random id distinct for every commit, revalidations included.
    public let commitID: UInt64
    /// When the payload was fetched, or last confirmed unchanged by its source. A
    /// local edit (`update`) keeps the time of the version it edited; a payload
    /// created by `update` with nothing to edit was never fetched (`wasFetched`).
    public let fetchedAt: Date
    /// When this file was committed.
    public let committedAt: Date
    /// What made this commit: a fetch, a revalidation or a local update.
    public let commitKind: CommitKind
    /// Where the payload came from, as described by the writer (URL or path).
    public let source: String?
    public let validators: HTTPValidators
    /// The process that committed it.
    public let writerPID: Int32
    public let writerHost: String?
    /// The file this snapshot was read from.
    public let path: String
    public let fileIdentity: CacheFileIdentity
    /// Total file size (header + payload).
    public let fileSize: Int
    /// The header's exact values (a `Date` cannot hold every 64-bit millisecond).
    package let fetchedAtMilliseconds: Int64
    package let committedAtMilliseconds: Int64

    package init(header: CacheHeader, payload: Data, path: String, fileIdentity: CacheFileIdentity, fileSize: Int) {
        self.payload = payload
        generation = header.generation
        commitID = header.commitID
        fetchedAtMilliseconds = header.fetchedAtMilliseconds
        committedAtMilliseconds = header.committedAtMilliseconds
        fetchedAt = EpochMilliseconds.date(header.fetchedAtMilliseconds)
        committedAt = EpochMilliseconds.date(header.committedAtMilliseconds)
        commitKind = header.effectiveCommitKind
        source = header.source
        validators = HTTPValidators(etag: header.etag, lastModified: header.lastModified)
        writerPID = header.writerPID
        writerHost = header.writerHost
        self.path = path
        self.fileIdentity = fileIdentity
        self.fileSize = fileSize
    }

    /// False for a payload created by `update` with no previous version: it was
    /// never fetched, so it is never fresh.
    public var wasFetched: Bool { fetchedAtMilliseconds != CacheHeader.neverFetched }

    /// Time since `fetchedAt` (zero if the clock says it is in the future; about
    /// 292 million years, the longest representable, if it was never fetched).
    public var age: Duration { EpochMilliseconds.age(since: fetchedAtMilliseconds) }

    public func isOlder(than maximumAge: Duration) -> Bool { age > maximumAge }
}
