import MetadataCache

/// `cache read`'s freshness options (`--refresh-after`, `--max-stale`,
/// `--stale-if-error`, `--source`, `--offline`), validated: nil when none is given
/// (a plain read, exactly as before).
///
/// `--max-stale`, `--stale-if-error` and `--source` only mean something with
/// `--refresh-after`, so alone they are usage errors rather than silently ignored.
/// `--offline` may be combined with `--refresh-after` (a script passes its usual
/// options and adds `--offline` on a plane): it then only decides whether the
/// copy served is called stale.
struct FreshnessArguments {
    let policy: FreshnessPolicy
    /// The `--source` text as given (nil: the background refresh uses the config's).
    let source: String?
    let refreshAfter: Duration?

    init?(_ parsed: ParsedCommandLine) throws(UsageError) {
        let command = parsed.path
        func duration(_ name: String) throws(UsageError) -> Duration? {
            guard let text = parsed.value(name) else { return nil }
            guard let value = DurationArgument.parse(text) else {
                throw UsageError("invalid --\(name) '\(text)': \(DurationArgument.expectation)", command: command)
            }
            return value
        }
        let refreshAfter = try duration("refresh-after")
        let maxStale = try duration("max-stale")
        let staleIfError = try duration("stale-if-error")
        let offline = parsed.has("offline")
        if refreshAfter == nil {
            for name in ["max-stale", "stale-if-error", "source"] where parsed.value(name) != nil {
                throw UsageError("--\(name) needs --refresh-after DURATION (when a cached copy counts as stale)", command: command)
            }
        }
        guard refreshAfter != nil || offline else { return nil }
        if let refreshAfter, let maxStale, maxStale < refreshAfter {
            throw UsageError(
                "--max-stale \(DurationArgument.format(maxStale)) is shorter than --refresh-after \(DurationArgument.format(refreshAfter)): "
                    + "a cache must be allowed to be stale for a while before it is too stale", command: command)
        }
        if offline {
            var policy = FreshnessPolicy.offline
            if let refreshAfter { policy.refreshAfter = refreshAfter }
            self.policy = policy
        } else {
            self.policy = FreshnessPolicy(refreshAfter: refreshAfter ?? .zero, maxStale: maxStale, staleIfError: staleIfError)
        }
        self.source = parsed.value("source")
        self.refreshAfter = refreshAfter
    }
}
