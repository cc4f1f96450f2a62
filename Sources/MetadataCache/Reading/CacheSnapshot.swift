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
package struct CacheFileIdentity: Sendable, Hashable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var modificationNanoseconds: Int64
    package var changeNanoseconds: Int64

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
    /// The file this snapshot was read from.
    public let path: String
    package let fileIdentity: CacheFileIdentity
    /// Total file size (header + payload).
    public let fileSize: Int
    /// The verified header, with its exact values (a `Date` cannot hold every
    /// 64-bit millisecond).
    package let header: CacheHeader

    package init(header: CacheHeader, payload: Data, path: String, fileIdentity: CacheFileIdentity, fileSize: Int) {
        self.header = header
        self.payload = payload
        self.path = path
        self.fileIdentity = fileIdentity
        self.fileSize = fileSize
    }

    /// 1 for the first commit, +1 for every commit that is not a `304 Not
    /// Modified` revalidation (which keeps the generation: the payload did not change).
    public var generation: UInt64 { header.generation }
    /// Random id distinct for every commit, revalidations included.
    public var commitID: UInt64 { header.commitID }
    /// When the payload was fetched, or last confirmed unchanged by its source. A
    /// local edit (`update`) keeps the time of the version it edited; a payload
    /// created by `update` with nothing to edit was never fetched (`wasFetched`).
    public var fetchedAt: Date { EpochMilliseconds.date(header.fetchedAtMilliseconds) }
    /// When this file was committed.
    public var committedAt: Date { EpochMilliseconds.date(header.committedAtMilliseconds) }
    /// What made this commit: a fetch, a revalidation or a local update.
    public var commitKind: CommitKind { header.effectiveCommitKind }
    /// Where the payload came from, as described by the writer (URL or path).
    public var source: String? { header.source }
    public var validators: HTTPValidators { HTTPValidators(etag: header.etag, lastModified: header.lastModified) }
    /// The process that committed it.
    public var writerPID: Int32 { header.writerPID }
    public var writerHost: String? { header.writerHost }

    package var fetchedAtMilliseconds: Int64 { header.fetchedAtMilliseconds }
    package var committedAtMilliseconds: Int64 { header.committedAtMilliseconds }

    /// False for a payload created by `update` with no previous version: it was
    /// never fetched, so it is never fresh.
    public var wasFetched: Bool { header.fetchedAtMilliseconds != CacheHeader.neverFetched }

    /// Time since `fetchedAt` (zero if the clock says it is in the future; about
    /// 292 million years, the longest representable, if it was never fetched).
    public var age: Duration { EpochMilliseconds.age(since: header.fetchedAtMilliseconds) }

    public func isOlder(than maximumAge: Duration) -> Bool { age > maximumAge }
}
