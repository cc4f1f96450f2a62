#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// `status` output, from a `CacheStatus`: one JSON object with exactly the fields
/// of issue 3, or a readable summary.
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
    ]

    public static func json(_ status: CacheStatus, now: Date = Date()) -> String {
        let version = status.version
        return JSONText.object([
            ("path", JSONText.quoted(status.path)),
            ("exists", String(status.exists)),
            ("generation", version.map { String($0.generation) } ?? "null"),
            ("fetchedAt", version.map { JSONText.quoted(timestamp($0.fetchedAt)) } ?? "null"),
            ("ageSeconds", version.map { String(ageSeconds(since: $0.fetchedAt, now: now)) } ?? "null"),
            ("sizeBytes", status.fileSize.map { String($0) } ?? "null"),
            ("integrity", JSONText.quoted(status.integrity.name)),
            ("source", JSONText.optionalString(version?.source)),
            ("lock", lockJSON(status.lock)),
            ("orphanTemps", "[" + status.orphanTemps.map(JSONText.quoted).joined(separator: ",") + "]"),
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
        case .missing:
            row("integrity:", "missing — no cache yet; run '\(hints.refresh(refreshSource))'")
        }
        if let version = status.version {
            row("generation:", String(version.generation))
            let age = max(0, now.timeIntervalSince(version.fetchedAt))
            row("fetched:", "\(timestamp(version.fetchedAt)) (" + (age < 1 ? "just now" : "\(DurationText.format(seconds: age)) ago") + ")")
            row("source:", version.source ?? "(not recorded)")
            if !version.validators.isEmpty {
                let parts = [version.validators.etag.map { "ETag \($0)" }, version.validators.lastModified.map { "Last-Modified \($0)" }]
                row("validators:", parts.compactMap { $0 }.joined(separator: ", "))
            }
            row("written by:", "pid \(version.writerPID)" + (version.writerHost.map { " on \($0)" } ?? ""))
        }
        if status.lock.held {
            let who = status.lock.holder.map { holder in
                "pid \(holder.pid) (\(holder.command)) on \(holder.host) since \(timestamp(holder.acquiredAt)) "
                    + "(\(DurationText.format(seconds: max(0, now.timeIntervalSince(holder.acquiredAt)))))"
            } ?? "another process (no holder record)"
            row("lock:", "held by \(who) [\(status.lock.backend)]")
        } else {
            row("lock:", "free [\(status.lock.backend)]")
        }
        if status.orphanTemps.isEmpty {
            row("orphan temps:", "none")
        } else {
            row("orphan temps:", "\(status.orphanTemps.count) (remove with '\(hints.sweep)')")
            for path in status.orphanTemps { lines.append("    " + path) }
        }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601Timestamp.format(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    static func ageSeconds(since date: Date, now: Date) -> Int64 {
        Int64(max(0, now.timeIntervalSince(date)).rounded(.down))
    }
}
