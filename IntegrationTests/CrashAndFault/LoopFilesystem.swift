import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real filesystem (ext4 or xfs) made with mkfs in an image file and mounted
/// through a loop device: the disk of the power-loss tests, whose content can be
/// copied at any instant and mounted again as "the machine after the power cut".
///
/// Guarantee: unmounted and its loop device detached when released, whatever the
/// test did. `snapshot` copies exactly what the loop device held at one instant.
final class LoopFilesystem: @unchecked Sendable {
    enum Kind: String, Sendable, CustomStringConvertible {
        case ext4, xfs

        var description: String { rawValue }
        var mkfs: String { LoopFilesystem.tool("mkfs.\(rawValue)") }
        /// xfs refuses filesystems under 300 MB; the image is sparse either way.
        var imageBytes: Int { self == .xfs ? 320 << 20 : 64 << 20 }
        /// A copy carries the original's UUID; xfs refuses to mount a second
        /// filesystem with a UUID already mounted unless told.
        var copyMountOptions: String { self == .xfs ? "loop,nouuid" : "loop" }
        var package: String { self == .xfs ? "xfsprogs" : "e2fsprogs" }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    let kind: Kind
    /// The image file; on a tmpfs, so copying it costs memory bandwidth only.
    let image: String
    let device: String
    /// Canonical paths (the tracer names files as /proc does).
    let mountPoint: String
    /// A directory beside the image, on the same tmpfs, for snapshots.
    let scratch: String
    private let backing: TmpfsMount

    init(_ kind: Kind) throws {
        self.kind = kind
        backing = try TmpfsMount(sizeBytes: 2 << 30)
        let base = Scratch.canonical(backing.path)
        image = base + "/\(kind).img"
        mountPoint = base + "/mnt"
        scratch = base + "/snapshots"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(kind.imageBytes)) == 0 else {
            throw Failure(description: "cannot create the image file \(image)")
        }
        try Self.command([kind.mkfs, kind == .xfs ? "-f" : "-F", "-q", image])
        device = try Self.command([Self.tool("losetup"), "--find", "--show", image]).trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            try Self.command([Self.tool("mount"), "-t", kind.rawValue, device, mountPoint])
        } catch {
            _ = try? Self.command([Self.tool("losetup"), "-d", device])
            throw error
        }
    }

    deinit {
        Self.unmount(mountPoint)
        _ = try? Self.command([Self.tool("losetup"), "-d", device])
    }

    /// The program's path in the usual system directories (root's PATH is not
    /// guaranteed in a test's environment).
    static func tool(_ name: String) -> String {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/sbin/" + name
    }

    private static func unmount(_ point: String) {
        if (try? command([tool("umount"), point])) == nil { _ = try? command([tool("umount"), "-l", point]) }
    }

    @discardableResult
    static func command(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(arguments[0], Array(arguments.dropFirst()), timeout: .seconds(120))
        guard result.exitCode == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")): \(result.termination) \(result.stderr)\(result.stdoutText)")
        }
        return result.stdoutText
    }

    /// Why such a filesystem cannot be made and loop-mounted here, or nil
    /// (checked once per kind by making and mounting one).
    static func unavailableReason(_ kind: Kind) -> String? { kind == .xfs ? xfsUnavailable : ext4Unavailable }
    private static let ext4Unavailable = probe(.ext4)
    private static let xfsUnavailable = probe(.xfs)

    private static func probe(_ kind: Kind) -> String? {
        guard FileManager.default.isExecutableFile(atPath: kind.mkfs) else {
            return "mkfs.\(kind) not found; install it with: apt-get install -y \(kind.package)"
        }
        do {
            _ = try LoopFilesystem(kind)
            return nil
        } catch {
            return "cannot make and loop-mount an \(kind) image here (needs root, loop devices and mount permission): \(error)"
        }
    }

    // MARK: Snapshots

    /// The loop device's write requests completed so far and in flight
    /// (/sys/block/loopN/stat, fields 5 and 9).
    struct DeviceActivity: Equatable, Sendable {
        let writesCompleted: UInt64
        let inFlight: UInt64
    }

    func activity() -> DeviceActivity {
        let name = (device as NSString).lastPathComponent
        let fields = ((try? String(contentsOfFile: "/sys/block/\(name)/stat", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { UInt64($0) }
        guard fields.count >= 9 else { return DeviceActivity(writesCompleted: 0, inFlight: 0) }
        return DeviceActivity(writesCompleted: fields[4], inFlight: fields[8])
    }

    /// Copies the image to `path` as the device holds it at one instant, and
    /// returns the device's activity then.
    ///
    /// Why the copy is what the device holds: the filesystem under test keeps its
    /// dirty data, metadata and uncommitted journal in its own caches, in memory,
    /// until it submits them to /dev/loopN; a power cut loses exactly those. The
    /// loop driver completes a write only once it has written the bytes into the
    /// image file, and on tmpfs the image file's pages *are* its storage, so
    /// reading the file returns every write the device completed and nothing the
    /// filesystem still holds. Neither `losetup --direct-io` nor dropping caches
    /// changes that: direct I/O only moves where completed writes land (and tmpfs
    /// has no other storage), and drop_caches discards clean pages, whose content
    /// is already in the file, never dirty ones. What the copy does *not* model
    /// is a disk that loses writes it acknowledged but was never told to flush
    /// (a volatile write cache): it keeps them. The filesystem's own ordering —
    /// data, then a journal commit record written with a flush — is what this
    /// tests, on a disk that honours flushes (docs/design.md, power loss).
    ///
    /// One instant: the copy takes milliseconds while the kernel may write back
    /// in the background (a journal commit timer), so it is retried until the
    /// device completed no write and had none in flight from before the copy
    /// began to after it ended.
    @discardableResult
    func snapshot(to path: String) throws -> DeviceActivity {
        for _ in 0..<100 {
            let before = activity()
            try Self.command([Self.tool("cp"), "--sparse=always", image, path])
            if before.inFlight == 0, activity() == before { return before }
        }
        throw Failure(description: "the device never stayed quiet for a copy of \(image)")
    }

    /// Mounts a snapshot (replaying its journal, as the next boot would), runs
    /// `body` on its mount point, unmounts it.
    func withMountedCopy<T>(_ copy: String, _ body: (String) throws -> T) throws -> T {
        let point = copy + ".mnt"
        try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
        try Self.command([Self.tool("mount"), "-t", kind.rawValue, "-o", kind.copyMountOptions, copy, point])
        defer {
            Self.unmount(point)
            try? FileManager.default.removeItem(atPath: point)
        }
        return try body(point)
    }
}
