import MetadataCache

/// `metacache cache sweep`: removes temp files of crashed writers and leftovers of
/// the lock-file backend, and prints what it removed.
///
/// Never waits and never removes a live writer's temp: it sweeps only while holding
/// the writer lock, taken without waiting (temps exist only under the lock). If
/// another process holds the lock, nothing can be proven orphaned: exit 75.
struct SweepCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    func run() throws(CommandFailure) -> ExitCode {
        var observers: [any CacheObserver] = [DiagnosticLog(output: context.standardError, verbose: common.verbose, quiet: common.quiet)]
        if let sink = try common.eventsSink() { observers.append(sink) }
        let report: SweepReport
        let store: CacheStore
        do {
            store = try CacheStore(directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
            report = try store.sweep()
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        if report.skipped {
            let who = report.skippedBecauseHeldBy.map(\.summary) ?? "another process"
            throw CommandFailure(
                .lockUnavailable,
                "not sweeping \(store.directory): the writer lock is held by \(who), and while a writer is active no temp file "
                    + "can be proven orphaned; retry when it has finished (see '\(HintCommands(program: context.programName, common: common).status)')")
        }
        if !common.quiet {
            if report.removed.isEmpty {
                context.standardOutput.writeLine("Nothing to sweep in \(store.directory)")
            } else {
                context.standardOutput.writeLine("Removed \(report.removed.count) orphaned file\(report.removed.count == 1 ? "" : "s"):")
                for path in report.removed { context.standardOutput.writeLine("  " + TerminalText.escaped(path)) }
            }
            // A sweep does bounded work under the lock (a directory flooded with
            // planted names must not hold every writer up); say what is left.
            if report.left > 0 {
                context.standardOutput.writeLine(
                    "\(report.left) more leftover file\(report.left == 1 ? "" : "s") not examined in this pass; run the sweep again")
            }
        }
        return .success
    }
}
