/// Where a store keeps its files. For a cache named NAME in directory DIR:
/// - `DIR/NAME.json`: the cache file (header + payload, see `CacheHeader`);
/// - `DIR/NAME.lock`: the advisory lock file, created once and never deleted
///   (deleting a lock file races: a waiter may lock the unlinked inode while a newcomer
///   locks a fresh one, and both believe they hold the lock);
/// - `DIR/NAME.lock.owner`: the owner file of the lock-file backend;
/// - `DIR/NAME.json.tmp-PID-RANDOM`: a commit's temp file, in the same directory so the
///   final rename never crosses a filesystem;
/// - `DIR/NAME.json.corrupt-TIMESTAMP`: a corrupt cache moved aside for inspection.
package struct StoreLayout: Sendable, Equatable {
    package let directory: String
    package let name: String

    package init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    package var cachePath: String { directory + "/" + name + ".json" }
    package var lockPath: String { directory + "/" + name + ".lock" }
    package var ownerPath: String { directory + "/" + name + ".lock.owner" }
    package var tempPrefix: String { name + ".json.tmp-" }
    package var ownerBreakPrefix: String { name + ".lock.owner.break-" }

    package func path(of entry: String) -> String { directory + "/" + entry }

    /// A fresh temp path: pid for humans reading a directory listing, 64 random
    /// bits so concurrent attempts (and a pid reused after a crash) never collide.
    package func newTempPath() -> String {
        path(of: tempPrefix + "\(ProcessIdentity.currentPID)-" + Hex.format(UInt64.random(in: 0...UInt64.max)))
    }

    package func corruptAsidePath(millisecondsSinceEpoch ms: Int64) -> String {
        let stamp = ISO8601Timestamp.format(millisecondsSinceEpoch: ms)
            .replacingOccurrences(of: ":", with: "")
        return cachePath + ".corrupt-" + stamp
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
