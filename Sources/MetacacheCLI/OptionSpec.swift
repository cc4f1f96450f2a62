/// One command-line option: its name, whether it takes a value, where it is
/// accepted and its help line. The table below is the single source for parsing,
/// validation of placement and `--help` output.
public struct OptionSpec: Sendable, Equatable {
    /// Long name without the dashes (`lock-timeout`).
    public let name: String
    public let short: Character?
    /// Placeholder shown in help (`SECONDS`); nil for a flag without value.
    public let valueName: String?
    public let help: String
    /// Where the option is accepted.
    public let scope: Scope

    public enum Scope: Sendable, Equatable {
        /// Every command (and anywhere on the line).
        case common
        /// Only the top level (`--version`).
        case root
        /// One subcommand.
        case subcommand(CacheSubcommand)
    }

    public var takesValue: Bool { valueName != nil }

    func isAccepted(at path: CommandPath) -> Bool {
        switch scope {
        case .common: true
        case .root: path == .root
        case let .subcommand(sub): path == .subcommand(sub)
        }
    }
}

extension OptionSpec {
    public static let all: [OptionSpec] = [
        // Common options.
        OptionSpec(name: "dir", short: nil, valueName: "PATH",
                   help: "cache directory (default: $METACACHE_DIR, $XDG_CACHE_HOME/metacache, ~/.cache/metacache)", scope: .common),
        OptionSpec(name: "name", short: nil, valueName: "NAME",
                   help: "cache name: files NAME.json and NAME.lock (default: metadata)", scope: .common),
        OptionSpec(name: "lock-timeout", short: nil, valueName: "SECONDS|infinite",
                   help: "how long to wait for the writer lock; 0 = do not wait (default: $METACACHE_LOCK_TIMEOUT, config lockTimeout, 10)", scope: .common),
        OptionSpec(name: "lock-backend", short: nil, valueName: "auto|advisory|lockfile",
                   help: "lock mechanism (default: auto = advisory flock, owner files on network filesystems)", scope: .common),
        OptionSpec(name: "allow-shared-dir", short: nil, valueName: nil,
                   help: "accept a cache directory writable by group/others or owned by another user (anyone who can write it can replace the cache)",
                   scope: .common),
        OptionSpec(name: "quiet", short: "q", valueName: nil,
                   help: "no progress or result lines (errors are always printed)", scope: .common),
        OptionSpec(name: "verbose", short: nil, valueName: nil,
                   help: "debug lines on stderr: settings and where they came from, library events", scope: .common),
        OptionSpec(name: "events", short: nil, valueName: "FILE",
                   help: "append the library's events to FILE as JSON lines", scope: .common),
        OptionSpec(name: "help", short: "h", valueName: nil, help: "show help for this command", scope: .common),
        OptionSpec(name: "version", short: nil, valueName: nil, help: "print the version", scope: .root),
        // refresh
        OptionSpec(name: "source", short: nil, valueName: "SRC",
                   help: "path, file:// URL, http(s):// URL, or - for stdin (default: config key source)", scope: .subcommand(.refresh)),
        OptionSpec(name: "if-older-than", short: nil, valueName: "DURATION",
                   help: "skip (without locking) when the cache is younger: 90s, 15m, 24h, 7d", scope: .subcommand(.refresh)),
        OptionSpec(name: "force", short: nil, valueName: nil,
                   help: "always fetch: skip the freshness and coalescing checks (HTTP validators are still sent)", scope: .subcommand(.refresh)),
        OptionSpec(name: "max-bytes", short: nil, valueName: "N",
                   help: "largest payload accepted, bytes; suffixes K, M, G (KiB, MiB, GiB) (default: 64M)", scope: .subcommand(.refresh)),
        OptionSpec(name: "fetch-timeout", short: nil, valueName: "SECONDS|infinite",
                   help: "bound on the whole HTTP(S) exchange, body included (default: 60; infinite: none)", scope: .subcommand(.refresh)),
        OptionSpec(name: "overwrite-newer-format", short: nil, valueName: nil,
                   help: "replace a cache written by a newer metacache (format version or flags this one does not know) instead of refusing with 76",
                   scope: .subcommand(.refresh)),
        // read
        OptionSpec(name: "meta", short: nil, valueName: nil,
                   help: "print the header (generation, dates, source, validators) as JSON instead of the payload", scope: .subcommand(.read)),
        OptionSpec(name: "source", short: nil, valueName: "SRC",
                   help: "where a refresh started by --refresh-after fetches from (default: config key source)", scope: .subcommand(.read)),
        OptionSpec(name: "refresh-after", short: nil, valueName: "DURATION",
                   help: "print the cache at once; if older than this, start one detached background refresh (90s, 15m, 24h)",
                   scope: .subcommand(.read)),
        OptionSpec(name: "max-stale", short: nil, valueName: "DURATION",
                   help: "with --refresh-after: a cache older than this is refreshed in the foreground first (default: any age is served)",
                   scope: .subcommand(.read)),
        OptionSpec(name: "stale-if-error", short: nil, valueName: "DURATION",
                   help: "with --refresh-after: if a foreground refresh fails, serve a cache up to this old with a warning",
                   scope: .subcommand(.read)),
        OptionSpec(name: "offline", short: nil, valueName: nil,
                   help: "never fetch: print the cache whatever its age; exit 66 only when there is none", scope: .subcommand(.read)),
        // status
        OptionSpec(name: "json", short: nil, valueName: nil, help: "print one JSON object", scope: .subcommand(.status)),
        // verify
        OptionSpec(name: "repair", short: nil, valueName: nil,
                   help: "move a corrupt cache aside (never deleted) so the next refresh rebuilds it", scope: .subcommand(.verify)),
        // watch
        OptionSpec(name: "json", short: nil, valueName: nil,
                   help: "one JSON object per line (the fields of 'read --meta')", scope: .subcommand(.watch)),
        OptionSpec(name: "once", short: nil, valueName: nil,
                   help: "wait for the next commit after the current one, print it and exit 0", scope: .subcommand(.watch)),
    ]

    static func named(_ name: String) -> OptionSpec? { all.first { $0.name == name } }
    /// Whether an option of this name is accepted at `path` (a name, such as
    /// `--json`, may be an option of several subcommands, one table entry each).
    static func isAccepted(_ name: String, at path: CommandPath) -> Bool {
        all.contains { $0.name == name && $0.isAccepted(at: path) }
    }
    static func short(_ letter: Character) -> OptionSpec? { all.first { $0.short == letter } }

    /// The options accepted at `path`, in table order.
    public static func accepted(at path: CommandPath) -> [OptionSpec] { all.filter { $0.isAccepted(at: path) } }
}
