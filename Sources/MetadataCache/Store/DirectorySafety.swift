#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens cache directories, creating them privately, and refuses unsafe ones.
///
/// A cache directory another user can write to lets that user plant a symlink at the
/// lock or temp path, or replace the cache under us; a symlinked directory can move
/// the whole cache somewhere unexpected. So the directory must be a real directory,
/// owned by us and not writable by group or others — unless the host opts into a
/// deliberately shared cache (`allowSharedDirectory`), which lifts the owner and
/// mode checks only: a symlink or a non-directory is refused regardless. Each
/// refusal's message says what to do about that problem
/// (`UnsafeDirectoryProblem.remedy`).
///
/// The same goes for every ancestor: whoever can write a parent can rename the
/// cache directory away and put their own in its place. An ancestor must be owned
/// by root or by us, and not writable by group or others unless sticky (in a
/// sticky directory such as /tmp only an entry's owner may rename it). Lifted, like
/// the directory's own checks, by `allowSharedDirectory`.
///
/// The check cannot be a separate step before the use: a directory checked by
/// path and then used by path can be swapped in between. So the walk itself opens
/// each component relative to the previous one's descriptor (`O_NOFOLLOW`),
/// checks that descriptor's `fstat`, and hands the last one over as the
/// `CacheDirectoryHandle` every later operation goes through. A symbolic link
/// among the ancestors (macOS's /tmp, a home directory moved elsewhere) is
/// followed by reading it in its already checked directory and walking on from
/// its target; the cache directory itself must not be one.
package enum DirectorySafety {
    /// The cache directory at `path` (absolute), opened and checked; nil when it
    /// (or an ancestor) does not exist and `create` is false. With `create`,
    /// missing directories are made with mode 0700 (the XDG base directory
    /// specification asks the same of `~/.cache`).
    package static func open(
        _ path: String, sys: SystemCalls, allowShared: Bool, create: Bool
    ) throws(MetadataCacheError) -> CacheDirectoryHandle? {
        // The walk starts at "/": a relative path is made absolute first (against
        // the working directory, as the kernel would resolve it).
        let path = path.hasPrefix("/") ? path : CacheStore.absolute(path)
        var pending = Array(path.split(separator: "/").map(String.init).reversed())
        var walked = "/"
        var fd = try sys.open("/", flags: O_RDONLY | O_DIRECTORY, operation: "open cache directory")
        defer { if fd >= 0 { sys.closeIgnoringErrors(fd) } }
        try checkAncestor(fd: fd, path: walked, sys: sys, allowShared: allowShared)
        var symlinks = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            let isLast = pending.isEmpty
            let next = walked == "/" ? "/" + component : walked + "/" + component
            // Ancestors need only be searchable (a 0711 home directory): O_PATH
            // where there is one. The directory itself is read (fdopendir) and
            // fsynced, so it is opened for reading.
            let flags = O_DIRECTORY | O_NOFOLLOW | (isLast ? O_RDONLY : searchOnly)
            let opened: Int32
            do throws(MetadataCacheError) {
                opened = try openCreating(fd, component, flags: flags, path: next, create: create, sys: sys)
            } catch .io(_, _, let errno) where errno == .noSuchFile && !create {
                return nil
            } catch .io(let operation, _, let errno) where errno == .tooManySymlinks || errno.rawValue == ENOTDIR {
                guard let status = try sys.fstatatIfExists(fd, component, path: next) else { continue }
                if status.kind != .symlink {
                    if isLast { throw .unsafeDirectory(path: path, problem: .notADirectory) }
                    throw .io(operation: "open cache directory", path: next, errno: Errno(rawValue: ENOTDIR))
                }
                if isLast { throw .unsafeDirectory(path: path, problem: .isSymbolicLink) }
                symlinks += 1
                guard symlinks <= 40 else { throw .io(operation: operation, path: next, errno: .tooManySymlinks) }
                // The link lives in a directory already checked, so its text is
                // trusted: walk on from its target.
                let target = try sys.readlinkat(fd, component, path: next)
                pending += target.split(separator: "/").map(String.init).reversed()
                if target.hasPrefix("/") {
                    let root = try sys.open("/", flags: O_RDONLY | O_DIRECTORY, operation: "open cache directory")
                    sys.closeIgnoringErrors(fd)
                    fd = root
                    walked = "/"
                }
                continue
            }
            sys.closeIgnoringErrors(fd)
            fd = opened
            walked = component == ".." ? parent(of: walked) : next
            if !isLast {
                try checkAncestor(fd: fd, path: walked, sys: sys, allowShared: allowShared)
                continue
            }
            let status = try sys.fstat(fd, path: path)
            try check(status, path: path, allowShared: allowShared)
            let handle = CacheDirectoryHandle(path: path, descriptor: fd, status: status, sys: sys)
            fd = -1  // the handle owns it now
            return handle
        }
        // The path named "/" (or only dots): the root directory is never a cache's.
        throw .unsafeDirectory(path: path, problem: .ownedByAnotherUser(owner: 0, currentUser: UInt32(geteuid())))
    }

    /// The cache directory's own rules, on the `fstat` of the descriptor that
    /// will be used.
    package static func check(_ status: FileStatus, path: String, allowShared: Bool) throws(MetadataCacheError) {
        if status.kind == .symlink { throw .unsafeDirectory(path: path, problem: .isSymbolicLink) }
        guard status.kind == .directory else { throw .unsafeDirectory(path: path, problem: .notADirectory) }
        guard !allowShared else { return }
        let me = UInt32(geteuid())
        if status.ownerID != me {
            throw .unsafeDirectory(path: path, problem: .ownedByAnotherUser(owner: status.ownerID, currentUser: me))
        }
        if status.permissions & 0o022 != 0 {
            throw .unsafeDirectory(path: path, problem: .writableByOthers(permissions: status.permissions))
        }
    }

    /// By path, for the watcher's re-check of a directory it watches by path
    /// (`CacheChangeCheck`); it reads nothing through that path.
    package static func check(_ path: String, sys: SystemCalls, allowShared: Bool) throws(MetadataCacheError) {
        guard let status = try sys.lstatIfExists(path) else {
            throw .io(operation: "open cache directory", path: path, errno: .noSuchFile)
        }
        try check(status, path: path, allowShared: allowShared)
    }

    /// An ancestor may be changed only by root or by us.
    private static func checkAncestor(fd: Int32, path: String, sys: SystemCalls, allowShared: Bool) throws(MetadataCacheError) {
        guard !allowShared else { return }
        let status = try sys.fstat(fd, path: path)
        let me = UInt32(geteuid())
        if status.ownerID != 0, status.ownerID != me {
            throw .unsafeDirectory(path: path, problem: .ancestorOwnedByAnotherUser(ancestor: path, owner: status.ownerID))
        }
        let sticky = status.permissions & UInt32(S_ISVTX) != 0
        if status.permissions & 0o022 != 0, !sticky {
            throw .unsafeDirectory(path: path, problem: .ancestorWritableByOthers(ancestor: path, permissions: status.permissions))
        }
    }

    private static func openCreating(
        _ dirfd: Int32, _ name: String, flags: Int32, path: String, create: Bool, sys: SystemCalls
    ) throws(MetadataCacheError) -> Int32 {
        do throws(MetadataCacheError) {
            return try sys.openat(dirfd, name, flags: flags, path: path, operation: "open cache directory")
        } catch .io(_, _, let errno) where errno == .noSuchFile && create {
            do throws(MetadataCacheError) {
                try sys.mkdirat(dirfd, name, mode: 0o700, path: path)
            } catch .io(_, _, .fileExists) {
                // Created concurrently: use it (it is checked like any other).
            }
            return try sys.openat(dirfd, name, flags: flags, path: path, operation: "open cache directory")
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    #if os(Linux)
    /// O_PATH (the Glibc module does not export it): a descriptor for walking
    /// and fstat only, which needs search permission alone.
    private static let searchOnly: Int32 = 0o10000000
    #else
    private static let searchOnly = O_RDONLY
    #endif
}
