/// The run's configuration as structured fields, for the JSON report (the
/// `configuration` string says the same for people).
///
/// Guarantee: every field is always present; what does not apply is null
/// (`durationSeconds` with `--iterations`, `lockTimeoutSeconds` when infinite,
/// `cli` without `--use-cli`, ...).
public struct RunConfiguration: Codable, Sendable, Equatable {
    public var refreshers: Int
    public var readers: Int
    public var updaters: Int
    public var durationSeconds: Double?
    public var iterations: Int?
    public var payloadBytes: Int
    /// Null: infinite.
    public var lockTimeoutSeconds: Double?
    /// `auto`, `advisory` or `lockfile`, as requested.
    public var lockBackend: String
    public var killWritersEveryMilliseconds: Int?
    public var useCLI: Bool
    /// The `metacache` binary the CLI workers ran (null without `--use-cli`).
    public var cli: String?
    public var seed: UInt64
    public var sabotage: String?
    /// How long writers may log nothing before the run is failed as stalled.
    public var stallAfterSeconds: Double

    public init(_ o: StressOptions, cli: String?) {
        refreshers = o.refreshers
        readers = o.readers
        updaters = o.updaters
        switch o.length {
        case let .duration(seconds):
            durationSeconds = seconds
            iterations = nil
        case let .iterations(n):
            durationSeconds = nil
            iterations = n
        }
        payloadBytes = o.payloadBytes
        lockTimeoutSeconds = o.lockTimeout.duration.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        lockBackend = o.lockBackend.rawValue
        killWritersEveryMilliseconds = o.killWritersEveryMilliseconds
        useCLI = o.useCLI
        self.cli = cli
        seed = o.seed
        sabotage = o.sabotage?.rawValue
        stallAfterSeconds = o.stallAfterSeconds ?? StallWatch.defaultLimitSeconds(lockTimeoutSeconds: lockTimeoutSeconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(refreshers, forKey: .refreshers)
        try c.encode(readers, forKey: .readers)
        try c.encode(updaters, forKey: .updaters)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(payloadBytes, forKey: .payloadBytes)
        try c.encode(lockTimeoutSeconds, forKey: .lockTimeoutSeconds)
        try c.encode(lockBackend, forKey: .lockBackend)
        try c.encode(killWritersEveryMilliseconds, forKey: .killWritersEveryMilliseconds)
        try c.encode(useCLI, forKey: .useCLI)
        try c.encode(cli, forKey: .cli)
        try c.encode(seed, forKey: .seed)
        try c.encode(sabotage, forKey: .sabotage)
        try c.encode(stallAfterSeconds, forKey: .stallAfterSeconds)
    }
}
