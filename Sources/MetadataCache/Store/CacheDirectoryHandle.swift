#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cache directory, opened once and checked (`DirectorySafety.open`); the
/// only way the library reaches a store file.
///
/// Why a descriptor and not a path: a path is resolved again at every system
/// call. Someone who can write any ancestor of the directory can rename the
/// checked directory away and put their own in its place between the check and
/// the next call, and a path-based `open` or `rename` then reads their forged
/// cache or writes ours into a directory we never named (issue 19: 17 of 200
/// reads forged by a `renameat2(RENAME_EXCHANGE)` loop). Every method here works
/// relative to the one descriptor whose `fstat` passed the check (`openat`,
/// `renameat`, `unlinkat`, `fdopendir` of a dup, `fsync`), so what was checked is
/// what is used, whatever happens to the path.
///
/// Every open adds `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` and refuses anything
/// but a regular file (`unsafeStoreFile`): a symlink is never followed, and a
/// FIFO, socket or device planted at a store path can neither hang a command
/// (a blocking open of a FIFO waits for a writer forever) nor be written to.
/// (`O_NONBLOCK` changes nothing for the regular files that pass.)
///
/// Names are entries of this directory (`StoreLayout`'s `…Name` members), never
/// paths; `path(of:)` is only for messages. A copy is cheap and shares the
/// descriptor, which is closed when the last copy goes.
package struct CacheDirectoryHandle: Sendable {
    private let opened: OpenedDirectory
    /// The seam every call goes through (fault injection in tests).
    package let sys: SystemCalls

    init(path: String, descriptor: Int32, status: FileStatus, sys: SystemCalls) {
        self.opened = OpenedDirectory(path: path, descriptor: descriptor, status: status, sys: sys)
        self.sys = sys
    }

    private init(opened: OpenedDirectory, sys: SystemCalls) {
        self.opened = opened
        self.sys = sys
    }

    /// The same open directory, its calls made through `sys` (a test's recorder).
    package func using(_ sys: SystemCalls) -> CacheDirectoryHandle {
        CacheDirectoryHandle(opened: opened, sys: sys)
    }

    /// The directory's path as it was named when opened: for messages only.
    package var path: String { opened.path }
    package var descriptor: Int32 { opened.descriptor }
    /// The directory's `fstat` when it was checked (device and inode identify it).
    package var status: FileStatus { opened.status }

    package func path(of name: String) -> String { opened.path == "/" ? "/" + name : opened.path + "/" + name }

    /// What a store file must be beyond regular (see `openFile`).
    package enum Requirement: Sendable {
        /// Any regular file (files only read, or created here with `O_EXCL`).
        case regular
        /// A regular file we may write into although we did not just create it
        /// (the lock file, written at offset 0): ours (`st_uid == geteuid()`,
        /// unless the directory is shared on purpose) and with one link, so a
        /// hard link planted at the name cannot make us overwrite its target.
        case ownedSingleLink(sharedDirectory: Bool)
    }

    /// Opens the store file `name` (see the type's documentation for the flags
    /// always added). Throws `unsafeStoreFile` for anything but a regular file
    /// meeting `requirement`; other failures as `io` naming the file's path.
    package func openFile(
        _ name: String, flags: Int32, mode: mode_t = 0o600, operation: String = "open",
        requirement: Requirement = .regular
    ) throws(MetadataCacheError) -> (fd: Int32, status: FileStatus) {
        let path = path(of: name)
        let fd: Int32
        do throws(MetadataCacheError) {
            fd = try sys.openat(descriptor, name, flags: flags | O_NOFOLLOW | O_NONBLOCK, mode: mode, path: path, operation: operation)
        } catch .io(let operation, let path, let errno) where errno.rawValue == ENXIO || errno.rawValue == ENOTDIR {
            // ENXIO: a socket, or a FIFO opened for writing with no reader. Say
            // what is there rather than "no such device or address".
            if let status = try? sys.fstatatIfExists(descriptor, name, path: path), status.kind != .regular {
                throw .unsafeStoreFile(path: path, problem: .notARegularFile(kind: status.kind.withArticle))
            }
            throw .io(operation: operation, path: path, errno: errno)
        }
        do throws(MetadataCacheError) {
            let status = try sys.fstat(fd, path: path)
            try Self.check(status, requirement, path: path)
            return (fd, status)
        } catch {
            sys.closeIgnoringErrors(fd)
            throw error
        }
    }

    private static func check(_ status: FileStatus, _ requirement: Requirement, path: String) throws(MetadataCacheError) {
        guard status.kind == .regular else {
            throw .unsafeStoreFile(path: path, problem: .notARegularFile(kind: status.kind.withArticle))
        }
        guard case let .ownedSingleLink(shared) = requirement else { return }
        let me = UInt32(geteuid())
        if !shared, status.ownerID != me {
            throw .unsafeStoreFile(path: path, problem: .ownedByAnotherUser(owner: status.ownerID, currentUser: me))
        }
        if status.linkCount != 1 {
            throw .unsafeStoreFile(path: path, problem: .hardLinked(linkCount: status.linkCount))
        }
    }

    /// The entry `name` itself (a symlink is not followed); nil when absent.
    package func status(of name: String) throws(MetadataCacheError) -> FileStatus? {
        try sys.fstatatIfExists(descriptor, name, path: path(of: name))
    }

    /// `renameat` within this one directory: the atomic replace every commit,
    /// break and move-aside relies on. Both names are resolved in the directory
    /// that was checked, so a path swapped meanwhile cannot redirect either end.
    package func rename(_ from: String, to: String) throws(MetadataCacheError) {
        try sys.renameat(descriptor, from, to: to, path: path(of: from), toPath: path(of: to))
    }

    /// `linkat`: unlike `rename`, never replaces an existing `to`.
    package func link(_ from: String, to: String) throws(MetadataCacheError) {
        try sys.linkat(descriptor, from, to: to, path: path(of: from), toPath: path(of: to))
    }

    package func unlink(_ name: String) throws(MetadataCacheError) {
        try sys.unlinkat(descriptor, name, path: path(of: name))
    }

    /// Unlinks a file of ours where failure cannot make things worse (the sweeper
    /// finds it later).
    package func unlinkIgnoringErrors(_ name: String) {
        _ = try? unlink(name)
    }

    /// The directory's entries, excluding `.` and `..`.
    package func entries() throws(MetadataCacheError) -> [String] {
        try sys.listDirectory(fd: descriptor, path: path)
    }

    /// Makes renames and creations in the directory durable: without it, a
    /// power cut after a commit returned can bring back the old directory entry
    /// (the rename lives in the directory's metadata, not in the file's).
    package func fsync() throws(MetadataCacheError) {
        try sys.fsyncDirectory(descriptor, path: path)
    }

    package func availableBytes() throws(MetadataCacheError) -> UInt64? {
        try sys.availableBytes(fd: descriptor, path: path)
    }

    package func fileSystemType() throws(MetadataCacheError) -> FileSystemType {
        try sys.fileSystemType(fd: descriptor, path: path)
    }
}

/// Owns the descriptor: closed when the last `CacheDirectoryHandle` copy goes.
private final class OpenedDirectory: Sendable {
    let path: String
    let descriptor: Int32
    let status: FileStatus
    let sys: SystemCalls

    init(path: String, descriptor: Int32, status: FileStatus, sys: SystemCalls) {
        self.path = path
        self.descriptor = descriptor
        self.status = status
        self.sys = sys
    }

    deinit { sys.closeIgnoringErrors(descriptor) }
}
