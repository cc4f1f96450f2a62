import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A small private tmpfs mounted for one test, to fill a real filesystem.
///
/// Guarantee: unmounted (lazily if busy) and its mount point removed when the
/// value is released, whatever the test did; never mounted over an existing
/// directory of anyone else's (the mount point is a fresh `mkdtemp`).
final class TmpfsMount {
    let path: String

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(sizeBytes: Int) throws {
        var template = Array((NSTemporaryDirectory() + "/metacache-tmpfs-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
        #if os(Linux)
        let result = mount("tmpfs", path, "tmpfs", 0, "size=\(sizeBytes),mode=0700")
        if result != 0 {
            let reason = String(cString: strerror(errno))
            rmdir(path)
            throw Failure(description: "mount -t tmpfs failed: \(reason)")
        }
        #else
        rmdir(path)
        throw Failure(description: "tmpfs mounts are Linux-only here")
        #endif
    }

    deinit {
        #if os(Linux)
        if umount2(path, 0) != 0 { umount2(path, Int32(MNT_DETACH)) }
        #endif
        rmdir(path)
    }

    /// Bytes available to unprivileged users, as `statvfs` reports them.
    var availableBytes: UInt64 {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    /// Why no tmpfs can be mounted here (not root, no CAP_SYS_ADMIN, not Linux),
    /// or nil if it can: checked once by mounting and unmounting a tiny one.
    static let unavailableReason: String? = {
        do {
            _ = try TmpfsMount(sizeBytes: 64 * 1024)
            return nil
        } catch {
            return "\(error) (mounting needs root or CAP_SYS_ADMIN)"
        }
    }()

    static var isAvailable: Bool { unavailableReason == nil }
    static var skipReason: Comment { Comment(rawValue: "skipped: \(unavailableReason ?? "")") }
}
