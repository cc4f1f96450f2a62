/// Everything that can go wrong in MetadataCache, as one typed error.
///
/// Each case carries what a user needs to act — the path, the operation, the
/// errno, who holds the lock — and `description` ends with what to do next.
/// Command-line front ends map cases to exit codes (see `docs/cli.md`).
public enum MetadataCacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The writer lock was still held by another process when the timeout expired.
    case lockTimeout(lockPath: String, timeout: LockTimeout, waited: Duration, holder: HolderRecord?)
    /// Waiting for the writer lock was cancelled (task cancellation or a cancel token).
    case cancelled(lockPath: String, waited: Duration)
    /// The lock is held by this process or by one of its ancestors: waiting would
    /// never end, because the holder is waiting for us.
    case selfDeadlock(lockPath: String, holder: HolderRecord, holderIsAncestor: Bool)
    /// An owner-file lock was taken over while we held it (its lease expired).
    case lockLost(lockPath: String, reason: String)
    /// Advisory locking was required (`--lock-backend advisory`) but the
    /// filesystem does not support it.
    case lockingUnsupported(lockPath: String, errno: Errno)
    /// The payload is not strict RFC 8259 JSON.
    case invalidPayload(JSONValidationError)
    /// The payload exceeds the configured size limit.
    case payloadTooLarge(bytes: Int, limit: Int)
    /// The cache file exists but fails verification.
    case corruptCache(path: String, problem: CacheCorruption)
    /// The cache file is intact but was written by a newer MetadataCache: a later
    /// format version, or format flags this version does not know
    /// (`unknownFlags`, 0 when the version alone is newer). Readers cannot read
    /// it; writers leave it alone unless `CacheStoreOptions.overwriteNewerFormat`.
    case newerFormat(path: String, version: UInt16, unknownFlags: UInt16)
    /// The filesystem cannot hold the new cache file.
    case insufficientSpace(directory: String, needed: UInt64, available: UInt64)
    /// A system call failed.
    case io(operation: String, path: String, errno: Errno)
    /// The cache directory is not safe to use (symlink, shared, foreign owner).
    case unsafeDirectory(path: String, problem: UnsafeDirectoryProblem)
    /// A cache name that is not a plain file name (empty, `/`, leading dot, ...).
    case invalidCacheName(String)
    /// A file at one of the store's own paths (lock file, owner file, a claim)
    /// that the store must not use: not a regular file, hard-linked elsewhere,
    /// or another user's. Nothing was written to it.
    case unsafeStoreFile(path: String, problem: UnsafeStoreFileProblem)

    public var description: String {
        switch self {
        case let .lockTimeout(lockPath, timeout, waited, holder):
            let who = holder.map { " held by \($0.summary)" } ?? ""
            return "Could not acquire the writer lock \(lockPath)\(who) after \(DurationText.format(waited)) (timeout: \(timeout)). "
                + "Retry with a longer lock timeout, or check who holds it with 'metacache cache status'."
        case let .cancelled(lockPath, waited):
            return "Cancelled after waiting \(DurationText.format(waited)) for the writer lock \(lockPath); nothing was changed. "
                + "Run the operation again to retry; 'metacache cache status' shows who holds the lock."
        case let .selfDeadlock(lockPath, holder, holderIsAncestor):
            let relation = holderIsAncestor ? "an ancestor of this process" : "this process"
            return "The writer lock \(lockPath) is held by \(relation) (\(holder.summary)); waiting for it would never end. "
                + (holderIsAncestor
                    ? "Refresh in the parent while it holds the lock, or release the lock before starting this child."
                    : "Release the existing CacheWriterLockGuard first, or use CacheStore.update/refresh, which queue callers within a process.")
        case let .lockLost(lockPath, reason):
            return "Lost the writer lock \(lockPath): \(reason). The commit was not made; retry the operation."
        case let .lockingUnsupported(lockPath, errno):
            return "The filesystem holding \(lockPath) does not support advisory locks (flock: \(errno)). "
                + "Use the lock-file backend (--lock-backend lockfile or auto)."
        case let .invalidPayload(error):
            return "Invalid JSON payload: \(error). Nothing was written; the previous cache is unchanged."
        case let .payloadTooLarge(bytes, limit):
            return "Payload of \(ByteCountText.format(bytes)) exceeds the limit of \(ByteCountText.format(limit)). "
                + "Nothing was written; raise the limit (--max-bytes) if this size is expected."
        case let .corruptCache(path, problem):
            return "The cache file \(path) is corrupt: \(problem). "
                + "Run 'metacache cache verify --repair' to move it aside, then refresh."
        case let .newerFormat(path, version, unknownFlags):
            return "The cache file \(path) was written by a newer MetadataCache (\(Self.newerFormatDetail(version: version, unknownFlags: unknownFlags))). "
                + "It is intact and was left untouched: upgrade to read it, or replace it with a version-1 cache "
                + "(the overwriteNewerFormat store option), which the newer version's tools would then rebuild."
        case let .insufficientSpace(directory, needed, available):
            return "Not enough free space in \(directory): the new cache needs \(ByteCountText.format(needed)) "
                + "but only \(ByteCountText.format(available)) is available. Free some space and retry; the previous cache is unchanged."
        case let .io(operation, path, errno):
            return "\(operation) failed for \(path): \(errno). \(Self.hint(for: errno))"
        case let .unsafeDirectory(path, problem):
            return "Refusing to use the cache directory \(path): \(problem). \(problem.remedy(path: path))"
        case let .unsafeStoreFile(path, problem):
            return "Refusing to use \(path): \(problem). \(problem.remedy(path: path))"
        case let .invalidCacheName(name):
            return "Invalid cache name \(JSONText.quoted(name)): use a plain file name without '/', control characters or a leading dot."
        }
    }

    /// The errno behind this error, when there is one.
    public var errno: Errno? {
        switch self {
        case let .io(_, _, errno), let .lockingUnsupported(_, errno): errno
        default: nil
        }
    }

    /// `format version 2; this version reads format 1` or `format flags 0x0004,
    /// unknown to this version`.
    package static func newerFormatDetail(version: UInt16, unknownFlags: UInt16) -> String {
        if version > CacheHeader.formatVersion {
            return "format version \(version); this version reads format \(CacheHeader.formatVersion)"
        }
        let hex = String(unknownFlags, radix: 16)
        return "format flags 0x\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex), unknown to this version"
    }

    static func hint(for errno: Errno) -> String {
        switch errno {
        case .noSpace, .quotaExceeded: "Free some disk space and retry."
        case .permissionDenied, .notPermitted: "Check the owner and permissions of the path."
        case .readOnlyFileSystem: "The filesystem is read-only; choose another cache directory."
        case .tooManySymlinks: "The path is a symbolic link, which the cache refuses to follow."
        case .noSuchFile: "Check that the path exists."
        case .ioError: "The disk reported an I/O error; check the system log."
        default: "Retry; if it persists, check the path and the filesystem."
        }
    }
}

/// How a cache file failed verification.
public enum CacheCorruption: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case notARegularFile
    case truncatedHeader(size: Int)
    case badMagic
    case malformedHeader(String)
    case headerChecksumMismatch
    /// The file is not exactly header plus the announced payload: `fileSize` is
    /// not `headerLength + payloadLength` (never computed as that sum: a damaged or
    /// hostile header can announce a payload length that overflows it).
    case lengthMismatch(headerLength: Int, payloadLength: UInt64, fileSize: Int64)
    case payloadChecksumMismatch(expected: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .empty: "the file is empty"
        case .notARegularFile: "it is not a regular file"
        case let .truncatedHeader(size): "the file is only \(size) bytes, shorter than a header"
        case .badMagic: "it does not start with the MetadataCache signature (not a cache file, or overwritten)"
        case let .malformedHeader(reason): "malformed header (\(reason))"
        case .headerChecksumMismatch: "the header checksum does not match (bit flip or partial overwrite)"
        case let .lengthMismatch(headerLength, payloadLength, fileSize):
            // fileSize >= headerLength whenever a header was decoded; the
            // comparison is made on what follows the header, never on a sum.
            Self.payloadBytesAfter(headerLength: headerLength, fileSize: fileSize) < payloadLength
                ? "truncated: the header announces a \(payloadLength)-byte payload after its \(headerLength) bytes, "
                    + "but the file has only \(fileSize) bytes"
                : "trailing data: the header announces a \(payloadLength)-byte payload after its \(headerLength) bytes "
                    + "(\(UInt64(headerLength) + payloadLength) bytes in all), but the file has \(fileSize) bytes"
        case let .payloadChecksumMismatch(expected, actual):
            "payload checksum mismatch (expected \(Hex.format(expected)), computed \(Hex.format(actual)))"
        }
    }
}

extension CacheCorruption {
    /// The bytes a file of `fileSize` holds after a header of `headerLength`.
    static func payloadBytesAfter(headerLength: Int, fileSize: Int64) -> UInt64 {
        let (rest, overflow) = fileSize.subtractingReportingOverflow(Int64(headerLength))
        return overflow || rest < 0 ? 0 : UInt64(rest)
    }
}

/// Why a cache directory was refused (see `DirectorySafety`).
public enum UnsafeDirectoryProblem: Sendable, Equatable, CustomStringConvertible {
    case isSymbolicLink
    case notADirectory
    case writableByOthers(permissions: UInt32)
    case ownedByAnotherUser(owner: UInt32, currentUser: UInt32)
    /// An ancestor directory that someone else can write without the sticky
    /// bit: they can rename the cache directory away and put their own in its
    /// place between any two system calls.
    case ancestorWritableByOthers(ancestor: String, permissions: UInt32)
    /// An ancestor owned by a user other than root and the current user: its
    /// owner can do the same.
    case ancestorOwnedByAnotherUser(ancestor: String, owner: UInt32)

    public var description: String {
        switch self {
        case let .ancestorWritableByOthers(ancestor, permissions):
            "its parent directory \(ancestor) is writable by group or others without the sticky bit (mode \(String(permissions, radix: 8))), "
                + "so they could swap the cache directory for their own"
        case let .ancestorOwnedByAnotherUser(ancestor, owner):
            "its parent directory \(ancestor) is owned by uid \(owner), who could swap the cache directory for their own"
        case .isSymbolicLink: "it is a symbolic link"
        case .notADirectory: "it is not a directory"
        case let .writableByOthers(permissions):
            "it is writable by group or others (mode \(String(permissions, radix: 8)))"
        case let .ownedByAnotherUser(owner, currentUser):
            "it is owned by uid \(owner), not by the current user (uid \(currentUser))"
        }
    }

    /// Whether `allowSharedDirectory` lifts this refusal (group/other-writable,
    /// another owner). A symlink or a non-directory is refused regardless.
    public var isLiftedBySharing: Bool {
        switch self {
        case .isSymbolicLink, .notADirectory: false
        case .writableByOthers, .ownedByAnotherUser, .ancestorWritableByOthers, .ancestorOwnedByAnotherUser: true
        }
    }

    /// What to do about it, for the directory at `path`. `sharingOption` names how
    /// the front end lets a user accept a deliberately shared directory (the
    /// library's option by default; the CLI passes its flag).
    public func remedy(path: String, sharingOption: String = "the allowSharedDirectory store option") -> String {
        let shared = "if the directory is shared on purpose and everyone who can write to it is trusted, "
            + "accept it with \(sharingOption) (whoever can write to it can then replace the cache)."
        switch self {
        case .isSymbolicLink:
            return "Use the directory the link points to instead, or replace the link with a real directory; "
                + "a symbolic link is refused even for a shared cache."
        case .notADirectory:
            return "Something else is at that path: move or remove it, or choose another cache directory."
        case let .writableByOthers(permissions):
            let umaskHint = permissions & 0o777 == 0o775 ? " (mode 775 is what mkdir gives under umask 002)" : ""
            return "Make it private with 'chmod 700 \(path)', or at least 'chmod g-w,o-w \(path)'\(umaskHint); or, \(shared)"
        case let .ownedByAnotherUser(owner, _):
            return "Use a cache directory of your own, or ask its owner (uid \(owner)) to hand it over; or, \(shared)"
        case let .ancestorWritableByOthers(ancestor, _):
            return "Choose a cache directory under a directory only you (or root) can write, such as ~/.cache, "
                + "or make \(ancestor) private ('chmod g-w,o-w \(ancestor)', or 'chmod +t' for a shared one like /tmp); or, \(shared)"
        case let .ancestorOwnedByAnotherUser(_, owner):
            return "Choose a cache directory under your own home directory, such as ~/.cache, not one inside a directory "
                + "of uid \(owner); or, \(shared)"
        }
    }
}

/// Why a file at one of a store's own paths is refused (`unsafeStoreFile`).
public enum UnsafeStoreFileProblem: Sendable, Equatable, CustomStringConvertible {
    /// A FIFO, socket, device or directory: opening or reading it could block
    /// forever or mean nothing.
    case notARegularFile(kind: String)
    /// More than one name for the file: writing the holder record would write
    /// into the other name's file too.
    case hardLinked(linkCount: UInt64)
    /// Created by another user, who can then read or hold it as they please.
    case ownedByAnotherUser(owner: UInt32, currentUser: UInt32)

    public var description: String {
        switch self {
        case let .notARegularFile(kind): "it is \(kind), not a regular file"
        case let .hardLinked(linkCount): "it has \(linkCount) hard links (another name points at the same file)"
        case let .ownedByAnotherUser(owner, currentUser):
            "it is owned by uid \(owner), not by the current user (uid \(currentUser))"
        }
    }

    /// What to do about it: the store recreates every one of its files, so
    /// removing the planted one is always safe for the cache.
    public func remedy(path: String) -> String {
        switch self {
        case .ownedByAnotherUser:
            "Someone else created it: remove it ('rm \(path)'); the next writer recreates it. In a directory shared on "
                + "purpose (--allow-shared-dir), other users' lock files are accepted."
        default:
            "It was not created by metacache: remove it ('rm \(path)'); the next writer recreates it."
        }
    }
}
