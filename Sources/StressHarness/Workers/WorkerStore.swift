import MetacacheCLI
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the cache store a worker uses, configured exactly as its invocation says.
///
/// Guarantee: every worker of a run uses the same backend and lock timeout, and a
/// fault plan or sabotage applies only to the worker that was given it.
enum WorkerStore {
    static func make(_ w: WorkerInvocation, observer: (any CacheObserver)?) throws(WorkerFailure) -> CacheStore {
        var options = CacheStoreOptions()
        options.lockBackend = w.lockBackend
        options.lockTimeout = w.lockTimeout
        options.observer = observer
        if w.sabotage == .lockBypass && w.role != .reader {
            options.systemCalls = SystemCalls(provider: LockBypassingSystemCalls())
            // "Holding" a bypassed lock proves nothing, so sweeping would delete
            // other writers' live temps; keep the sabotage to the one broken thing.
            options.sweepOnOpen = false
        }
        if !w.faults.isEmpty {
            var faults: [InjectedFault] = []
            for spec in w.faults {
                guard let fault = InjectedFault.parse(spec) else { throw WorkerFailure(usage: "bad --fault '\(spec)'") }
                faults.append(fault)
            }
            // A `pause` fault freezes the writer mid-commit, holding the lock, until
            // its stdin closes: a live (or, once killed, dead) holder for tests.
            options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(faults: faults) { kind, _ in
                CoordinatorChannel.say("PAUSED at=\(kind.rawValue) pid=\(getpid())")
                CoordinatorChannel.waitForEndOfInput()
            })
        }
        do {
            return try CacheStore(directory: w.directory, options: options)
        } catch {
            throw WorkerFailure(error)
        }
    }
}

/// Why a worker could not do its job at all, with the exit status to report.
struct WorkerFailure: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(usage: String) {
        description = usage
        exitCode = 64
    }

    init(_ error: MetadataCacheError) {
        description = error.description
        exitCode = WorkerExitCode.code(for: error)
    }

    init(_ message: String, exitCode: Int32 = 70) {
        description = message
        self.exitCode = exitCode
    }
}

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
        case .insufficientSpace: "insufficientSpace"
        case .io: "io"
        case .unsafeDirectory: "unsafeDirectory"
        case .invalidCacheName: "invalidCacheName"
        }
    }
}
