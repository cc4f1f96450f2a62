/// What a command runs against: environment, output channels, interrupt signals.
/// `CommandContext.process` in the executable; unit tests build their own.
public struct CommandContext: Sendable {
    public var environment: EnvironmentVariables
    public var standardOutput: any OutputChannel
    public var standardError: any OutputChannel
    /// SIGINT/SIGTERM state; `InterruptSignals.shared` unless a test supplies its
    /// own. Resolved on first use, so `read` never creates its pipes.
    public var interrupts: InterruptSignals { suppliedInterrupts ?? .shared }
    private let suppliedInterrupts: InterruptSignals?
    /// Path of the running executable, for finding `metacache-fetch` (nil: ask
    /// the operating system).
    public var executablePath: String?
    /// The program as the user invoked it (`argv[0]`), so that the commands hints
    /// suggest run the same `metacache` when pasted.
    public var programName: String

    public init(
        environment: EnvironmentVariables, standardOutput: any OutputChannel, standardError: any OutputChannel,
        interrupts: InterruptSignals? = nil, executablePath: String? = nil, programName: String = "metacache"
    ) {
        self.environment = environment
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.suppliedInterrupts = interrupts
        self.executablePath = executablePath
        self.programName = programName
    }

    public static var process: CommandContext {
        CommandContext(
            environment: .process, standardOutput: FileDescriptorChannel.standardOutput,
            standardError: FileDescriptorChannel.standardError)
    }
}
