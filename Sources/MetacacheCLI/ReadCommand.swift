#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// `metacache cache read`: the payload bytes, exactly, on stdout (or the header as
/// JSON with `--meta`).
///
/// With `--refresh-after` (or `--offline`) it serves under a freshness policy:
/// see `runWithPolicy`.
///
/// This runs on every invocation of a host tool, so it does only what a read
/// needs: no config file, no lock-timeout lookup, no lock, no signal handlers, no
/// async runtime; one verified read of the file and one write loop straight from
/// the snapshot's buffer.
struct ReadCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    func run() throws(CommandFailure) -> ExitCode {
        let observers = try common.optionalObservers(standardError: context.standardError)
        let hints = HintCommands(program: context.programName, common: common)
        let snapshot: CacheSnapshot?
        let store: CacheStore
        do {
            store = try CacheStore(
                directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        let freshness: FreshnessArguments?
        do {
            freshness = try FreshnessArguments(parsed)
        } catch {
            throw error.failure
        }
        if let freshness {
            return try runWithPolicy(freshness, store: store, hints: hints)
        }
        do {
            snapshot = try store.read()
        } catch {
            throw CacheErrorClassification.failure(for: error, hints: hints, refreshSource: HintCommands.refreshSource(for: store))
        }
        guard let snapshot else {
            throw CommandFailure(
                .missing,
                "no cache at \(store.cachePath) yet; create it with '\(hints.refresh(HintCommands.refreshSource(for: store)))'")
        }
        return try write(snapshot)
    }

    private func write(_ snapshot: CacheSnapshot) throws(CommandFailure) -> ExitCode {
        // Written straight from the snapshot's buffer: no copy, no re-encoding.
        var failure: OutputChannelError?
        let output = context.standardOutput
        if parsed.has("meta") {
            var line = TerminalText.escapedJSON(HeaderJSON.object(for: snapshot)) + "\n"
            line.withUTF8 { bytes in
                do throws(OutputChannelError) { try output.write(UnsafeRawBufferPointer(bytes)) } catch { failure = error }
            }
        } else {
            snapshot.payload.withUnsafeBytes { bytes in
                do throws(OutputChannelError) { try output.write(bytes) } catch { failure = error }
            }
        }
        if let failure {
            throw CommandFailure(.ioError, "writing to standard output failed: \(Errno(rawValue: failure.errno))")
        }
        return .success
    }
}

extension ReadCommand {
    /// `--refresh-after` / `--offline`: serve at once, refresh in a detached
    /// process (`CacheStore.read(policy:)`); the payload on stdout, the staleness
    /// warning on stderr.
    private func runWithPolicy(_ freshness: FreshnessArguments, store: CacheStore, hints: HintCommands)
        throws(CommandFailure) -> ExitCode
    {
        let policy = freshness.policy
        let background = policy.offline
            ? nil
            : BackgroundRefreshInvocation.command(
                directory: store.directory, common: common, source: freshness.source, executablePath: context.executablePath)
        // The foreground refresh is `cache refresh` in this process, with its
        // feedback on stderr and its result line dropped (stdout is the payload's).
        var foreground = context
        foreground.standardOutput = DiscardedOutput()
        let result: FreshnessRead?
        var cancellation: CommandFailure?
        do {
            result = try store.read(policy: policy, background: background) {
                do {
                    _ = try RefreshCommand(parsed: parsed, common: common, context: foreground).run()
                } catch let failure as CommandFailure where failure.exitCode == .cancelled {
                    // Ctrl-C is the user's choice, not the source failing: the library
                    // serves no stale copy after a CancellationError.
                    cancellation = failure
                    throw CancellationError()
                }
            }
        } catch is CancellationError {
            throw cancellation ?? CommandFailure(.cancelled, "Interrupted; the cache is unchanged")
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as MetadataCacheError {
            throw CacheErrorClassification.failure(for: error, hints: hints, refreshSource: HintCommands.refreshSource(for: store))
        } catch {
            throw CommandFailure(.ioError, "read failed: \(error)")
        }
        guard let result else {
            throw CommandFailure(
                .missing,
                "no cache at \(store.cachePath) and --offline forbids fetching one; "
                    + "create it with '\(hints.refresh(HintCommands.refreshSource(for: store)))' when online")
        }
        if let warning = Self.warning(for: result, freshness: freshness), !common.quiet {
            context.standardError.writeLine("metacache: warning: " + warning)
        }
        return try write(result.snapshot)
    }

    /// The one stderr line saying the copy served is stale, and why; nil when fresh.
    static func warning(for result: FreshnessRead, freshness: FreshnessArguments) -> String? {
        let limit = freshness.refreshAfter.map { " (--refresh-after \(DurationArgument.format($0)))" } ?? ""
        switch result.served {
        case .fresh:
            return nil
        case let .offline(age):
            guard let refreshAfter = freshness.refreshAfter, age > refreshAfter else { return nil }
            return "offline: serving a stale cache fetched \(DurationText.format(age)) ago\(limit); not refreshing it"
        case let .stale(age):
            let next: String
            switch result.backgroundRefresh {
            case let .started(pid)?: next = "refreshing it in the background (pid \(pid))"
            case .alreadyRunning?: next = "a background refresh is already running"
            case let .backingOff(until, attempts, lastError)?:
                next = "not refreshing until \(ISO8601Timestamp.format(millisecondsSinceEpoch: EpochMilliseconds.milliseconds(until))): "
                    + "the last \(attempts == 1 ? "refresh" : "\(attempts) refreshes") failed (\(TerminalText.escaped(lastError)))"
            case .cacheChanged?: next = "a newer copy was committed meanwhile; the next read gets it"
            case let .notStarted(reason)?: next = "could not start a background refresh: \(TerminalText.escaped(reason))"
            case nil: next = "not refreshing it"
            }
            return "serving a stale cache fetched \(DurationText.format(age)) ago\(limit); " + next
        case let .staleAfterError(age, error):
            let within = freshness.policy.staleIfError.map { " (within --stale-if-error \(DurationArgument.format($0)))" } ?? ""
            return "refresh failed, serving the cached copy fetched \(DurationText.format(age)) ago\(within): \(TerminalText.escaped(error))"
        }
    }
}

/// `read --meta`: the verified header of the current cache as one JSON object.
///
///     {"path":"/c/metadata.json","generation":7,"commitId":"…","fetchedAt":"2026-11-25T09:31:02.123Z",
///      "committedAt":"…","ageSeconds":180,"source":"https://…","etag":"\"abc\"","lastModified":null,
///      "writerPid":4242,"writerHost":"build-1","payloadBytes":1048576,"fileSize":1048700}
enum HeaderJSON {
    static func object(for snapshot: CacheSnapshot, now: Date = Date()) -> String {
        JSONText.object([
            ("path", JSONText.quoted(snapshot.path)),
            ("generation", String(snapshot.generation)),
            ("commitId", JSONText.quoted(Hex.format(snapshot.commitID))),
            ("fetchedAt", StatusReport.fetchedAtJSON(CachedVersion(snapshot)) ?? "null"),
            ("committedAt", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: snapshot.committedAtMilliseconds))),
            ("ageSeconds", StatusReport.ageSecondsJSON(fetchedAtMilliseconds: snapshot.fetchedAtMilliseconds, now: now) ?? "null"),
            ("source", JSONText.optionalString(snapshot.source)),
            ("etag", JSONText.optionalString(snapshot.validators.etag)),
            ("lastModified", JSONText.optionalString(snapshot.validators.lastModified)),
            ("writerPid", String(snapshot.writerPID)),
            ("writerHost", JSONText.optionalString(snapshot.writerHost)),
            ("payloadBytes", String(snapshot.payload.count)),
            ("fileSize", String(snapshot.fileSize)),
        ])
    }
}
