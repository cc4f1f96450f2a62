import MetadataCache

/// `metacache cache status [--json]`: what is cached, whether it verifies, who holds
/// the lock, leftover temp files. Reports; never waits, locks or creates anything.
/// Exit 0 whenever a report could be made (a missing or corrupt cache is part of
/// the report; `verify` is the command whose status says healthy or not).
struct StatusCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    func run() throws(CommandFailure) -> ExitCode {
        let observers = try common.optionalObservers(standardError: context.standardError)
        let status: CacheStatus
        let store: CacheStore
        do {
            store = try CacheStore(
                directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
            status = try store.status()
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        if parsed.has("json") {
            context.standardOutput.writeLine(TerminalText.escapedJSON(StatusReport.json(status)))
        } else {
            let source = HintCommands.refreshSource(directory: store.directory, recorded: status.version?.source)
            context.standardOutput.writeLine(StatusReport.text(
                status, name: common.name, hints: HintCommands(program: context.programName, common: common), refreshSource: source))
        }
        return .success
    }
}
