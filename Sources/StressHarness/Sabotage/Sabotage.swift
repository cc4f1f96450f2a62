#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deliberate breakage for the harness's self-test (`--sabotage MODE`, not in the
/// usage text): each mode defeats one guarantee, and a run with it must end with
/// the matching violation named. A checker that cannot fail proves nothing; these
/// modes are how the CI shows that each of the harness's checks can fail — on the
/// library path and, with `--use-cli`, on the CLI path, with either lock backend.
public enum Sabotage: String, Sendable, CaseIterable {
    /// Writers' lock succeeds without locking anything (`LockBypassingSystemCalls`:
    /// `flock` does nothing, each writer's owner file is its own): several writers
    /// "hold" the lock at once. With `--use-cli`, the refreshers run the harness as
    /// a stand-in `metacache cache refresh` with that lock (`SabotagedCLI`).
    /// Expected: writer overlaps, commit-order violations, lost updates.
    case lockBypass = "lock-bypass"
    /// Refreshers commit a payload spliced from two of their own (first half of
    /// one, second half of the next); with `--use-cli`, the source file the real
    /// CLI commits is spliced. The library's checksum is computed over the spliced
    /// bytes and blesses them; only the harness's digest can tell.
    /// Expected: torn reads.
    case tornPayload = "torn-payload"
    /// Refreshers hold the lock but rewrite the cache file in place (`O_TRUNC` +
    /// two writes, `InPlaceWriter`) instead of the temp-file-and-rename protocol;
    /// with `--use-cli`, through `SabotagedCLI`. Expected: corrupt reads.
    case inPlaceWrite = "in-place-write"
    /// Refreshers leave a temp file behind, as a commit that forgot to remove
    /// its temp would (`TempLeak`). Expected: temps leaked during the run.
    case leakTemp = "leak-temp"
    /// The control of the re-acquire check: the lock outlives a killed holder by
    /// 1.5 s (`LockKeeper`: a child inherits the held lock's descriptor, as a
    /// helper spawned without close-on-exec would). Needs kill chaos.
    /// Expected: re-acquire after kill over 1 s.
    case lockOutlivesHolder = "lock-outlives-holder"
    /// The control of the stall watch: the first refresher to get the lock stops
    /// itself (SIGSTOP) while holding it. With `--lock-timeout infinite` every
    /// other writer then waits silently; `--stall-after` shortens the watch.
    /// Expected: stalled.
    case freezeHolder = "freeze-holder"

    /// How long a sabotaged hold is kept open (lock-bypass) or a rewrite left half
    /// done (in-place-write): wide enough that a two-second run is sure to show
    /// the breakage, not merely likely to. The CLI path's is wider: its writers
    /// and readers are whole processes, a few per second each, not loops.
    static let window: Duration = .milliseconds(2)
    static let cliWindow: Duration = .milliseconds(20)

    /// Why this mode could not show anything in a run with `options`, or nil.
    func cannotApply(to options: StressOptions) -> String? {
        let writers = options.refreshers + (options.useCLI ? 0 : options.updaters)
        switch self {
        case .lockBypass:
            return writers < 2 ? "it needs at least two writers: with one, there is nobody to overlap" : nil
        case .tornPayload:
            if options.refreshers == 0 { return "it needs a refresher to commit the spliced payload" }
            if options.useCLI && options.readers == 0 {
                return "with --use-cli it needs a reader: CLI refreshers do not read what they replace"
            }
            return nil
        case .inPlaceWrite:
            if options.refreshers == 0 { return "it needs a refresher to rewrite the cache" }
            return options.readers == 0 ? "it needs a reader: only a read during the rewrite sees it half done" : nil
        case .leakTemp:
            return options.refreshers == 0 ? "it needs a refresher to leave the temp behind" : nil
        case .lockOutlivesHolder:
            if options.killWritersEveryMilliseconds == nil { return "it needs --kill-writers-every: only a killed holder shows it" }
            return nil
        case .freezeHolder:
            if options.refreshers == 0 { return "it needs a refresher to freeze" }
            if options.useCLI { return "it freezes a library refresher; the stall watch is the same with --use-cli" }
            return nil
        }
    }

    /// `torn-payload`: the first half of `first` followed by the second half of
    /// `second` (two payloads of one length): valid JSON, a wrong digest.
    static func splice(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        Array(first[..<(first.count / 2)] + second[(second.count / 2)...])
    }

    /// Sleeps for `window`, for sabotage that must be sure to be seen.
    static func holdTheWindowOpen(_ window: Duration = window) {
        let nanoseconds = window.components.attoseconds / 1_000_000_000 + window.components.seconds * 1_000_000_000
        var ts = timespec(tv_sec: 0, tv_nsec: Int(nanoseconds))
        var left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}
