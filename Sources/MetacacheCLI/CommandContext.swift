/// What a command runs against: environment, output channels, interrupt signals.
/// `CommandContext.process` in the executable; unit tests build their own.
public struct CommandContext: Sendable {
    public var environment: EnvironmentVariables
    public var standardOutput: any OutputChannel
    public var standardError: any OutputChannel
    public var interrupts: InterruptSignals
    /// Path of the running executable, for finding `metacache-fetch` (nil: ask
    /// the operating system).
    public var executablePath: String?

    public init(
        environment: EnvironmentVariables, standardOutput: any OutputChannel, standardError: any OutputChannel,
        interrupts: InterruptSignals, executablePath: String? = nil
    ) {
        self.environment = environment
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.interrupts = interrupts
        self.executablePath = executablePath
    }

    public static var process: CommandContext {
        CommandContext(
            environment: .process, standardOutput: FileDescriptorChannel.standardOutput,
            standardError: FileDescriptorChannel.standardError, interrupts: .shared)
    }
}
