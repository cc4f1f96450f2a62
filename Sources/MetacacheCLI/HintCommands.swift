import MetadataCache

/// The `metacache` commands that messages suggest ("run 'metacache cache verify
/// --repair …'"), spelled so that pasting one acts on the same cache as the
/// command that printed it.
///
/// Guarantee: every hint names the program as it was invoked, and carries the
/// options that located the cache and let it be used — `--dir` (unless it came
/// from the default), `--name` (unless `metadata`), `--allow-shared-dir` and a
/// non-default `--lock-backend` — each word quoted for a POSIX shell. The one
/// placeholder is `SRC` in a refresh hint when no source is known (no config
/// `source`, nothing recorded in the cache).
public struct HintCommands: Sendable {
    /// The program as invoked (`metacache`, `./.build/release/metacache`).
    public let program: String
    /// The options that locate this cache, as command-line words.
    public let locating: [String]

    public init(program: String, locating: [String]) {
        self.program = program
        self.locating = locating
    }

    public init(program: String, common: CommonSettings) {
        var words: [String] = []
        if common.directory.origin != .defaultValue { words += ["--dir", common.directory.value] }
        if common.name != "metadata" { words += ["--name", common.name] }
        if common.allowSharedDirectory { words.append("--allow-shared-dir") }
        if common.lockBackend != .auto { words += ["--lock-backend", common.lockBackend.rawValue] }
        self.init(program: program, locating: words)
    }

    /// `metacache cache WORDS… --dir D …`, quoted for the shell.
    public func command(_ words: [String]) -> String {
        ([program, "cache"] + words + locating).map(Self.shellQuoted).joined(separator: " ")
    }

    public var status: String { command(["status"]) }
    public var verifyRepair: String { command(["verify", "--repair"]) }
    public var sweep: String { command(["sweep"]) }

    /// Where a suggested refresh gets its source.
    public enum Source: Sendable, Equatable {
        /// The config file names one: the hint needs no `--source`.
        case configured
        /// The source the cache recorded (a path or URL).
        case known(String)
        /// Nothing to go by: the hint says `--source SRC`.
        case unknown
    }

    /// A refresh of this cache from `source`, with `options` (e.g.
    /// `--overwrite-newer-format`) after the subcommand.
    public func refresh(_ source: Source, options: [String] = []) -> String {
        switch source {
        case .configured: command(["refresh"] + options)
        case let .known(text): command(["refresh", "--source", text] + options)
        case .unknown: command(["refresh"] + options) + " --source SRC"
        }
    }

    /// The source a refresh hint should use for the cache in `directory`: the
    /// config file's if it has one (a refresh reads it), else what the cache
    /// recorded, unless that is stdin (whose document exists nowhere else).
    public static func refreshSource(directory: String, recorded: String?) -> Source {
        if let config = try? ConfigFile.load(directory: directory, allowSharedDirectory: true), config.source != nil { return .configured }
        if let recorded, recorded != SourceSpecifier.standardInput.description { return .known(recorded) }
        return .unknown
    }

    /// `refreshSource(directory:recorded:)` for `store`'s cache, reading what its
    /// header recorded (a corrupt file whose header verifies still says).
    public static func refreshSource(for store: CacheStore) -> Source {
        refreshSource(directory: store.directory, recorded: (try? store.status())?.version?.source)
    }

    /// `word` as one POSIX shell word: unchanged when it has only characters no
    /// shell treats specially; otherwise in double quotes (`\`, `"`, `$` and `` ` ``
    /// escaped), so that a hint can itself sit between the single quotes messages
    /// put around commands; in single quotes (`'` as `'\''`) if it contains `!`,
    /// which interactive shells expand even inside double quotes.
    public static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && !word.hasPrefix("=") && word.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", ":", ",", "+", "=", "@", "%": true
            default: false
            }
        }
        if plain { return word }
        if word.contains("!") { return "'" + word.replacing("'", with: #"'\''"#) + "'" }
        var quoted = "\""
        for character in word {
            if "\\\"$`".contains(character) { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
