/// The `metacache` command: parses the command line, runs one subcommand, and maps
/// every outcome to an exit status (`ExitCode`). All CLI logic lives in this
/// module so it can be unit-tested; the executable only calls `main`.
public enum MetacacheCommand {
    /// Runs with the process's environment and standard streams; returns the exit status.
    @available(*, noasync, message: "blocks the thread (lock waits, fetches); call it from a thread of your own")
    public static func main(_ arguments: [String]) -> Int32 {
        var context = CommandContext.process
        if let program = arguments.first, !program.isEmpty { context.programName = program }
        return run(Array(arguments.dropFirst()), context: context).rawValue
    }

    /// Runs `arguments` (without the program name) against `context`. Blocks the
    /// calling thread for as long as the command takes (a lock wait, a fetch), so
    /// async code cannot call it: a blocked thread of the concurrency pool starves
    /// every other task.
    @available(*, noasync, message: "blocks the thread (lock waits, fetches); call it from a thread of your own")
    public static func run(_ arguments: [String], context: CommandContext) -> ExitCode {
        let parsed = ParsedCommandLine.parse(arguments)
        if parsed.helpRequested {
            context.standardOutput.writeLine(HelpText.text(for: parsed.path))
            return .success
        }
        if parsed.versionRequested, parsed.error == nil {
            context.standardOutput.writeLine(HelpText.versionLine())
            return .success
        }
        if let error = parsed.error {
            report(error.failure, command: error.command, context: context)
            return .usage
        }
        guard case let .subcommand(subcommand) = parsed.path else { return .usage }
        do throws(CommandFailure) {
            let common: CommonSettings
            do {
                common = try CommonSettings(parsed, environment: context.environment)
            } catch {
                throw error.failure
            }
            switch subcommand {
            case .read:
                // A read that may refresh in the foreground honours Ctrl-C there.
                if parsed.value("refresh-after") != nil { installInterruptHandlers(context) }
                return try ReadCommand(parsed: parsed, common: common, context: context).run()
            case .status:
                return try StatusCommand(parsed: parsed, common: common, context: context).run()
            case .refresh:
                installInterruptHandlers(context)
                return try RefreshCommand(parsed: parsed, common: common, context: context).run()
            case .verify:
                if parsed.has("repair") { installInterruptHandlers(context) }
                return try VerifyCommand(parsed: parsed, common: common, context: context).run()
            case .sweep:
                return try SweepCommand(parsed: parsed, common: common, context: context).run()
            case .watch:
                installInterruptHandlers(context)
                return try WatchCommand(parsed: parsed, common: common, context: context).run()
            }
        } catch {
            report(error, command: parsed.path, context: context)
            return error.exitCode
        }
    }

    /// Commands that wait (for the lock, a source) turn SIGINT/SIGTERM into
    /// cancellation; the others keep the default (die at once, nothing to undo).
    private static func installInterruptHandlers(_ context: CommandContext) {
        if context.interrupts === InterruptSignals.shared { InterruptSignals.installHandlers() }
    }

    static func report(_ failure: CommandFailure, command: CommandPath, context: CommandContext) {
        var text = failure.isFeedbackLine ? failure.message : "metacache: " + failure.message
        if failure.showsUsageHint {
            // The program as invoked, so the suggestion runs when pasted.
            let invoked = HintCommands.shellQuoted(context.programName) + String(command.description.dropFirst("metacache".count))
            text += "\n" + HelpText.usageLine(command) + "\nTry '\(invoked) --help' for more information."
        }
        context.standardError.writeLine(text)
    }
}
