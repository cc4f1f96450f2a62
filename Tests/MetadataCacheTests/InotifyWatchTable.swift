import Foundation

/// What the kernel says this process's inotify instances watch
/// (`/proc/self/fdinfo`: one `inotify wd:… ino:… mask:…` line per watch). Lets a
/// test wait until a watch is armed on a directory before changing it, so that it
/// exercises the following of a change rather than the first look. Linux only;
/// empty elsewhere.
enum InotifyWatchTable {
    /// Inode numbers (of any device) watched by this process right now.
    static func watchedInodes() -> Set<UInt64> {
        var inodes = Set<UInt64>()
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
                target == "anon_inode:inotify",
                let info = try? String(contentsOfFile: "/proc/self/fdinfo/" + fd, encoding: .utf8)
            else { continue }
            for line in info.split(separator: "\n") where line.hasPrefix("inotify ") {
                for field in line.split(separator: " ") where field.hasPrefix("ino:") {
                    if let inode = UInt64(field.dropFirst(4), radix: 16) { inodes.insert(inode) }
                }
            }
        }
        return inodes
    }

    static func inode(of path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value
    }

    struct NotArmed: Error, CustomStringConvertible {
        let description: String
    }

    /// Waits (bounded) until some inotify instance of this process watches the
    /// directory now at `path`. The kernel's table is the condition: no fixed delay.
    static func waitUntilWatched(_ path: String, timeout: Duration = .seconds(30)) async throws {
        #if os(Linux)
        guard let inode = inode(of: path) else { throw NotArmed(description: "\(path) does not exist") }
        let deadline = ContinuousClock.now + timeout
        while !watchedInodes().contains(inode) {
            guard ContinuousClock.now < deadline else {
                throw NotArmed(description: "no inotify watch on \(path) (inode \(inode)) after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        #endif
    }

    /// Waits (bounded) until no inotify instance of this process watches `inode`.
    static func waitUntilUnwatched(inode: UInt64, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while watchedInodes().contains(inode) {
            guard ContinuousClock.now < deadline else {
                throw NotArmed(description: "inode \(inode) still watched after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
