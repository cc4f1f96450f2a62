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
    /// 1 for the first commit, +1 for every commit of a new payload. A `304 Not
    /// Modified` revalidation keeps the generation (the payload did not change).
    public let generation: UInt64
    /// Random id distinct for every commit, revalidations included.
    public let commitID: UInt64
    /// When the payload was fetched, or last confirmed unchanged by its source.
    public let fetchedAt: Date
    /// When this file was committed.
    public let committedAt: Date
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

    /// Time since `fetchedAt` (zero if the clock says it is in the future).
    public var age: Duration {
        let seconds = max(0, Date().timeIntervalSince(fetchedAt))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    public func isOlder(than maximumAge: Duration) -> Bool { age > maximumAge }
}
