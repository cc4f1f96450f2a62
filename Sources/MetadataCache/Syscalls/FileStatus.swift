#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fields of `struct stat` this library looks at, in portable types.
package struct FileStatus: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case regular, directory, symlink, fifo, socket, device, other

        /// "a FIFO", "a socket", ...: for a refusal's message.
        package var withArticle: String {
            switch self {
            case .regular: "a regular file"
            case .directory: "a directory"
            case .symlink: "a symbolic link"
            case .fifo: "a FIFO"
            case .socket: "a socket"
            case .device: "a device node"
            case .other: "a special file"
            }
        }
    }

    package var device: UInt64
    package var inode: UInt64
    package var kind: Kind
    /// Permission bits only (`st_mode & 0o7777`).
    package var permissions: UInt32
    package var ownerID: UInt32
    package var linkCount: UInt64
    package var size: Int64
    /// Nanoseconds since the epoch, saturated at the ends of `Int64` (before 1677
    /// or after 2262: any file time can be set with `touch -d @N`, and a reader
    /// must not trap on it).
    package var modificationNanoseconds: Int64
    package var changeNanoseconds: Int64

    package init(
        device: UInt64, inode: UInt64, kind: Kind, permissions: UInt32, ownerID: UInt32,
        linkCount: UInt64, size: Int64, modificationNanoseconds: Int64, changeNanoseconds: Int64
    ) {
        self.device = device
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.ownerID = ownerID
        self.linkCount = linkCount
        self.size = size
        self.modificationNanoseconds = modificationNanoseconds
        self.changeNanoseconds = changeNanoseconds
    }

    init(_ s: stat) {
        let type = UInt32(s.st_mode) & UInt32(S_IFMT)
        let kind: Kind =
            switch type {
            case UInt32(S_IFREG): .regular
            case UInt32(S_IFDIR): .directory
            case UInt32(S_IFLNK): .symlink
            case UInt32(S_IFIFO): .fifo
            case UInt32(S_IFSOCK): .socket
            case UInt32(S_IFCHR), UInt32(S_IFBLK): .device
            default: .other
            }
        #if canImport(Darwin)
        let mtime = Self.nanoseconds(seconds: Int64(s.st_mtimespec.tv_sec), nanoseconds: Int64(s.st_mtimespec.tv_nsec))
        let ctime = Self.nanoseconds(seconds: Int64(s.st_ctimespec.tv_sec), nanoseconds: Int64(s.st_ctimespec.tv_nsec))
        #else
        let mtime = Self.nanoseconds(seconds: Int64(s.st_mtim.tv_sec), nanoseconds: Int64(s.st_mtim.tv_nsec))
        let ctime = Self.nanoseconds(seconds: Int64(s.st_ctim.tv_sec), nanoseconds: Int64(s.st_ctim.tv_nsec))
        #endif
        self.init(
            device: UInt64(truncatingIfNeeded: s.st_dev), inode: UInt64(truncatingIfNeeded: s.st_ino),
            kind: kind, permissions: UInt32(s.st_mode) & 0o7777, ownerID: UInt32(s.st_uid),
            linkCount: UInt64(truncatingIfNeeded: s.st_nlink), size: Int64(s.st_size),
            modificationNanoseconds: mtime, changeNanoseconds: ctime)
    }

    /// `seconds * 10^9 + nanoseconds`, saturated at `Int64.min`/`Int64.max`.
    package static func nanoseconds(seconds: Int64, nanoseconds: Int64) -> Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, carry) = scaled.addingReportingOverflow(nanoseconds)
        if carry { return nanoseconds < 0 ? .min : .max }
        return sum
    }
}
