/// Deliberate breakage for the harness's self-test (`--sabotage MODE`, not in the
/// usage text): each mode defeats one guarantee, and a run with it must end with
/// the matching violation named. A checker that cannot fail proves nothing; these
/// modes are how the CI shows that each of the harness's checks can fail.
public enum Sabotage: String, Sendable, CaseIterable {
    /// Writers' `flock` calls succeed without locking anything
    /// (`LockBypassingSystemCalls`): several writers "hold" the lock at once.
    /// Expected: writer overlaps, commit-order violations, lost updates.
    case lockBypass = "lock-bypass"
    /// Refreshers commit, through the library, a payload spliced from two of
    /// their own (first half of one, second half of the next). The library's
    /// checksum is computed over the spliced bytes and blesses them; only the
    /// harness's digest can tell. Expected: torn reads.
    case tornPayload = "torn-payload"
    /// Refreshers hold the lock but rewrite the cache file in place
    /// (`O_TRUNC` + two writes) instead of the temp-file-and-rename protocol.
    /// Expected: corrupt reads (the library sees truncated files).
    case inPlaceWrite = "in-place-write"
}
