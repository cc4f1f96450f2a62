/// `--help` at every level, built from `OptionSpec.all` so help and parser agree.
public enum HelpText {
    public static let version = "0.1.0"

    public static func versionLine() -> String { "metacache \(version) (MetadataCache cache format 1)" }

    public static func usageLine(_ path: CommandPath) -> String {
        switch path {
        case .root: "Usage: metacache cache <refresh|read|status|verify|sweep|watch> [options]   |   metacache --version | --help"
        case .cache: "Usage: metacache cache <refresh|read|status|verify|sweep|watch> [options]"
        case .subcommand(.refresh):
            "Usage: metacache cache refresh [--source SRC] [--if-older-than DURATION] [--force] [--max-bytes N] [--fetch-timeout SECONDS|infinite] [--overwrite-newer-format] [common options]"
        case .subcommand(.read):
            "Usage: metacache cache read [--meta] [--source SRC --refresh-after DURATION [--max-stale DURATION] "
                + "[--stale-if-error DURATION]] [--offline] [common options]"
        case .subcommand(.status): "Usage: metacache cache status [--json] [common options]"
        case .subcommand(.verify): "Usage: metacache cache verify [--repair] [common options]"
        case .subcommand(.sweep): "Usage: metacache cache sweep [common options]"
        case .subcommand(.watch): "Usage: metacache cache watch [--json] [--once] [common options]"
        }
    }

    static let exitCodes: String = {
        var lines = ["Exit status:"]
        for code in ExitCode.allCases {
            let number = String(code.rawValue)
            lines.append("  " + number + String(repeating: " ", count: 5 - number.count) + code.description)
        }
        return lines.joined(separator: "\n")
    }()

    static func optionLines(_ specs: [OptionSpec]) -> [String] {
        specs.map { spec in
            var left = "  "
            left += spec.short.map { "-\($0), " } ?? ""
            left += "--" + spec.name + (spec.valueName.map { " " + $0 } ?? "")
            let pad = max(2, 36 - left.count)
            return left + String(repeating: " ", count: pad) + spec.help
        }
    }

    static var commonOptions: String {
        (["Common options (accepted anywhere on the line):"] + optionLines(OptionSpec.all.filter { $0.scope == .common }))
            .joined(separator: "\n")
    }

    public static func text(for path: CommandPath) -> String {
        switch path {
        case .root:
            return """
                metacache — one JSON metadata document on local disk, shared safely by many processes.

                \(usageLine(.root))

                Commands:
                  cache refresh   fetch the source and commit it under the writer lock (coalesces concurrent refreshes)
                  cache read      print the cached payload (never locks)
                  cache status    what is cached, its integrity, who holds the lock
                  cache verify    check the whole file; --repair moves a corrupt one aside
                  cache sweep     remove temp files left by crashed writers
                  cache watch     print a line per commit, by any process, as it happens (--once: wait for the next)

                \(commonOptions)
                \(optionLines(OptionSpec.all.filter { $0.scope == .root }).joined(separator: "\n"))

                Environment:
                  METACACHE_DIR            cache directory (after --dir)
                  XDG_CACHE_HOME           cache directory is $XDG_CACHE_HOME/metacache (after METACACHE_DIR)
                  METACACHE_LOCK_TIMEOUT   lock timeout (after --lock-timeout, before config lockTimeout)

                \(exitCodes)

                Run 'metacache cache <command> --help' for a command's options; docs/cli.md has the details.
                """
        case .cache:
            return """
                \(usageLine(.cache))

                  refresh   fetch the source and commit it under the writer lock
                  read      print the cached payload bytes exactly (--meta: the header as JSON)
                  status    summary, or one JSON object with --json
                  verify    full integrity check; --repair moves a corrupt cache aside
                  sweep     remove orphaned temp files
                  watch     a line per commit as it happens; --once waits for the next one

                \(commonOptions)

                \(exitCodes)
                """
        case let .subcommand(sub):
            let specific = optionLines(OptionSpec.all.filter { $0.scope == .subcommand(sub) })
            let options = specific.isEmpty ? "" : "Options:\n" + specific.joined(separator: "\n") + "\n\n"
            return usageLine(path) + "\n\n" + summary(sub) + "\n\n" + options + commonOptions + "\n\n" + exitCodes
        }
    }

    static func summary(_ sub: CacheSubcommand) -> String {
        switch sub {
        case .refresh:
            """
            Takes the writer lock, then fetches SRC and commits it while holding the lock, so concurrent
            refreshes never download twice: one that waited while another process committed from the same
            source is coalesced (no fetch; never for stdin). With --if-older-than, a fresh cache is skipped
            without taking the lock. HTTP(S)
            sources are fetched conditionally (If-None-Match / If-Modified-Since from the stored validators);
            304 Not Modified keeps the payload and generation and renews fetchedAt. The payload must be
            strict JSON (RFC 8259) within --max-bytes; otherwise nothing is written. A cache written by a
            newer metacache is left alone (exit 76) unless --overwrite-newer-format.

            Lock timeout: --lock-timeout > METACACHE_LOCK_TIMEOUT > lockTimeout in <dir>/config.json > 10 s.
            Source:       --source > source in <dir>/config.json (relative to that directory).
            While waiting for the lock, stderr shows who holds it (one updating line on a terminal, a line
            every 5 s otherwise); on a terminal, a fetch that takes longer than 300 ms shows one live line
            (bytes received of the total, rate, elapsed). The result line goes to stdout. Ctrl-C (SIGINT) or
            SIGTERM cancels the wait or the fetch (exit 130); a commit in progress completes first.
            HTTP(S) uses the proxy in http_proxy / https_proxy / all_proxy (lowercase http_proxy only),
            minus no_proxy, and trusts the system's CA store only.
            """
        case .read:
            """
            Writes the cached payload bytes exactly to stdout (pipe it to jq), after verifying the checksum.
            Never takes a lock and never waits for a writer. Missing cache: exit 66; corrupt: exit 65;
            written by a newer metacache: exit 76.
            With --refresh-after, a cache older than that is still printed at once (with a warning on
            stderr) and refreshed by one detached background 'cache refresh', at most one at a time,
            backed off after failures (see 'cache status'); no cache, or one older than --max-stale,
            is refreshed first, as 'cache refresh' would.
            """
        case .status:
            """
            Prints what is cached, whether it verifies, who holds the writer lock and any orphaned temp files.
            --json fields: path, exists, generation, fetchedAt, ageSeconds, sizeBytes, integrity (ok|corrupt|newer-format|missing),
            source, lock {held, backend, holder {pid, host, command, since} | null}, orphanTemps.
            """
        case .verify:
            """
            Verifies the header, the length and the payload checksum. Exit 0 ok, 65 corrupt, 66 missing,
            76 written by a newer metacache (never moved aside, even with --repair).
            --repair moves a corrupt file aside to NAME.json.corrupt-TIMESTAMP (never deleted), under the writer
            lock, and still exits 65 so that 'verify --repair || refresh' rebuilds it.
            """
        case .sweep:
            """
            Removes temp files left by writers that crashed mid-commit, and prints them. Never removes a live
            writer's temp file: it sweeps only while holding the writer lock, tried without waiting; if another
            process holds the lock it removes nothing and exits 75.
            """
        case .watch:
            """
            Prints one line on stdout per version of the cache, as it is committed by any process: the current
            one at once, then each new commit (generation, commit id, fetchedAt, payload size, source), each
            verified; commits faster than the lines are printed may show only the latest. A 304 revalidation
            is a line too, marked "(payload unchanged)". Notices commits through inotify (kqueue on macOS), or by
            polling every second on a network filesystem or when inotify limits are reached (a warning says so).
            A missing directory is waited for. Never locks, never creates anything.
            --once waits for the next commit after the current one, prints it and exits 0.
            Ctrl-C (SIGINT) or SIGTERM stops the watch: exit 130.
            """
        }
    }
}
