import MetadataCache

/// What one run of `metacache-stress` does, from its command line.
///
/// Guarantee: `parse` returns only configurations the harness can check
/// completely; a combination whose invariants could not be verified (for example
/// update counters next to CLI refreshers, which replace the whole payload) is
/// refused with a usage error that says why.
public struct StressOptions: Sendable, Equatable {
    public enum Length: Sendable, Equatable {
        case duration(seconds: Double)
        case iterations(Int)
    }

    public var directory: String
    public var refreshers = 2
    public var readers = 4
    public var updaters = 2
    public var length = Length.duration(seconds: 10)
    public var payloadBytes = 64 * 1024
    public var lockTimeout: LockTimeout = .after(.seconds(10))
    public var lockBackend: LockBackendSelection = .auto
    public var killWritersEveryMilliseconds: Int?
    public var useCLI = false
    public var seed: UInt64
    public var json = false
    /// Harness self-test: deliberately break something and expect violations.
    public var sabotage: Sabotage?
    /// Harness self-test (hidden `--stall-after`): how long writers may log
    /// nothing before the run is failed as stalled; nil for the default, the
    /// lock timeout plus a minute (`StallWatch`).
    public var stallAfterSeconds: Double?

    public init(directory: String, seed: UInt64) {
        self.directory = directory
        self.seed = seed
    }

    public static let usage = """
        usage: metacache-stress --dir PATH [--refreshers N] [--readers M] [--updaters K]
                                [--duration SECONDS | --iterations COUNT] [--payload-bytes BYTES]
                                [--lock-timeout SECONDS|infinite] [--lock-backend auto|advisory|lockfile]
                                [--kill-writers-every MILLISECONDS] [--use-cli] [--seed S] [--json]

        Runs refreshers, readers and updaters as separate processes against one cache
        directory and checks, independently of the library, that no read is torn or
        corrupt, no two writers ever hold the lock at once, no update is lost, and the
        directory is clean afterwards. Exit status: 0 when every tested invariant holds,
        1 when any is violated (each violation is named), 2 when the run could not be
        carried out, 64 for a usage error or an unusable --dir, 130/143 when interrupted
        by SIGINT/SIGTERM (after printing the partial report).

          --dir PATH                 cache directory (created if missing; must not hold a
                                     cache the harness did not write)
          --refreshers N             processes that refresh (fetch + commit) in a loop [2]
          --readers M                processes that read and verify in a loop [4]
          --updaters K               processes that increment their own counter with
                                     update (read-modify-write) [2; 0 with --use-cli]
          --duration SECONDS         how long to run [10]
          --iterations COUNT         instead: refreshes/updates per writer (readers run
                                     until the writers finish)
          --payload-bytes BYTES      size of every payload [65536]
          --lock-timeout T           writers' lock timeout: seconds (0, 2.5, 10s) or
                                     infinite (also: inf, forever, none) [10]
          --lock-backend B           auto, advisory or lockfile [auto]
          --kill-writers-every MS    every MS milliseconds SIGKILL the refresher holding
                                     the lock, restart it, and time the re-acquisition
          --use-cli                  refreshers and readers run the real 'metacache'
                                     binary found next to this one (or $METACACHE_STRESS_CLI)
          --seed S                   seed for payloads and kill choices [random, printed]
          --json                     print the report as one JSON object (also on errors)
          -h, --help                 this text
        """

    static let valueFlags: Set<String> = [
        "dir", "refreshers", "readers", "updaters", "duration", "iterations", "payload-bytes", "lock-timeout",
        "lock-backend", "kill-writers-every", "seed", "sabotage", "stall-after",
    ]
    static let switchFlags: Set<String> = ["use-cli", "json", "help"]

    public enum ParseResult: Sendable, Equatable {
        case run(StressOptions)
        case help
    }

    public static func parse(_ arguments: ArraySlice<String>) throws(StressUsageError) -> ParseResult {
        let args: CommandLineArguments
        do {
            args = try CommandLineArguments(arguments, valueFlags: valueFlags, switchFlags: switchFlags)
        } catch {
            throw StressUsageError(error.description)
        }
        if args.has("help") { return .help }
        if let name = args.repeated.first {
            throw StressUsageError("--\(name) given more than once; give each option once")
        }
        guard let directory = args.value("dir"), !directory.isEmpty else { throw StressUsageError("--dir is required") }
        var seed = UInt64.random(in: 1...UInt64(Int64.max))
        if let text = args.value("seed") {
            guard let s = UInt64(text) else { throw StressUsageError("--seed must be a non-negative integer, got '\(text)'") }
            seed = s
        }
        var o = StressOptions(directory: directory, seed: seed)
        do {
            o.useCLI = args.has("use-cli")
            o.json = args.has("json")
            o.refreshers = try args.integer("refreshers", minimum: 0, maximum: 256) ?? o.refreshers
            o.readers = try args.integer("readers", minimum: 0, maximum: 256) ?? o.readers
            let explicitUpdaters = try args.integer("updaters", minimum: 0, maximum: 256)
            o.updaters = explicitUpdaters ?? (o.useCLI ? 0 : o.updaters)
            o.payloadBytes = try args.integer("payload-bytes", minimum: 1, maximum: 32 << 20) ?? o.payloadBytes
            o.killWritersEveryMilliseconds = try args.integer("kill-writers-every", minimum: 1, maximum: 3_600_000)
            if let iterations = try args.integer("iterations", minimum: 1) {
                guard args.value("duration") == nil else {
                    throw StressUsageError("give either --duration or --iterations, not both")
                }
                o.length = .iterations(iterations)
            }
            if let text = args.value("duration") {
                guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86400 else {
                    throw StressUsageError("--duration must be a number of seconds above 0, got '\(text)'")
                }
                o.length = .duration(seconds: seconds)
            }
        } catch let error as CommandLineArguments.UsageError {
            throw StressUsageError(error.description)
        } catch let error as StressUsageError {
            throw error
        } catch {
            throw StressUsageError("\(error)")
        }
        if let text = args.value("lock-timeout") {
            guard let timeout = LockTimeout(parsing: text) else {
                throw StressUsageError("--lock-timeout must be seconds (0, 2.5, 10s) or infinite (inf, forever, none), got '\(text)'")
            }
            o.lockTimeout = timeout
        }
        if let text = args.value("lock-backend") {
            guard let backend = LockBackendSelection(rawValue: text) else {
                throw StressUsageError("--lock-backend must be auto, advisory or lockfile, got '\(text)'")
            }
            o.lockBackend = backend
        }
        if let text = args.value("sabotage") {
            guard let sabotage = Sabotage(rawValue: text) else {
                throw StressUsageError(
                    "--sabotage must be one of \(Sabotage.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            o.sabotage = sabotage
        }
        if let text = args.value("stall-after") {
            guard let seconds = Double(text), seconds.isFinite, seconds > 0 else {
                throw StressUsageError("--stall-after must be a number of seconds above 0, got '\(text)'")
            }
            o.stallAfterSeconds = seconds
        }
        try o.validate()
        return .run(o)
    }

    /// Refuses combinations whose invariants the harness could not check.
    func validate() throws(StressUsageError) {
        guard refreshers + readers + updaters > 0 else { throw StressUsageError("nothing to run: all worker counts are 0") }
        if useCLI && updaters > 0 && refreshers > 0 {
            throw StressUsageError(
                "--updaters cannot be combined with --use-cli refreshers: 'metacache cache refresh' replaces the whole payload, so the update counters could not be checked")
        }
        if killWritersEveryMilliseconds != nil {
            guard refreshers > 0 else { throw StressUsageError("--kill-writers-every needs at least one refresher to kill") }
            guard !useCLI else {
                throw StressUsageError(
                    "--kill-writers-every cannot be combined with --use-cli: the harness sees when its own refreshers hold the lock, not when a metacache process does (kill metacache mid-commit with the CLI crash tests instead)")
            }
        }
        let minimum = StressPayload(
            writer: .max, sequence: .max, generation: .max, length: 0,
            counters: Dictionary(uniqueKeysWithValues: (0..<updaters).map { (UpdaterCounter.name(slot: $0), UInt64.max) })
        ).minimumLength()
        guard payloadBytes >= max(minimum, 256) else {
            throw StressUsageError("--payload-bytes must be at least \(max(minimum, 256)) for \(updaters) updaters")
        }
        if let sabotage, let why = sabotage.cannotApply(to: self) {
            throw StressUsageError("--sabotage \(sabotage.rawValue) cannot show anything in this run: \(why)")
        }
    }

    public var writerCount: Int { refreshers + updaters }

    /// One line describing the run, for the report.
    public var summary: String {
        let length: String
        switch self.length {
        case let .duration(seconds): length = "\(Self.format(seconds)) s"
        case let .iterations(n): length = "\(n) iterations per writer"
        }
        var parts = [
            "\(refreshers) refreshers", "\(readers) readers", "\(updaters) updaters", length,
            "payload \(payloadBytes) bytes", "backend \(lockBackend.rawValue)", "lock timeout \(lockTimeout)",
        ]
        if let kill = killWritersEveryMilliseconds { parts.append("kill a writer every \(kill) ms") }
        if useCLI { parts.append("via the metacache CLI") }
        if let sabotage { parts.append("SABOTAGE \(sabotage.rawValue)") }
        parts.append("seed \(seed)")
        return parts.joined(separator: ", ")
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
