#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// The words of the lock-wait feedback, as pure functions of what the library
/// reports (so unit tests can pin every line without a lock or a clock).
///
///     Waiting for lock on cache /c/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 4s (timeout: 10s; Ctrl-C to cancel)
///     Waiting for lock on cache /c/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 6s (waited 2s, 8s left; Ctrl-C to cancel)
///     Lock acquired after 1.2s; continuing refresh
///     Could not acquire lock after 10s; retry with --lock-timeout or see 'metacache cache status'
///     Cancelled while waiting for lock
public struct WaitFeedbackText: Sendable {
    /// The cache file the lock protects (what the user knows by name).
    public let cachePath: String
    /// What continues after the lock is acquired ("refresh", "repair").
    public let action: String
    /// The `status` command a timeout suggests, locating the same cache (`HintCommands`).
    public let statusCommand: String

    public init(cachePath: String, action: String, statusCommand: String = "metacache cache status") {
        self.cachePath = cachePath
        self.action = action
        self.statusCommand = statusCommand
    }

    /// `held by pid 4242 (metacache cache refresh) on build-1 for 4s`
    public func holderPhrase(_ holder: HolderRecord?, now: Date) -> String {
        guard let holder else { return "held by another process (it has not published who it is)" }
        let heldFor = max(0, now.timeIntervalSince(holder.acquiredAt))
        return "held by pid \(holder.pid) (\(TerminalText.escaped(holder.command))) on \(holder.location) for \(DurationText.format(seconds: heldFor))"
    }

    public func started(holder: HolderRecord?, timeout: LockTimeout, now: Date) -> String {
        startedLine(holder: holder, timeout: timeout, now: now).text
    }

    public func progress(elapsed: Duration, remaining: Duration?, holder: HolderRecord?, now: Date) -> String {
        progressLine(elapsed: elapsed, remaining: remaining, holder: holder, now: now).text
    }

    /// The first line, in parts (a terminal fits it to its width).
    public func startedLine(holder: HolderRecord?, timeout: LockTimeout, now: Date) -> WaitLine {
        let short = timeout == .infinite ? "no timeout" : "timeout \(timeout)"
        return WaitLine(cachePath: cachePath, holder: lineHolder(holder, now: now), timing: "timeout: \(timeout)", shortTiming: short)
    }

    /// A progress line, in parts: `waited 2s, 8s left`.
    public func progressLine(elapsed: Duration, remaining: Duration?, holder: HolderRecord?, now: Date) -> WaitLine {
        let waited = DurationText.format(elapsed)
        let budget = remaining.map { "\(DurationText.format($0)) left" }
        return WaitLine(
            cachePath: cachePath, holder: lineHolder(holder, now: now),
            timing: "waited \(waited), \(budget ?? "timeout: none")", shortTiming: "\(waited), \(budget ?? "no timeout")")
    }

    private func lineHolder(_ holder: HolderRecord?, now: Date) -> WaitLine.Holder? {
        holder.map {
            WaitLine.Holder(
                // `location`: the host name, plus "in another pid namespace" (or
                // machine) when the pid is not one of ours, so it never reads as local.
                pid: $0.pid, command: TerminalText.escaped($0.command), host: $0.location,
                heldFor: DurationText.format(seconds: max(0, now.timeIntervalSince($0.acquiredAt))))
        }
    }

    public func acquired(waited: Duration) -> String {
        "Lock acquired after \(DurationText.format(waited)); continuing \(action)"
    }

    /// The end line of a wait that timed out; also the error message when the
    /// lock was busy and the timeout was 0 (no wait was shown).
    public func timedOut(waited: Duration, timeout: LockTimeout, holder: HolderRecord?, now: Date) -> String {
        let after = timeout == .immediate ? "(--lock-timeout 0: not waiting)" : "after \(DurationText.format(waited))"
        return "Could not acquire lock \(after); retry with --lock-timeout or see '\(statusCommand)' "
            + "(lock on cache \(cachePath) \(holderPhrase(holder, now: now)))"
    }

    public func cancelled(waited: Duration) -> String {
        "Cancelled while waiting for lock (after \(DurationText.format(waited))); nothing was changed"
    }
}
