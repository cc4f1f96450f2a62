#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// `metacache cache refresh`: fetch the source and commit it under the writer lock,
/// coalescing with concurrent refreshes of the same source (see
/// `CacheStore.refresh` and `SourceSpecifier.coalescing`).
///
/// Result line on stdout (unless `--quiet`; results on stdout, everything about
/// getting there — waits, progress, warnings, errors — on stderr):
///
///     Refreshed 'metadata': generation 7, 1.0 MiB in 34 ms (waited 0 ms)
///     Revalidated 'metadata': not modified (HTTP 304); generation 7 kept, fetchedAt renewed in 12 ms (waited 0 ms)
///     Skipped: cache is fresh (age 3m < 1h)
///     Coalesced: pid 4242 committed generation 7 while we waited
struct RefreshCommand {
    static let defaultFetchTimeout: Duration = .seconds(60)
    static let defaultMaximumBytes = 64 << 20

    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    struct Settings {
        var source: Resolved<SourceSpecifier>
        var timeout: Resolved<LockTimeout>
        var maximumAge: Duration?
        var force: Bool
        var maximumBytes: Int
        /// Nil: `--fetch-timeout infinite`.
        var fetchTimeout: Duration?
        var config: ConfigFile?
    }

    /// Resolves and validates every setting before anything is locked or read:
    /// flags first (`--lock-timeout` was checked with the common options), then the
    /// config file (only now, so a bad flag is reported as such), then the values
    /// that may come from it.
    func settings() throws(CommandFailure) -> Settings {
        let command = parsed.path
        var maximumAge: Duration?
        if let text = parsed.value("if-older-than") {
            guard let age = DurationArgument.parse(text) else {
                throw UsageError("invalid --if-older-than '\(text)': \(DurationArgument.expectation)", command: command).failure
            }
            maximumAge = age
        }
        var maximumBytes = Self.defaultMaximumBytes
        if let text = parsed.value("max-bytes") {
            guard let bytes = ByteCountArgument.parse(text) else {
                throw UsageError("invalid --max-bytes '\(text)': \(ByteCountArgument.expectation)", command: command).failure
            }
            maximumBytes = bytes
        }
        var fetchTimeout: Duration? = Self.defaultFetchTimeout
        if let text = parsed.value("fetch-timeout") {
            switch LockTimeout(parsing: text) {
            case let .after(duration)?: fetchTimeout = duration
            case .infinite?: fetchTimeout = nil
            case .immediate?, nil:
                throw UsageError(
                    "invalid --fetch-timeout '\(text)': expected a positive number of seconds (2.5, 60), "
                        + "at most \(LockTimeoutResolution.maximumSecondsText), or 'infinite'", command: command
                ).failure
            }
        }
        let config = try ConfigFile.load(directory: common.directory.value, allowSharedDirectory: common.allowSharedDirectory)
        let timeout = try usage { () throws(UsageError) in
            try LockTimeoutResolution.resolve(flag: parsed.value("lock-timeout"), environment: context.environment, config: config)
        }
        let source: Resolved<SourceSpecifier> = try usage { () throws(UsageError) in
            if let text = parsed.value("source") {
                let origin = SettingOrigin.flag("source")
                return Resolved(try SourceSpecifier.parse(text, origin: origin), from: origin)
            }
            if let config, let text = config.source {
                let origin = SettingOrigin.configFile(path: config.path, key: "source")
                return Resolved(try SourceSpecifier.parse(text, relativeTo: common.directory.value, origin: origin), from: origin)
            }
            throw UsageError(
                "no source to refresh from: pass --source PATH|URL|- (for example --source catalog.json), "
                    + "or set \"source\" in \(CacheDirectoryResolution.join(common.directory.value, "config.json"))",
                command: command)
        }
        return Settings(
            source: source, timeout: timeout, maximumAge: maximumAge, force: parsed.has("force"),
            maximumBytes: maximumBytes, fetchTimeout: fetchTimeout, config: config)
    }

    func run() throws(CommandFailure) -> ExitCode {
        let settings = try settings()
        let layout = StoreLayout(directory: common.directory.value, name: common.name)
        let hints = HintCommands(program: context.programName, common: common)
        let feedbackText = WaitFeedbackText(cachePath: layout.cachePath, action: "refresh", statusCommand: hints.status)
        // One live line on a terminal's stderr: the lock wait, then the download.
        let errorOutput = context.standardError
        let liveLine = TerminalLiveLine(output: errorOutput)
        let feedback = WaitFeedbackPrinter(
            text: feedbackText, output: errorOutput, style: errorOutput.isTerminal ? .terminal : .lines, quiet: common.quiet,
            liveLine: liveLine)
        let progress = FetchProgressPrinter(
            source: settings.source.value.description, liveLine: liveLine, enabled: errorOutput.isTerminal && !common.quiet)
        // Debug lines and warnings go above the live line, never into it.
        let log = DiagnosticLog(output: liveLine.linesAbove, verbose: common.verbose, quiet: common.quiet)
        log.setting("cache directory", common.directory) { $0 }
        log.debug("cache name: \(common.name); lock backend requested: \(common.lockBackend.rawValue)")
        log.setting("lock timeout", settings.timeout) { $0.description }
        log.setting("source", settings.source) { $0.description }
        if let config = settings.config, !config.unknownKeys.isEmpty {
            log.warning("ignoring unknown key(s) \(config.unknownKeys.map { JSONText.quoted($0) }.joined(separator: ", ")) in \(config.path) "
                + "(known keys: \(ConfigFile.knownKeys.joined(separator: ", ")))")
        }

        var observers: [any CacheObserver] = [feedback, progress, log]
        if let sink = try common.eventsSink() { observers.append(sink) }
        var options = common.storeOptions(observers: observers)
        options.lockTimeout = settings.timeout.value
        options.maximumPayloadBytes = settings.maximumBytes
        options.overwriteNewerFormat = parsed.has("overwrite-newer-format")
        let store: CacheStore
        do {
            store = try CacheStore(directory: common.directory.value, name: common.name, options: options)
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }

        let interrupts = context.interrupts
        let source = settings.source.value
        var http: HTTPFetchClient?
        if case let .http(url) = source {
            http = HTTPFetchClient(
                helperPath: HTTPFetchClient.helperPath(nextTo: context.executablePath), limit: settings.maximumBytes,
                timeout: settings.fetchTimeout, interrupts: interrupts, environment: context.environment,
                log: { log.debug($0) })
            log.debug("HTTP helper: \(http!.helperPath); fetch timeout \(settings.fetchTimeout.map { DurationText.format($0) } ?? "none")")
            if HTTPProxySelection.ignoresUppercaseHTTPProxy(for: url, environment: context.environment) {
                log.warning("HTTP_PROXY is set but not used: for http:// URLs the HTTP stack (libcurl) reads only lowercase "
                    + "http_proxy (uppercase is ignored against the \"httpoxy\" attack); set http_proxy to use the proxy")
            }
        }
        let quiet = common.quiet
        let fetcher = PayloadFetcher(
            source: source, reader: SourceReader(limit: settings.maximumBytes, interrupts: interrupts), http: http,
            willReadTerminal: { if !quiet { errorOutput.writeLine("Reading the payload from the terminal; end it with Ctrl-D") } })

        let started = ContinuousClock.now
        let outcome: RefreshOutcome
        do {
            outcome = try BlockingAsync.run {
                try await store.refresh(
                    ifOlderThan: settings.maximumAge, force: settings.force, source: source.description,
                    coalescing: source.coalescing, timeout: settings.timeout.value, cancellation: interrupts.token
                ) { request in try fetcher.fetch(request) }
            }
        } catch let MetadataCacheError.fetchFailed(_, error as SourceFailure) {
            // The CLI's own fetch failed: it says which source and what to do in
            // the CLI's words (exit codes per failure, the setting's origin).
            feedback.clearLiveLine()
            throw error.failure(sourceOrigin: settings.source.origin)
        } catch let error as MetadataCacheError {
            feedback.clearLiveLine()
            throw CacheErrorClassification.failure(for: error, source: source.description, feedback: feedbackText, hints: hints)
        } catch {
            feedback.clearLiveLine()
            throw CommandFailure(.ioError, "refresh failed: \(error)")
        }
        let elapsed = ContinuousClock.now - started
        if !common.quiet {
            context.standardOutput.writeLine(Self.resultLine(outcome, name: common.name, elapsed: elapsed))
        }
        if interrupts.isInterrupted {
            throw CommandFailure(
                .cancelled,
                "Interrupted (\(interrupts.signalName)) after the refresh had finished; the cache is complete and consistent",
                isFeedbackLine: true)
        }
        return .success
    }

    private func usage<T>(_ body: () throws(UsageError) -> T) throws(CommandFailure) -> T {
        do { return try body() } catch { throw error.failure }
    }

    /// The one result line of a successful refresh.
    static func resultLine(_ outcome: RefreshOutcome, name: String, elapsed: Duration) -> String {
        switch outcome {
        case let .fetched(receipt):
            return "Refreshed '\(name)': generation \(receipt.generation), \(ByteCountText.format(receipt.payloadBytes)) "
                + "in \(milliseconds(elapsed - receipt.lockWaited)) (waited \(milliseconds(receipt.lockWaited)))"
        case let .revalidated(receipt):
            return "Revalidated '\(name)': not modified (HTTP 304); generation \(receipt.generation) kept, fetchedAt renewed "
                + "in \(milliseconds(elapsed - receipt.lockWaited)) (waited \(milliseconds(receipt.lockWaited)))"
        case let .skippedFresh(age, maximumAge):
            return "Skipped: cache is fresh (age \(DurationText.format(age)) < \(DurationArgument.format(maximumAge)))"
        case let .coalesced(version, _):
            return "Coalesced: pid \(version.writerPID) committed generation \(version.generation) while we waited"
        }
    }

    /// `34 ms`, `1250 ms`; whole milliseconds, as in the issue's examples.
    static func milliseconds(_ duration: Duration) -> String {
        "\(Int(max(0, duration.milliseconds).rounded())) ms"
    }
}
