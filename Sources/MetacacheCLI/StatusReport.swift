#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// `status` output, from a `CacheStatus`: one JSON object with exactly the fields
/// of issue 3 and the refresh failure memory of issue 13, or a readable summary.
///
///     {"path":"/c/metadata.json","exists":true,"generation":7,"fetchedAt":"2026-11-25T09:31:02.123Z",
///      "ageSeconds":180,"sizeBytes":1048700,"integrity":"ok","source":"https://…",
///      "lock":{"held":false,"backend":"advisory","holder":null},"orphanTemps":[]}
///
/// `sizeBytes` is the size of the cache file on disk (header and payload) — the
/// file at `path`; `ageSeconds` is whole seconds since `fetchedAt`; fields that
/// cannot be known (no cache, unreadable header) are `null`; `orphanTemps` lists
/// the paths of temp files no live writer owns.
public enum StatusReport {
    public static let jsonFields = [
        "path", "exists", "generation", "fetchedAt", "ageSeconds", "sizeBytes", "integrity", "source", "lock", "orphanTemps",
        "lastRefreshError", "lastRefreshErrorAt", "refreshAttempts", "nextRefreshAttemptAt", "backgroundRefreshPID",
    ]

    public static func json(_ status: CacheStatus, now: Date = Date()) -> String {
        let version = status.version
        return JSONText.object([
            ("path", JSONText.quoted(status.path)),
            ("exists", String(status.exists)),
            ("generation", version.map { String($0.generation) } ?? "null"),
            ("fetchedAt", version.flatMap(fetchedAtJSON) ?? "null"),
            ("ageSeconds", version.flatMap { ageSecondsJSON(fetchedAtMilliseconds: $0.fetchedAtMilliseconds, now: now) } ?? "null"),
            ("sizeBytes", status.fileSize.map { String($0) } ?? "null"),
            ("integrity", JSONText.quoted(status.integrity.name)),
            ("source", JSONText.optionalString(version?.source)),
            ("lock", lockJSON(status.lock)),
            ("orphanTemps", "[" + status.orphanTemps.map(JSONText.quoted).joined(separator: ",") + "]"),
            ("lastRefreshError", JSONText.optionalString(status.refreshFailure?.lastError)),
            ("lastRefreshErrorAt", status.refreshFailure.map { JSONText.quoted(timestamp($0.lastErrorAt)) } ?? "null"),
            ("refreshAttempts", status.refreshFailure.map { String($0.attempts) } ?? "null"),
            ("nextRefreshAttemptAt", status.refreshFailure.map { JSONText.quoted(timestamp($0.nextAttemptAt)) } ?? "null"),
            ("backgroundRefreshPID", status.backgroundRefreshPID.map { String($0) } ?? "null"),
        ])
    }

    static func lockJSON(_ lock: CacheStatus.LockState) -> String {
        let holder = lock.holder.map { holder in
            JSONText.object([
                ("pid", String(holder.pid)),
                ("host", JSONText.quoted(holder.host)),
                ("command", JSONText.quoted(holder.command)),
                ("since", JSONText.quoted(timestamp(holder.acquiredAt))),
            ])
        }
        return JSONText.object([
            ("held", String(lock.held)),
            ("backend", JSONText.quoted(lock.backend.rawValue)),
            ("holder", holder ?? "null"),
        ])
    }

    /// - Parameters:
    ///   - hints: the commands the report suggests, located on the same cache.
    ///   - refreshSource: the source a suggested refresh uses.
    public static func text(
        _ status: CacheStatus, name: String, hints: HintCommands = HintCommands(program: "metacache", locating: []),
        refreshSource: HintCommands.Source = .unknown, now: Date = Date()
    ) -> String {
        var lines = ["Cache '\(name)' at \(status.path)"]
        func row(_ label: String, _ value: String) {
            lines.append("  " + label + String(repeating: " ", count: max(1, 14 - label.count)) + value)
        }
        switch status.integrity {
        case .ok:
            let payload = status.payloadBytes.map { ByteCountText.format($0) + " payload" } ?? "payload"
            let disk = status.fileSize.map { ", \(ByteCountText.format($0)) on disk" } ?? ""
            row("integrity:", "ok (\(payload)\(disk), checksums verified)")
        case let .corrupt(problem):
            row("integrity:", "CORRUPT: \(problem) — run '\(hints.verifyRepair)', then '\(hints.refresh(refreshSource))'")
        case let .newerFormat(version, flags):
            row("integrity:", "written by a newer metacache (\(MetadataCacheError.newerFormatDetail(version: version, unknownFlags: flags))); "
                + "intact, left untouched — upgrade to read it, or '\(hints.refresh(refreshSource, options: ["--overwrite-newer-format"]))' to replace it")
        case .missing:
            row("integrity:", "missing — no cache yet; run '\(hints.refresh(refreshSource))'")
        }
        if let version = status.version {
            row("generation:", String(version.generation))
            row("fetched:", fetchedText(version, now: now))
            row("source:", version.source.map(TerminalText.escaped) ?? "(not recorded)")
            if !version.validators.isEmpty {
                let parts = [
                    version.validators.etag.map { "ETag " + TerminalText.escaped($0) },
                    version.validators.lastModified.map { "Last-Modified " + TerminalText.escaped($0) },
                ]
                row("validators:", parts.compactMap { $0 }.joined(separator: ", "))
            }
            row("written by:", "pid \(version.writerPID)" + (version.writerHost.map { " on " + TerminalText.escaped($0) } ?? ""))
        }
        if status.lock.held {
            let who = status.lock.holder.map { holder in
                "pid \(holder.pid) (\(TerminalText.escaped(holder.command))) on \(holder.location) since \(timestamp(holder.acquiredAt)) "
                    + "(\(DurationText.format(seconds: max(0, now.timeIntervalSince(holder.acquiredAt)))))"
            } ?? "another process (no holder record)"
            row("lock:", "held by \(who) [\(status.lock.backend)]")
        } else {
            row("lock:", "free [\(status.lock.backend)]")
        }
        if let failure = status.refreshFailure {
            row("last failure:", "\(timestamp(failure.lastErrorAt)) (\(failure.attempts) consecutive): \(TerminalText.escaped(failure.lastError))")
            let next = failure.nextAttemptAt
            row("next attempt:", timestamp(next) + (next > now ? " (background refreshes back off until then)" : " (due)"))
        }
        if let pid = status.backgroundRefreshPID {
            row("background:", pid > 0 ? "refresh running, pid \(pid)" : "refresh starting")
        }
        if status.orphanTemps.isEmpty {
            row("orphan temps:", "none")
        } else {
            row("orphan temps:", "\(status.orphanTemps.count) (remove with '\(hints.sweep)')")
            for path in status.orphanTemps { lines.append("    " + TerminalText.escaped(path)) }
        }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601Timestamp.format(millisecondsSinceEpoch: EpochMilliseconds.milliseconds(date))
    }

    /// `fetchedAt` for JSON: the exact instant, or null for a payload never fetched
    /// (created by a local update).
    static func fetchedAtJSON(_ version: CachedVersion) -> String? {
        version.wasFetched ? JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: version.fetchedAtMilliseconds)) : nil
    }

    /// Whole seconds since `fetchedAtMilliseconds` (0 if in the future); null if never fetched.
    static func ageSecondsJSON(fetchedAtMilliseconds ms: Int64, now: Date) -> String? {
        guard ms != CacheHeader.neverFetched else { return nil }
        let age = EpochMilliseconds.age(since: ms, now: EpochMilliseconds.milliseconds(now))
        return String(age.components.seconds)
    }

    /// The `fetched:` row: when, and how long ago (or that it is in the future,
    /// which only a writer's wrong clock produces).
    static func fetchedText(_ version: CachedVersion, now: Date) -> String {
        guard version.wasFetched else { return "never (created by a local update)" }
        let ms = version.fetchedAtMilliseconds
        let nowMs = EpochMilliseconds.milliseconds(now)
        let when = ISO8601Timestamp.format(millisecondsSinceEpoch: ms)
        if ms > nowMs { return when + " (in the future: the writer's clock was ahead)" }
        let age = EpochMilliseconds.age(since: ms, now: nowMs)
        return when + " (" + (age < .seconds(1) ? "just now" : "\(DurationText.format(age)) ago") + ")"
    }
}
