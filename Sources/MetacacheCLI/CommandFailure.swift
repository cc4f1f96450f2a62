/// Why a command failed, as shown to the user: the message (which names what failed
/// and what to do next) and the exit status it maps to.
///
/// Every failure path of the CLI ends in one of these, so the mapping from a cause
/// to an exit status lives in one place per cause (`UsageError`,
/// `CacheErrorClassification`, `SourceFailure`, `ConfigFileError`).
public struct CommandFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let exitCode: ExitCode
    public let message: String
    /// Printed without the `metacache: ` prefix (the wait-feedback end lines, whose
    /// wording the issue fixes).
    public let isFeedbackLine: Bool
    /// Show the usage hint after the message.
    public let showsUsageHint: Bool

    public init(_ exitCode: ExitCode, _ message: String, isFeedbackLine: Bool = false, showsUsageHint: Bool = false) {
        self.exitCode = exitCode
        self.message = message
        self.isFeedbackLine = isFeedbackLine
        self.showsUsageHint = showsUsageHint
    }

    public var description: String { message }
}
