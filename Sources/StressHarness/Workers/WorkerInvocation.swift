import MetadataCache

/// What one worker process does: its role and parameters, as passed from the
/// coordinator to the harness re-executing itself (`metacache-stress --worker ROLE
/// ...`; the flag is hidden from the usage text).
///
/// Guarantee: `arguments` and `parse` round-trip, so the coordinator and the
/// worker always agree on a worker's configuration.
public struct WorkerInvocation: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case refresher, reader, updater
        case cliRefresher = "cli-refresher"
        case cliReader = "cli-reader"
        /// One commit with injected faults, for the crash and fault tests.
        case commitOnce = "commit-once"
    }

    public var role: Role
    public var directory: String
    public var worker = 0
    public var slot = 0
    public var payloadBytes = 64 * 1024
    public var lockTimeout: LockTimeout = .after(.seconds(10))
    public var lockBackend: LockBackendSelection = .auto
    public var logPath: String?
    public var eventsPath: String?
    public var scratchDirectory: String?
    public var seed: UInt64 = 1
    public var iterations: Int?
    public var cliPath: String?
    public var sabotage: Sabotage?
    /// `InjectedFault.parse` specs, for a worker that uses the library (the crash
    /// and fault tests give them to commit-once workers and to a refresher).
    public var faults: [String] = []
    /// Sequence number of the payload (commit-once only).
    public var sequence: UInt64 = 1

    public init(role: Role, directory: String) {
        self.role = role
        self.directory = directory
    }

    public static let flag = "--worker"

    /// The command line after the executable.
    public var arguments: [String] {
        var a = [
            Self.flag, role.rawValue, "--dir", directory, "--worker-id", String(worker), "--slot", String(slot),
            "--payload-bytes", String(payloadBytes), "--lock-timeout", lockTimeout.argument,
            "--lock-backend", lockBackend.rawValue, "--seed", String(seed), "--sequence", String(sequence),
        ]
        if let logPath { a += ["--log", logPath] }
        if let eventsPath { a += ["--events", eventsPath] }
        if let scratchDirectory { a += ["--scratch", scratchDirectory] }
        if let iterations { a += ["--iterations", String(iterations)] }
        if let cliPath { a += ["--cli", cliPath] }
        if let sabotage { a += ["--sabotage", sabotage.rawValue] }
        for fault in faults { a += ["--fault", fault] }
        return a
    }

    static let valueFlags: Set<String> = [
        "dir", "worker-id", "slot", "payload-bytes", "lock-timeout", "lock-backend", "seed", "sequence", "log",
        "events", "scratch", "iterations", "cli", "sabotage", "fault",
    ]

    /// Parses what follows `--worker`.
    public static func parse(_ arguments: ArraySlice<String>) throws(StressUsageError) -> WorkerInvocation {
        guard let roleText = arguments.first, let role = Role(rawValue: roleText) else {
            throw StressUsageError("--worker needs a role: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let args: CommandLineArguments
        do {
            args = try CommandLineArguments(arguments.dropFirst(), valueFlags: valueFlags, switchFlags: [])
        } catch {
            throw StressUsageError(error.description)
        }
        guard let directory = args.value("dir") else { throw StressUsageError("worker: --dir is required") }
        var w = WorkerInvocation(role: role, directory: directory)
        do {
            w.worker = try args.integer("worker-id", minimum: 0) ?? 0
            w.slot = try args.integer("slot", minimum: 0) ?? 0
            w.payloadBytes = try args.integer("payload-bytes", minimum: 1) ?? w.payloadBytes
            w.iterations = try args.integer("iterations", minimum: 1)
        } catch {
            throw StressUsageError(error.description)
        }
        if let text = args.value("lock-timeout") {
            guard let t = LockTimeout(parsing: text) else { throw StressUsageError("worker: bad --lock-timeout '\(text)'") }
            w.lockTimeout = t
        }
        if let text = args.value("lock-backend") {
            guard let b = LockBackendSelection(rawValue: text) else { throw StressUsageError("worker: bad --lock-backend '\(text)'") }
            w.lockBackend = b
        }
        if let text = args.value("seed") {
            guard let s = UInt64(text) else { throw StressUsageError("worker: bad --seed '\(text)'") }
            w.seed = s
        }
        if let text = args.value("sequence") {
            guard let s = UInt64(text) else { throw StressUsageError("worker: bad --sequence '\(text)'") }
            w.sequence = s
        }
        if let text = args.value("sabotage") {
            guard let s = Sabotage(rawValue: text) else { throw StressUsageError("worker: bad --sabotage '\(text)'") }
            w.sabotage = s
        }
        w.logPath = args.value("log")
        w.eventsPath = args.value("events")
        w.scratchDirectory = args.value("scratch")
        w.cliPath = args.value("cli")
        w.faults = args.all("fault")
        return w
    }
}

extension LockTimeout {
    /// The form `LockTimeout(parsing:)` and the CLI's `--lock-timeout` accept.
    public var argument: String {
        switch self {
        case .immediate: "0"
        case let .after(d):
            String(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        case .infinite: "infinite"
        }
    }
}
