/// The process exit statuses of `metacache`, one meaning each (sysexits.h values).
///
/// Scripts branch on these, so they are part of the command's contract: documented
/// in `--help` and docs/cli.md, and asserted by the integration tests.
public enum ExitCode: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Success, including a refresh that was skipped (fresh) or coalesced.
    case success = 0
    /// Bad usage: unknown command or option, missing or invalid option value, no source.
    case usage = 64
    /// The payload is not valid JSON (or too large), or the cache file is corrupt.
    case invalidData = 65
    /// The source or the cache does not exist.
    case missing = 66
    /// The source is unavailable: network failure, timeout, HTTP error status,
    /// or the HTTP helper `metacache-fetch` is missing.
    case unavailable = 69
    /// The cache directory or a file in it cannot be created (includes a full disk).
    case cannotCreate = 73
    /// Any other I/O error.
    case ioError = 74
    /// The writer lock could not be taken in time (or waiting would deadlock).
    case lockUnavailable = 75
    /// The cache file was written by a newer MetadataCache (a later format version
    /// or unknown format flags): intact, left untouched (sysexits' EX_PROTOCOL: the
    /// other side speaks a newer protocol).
    case newerFormat = 76
    /// Permission denied anywhere (creating the directory, lock or temp file
    /// included), or the cache directory is unsafe (symlink, shared, foreign).
    case permission = 77
    /// The config file `<dir>/config.json` is malformed.
    case badConfig = 78
    /// Interrupted by SIGINT/SIGTERM (after finishing or rolling back any commit).
    case cancelled = 130

    public var description: String {
        switch self {
        case .success: "success (including skipped and coalesced refreshes)"
        case .usage: "usage error or bad option value"
        case .invalidData: "invalid payload or corrupt cache"
        case .missing: "source or cache missing"
        case .unavailable: "source unavailable (network, HTTP status, fetch helper missing)"
        case .cannotCreate: "cannot create cache directory or file (including no space left)"
        case .ioError: "other I/O error"
        case .lockUnavailable: "lock timeout (or a wait that could never end)"
        case .newerFormat: "cache written by a newer format version (left untouched)"
        case .permission: "permission denied or unsafe cache directory"
        case .badConfig: "malformed config file"
        case .cancelled: "cancelled (SIGINT/SIGTERM)"
        }
    }
}
