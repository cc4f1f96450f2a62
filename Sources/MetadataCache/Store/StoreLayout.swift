/// Where a store keeps its files. For a cache named NAME in directory DIR:
/// - `DIR/NAME.json`: the cache file (header + payload, see `CacheHeader`);
/// - `DIR/NAME.lock`: the advisory lock file, created once and never deleted
///   (deleting a lock file races: a waiter may lock the unlinked inode while a newcomer
///   locks a fresh one, and both believe they hold the lock);
/// - `DIR/NAME.lock.owner`: the owner file of the lock-file backend, with its
///   transient companions `NAME.lock.owner.break-TAG` (moved aside while being
///   removed), `NAME.lock.owner.next-TAG` (a breaker's replacement, renamed over a
///   stale owner file) and `NAME.lock.owner.claim-KEY-N` (the one breaker allowed
///   to act on the stale owner file KEY);
/// - `DIR/NAME.json.tmp-TAG`: a commit's temp file, in the same directory so the
///   final rename never crosses a filesystem;
/// - `DIR/NAME.refresh-failure.json`: the failure memory of refreshes (last error,
///   attempts, next attempt; `RefreshFailureRecord`), written under the writer
///   lock, removed by the next successful refresh; its temp file is
///   `DIR/NAME.refresh-failure.json.new-TAG` (a name of its own: everything that
///   reasons about "the cache's temp file and its rename" — crash sweeps, fault
///   plans, `.tmp-` globs — must never mistake this rename for the cache's);
/// - `DIR/NAME.refresh.lock`: the background refresh marker: an exclusive `flock`
///   on it is held by the one running background refresh (`BackgroundRefreshMarker`);
///   its content is that process's pid. Created once, never deleted (as NAME.lock).
///
/// TAG is a `FileCreatorTag` (pid, random bits, and the creator's boot id, pid
/// namespace and start time), so a sweeper can tell whose a file is.
/// - `DIR/NAME.json.corrupt-TIMESTAMP`: a corrupt cache moved aside for inspection.
package struct StoreLayout: Sendable, Equatable {
    package let directory: String
    package let name: String

    package init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    // Entry names, for `CacheDirectoryHandle` (every store file is reached
    // through the open directory); the paths below are for messages and events.
    package var cacheName: String { name + ".json" }
    package var lockName: String { name + ".lock" }
    package var ownerName: String { name + ".lock.owner" }
    package var refreshFailureName: String { name + ".refresh-failure.json" }
    package var backgroundRefreshMarkerName: String { name + ".refresh.lock" }

    package var cachePath: String { path(of: cacheName) }
    package var lockPath: String { path(of: lockName) }
    package var ownerPath: String { path(of: ownerName) }
    package var refreshFailurePath: String { path(of: refreshFailureName) }
    package var backgroundRefreshMarkerPath: String { path(of: backgroundRefreshMarkerName) }
    package var tempPrefix: String { name + ".json.tmp-" }
    package var refreshFailureTempPrefix: String { name + ".refresh-failure.json.new-" }
    package var ownerBreakPrefix: String { name + ".lock.owner.break-" }
    package var ownerReplacementPrefix: String { name + ".lock.owner.next-" }
    package var ownerClaimPrefix: String { name + ".lock.owner.claim-" }

    package func path(of entry: String) -> String { directory + "/" + entry }

    /// A fresh temp path named after its creator (`FileCreatorTag`): the pid for
    /// humans reading a directory listing, 64 random bits so concurrent attempts
    /// (and a pid reused after a crash) never collide, and the identity that lets
    /// a sweeper prove the creator dead.
    package func newTempName() -> String {
        tempPrefix + FileCreatorTag.current().text
    }

    /// A fresh temp path for the refresh failure record, tagged like a commit's.
    package func newRefreshFailureTempName() -> String {
        refreshFailureTempPrefix + FileCreatorTag.current().text
    }

    /// Where a remover moves the owner file before deciding whether to delete it.
    package func newOwnerAsideName() -> String {
        ownerBreakPrefix + FileCreatorTag.current().text
    }

    /// Where a breaker prepares the owner file that replaces a stale one.
    package func newOwnerReplacementName() -> String {
        ownerReplacementPrefix + FileCreatorTag.current().text
    }

    /// The `number`th claim on breaking the stale owner file identified by `key`
    /// (16 hex digits).
    package func ownerClaimName(key: String, number: Int) -> String {
        ownerClaimPrefix + key + "-\(number)"
    }

    /// The creator of a transient file named `entry`, when it is one of the tagged
    /// kinds (temp, aside, replacement) and its tag parses.
    package func creatorTag(ofTransient entry: String) -> FileCreatorTag? {
        for prefix in [tempPrefix, refreshFailureTempPrefix, ownerBreakPrefix, ownerReplacementPrefix]
        where entry.hasPrefix(prefix) {
            return FileCreatorTag(parsing: entry.dropFirst(prefix.count))
        }
        return nil
    }

    package func corruptAsideName(millisecondsSinceEpoch ms: Int64) -> String {
        let stamp = ISO8601Timestamp.format(millisecondsSinceEpoch: ms)
            .replacingOccurrences(of: ":", with: "")
        return cacheName + ".corrupt-" + stamp
    }

    /// A cache name must be a plain file name: no separators, no leading dot, no
    /// control characters, so that every derived path stays inside the directory.
    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "/" && $0 != "\\" && $0.value != 0x7F }
    }
}

extension String {
    package func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
