import MetadataCache

/// `metacache cache watch [--json] [--once]`: one line on stdout per version of the
/// cache, as it is committed by any process, until interrupted — for scripts and
/// people who want to see (or wait for) a daemon's refresh without polling. It is
/// `CacheStore.changes` of the library: every line is a verified version, in commit
/// order; a burst of commits may show only its latest.
///
/// - Without `--once`: the current version at once (when there is one), then one
///   line per commit, until SIGINT/SIGTERM (exit 130).
/// - `--once`: waits for the next commit after the current one (a new generation,
///   or a `304` revalidation: either way the cache was refreshed), prints it and
///   exits 0 — "wait until the daemon has refreshed".
///
/// Stdout carries only the version lines; the start line, warnings (polling
/// fallback) and `--verbose` diagnostics go to stderr. Never locks, never creates
/// the directory (a missing one is waited for).
struct WatchCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    private enum Ending: Sendable {
        /// `--once` printed its line.
        case printedOnce
        /// The watch ended without an error: it was cancelled (a signal).
        case stopped
    }

    /// What the cache holds when the watch starts: the version `--once` does not
    /// count, and a word for the start line.
    private struct Baseline: Sendable {
        var snapshot: CacheSnapshot?
        var state: String
    }

    func run() throws(CommandFailure) -> ExitCode {
        let once = parsed.has("once")
        let json = parsed.has("json")
        let diagnostics = DiagnosticLog(output: context.standardError, verbose: common.verbose, quiet: common.quiet)
        diagnostics.setting("cache directory", common.directory) { $0 }
        var observers: [any CacheObserver] = [diagnostics]
        if let sink = try common.eventsSink() { observers.append(sink) }
        let store: CacheStore
        do {
            store = try CacheStore(
                directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        let baseline = try currentVersion(of: store)
        if !common.quiet {
            let what = once ? "Waiting for the next commit to" : "Watching"
            context.standardError.writeLine(
                "\(what) \(TerminalText.escaped(store.cachePath)) (\(baseline.state); Ctrl-C to stop)")
        }

        // The watch skips a corrupt file (it never prints one); the user hears why.
        var watchOptions = store.options
        watchOptions.observer = CacheObserverFanOut(observers + [CorruptFileWarning(log: diagnostics)])
        let watched: CacheStore
        do {
            watched = try CacheStore(directory: store.directory, name: store.name, options: watchOptions)
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }

        let interrupts = context.interrupts
        let output = context.standardOutput
        let ending: Ending
        do {
            ending = try BlockingAsync.run { () async throws -> Ending in
                var previous = baseline.snapshot
                for try await snapshot in watched.changes(cancellation: interrupts.token) {
                    if once, snapshot.commitID == baseline.snapshot?.commitID { continue }
                    let line = json
                        ? WatchedVersionLine.json(snapshot)
                        : WatchedVersionLine.text(
                            snapshot, payloadUnchanged: WatchedVersionLine.hasUnchangedPayload(snapshot, since: previous))
                    try Self.write(line, to: output)
                    previous = snapshot
                    if once { return .printedOnce }
                }
                return .stopped
            }
        } catch let error as MetadataCacheError {
            throw CacheErrorClassification.failure(for: error)
        } catch let error as OutputChannelError {
            throw CommandFailure(.ioError, "writing to standard output failed: \(Errno(rawValue: error.errno))")
        } catch {
            throw CommandFailure(.ioError, "watching \(store.cachePath) failed: \(error)")
        }
        if ending == .stopped || interrupts.isInterrupted {
            throw CommandFailure(
                .cancelled, "Stopped watching \(TerminalText.escaped(store.cachePath)) (\(interrupts.signalName))",
                isFeedbackLine: true)
        }
        return .success
    }

    /// The version in the cache now, verified. A missing or corrupt cache has none.
    private func currentVersion(of store: CacheStore) throws(CommandFailure) -> Baseline {
        do {
            guard let snapshot = try store.read() else { return Baseline(state: "no cache yet") }
            return Baseline(snapshot: snapshot, state: "now at generation \(snapshot.generation)")
        } catch .corruptCache {
            return Baseline(state: "the current file is corrupt")
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
    }

    /// A warning for each corrupt file the watch skips.
    private struct CorruptFileWarning: CacheObserver {
        let log: DiagnosticLog

        func observe(_ event: CacheEvent) {
            guard case let .readCorrupt(path, problem) = event else { return }
            log.warning("skipped a corrupt cache file \(path): \(problem); waiting for the next commit "
                + "('metacache cache verify --repair' moves it aside)")
        }
    }

    /// One whole line per `write(2)` loop: a reader of a pipe sees whole lines.
    private static func write(_ line: String, to output: any OutputChannel) throws(OutputChannelError) {
        var text = line + "\n"
        var failure: OutputChannelError?
        text.withUTF8 { bytes in
            do throws(OutputChannelError) { try output.write(UnsafeRawBufferPointer(bytes)) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
