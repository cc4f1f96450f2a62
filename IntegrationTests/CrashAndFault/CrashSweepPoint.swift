#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-focus file call of a refresh, named so that it can be found again in
/// another run: its decoded name, its path relative to the cache directory (temp
/// names wildcarded: `metadata.json.tmp-*`), and which occurrence of that name and
/// path it is in the global order of all threads.
///
/// Learned from a traced clean refresh (nothing here lists the library's calls),
/// so a library that moves from path calls to `*at` calls on a directory
/// descriptor is swept just the same.
struct SweptCall: Sendable, Hashable, CustomStringConvertible {
    let name: String
    /// "" for the cache directory itself.
    let relativePath: String
    let occurrence: Int
    /// The open flags, for opens (O_CREAT tells a creating open).
    let openFlags: Int32?
    /// A stat of a descriptor (`AT_EMPTY_PATH`), not of a path.
    let statsDescriptor: Bool

    /// Derives the calls of `trace` (in-focus calls, in order) under `directory`.
    static func calls(of trace: [FileSyscall], directory: String) -> [SweptCall] {
        var seen: [String: Int] = [:]
        return trace.map { call in
            let relative = relativePattern(call.paths.first { $0 == directory || $0.hasPrefix(directory + "/") } ?? "", directory: directory)
            let key = call.name + "\t" + relative
            seen[key, default: 0] += 1
            return SweptCall(
                name: call.name, relativePath: relative, occurrence: seen[key]!, openFlags: call.openFlags,
                statsDescriptor: call.statsDescriptor)
        }
    }

    /// `path` relative to `directory`, with the per-process part of a transient
    /// file's name (a temp file's `.tmp-PID-RANDOM-BOOTID-PIDNS-START`, an owner
    /// file's `.break-…`/`.next-…` companions, a breaker's `.claim-KEY-N`)
    /// replaced by `*`, so the name matches in any run.
    static func relativePattern(_ path: String, directory: String) -> String {
        var relative = path == directory ? "" : String(path.dropFirst(directory.count + 1))
        if relative.hasSuffix(" (deleted)") { relative = String(relative.dropLast(" (deleted)".count)) }
        for marker in [".tmp-", ".break-", ".next-", ".claim-"] {
            if let range = relative.range(of: marker) {
                return String(relative[..<range.upperBound]) + "*"
            }
        }
        return relative
    }

    func glob(in directory: String) -> String { relativePath.isEmpty ? directory : directory + "/" + relativePath }

    var isTemp: Bool { relativePath.contains(".tmp-") }
    var isCacheDirectory: Bool { relativePath.isEmpty }
    var isConfig: Bool { relativePath == "config.json" }
    var family: Family { statsDescriptor ? .descriptorStat : Family(name) }

    /// Opens with O_CREAT and mkdir: what docs/cli.md calls creating a file.
    var isCreating: Bool {
        family == .mkdir || (family == .open && (openFlags ?? 0) & O_CREAT != 0)
    }

    var description: String {
        "\(name)(\(relativePath.isEmpty ? "<dir>" : relativePath))#\(occurrence)"
    }

    /// Calls grouped by what they can fail with.
    enum Family: Sendable, Equatable {
        case open, read, write, sync, rename, unlink, mkdir, close, flock, statfs, pathStat, descriptorStat, other

        init(_ name: String) {
            switch name {
            case "open", "openat", "openat2", "creat": self = .open
            case "read", "pread64", "readv", "preadv", "preadv2", "getdents64": self = .read
            case "write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "fallocate", "copy_file_range": self = .write
            case "fsync", "fdatasync", "sync_file_range", "syncfs": self = .sync
            case "rename", "renameat", "renameat2", "link", "linkat": self = .rename
            case "unlink", "unlinkat", "rmdir": self = .unlink
            case "mkdir", "mkdirat": self = .mkdir
            case "close": self = .close
            case "flock": self = .flock
            case "statfs", "fstatfs": self = .statfs
            case "stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2": self = .pathStat
            case "fstat": self = .descriptorStat
            default: self = .other
            }
        }

        /// Which of ENOSPC, EIO, EINTR, EXDEV and EACCES such a call can really
        /// meet (its man page's errors, and EIO wherever a local or network
        /// filesystem can report a device error). A `newfstatat` of a descriptor
        /// (`AT_EMPTY_PATH`) is an fstat: nothing of the five.
        func applicableErrnos(creating: Bool) -> [String] {
            switch self {
            case .open: (creating ? ["ENOSPC"] : []) + ["EIO", "EINTR", "EACCES"]
            case .read: ["EIO", "EINTR"]
            case .write: ["ENOSPC", "EIO", "EINTR"]
            case .sync: ["ENOSPC", "EIO", "EINTR"]
            case .rename: ["ENOSPC", "EIO", "EXDEV", "EACCES"]
            case .unlink: ["EIO", "EACCES"]
            case .mkdir: ["ENOSPC", "EIO", "EACCES"]
            case .close: ["EIO", "EINTR"]
            case .flock: ["EINTR"]
            case .statfs: ["EIO", "EINTR"]
            case .pathStat: ["EACCES"]
            case .descriptorStat, .other: []
            }
        }
    }

    /// Which of ENOSPC, EIO, EINTR, EXDEV and EACCES this call can really meet.
    var applicableErrnos: [String] { family.applicableErrnos(creating: isCreating) }
}

/// One strike of the sweep: a call and what happens to it.
struct CrashSweepPoint: Sendable, CustomStringConvertible {
    let index: Int
    let call: SweptCall
    let action: SyscallStrike.Strike.Action

    /// EINTR is a storm: the call and its retries are interrupted this many times
    /// in a row (the library must retry every one).
    static let interruptStorm = 41

    func strike(in directory: String) -> SyscallStrike.Strike {
        let times = action == .errno("EINTR") ? Self.interruptStorm : 1
        return SyscallStrike.Strike(
            name: call.name, pathGlob: call.glob(in: directory), occurrence: call.occurrence, times: times, action: action)
    }

    var description: String { "\(action) at #\(index) \(call)" }
}
