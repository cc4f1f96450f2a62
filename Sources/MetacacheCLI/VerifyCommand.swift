import MetadataCache

/// `metacache cache verify [--repair]`: checks the whole file (header, length,
/// payload checksum). Exit 0 ok, 65 corrupt, 66 missing.
///
/// `--repair` moves a corrupt file aside under the writer lock (never deleting
/// it) and says where; the exit status still reports what was found (65), so
/// `verify --repair || refresh` rebuilds a cache that was corrupt or missing.
struct VerifyCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    func run() throws(CommandFailure) -> ExitCode {
        let repair = parsed.has("repair")
        let layout = StoreLayout(directory: common.directory.value, name: common.name)
        let hints = HintCommands(program: context.programName, common: common)
        let feedbackText = WaitFeedbackText(cachePath: layout.cachePath, action: "repair", statusCommand: hints.status)
        let feedback = WaitFeedbackPrinter(
            text: feedbackText, output: context.standardError,
            style: context.standardError.isTerminal ? .terminal : .lines, quiet: common.quiet)
        // Debug lines go above the live wait line of a repair, never into it.
        let log = DiagnosticLog(output: feedback.linesAboveLiveLine, verbose: common.verbose, quiet: common.quiet)
        var observers: [any CacheObserver] = [log]
        if repair { observers.append(feedback) }
        if let sink = try common.eventsSink() { observers.append(sink) }
        var timeout = LockTimeoutResolution.defaultTimeout
        if repair {
            let config = try ConfigFile.load(directory: common.directory.value, allowSharedDirectory: common.allowSharedDirectory)
            do {
                let resolved = try LockTimeoutResolution.resolve(
                    flag: parsed.value("lock-timeout"), environment: context.environment, config: config)
                log.setting("lock timeout", resolved) { $0.description }
                timeout = resolved.value
            } catch {
                throw error.failure
            }
        }
        let store: CacheStore
        do {
            store = try CacheStore(directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        do {
            guard let snapshot = try store.verify() else {
                throw CommandFailure(
                    .missing, "no cache at \(store.cachePath); create it with '\(hints.refresh(HintCommands.refreshSource(for: store)))'")
            }
            if !common.quiet {
                context.standardOutput.writeLine(
                    "OK: \(store.cachePath) verifies: generation \(snapshot.generation), "
                        + "\(ByteCountText.format(snapshot.payload.count)) payload, header and payload checksums match")
            }
            return .success
        } catch let error as MetadataCacheError {
            guard case let .corruptCache(path, problem) = error else { throw CacheErrorClassification.failure(for: error) }
            // Read before the file is moved: what its header recorded is the source to rebuild from.
            let refreshSource = HintCommands.refreshSource(for: store)
            guard repair else {
                throw CacheErrorClassification.failure(for: error, hints: hints, refreshSource: refreshSource)
            }
            let moved: String?
            do {
                let writer = try store.acquireWriterLock(timeout: timeout, cancellation: context.interrupts.token)
                moved = try writer.moveCorruptCacheAside()
            } catch {
                feedback.clearLiveLine()
                throw CacheErrorClassification.failure(for: error, feedback: feedbackText, hints: hints)
            }
            guard let moved else {
                // Another process repaired or refreshed it while we waited for the lock.
                context.standardOutput.writeLine(
                    "The cache \(path) was replaced while waiting for the lock; check it again with '\(hints.command(["verify"]))'")
                return .success
            }
            throw CommandFailure(
                .invalidData,
                "the cache \(path) was corrupt: \(problem). Moved it aside to \(moved) (kept for inspection); "
                    + "rebuild the cache with '\(hints.refresh(refreshSource))'")
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(.ioError, "verify failed: \(error)")
        }
    }
}
