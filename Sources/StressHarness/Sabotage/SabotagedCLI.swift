import Foundation
import MetacacheCLI
import MetadataCache

/// A stand-in for `metacache cache refresh` with one guarantee broken on purpose:
/// what `--use-cli` refreshers run instead of the real CLI under `--sabotage
/// lock-bypass` or `in-place-write`, so the CLI mode's checks prove they can fail
/// too. It is the harness's own executable:
///
///     metacache-stress --sabotaged-cli MODE cache refresh --dir D --source FILE
///                      --force --quiet --lock-timeout T --lock-backend B [--events E]
///
/// Guarantee: it behaves as the real command does in everything the checks look
/// at — the payload is the source file's bytes, its `--events` lines are the
/// library's own (`JSONLinesEventSink`, with this process's pid, so the
/// refresher's log ties each commit to its payload), its exit status is the
/// CLI's for the same error (`CacheErrorClassification`) — except the one thing
/// the mode breaks: `lock-bypass` commits under a lock that locks nothing
/// (`LockBypassingSystemCalls`), `in-place-write` rewrites the cache in place
/// (`InPlaceWriter`, announcing the commit as the library would).
enum SabotagedCLI {
    static let flag = "--sabotaged-cli"

    /// Whether `mode` breaks the CLI refresh itself (the other modes sabotage
    /// the CLI path from the refresher worker: a spliced source, a planted temp).
    static func standsIn(for mode: Sabotage) -> Bool { mode == .lockBypass || mode == .inPlaceWrite }

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        guard let modeText = arguments.first, let mode = Sabotage(rawValue: modeText), standsIn(for: mode) else {
            CoordinatorChannel.complain("\(flag): expected lock-bypass or in-place-write, got \(arguments.first ?? "nothing")")
            return 64
        }
        let rest = arguments.dropFirst()
        guard rest.prefix(2) == ["cache", "refresh"] else {
            CoordinatorChannel.complain("\(flag) \(mode.rawValue): only 'cache refresh' is stood in for")
            return 64
        }
        let args: CommandLineArguments
        do {
            args = try CommandLineArguments(
                rest.dropFirst(2), valueFlags: ["dir", "source", "lock-timeout", "lock-backend", "events"],
                switchFlags: ["force", "quiet"])
        } catch {
            CoordinatorChannel.complain("\(flag): \(error)")
            return 64
        }
        guard let directory = args.value("dir"), let source = args.value("source"),
            let timeout = LockTimeout(parsing: args.value("lock-timeout") ?? "10"),
            let backend = LockBackendSelection(rawValue: args.value("lock-backend") ?? "auto")
        else {
            CoordinatorChannel.complain("\(flag): needs --dir, --source and valid --lock-timeout/--lock-backend")
            return 64
        }
        do {
            let payload = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
            let sink = try args.value("events").map { path throws(MetadataCacheError) in try JSONLinesEventSink(path: path) }
            var options = CacheStoreOptions()
            options.lockBackend = backend
            options.lockTimeout = timeout
            options.observer = sink
            if mode == .lockBypass {
                options.systemCalls = SystemCalls(provider: LockBypassingSystemCalls())
                // Holding a bypassed lock proves nothing: sweeping would remove
                // other writers' live temps. Keep the sabotage to the lock.
                options.sweepOnOpen = false
            }
            let store = try CacheStore(directory: directory, options: options)
            switch mode {
            case .inPlaceWrite:
                try InPlaceWriter.refresh(
                    store: store, timeout: timeout, window: Sabotage.cliWindow, payload: { _, _ in payload },
                    finished: { generation, bytes, duration in
                        guard let generation else { return }
                        sink?.observe(.commitSucceeded(
                            path: store.cachePath, generation: generation, bytes: bytes, duration: duration, renameRetries: 0))
                    })
                return 0
            default:
                return AsyncBridge.wait {
                    do {
                        _ = try await store.refresh(force: true, timeout: timeout) { _ in
                            Sabotage.holdTheWindowOpen(Sabotage.cliWindow)
                            return .payload(Data(payload), source: source)
                        }
                        return 0
                    } catch {
                        return Self.exitCode(for: error)
                    }
                }
            }
        } catch {
            return exitCode(for: error)
        }
    }

    /// The CLI's exit status for `error`, said on stderr as the CLI would.
    static func exitCode(for error: any Error) -> Int32 {
        CoordinatorChannel.complain("metacache (sabotaged): \(error)")
        if let error = error as? MetadataCacheError { return CacheErrorClassification.exitCode(for: error).rawValue }
        return 74
    }
}
