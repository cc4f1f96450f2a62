/// The harness's argument tokenizer: `--flag value`, `--flag=value` and bare
/// `--switch`, with every flag checked against the set the command accepts.
///
/// Guarantee: an unknown flag, a missing value, a value given to a switch or a
/// stray positional argument is a `UsageError` naming it; nothing is guessed.
/// A flag given more than once is recorded in `repeated`, for a command that
/// refuses it rather than letting the last one silently win. `-h` is `--help`
/// where the command has a `help` switch.
struct CommandLineArguments {
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// Values by flag name (without dashes); repeated flags keep every value.
    private(set) var values: [String: [String]] = [:]
    private(set) var switches: Set<String> = []
    /// Flags given more than once, in the order their repeats appeared.
    private(set) var repeated: [String] = []

    init(_ arguments: ArraySlice<String>, valueFlags: Set<String>, switchFlags: Set<String>) throws(UsageError) {
        var i = arguments.startIndex
        while i < arguments.endIndex {
            var argument = arguments[i]
            i += 1
            if argument == "-h" && switchFlags.contains("help") { argument = "--help" }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError(description: "unexpected argument '\(argument)'")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if switchFlags.contains(name) {
                guard inlineValue == nil else { throw UsageError(description: "--\(name) takes no value") }
                if !switches.insert(name).inserted { repeated.append(name) }
            } else if valueFlags.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard i < arguments.endIndex, !arguments[i].hasPrefix("--") else {
                        throw UsageError(description: "--\(name) needs a value")
                    }
                    value = arguments[i]
                    i += 1
                }
                if values[name] != nil { repeated.append(name) }
                values[name, default: []].append(value)
            } else {
                throw UsageError(description: "unknown option --\(name)")
            }
        }
    }

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { switches.contains(name) }

    func integer(_ name: String, minimum: Int, maximum: Int = .max) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let n = Int(text), n >= minimum, n <= maximum else {
            throw UsageError(description: "--\(name) must be an integer from \(minimum) to \(maximum), got '\(text)'")
        }
        return n
    }
}
