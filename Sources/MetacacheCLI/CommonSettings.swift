import MetadataCache

/// The options every command shares, validated: directory (with its origin),
/// cache name, lock backend, output switches, events file.
///
/// The lock timeout is deliberately not resolved here: only commands that take
/// the lock resolve it (and read the config file for it), so `read` and `status`
/// never fail over an environment variable or config key they do not use, and
/// `read` stays lean. An explicit `--lock-timeout` is still syntax-checked for
/// every command: a value typed on this command line is either valid or an error,
/// never silently ignored.
public struct CommonSettings: Sendable {
    public let directory: Resolved<String>
    public let name: String
    public let lockBackend: LockBackendSelection
    /// `--allow-shared-dir`: accept a group/other-writable or foreign-owned cache
    /// directory (symlinks and non-directories are refused regardless). A flag
    /// only, never a config key: the config file lives in the very directory whose
    /// trustworthiness is in question.
    public let allowSharedDirectory: Bool
    public let quiet: Bool
    public let verbose: Bool
    public let eventsPath: String?

    public init(_ parsed: ParsedCommandLine, environment: EnvironmentVariables) throws(UsageError) {
        let command = parsed.path
        directory = try CacheDirectoryResolution.resolve(flag: parsed.value("dir"), environment: environment)
        name = parsed.value("name") ?? "metadata"
        guard StoreLayout.isValidName(name) else {
            throw UsageError(
                "invalid --name \(JSONText.quoted(name)): use a plain file name without '/', control characters or a leading dot",
                command: command)
        }
        if let text = parsed.value("lock-backend") {
            guard let backend = LockBackendSelection(rawValue: text) else {
                throw UsageError("invalid --lock-backend '\(text)': expected auto, advisory or lockfile", command: command)
            }
            lockBackend = backend
        } else {
            lockBackend = .auto
        }
        if let text = parsed.value("lock-timeout") {
            _ = try LockTimeoutResolution.parse(text, origin: .flag("lock-timeout"))
        }
        allowSharedDirectory = parsed.has("allow-shared-dir")
        quiet = parsed.has("quiet")
        verbose = parsed.has("verbose")
        if let events = parsed.value("events") {
            guard !events.isEmpty else { throw UsageError("option '--events' needs a file path", command: command) }
            eventsPath = events
        } else {
            eventsPath = nil
        }
    }

    /// Store options with this command's observers attached.
    public func storeOptions(observers: [any CacheObserver]) -> CacheStoreOptions {
        var options = CacheStoreOptions()
        options.lockBackend = lockBackend
        options.allowSharedDirectory = allowSharedDirectory
        if !observers.isEmpty { options.observer = observers.count == 1 ? observers[0] : CacheObserverFanOut(observers) }
        return options
    }

    /// The observers of a command that prints nothing of its own progress:
    /// `--verbose` diagnostics on `standardError`, and the `--events` sink, each
    /// only when asked for.
    func optionalObservers(standardError: any OutputChannel) throws(CommandFailure) -> [any CacheObserver] {
        var observers: [any CacheObserver] = []
        if verbose { observers.append(DiagnosticLog(output: standardError, verbose: true, quiet: quiet)) }
        if let sink = try eventsSink() { observers.append(sink) }
        return observers
    }

    /// The `--events` sink, when asked for.
    package func eventsSink() throws(CommandFailure) -> JSONLinesEventSink? {
        guard let eventsPath else { return nil }
        do {
            return try JSONLinesEventSink(path: eventsPath)
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
    }
}
