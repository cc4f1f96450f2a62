/// The `cache` subcommands; their names are the contract of issue 3.
public enum CacheSubcommand: String, Sendable, CaseIterable {
    case refresh, read, status, verify, sweep, watch
}

/// How deep into the command tree a command line reached: `metacache`,
/// `metacache cache`, or `metacache cache <subcommand>`.
public enum CommandPath: Sendable, Equatable, CustomStringConvertible {
    case root
    case cache
    case subcommand(CacheSubcommand)

    public var description: String {
        switch self {
        case .root: "metacache"
        case .cache: "metacache cache"
        case let .subcommand(sub): "metacache cache \(sub.rawValue)"
        }
    }
}
