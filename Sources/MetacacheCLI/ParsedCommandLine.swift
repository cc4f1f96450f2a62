/// A command line split into the command reached and its options, before any value
/// is interpreted. Produced by `ParsedCommandLine.parse`.
///
/// Grammar: `metacache [OPTION]... [cache [OPTION]... [SUBCOMMAND [OPTION]...]]`.
/// Options are accepted anywhere after the program name, as `--name value`,
/// `--name=value` or a short alias (`-h`, `-q`); the last occurrence of an option
/// wins. A value is the next word even if it starts with one dash (`--source -`);
/// a word starting with `--` is never taken as a value (write `--source=--odd`).
/// `--` ends the options; nothing may follow it, as no command takes arguments.
public struct ParsedCommandLine: Sendable, Equatable {
    public var path: CommandPath = .root
    /// Option name and value ("" for a flag), in command-line order; the last
    /// occurrence of a name wins. An array of pairs rather than a dictionary: a
    /// `[String: String]` makes the runtime instantiate its generic storage and
    /// look up `String: Hashable` by scanning every conformance record of the
    /// static binary, a measurable part of `cache read`'s start-up.
    public var options: [OptionValue] = []

    public struct OptionValue: Sendable, Equatable {
        public let name: String
        public let value: String
    }
    /// The first problem found; reported unless help was requested.
    public var error: UsageError?

    public var helpRequested: Bool { has("help") }
    public var versionRequested: Bool { has("version") }

    public func has(_ flag: String) -> Bool { value(flag) != nil }
    public func value(_ option: String) -> String? { options.last { $0.name == option }?.value }

    private mutating func set(_ option: String, _ value: String) { options.append(OptionValue(name: option, value: value)) }

    /// Parses `arguments` (without the program name). Never throws: the first
    /// error is recorded in `error`, and parsing continues so that a `--help`
    /// later on the line still shows the right help.
    public static func parse(_ arguments: some Sequence<String>) -> ParsedCommandLine {
        var result = ParsedCommandLine()
        var words = Array(arguments)[...]
        func fail(_ message: String) {
            if result.error == nil { result.error = UsageError(message, command: result.path) }
        }
        var seen: [(spec: OptionSpec, spelled: String)] = []
        while let word = words.popFirst() {
            if word == "--" {
                if let extra = words.first { fail("unexpected argument '\(extra)' (\(result.path) takes no arguments)") }
                break
            }
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name: String
                var inlineValue: String?
                if let eq = body.firstIndex(of: "=") {
                    name = String(body[..<eq])
                    inlineValue = String(body[body.index(after: eq)...])
                } else {
                    name = String(body)
                }
                guard let spec = OptionSpec.named(name) else {
                    fail("unknown option '--\(name)' for '\(result.path)'" + Self.suggestion(for: name, at: result.path))
                    continue
                }
                if spec.takesValue {
                    if let inlineValue {
                        result.set(spec.name, inlineValue)
                    } else if let next = words.first, !next.hasPrefix("--") {
                        result.set(spec.name, next)
                        words.removeFirst()
                    } else {
                        fail("option '--\(name)' needs a value (\(spec.valueName ?? "VALUE"))")
                        continue
                    }
                } else {
                    if let inlineValue {
                        fail("option '--\(name)' does not take a value (got '\(inlineValue)')")
                        continue
                    }
                    result.set(spec.name, "")
                }
                seen.append((spec, "--" + name))
            } else if word.hasPrefix("-"), word.count == 2, let letter = word.last, let spec = OptionSpec.short(letter) {
                result.set(spec.name, "")
                seen.append((spec, word))
            } else if word.hasPrefix("-"), word != "-" {
                fail("unknown option '\(word)' for '\(result.path)'")
            } else {
                switch result.path {
                case .root:
                    if word == "cache" {
                        result.path = .cache
                    } else if word == "help" {
                        result.set("help", "")
                    } else {
                        fail("unknown command '\(word)'; the commands are under 'metacache cache' (try 'metacache --help')")
                    }
                case .cache:
                    if let sub = CacheSubcommand(rawValue: word) {
                        result.path = .subcommand(sub)
                    } else if word == "help" {
                        result.set("help", "")
                    } else {
                        fail("unknown command '\(word)' for 'metacache cache'; expected one of: "
                            + CacheSubcommand.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                case .subcommand:
                    fail("unexpected argument '\(word)' (\(result.path) takes no arguments)")
                }
            }
        }
        // Placement is checked against the command finally reached, so options may
        // come before the subcommand name (`metacache --dir D cache read`).
        for (spec, spelled) in seen where !OptionSpec.isAccepted(spec.name, at: result.path) {
            fail("option '\(spelled)' does not apply to '\(result.path)'" + Self.placementHint(spec))
        }
        if result.error == nil, !result.helpRequested, !result.versionRequested {
            switch result.path {
            case .root: fail("missing command: try 'metacache cache refresh --source SRC' or 'metacache --help'")
            case .cache: fail("missing subcommand: expected one of: " + CacheSubcommand.allCases.map(\.rawValue).joined(separator: ", "))
            case .subcommand: break
            }
        }
        return result
    }

    private static func placementHint(_ spec: OptionSpec) -> String {
        switch spec.scope {
        case .common: ""
        case .root: " (use 'metacache --\(spec.name)')"
        case .subcommand:
            // Every subcommand that has an option of this name (`--json`: status, watch).
            " (it is an option of "
                + OptionSpec.all.compactMap { other -> String? in
                    guard other.name == spec.name, case let .subcommand(sub) = other.scope else { return nil }
                    return "'metacache cache \(sub.rawValue)'"
                }.joined(separator: " and ") + ")"
        }
    }

    /// `; did you mean '--lock-timeout'?` for a near miss among the options accepted here.
    static func suggestion(for name: String, at path: CommandPath) -> String {
        let candidates = OptionSpec.accepted(at: path).map(\.name) + (path == .root ? OptionSpec.all.map(\.name) : [])
        var best: (String, Int)?
        for candidate in candidates {
            let distance = EditDistance.between(name, candidate)
            if distance <= max(1, candidate.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best.map { "; did you mean '--\($0.0)'?" } ?? ""
    }
}

/// Levenshtein distance, for "did you mean" suggestions on short option names.
enum EditDistance {
    static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
