import MetacacheCLI
import MetadataCache

/// Exit statuses of worker processes: for library errors, exactly the `metacache`
/// CLI's (`CacheErrorClassification`), so the crash and fault tests expect the
/// same status from the harness's commit-once worker and from the CLI.
public enum WorkerExitCode {
    public static let ok: Int32 = 0
    public static let internalError: Int32 = 70

    public static func code(for error: MetadataCacheError) -> Int32 {
        CacheErrorClassification.exitCode(for: error).rawValue
    }

    /// The error's case name, printed by workers so tests can match on it.
    public static func kind(of error: MetadataCacheError) -> String {
        switch error {
        case .lockTimeout: "lockTimeout"
        case .cancelled: "cancelled"
        case .selfDeadlock: "selfDeadlock"
        case .lockLost: "lockLost"
        case .lockingUnsupported: "lockingUnsupported"
        case .invalidPayload: "invalidPayload"
        case .payloadTooLarge: "payloadTooLarge"
        case .corruptCache: "corruptCache"
        case .newerFormat: "newerFormat"
        case .insufficientSpace: "insufficientSpace"
        case .io: "io"
        case .unsafeDirectory: "unsafeDirectory"
        case .unsafeStoreFile: "unsafeStoreFile"
        case .invalidCacheName: "invalidCacheName"
        case .fetchFailed: "fetchFailed"
        case .updateFailed: "updateFailed"
        case .decodingFailed: "decodingFailed"
        case .encodingFailed: "encodingFailed"
        }
    }
}
