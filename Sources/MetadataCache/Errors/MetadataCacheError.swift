#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything that can go wrong in MetadataCache, as one typed error.
///
/// Each case carries what a user needs to act — the path, the operation, the
/// errno, who holds the lock — and `description` ends with what to do next.
/// Command-line front ends map cases to exit codes (see `docs/cli.md`).
///
/// Every throwing entry point of `CacheStore` and `CacheWriterLockGuard` throws
/// this type and only this type (`throws(MetadataCacheError)`, or documented as
/// such where a host's closure is involved), so a host can switch over it. What a
/// host's own code threw is kept, unchanged, inside the case that says where it
/// happened: `fetchFailed` (a refresh's fetch), `updateFailed` (an update's
/// transform), `decodingFailed` (`read(as:)`), `encodingFailed`
/// (`commit(encoding:)`).
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
    /// A refresh's fetch closure threw `error` (unchanged: the host's own type);
    /// nothing was written. `source` is the `source` the refresh was given, else
    /// the source the cache recorded; nil when neither is known.
    case fetchFailed(source: String?, error: any Error)
    /// An update's transform threw `error` (unchanged); nothing was written.
    case updateFailed(path: String, error: any Error)
    /// The cache file at `path` verified, but its payload does not decode as
    /// `type` (`read(as:)`). `error` is the decoder's; an error thrown by the
    /// type's own `init(from:)` that is not a `DecodingError` arrives as
    /// `DecodingError.dataCorrupted` with it as the `underlyingError`.
    case decodingFailed(path: String, type: String, error: DecodingError)
    /// `commit(encoding:)` could not encode a `type`; nothing was written. An error
    /// of the type's own `encode(to:)` that is not an `EncodingError` arrives as
    /// `EncodingError.invalidValue` with it as the `underlyingError`.
    case encodingFailed(type: String, error: EncodingError)
    /// A file at one of the store's own paths (lock file, owner file, a claim)
    /// that the store must not use: not a regular file, hard-linked elsewhere,
    /// or another user's. Nothing was written to it.
    case unsafeStoreFile(path: String, problem: UnsafeStoreFileProblem)

    /// What happened, then what to do about it, in neutral terms: no command or
    /// option of any particular tool (a host renders `remedy` in its own words).
    public var description: String { failureReason + " " + remedy.description }

    /// What happened, without what to do: the path, the operation, the errno, the
    /// holder. A host that renders `remedy` itself puts its own words after this.
    public var failureReason: String {
        let unchanged = "Nothing was written; the previous cache is unchanged."
        switch self {
        case let .lockTimeout(lockPath, timeout, waited, holder):
            let who = holder.map { " held by \($0.summary)" } ?? ""
            return "Could not acquire the writer lock \(lockPath)\(who) after \(DurationText.format(waited)) (timeout: \(timeout))."
        case let .cancelled(lockPath, waited):
            return "Cancelled after waiting \(DurationText.format(waited)) for the writer lock \(lockPath); nothing was changed."
        case let .selfDeadlock(lockPath, holder, holderIsAncestor):
            let relation = holderIsAncestor ? "an ancestor of this process" : "this process"
            return "The writer lock \(lockPath) is held by \(relation) (\(holder.summary)); waiting for it would never end."
        case let .lockLost(lockPath, reason):
            return "Lost the writer lock \(lockPath): \(reason). The commit was not made."
        case let .lockingUnsupported(lockPath, errno):
            return "The filesystem holding \(lockPath) does not support advisory locks (flock: \(errno))."
        case let .invalidPayload(error):
            return "Invalid JSON payload: \(error). \(unchanged)"
        case let .payloadTooLarge(bytes, limit):
            return "Payload of \(ByteCountText.format(bytes)) exceeds the limit of \(ByteCountText.format(limit)). \(unchanged)"
        case let .corruptCache(path, problem):
            return "The cache file \(path) is corrupt: \(problem)."
        case let .newerFormat(path, version, unknownFlags):
            return "The cache file \(path) was written by a newer MetadataCache (\(Self.newerFormatDetail(version: version, unknownFlags: unknownFlags))). "
                + "It is intact and was left untouched."
        case let .insufficientSpace(directory, needed, available):
            return "Not enough free space in \(directory): the new cache needs \(ByteCountText.format(needed)) "
                + "but only \(ByteCountText.format(available)) is available. The previous cache is unchanged."
        case let .io(operation, path, errno):
            return "\(operation) failed for \(path): \(errno)."
        case let .unsafeDirectory(path, problem):
            return "Refusing to use the cache directory \(path): \(problem)."
        case let .unsafeStoreFile(path, problem):
            return "Refusing to use \(path): \(problem). Nothing was written to it."
        case let .invalidCacheName(name):
            return "Invalid cache name \(JSONText.quoted(name))."
        case let .fetchFailed(source, error):
            return "Fetching \(source.map { "from \($0)" } ?? "the payload") failed: \(error). \(unchanged)"
        case let .updateFailed(path, error):
            return "The update of \(path) failed in its transform: \(error). \(unchanged)"
        case let .decodingFailed(path, type, error):
            return "The cache \(path) is intact but its payload does not decode as \(type): \(Self.describe(error))."
        case let .encodingFailed(type, error):
            return "Could not encode \(type) as JSON: \(Self.describe(error)). \(unchanged)"
        }
    }

    /// What to do next, as data a host can switch over and render in its own
    /// words (its command for a status, its flag for a timeout);
    /// `remedy.description` is the neutral wording that `description` uses.
    public var remedy: Remedy {
        switch self {
        case .lockTimeout: .waitLongerForLock
        case .cancelled, .lockLost: .retry
        case let .selfDeadlock(_, _, holderIsAncestor): .releaseHeldLock(heldByAncestor: holderIsAncestor)
        case .lockingUnsupported: .useLockFileBackend
        case .invalidPayload, .fetchFailed: .checkSource
        case .payloadTooLarge: .raiseSizeLimit
        case .corruptCache: .moveCorruptCacheAside
        case .newerFormat: .upgradeOrReplaceNewerFormat
        case .insufficientSpace: .freeSpace
        case let .io(_, _, errno): Remedy(for: errno)
        case let .unsafeDirectory(path, problem): .secureDirectory(path: path, problem: problem)
        case let .unsafeStoreFile(path, problem): .removeForeignStoreFile(path: path, problem: problem)
        case .invalidCacheName: .useAPlainCacheName
        case .updateFailed, .encodingFailed: .fixTheHostsCode
        case .decodingFailed: .matchTheTypeToThePayload
        }
    }

    /// The case and what it carries, for `==`: the errors a host's code threw are
    /// compared by their type and description (`any Error` is not `Equatable`).
    public static func == (lhs: MetadataCacheError, rhs: MetadataCacheError) -> Bool {
        switch lhs {
        case let .lockTimeout(a, b, c, d):
            if case let .lockTimeout(e, f, g, h) = rhs { return (a, b, c, d) == (e, f, g, h) }
        case let .cancelled(a, b):
            if case let .cancelled(c, d) = rhs { return (a, b) == (c, d) }
        case let .selfDeadlock(a, b, c):
            if case let .selfDeadlock(d, e, f) = rhs { return (a, b, c) == (d, e, f) }
        case let .lockLost(a, b):
            if case let .lockLost(c, d) = rhs { return (a, b) == (c, d) }
        case let .lockingUnsupported(a, b):
            if case let .lockingUnsupported(c, d) = rhs { return (a, b) == (c, d) }
        case let .invalidPayload(a):
            if case let .invalidPayload(b) = rhs { return a == b }
        case let .payloadTooLarge(a, b):
            if case let .payloadTooLarge(c, d) = rhs { return (a, b) == (c, d) }
        case let .corruptCache(a, b):
            if case let .corruptCache(c, d) = rhs { return (a, b) == (c, d) }
        case let .newerFormat(a, b, c):
            if case let .newerFormat(d, e, f) = rhs { return (a, b, c) == (d, e, f) }
        case let .insufficientSpace(a, b, c):
            if case let .insufficientSpace(d, e, f) = rhs { return (a, b, c) == (d, e, f) }
        case let .io(a, b, c):
            if case let .io(d, e, f) = rhs { return (a, b, c) == (d, e, f) }
        case let .unsafeDirectory(a, b):
            if case let .unsafeDirectory(c, d) = rhs { return (a, b) == (c, d) }
        case let .unsafeStoreFile(a, b):
            if case let .unsafeStoreFile(c, d) = rhs { return (a, b) == (c, d) }
        case let .invalidCacheName(a):
            if case let .invalidCacheName(b) = rhs { return a == b }
        case let .fetchFailed(a, b):
            if case let .fetchFailed(c, d) = rhs { return a == c && sameError(b, d) }
        case let .updateFailed(a, b):
            if case let .updateFailed(c, d) = rhs { return a == c && sameError(b, d) }
        case let .decodingFailed(a, b, c):
            if case let .decodingFailed(d, e, f) = rhs { return (a, b) == (d, e) && sameError(c, f) }
        case let .encodingFailed(a, b):
            if case let .encodingFailed(c, d) = rhs { return a == c && sameError(b, d) }
        }
        return false
    }

    private static func sameError(_ lhs: any Error, _ rhs: any Error) -> Bool {
        type(of: lhs) == type(of: rhs) && String(reflecting: lhs) == String(reflecting: rhs)
    }

    /// A decoding or encoding error as a sentence: its debug description and where
    /// in the document (`packages[3].version`), not the enum dump `print` gives.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context),
            let .dataCorrupted(context):
            return describe(context.debugDescription, at: context.codingPath)
        @unknown default:
            return String(describing: error)
        }
    }

    static func describe(_ error: EncodingError) -> String {
        switch error {
        case let .invalidValue(_, context): return describe(context.debugDescription, at: context.codingPath)
        @unknown default: return String(describing: error)
        }
    }

    private static func describe(_ text: String, at path: [any CodingKey]) -> String {
        // Foundation's debug descriptions end with a period; the message goes on.
        let text = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !path.isEmpty else { return text }
        var location = ""
        for key in path {
            if let index = key.intValue { location += "[\(index)]" } else { location += (location.isEmpty ? "" : ".") + key.stringValue }
        }
        return "\(text) (at \(location))"
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
    /// removing the planted one is always safe for the cache. `sharingOption`
    /// names how the front end accepts a deliberately shared directory.
    public func remedy(path: String, sharingOption: String = "the allowSharedDirectory store option") -> String {
        switch self {
        case .ownedByAnotherUser:
            "Someone else created it: remove it ('rm \(path)'); the next writer recreates it. In a directory shared on "
                + "purpose (\(sharingOption)), other users' lock files are accepted."
        default:
            "It was not created by this cache store: remove it ('rm \(path)'); the next writer recreates it."
        }
    }
}
