#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The failure memory of a store's refreshes: `NAME.refresh-failure.json`, one
/// JSON object (docs/format.md, "Refresh failure record"):
///
///     {"format":1,"attempts":2,"lastErrorAt":"2026-12-07T12:00:00.000Z","lastErrorAtMs":1796644800000,
///      "nextAttemptAt":"2026-12-07T12:02:00.000Z","nextAttemptAtMs":1796644920000,
///      "lastError":"HTTP 503 from https://…","pid":4242}
///
/// Written atomically under the writer lock by the refresh that failed (so two
/// failures never lose an attempt), removed by the next successful refresh. The
/// times readers act on are the integer `…Ms` fields; the ISO strings are for
/// humans. A record that does not parse counts as none (a reader never fails, or
/// stops refreshing, over it), and any number in it is accepted without trapping.
public struct RefreshFailureRecord: Sendable, Equatable {
    public static let formatVersion = 1

    /// Consecutive failed refreshes.
    public let attempts: Int
    public let lastError: String
    package let lastErrorAtMilliseconds: Int64
    package let nextAttemptAtMilliseconds: Int64
    /// The process whose refresh failed last.
    public let pid: Int32

    public var lastErrorAt: Date { EpochMilliseconds.date(lastErrorAtMilliseconds) }
    /// No background refresh starts before this time.
    public var nextAttemptAt: Date { EpochMilliseconds.date(nextAttemptAtMilliseconds) }

    package init(attempts: Int, lastError: String, lastErrorAtMilliseconds: Int64, nextAttemptAtMilliseconds: Int64, pid: Int32) {
        self.attempts = attempts
        self.lastError = lastError
        self.lastErrorAtMilliseconds = lastErrorAtMilliseconds
        self.nextAttemptAtMilliseconds = nextAttemptAtMilliseconds
        self.pid = pid
    }

    /// The record after one more failure at `now`, following `previous`.
    package static func after(
        _ previous: RefreshFailureRecord?, error: String, now: Int64, backoff: RefreshBackoff, pid: Int32
    ) -> RefreshFailureRecord {
        let attempts = (previous?.attempts ?? 0).addingReportingOverflow(1)
        let count = attempts.overflow ? Int.max : attempts.partialValue
        let delay = backoff.delay(afterFailures: count)
        let delayMs = delay.components.seconds.multipliedReportingOverflow(by: 1000)
        let totalDelayMs = delayMs.overflow ? Int64.max
            : delayMs.partialValue.addingReportingOverflow(delay.components.attoseconds / 1_000_000_000_000_000)
                .partialValue
        let next = now.addingReportingOverflow(totalDelayMs)
        return RefreshFailureRecord(
            attempts: count, lastError: error, lastErrorAtMilliseconds: now,
            nextAttemptAtMilliseconds: next.overflow ? Int64.max : next.partialValue, pid: pid)
    }

    /// Whether a background refresh must still wait at `now`.
    package func isBackingOff(now: Int64) -> Bool { now < nextAttemptAtMilliseconds }

    /// The file's bytes (one line).
    package func encoded() -> [UInt8] {
        Array((JSONText.object([
            ("format", String(Self.formatVersion)),
            ("attempts", String(attempts)),
            ("lastErrorAt", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: lastErrorAtMilliseconds))),
            ("lastErrorAtMs", String(lastErrorAtMilliseconds)),
            ("nextAttemptAt", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: nextAttemptAtMilliseconds))),
            ("nextAttemptAtMs", String(nextAttemptAtMilliseconds)),
            ("lastError", JSONText.quoted(lastError)),
            ("pid", String(pid)),
        ]) + "\n").utf8)
    }

    private struct Wire: Decodable {
        let format: Int
        let attempts: Int
        let lastErrorAtMs: Int64
        let nextAttemptAtMs: Int64
        let lastError: String
        let pid: Int32?
    }

    /// Nil for anything but a well-formed record of a format this version knows.
    package static func parse(_ bytes: [UInt8]) -> RefreshFailureRecord? {
        guard let wire = try? CacheJSONDecoder().decode(Wire.self, from: Data(bytes)),
            wire.format == formatVersion, wire.attempts >= 1
        else { return nil }
        return RefreshFailureRecord(
            attempts: wire.attempts, lastError: wire.lastError, lastErrorAtMilliseconds: wire.lastErrorAtMs,
            nextAttemptAtMilliseconds: wire.nextAttemptAtMs, pid: wire.pid ?? 0)
    }
}
