/// A command line the CLI cannot act on: unknown command or option, missing or
/// invalid value, no source. Always exit 64, with the message naming the offending
/// word and where a bad value came from (flag, environment, config file).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// The command whose usage line to print after the message (`metacache cache refresh`).
    public let command: CommandPath

    public init(_ message: String, command: CommandPath = .root) {
        self.message = message
        self.command = command
    }

    public var description: String { message }

    var failure: CommandFailure { CommandFailure(.usage, message, showsUsageHint: true) }
}
