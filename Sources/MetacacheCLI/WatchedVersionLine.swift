#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// The line `metacache cache watch` prints for each version it is given.
///
///     generation 7, commit 9c1f0e2d3a4b5c6d, fetched 2026-11-25T09:31:02.123Z, 363.3 KiB, source https://api.example/catalogue.json
///     generation 7 (payload unchanged), commit 51aa0c9e27d4f310, fetched 2026-11-25T10:02:44.870Z, 363.3 KiB, source https://api.example/catalogue.json
///
/// or, with `--json`, the object `read --meta` prints for that version. Values
/// written by other processes (source, host, validators) are escaped for the
/// terminal (`TerminalText`).
enum WatchedVersionLine {
    /// - Parameter payloadUnchanged: the version before it had the same generation
    ///   and payload: an HTTP 304 revalidation (fetchedAt renewed), or the same
    ///   document committed again after the cache was rebuilt.
    static func text(_ snapshot: CacheSnapshot, payloadUnchanged: Bool) -> String {
        var line = "generation \(snapshot.generation)"
        if payloadUnchanged { line += " (payload unchanged)" }
        line += ", commit \(Hex.format(snapshot.commitID))"
        line += ", fetched \(StatusReport.timestamp(snapshot.fetchedAt))"
        line += ", \(ByteCountText.format(snapshot.payload.count))"
        if let source = snapshot.source { line += ", source " + TerminalText.escaped(source) }
        return line
    }

    /// Another commit of the same generation and payload — what a revalidation
    /// (HTTP 304) writes. (An equal generation alone is not enough: a cache deleted
    /// and committed again restarts at 1 with any payload.)
    static func hasUnchangedPayload(_ snapshot: CacheSnapshot, since previous: CacheSnapshot?) -> Bool {
        guard let previous else { return false }
        return snapshot.generation == previous.generation && snapshot.commitID != previous.commitID
            && snapshot.payload == previous.payload
    }

    static func json(_ snapshot: CacheSnapshot, now: Date = Date()) -> String {
        TerminalText.escapedJSON(HeaderJSON.object(for: snapshot, now: now))
    }
}
