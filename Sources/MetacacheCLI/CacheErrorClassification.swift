#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// Maps the library's `MetadataCacheError` to an exit status and a message.
///
/// Decisions where the issue is silent (also in docs/cli.md):
/// - `selfDeadlock` → 75: like a timeout, the lock is unavailable to us; it ends at
///   once instead of waiting, and succeeds once the ancestor releases the lock.
/// - `lockLost` → 75: the lock-file lease was taken over; retrying is the remedy.
/// - `lockingUnsupported` (only with `--lock-backend advisory`) → 74: the
///   filesystem cannot do what was demanded; `auto` or `lockfile` work.
/// - `insufficientSpace` and `ENOSPC`/`EDQUOT`/`EROFS` anywhere → 73: the new cache
///   file cannot be created; nothing was written. `ENOTDIR` too: a component of
///   the cache directory's path is a file, so the directory cannot be created.
/// - `EACCES`/`EPERM` anywhere → 77 (sysexits' EX_NOPERM), creating the
///   directory, lock file, temp file or events file included; the message names
///   the path, the directory that refused it and what to do.
/// - Other I/O failures while creating the directory, lock file, temp file or
///   events file → 73 (`EROFS`, `ENOSPC`, ...: "cannot create"); other I/O → 74.
/// - `newerFormat` → 76: the cache is intact but newer than this metacache; a
///   distinct status so that `verify --repair || refresh` never destroys it.
/// - `invalidCacheName` (`--name`) → 64.
/// - `unsafeDirectory` → 77, with the remedy for that problem (`chmod`, your own
///   directory, the link's target, or `--allow-shared-dir` where it applies).
public enum CacheErrorClassification {
    /// The refusal with the remedy for its problem, naming the CLI's own switch
    /// (`--allow-shared-dir`) only where it helps, and for a symlink the
    /// directory it points to, ready to paste.
    static func unsafeDirectoryMessage(path: String, problem: UnsafeDirectoryProblem) -> String {
        "refusing to use the cache directory \(path): \(problem). \(unsafeDirectoryRemedy(path: path, problem: problem))"
    }

    private static func unsafeDirectoryRemedy(path: String, problem: UnsafeDirectoryProblem) -> String {
        if problem == .isSymbolicLink, let target = resolvedPath(path), target != path {
            return "It points to \(target): use --dir \(target) instead, or replace the link with a real directory; "
                + "a symbolic link is refused even with --allow-shared-dir."
        }
        return problem.remedy(path: path, sharingOption: "--allow-shared-dir")
    }

    private static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Permission denied: which path, the directory that must grant it, and what
    /// to do. Creating a file needs write permission on its directory; anything
    /// else needs permission on the file itself.
    static func permissionMessage(operation: String, path: String, errno: Errno) -> String {
        let creating = creatingOperations.contains(operation)
        let directory = creating && operation != "create directory" ? parentDirectory(of: path) : nil
        let who = "uid \(geteuid())"
        let fix = directory.map {
            "the user running metacache (\(who)) cannot create files in \($0): make it writable for that user "
                + "(ls -ld \($0)), or choose another --dir"
        } ?? "the user running metacache (\(who)) may not do this: check the owner and mode of \(path) and its parent "
            + "directories (ls -ld), or choose another --dir"
        return "permission denied: \(operation) \(path) failed with \(errno); \(fix)"
    }

    private static func parentDirectory(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static let creatingOperations: Set<String> = [
        "create directory", "create temp file", "open lock file", "create lock owner file", "open events file",
    ]

    public static func exitCode(for error: MetadataCacheError) -> ExitCode {
        switch error {
        case .lockTimeout, .selfDeadlock, .lockLost: return .lockUnavailable
        case .cancelled: return .cancelled
        case .lockingUnsupported: return .ioError
        case .invalidPayload, .payloadTooLarge, .corruptCache: return .invalidData
        case .newerFormat: return .newerFormat
        case .insufficientSpace: return .cannotCreate
        case .unsafeDirectory, .unsafeStoreFile: return .permission
        case .invalidCacheName: return .usage
        // The CLI's own fetches throw SourceFailure, which RefreshCommand unwraps;
        // anything else a fetch throws means the source could not be had.
        case let .fetchFailed(_, error): return (error as? SourceFailure)?.exitCode ?? .unavailable
        case .decodingFailed, .encodingFailed: return .invalidData
        case let .updateFailed(_, error): return (error as? MetadataCacheError).map(exitCode(for:)) ?? .ioError
        case let .io(operation, _, errno):
            switch errno.rawValue {
            case ENOSPC, EDQUOT, EROFS, ENOTDIR: return .cannotCreate
            case EACCES, EPERM: return .permission
            default: break
            }
            return creatingOperations.contains(operation) ? .cannotCreate : .ioError
        }
    }

    /// The message for a corrupt cache, with the two commands that fix it,
    /// located on the same cache (`HintCommands`).
    public static func corruptCacheMessage(
        path: String, problem: CacheCorruption, hints: HintCommands, refreshSource: HintCommands.Source
    ) -> String {
        "the cache file \(path) is corrupt: \(problem). "
            + remedyText(.moveCorruptCacheAside, hints: hints, refreshSource: refreshSource)!
    }

    /// The CLI's words for the library's `remedy`: its own commands, located on
    /// this cache (`HintCommands`), and its flags. The library words remedies
    /// neutrally (a host tool has other commands); this is where `metacache`
    /// puts its own on top. Nil where the neutral wording is what a CLI user
    /// does too (free space, retry, ...).
    public static func remedyText(
        _ remedy: MetadataCacheError.Remedy, hints: HintCommands, refreshSource: HintCommands.Source = .unknown
    ) -> String? {
        switch remedy {
        case .waitLongerForLock:
            "Retry with a longer --lock-timeout, or see who holds the lock with '\(hints.status)'."
        case .useLockFileBackend:
            "use --lock-backend auto (or lockfile), which works there"
        case .raiseSizeLimit:
            "raise --max-bytes if this size is expected"
        case .moveCorruptCacheAside:
            "Move it aside with '\(hints.verifyRepair)', then rebuild it with '\(hints.refresh(refreshSource))'"
        case .upgradeOrReplaceNewerFormat:
            "Upgrade metacache to read it, or replace it with a cache this version can read: "
                + "'\(hints.refresh(refreshSource, options: ["--overwrite-newer-format"]))' (the newer version then rebuilds its own)"
        case let .secureDirectory(path, problem):
            unsafeDirectoryRemedy(path: path, problem: problem)
        case let .removeForeignStoreFile(path, problem):
            problem.remedy(path: path, sharingOption: "--allow-shared-dir")
        case .retry, .releaseHeldLock, .checkSource, .freeSpace, .checkPermissions, .chooseAnotherDirectory,
            .checkPathExists, .avoidSymbolicLink, .checkDisk, .useAPlainCacheName, .fixTheHostsCode,
            .matchTheTypeToThePayload, .retryOrCheckFilesystem:
            nil
        }
    }

    /// - Parameters:
    ///   - source: the payload's source, named in payload errors.
    ///   - feedback: the wording of lock-wait end lines.
    ///   - hints: the commands to suggest; the CLI's own remedies (a corrupt
    ///     cache, locking unsupported) replace the library's wording when given.
    ///   - refreshSource: the source a suggested refresh uses.
    public static func failure(
        for error: MetadataCacheError, source: String? = nil, feedback: WaitFeedbackText? = nil,
        hints: HintCommands? = nil, refreshSource: HintCommands.Source = .unknown, now: Date = Date()
    ) -> CommandFailure {
        let code = exitCode(for: error)
        let unchanged = "nothing was written; the previous cache is unchanged"
        // Without the command's own hints: the commands as `metacache` with no
        // locating options (what the library's messages used to name).
        let hints = hints ?? HintCommands(program: "metacache", locating: [])
        switch error {
        case let .lockTimeout(lockPath, timeout, waited, holder):
            let text = feedback ?? WaitFeedbackText(cachePath: lockPath, action: "")
            return CommandFailure(code, text.timedOut(waited: waited, timeout: timeout, holder: holder, now: now), isFeedbackLine: true)
        case let .cancelled(lockPath, waited):
            let text = feedback ?? WaitFeedbackText(cachePath: lockPath, action: "")
            return CommandFailure(code, text.cancelled(waited: waited), isFeedbackLine: true)
        case let .invalidPayload(problem):
            let from = source.map { " from \($0)" } ?? ""
            return CommandFailure(code, "invalid JSON payload\(from): \(problem); \(unchanged)")
        case let .payloadTooLarge(bytes, limit):
            let from = source.map { " from \($0)" } ?? ""
            return CommandFailure(
                code, "payload\(from) of \(ByteCountText.format(bytes)) exceeds the limit of \(ByteCountText.format(limit)); "
                    + "\(remedyText(.raiseSizeLimit, hints: hints)!) (\(unchanged))")
        case .invalidCacheName:
            return CommandFailure(code, error.description, showsUsageHint: true)
        case let .unsafeDirectory(path, problem):
            return CommandFailure(code, unsafeDirectoryMessage(path: path, problem: problem))
        case let .corruptCache(path, problem):
            return CommandFailure(code, corruptCacheMessage(path: path, problem: problem, hints: hints, refreshSource: refreshSource))
        case let .lockingUnsupported(lockPath, errno):
            return CommandFailure(
                code, "the filesystem holding \(lockPath) does not support advisory locks (flock: \(errno)); "
                    + remedyText(error.remedy, hints: hints)!)
        case let .newerFormat(path, version, unknownFlags):
            return CommandFailure(
                code,
                "the cache \(path) was written by a newer metacache (\(MetadataCacheError.newerFormatDetail(version: version, unknownFlags: unknownFlags))); "
                    + "it is intact and was left untouched. " + remedyText(error.remedy, hints: hints, refreshSource: refreshSource)!)
        case let .io(operation, path, errno) where code == .permission:
            return CommandFailure(code, permissionMessage(operation: operation, path: path, errno: errno))
        default:
            // What happened in the library's words, what to do in the CLI's.
            let remedy = remedyText(error.remedy, hints: hints, refreshSource: refreshSource) ?? error.remedy.description
            return CommandFailure(code, error.failureReason + " " + remedy)
        }
    }
}
