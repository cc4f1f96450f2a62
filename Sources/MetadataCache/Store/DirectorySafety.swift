#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates cache directories privately and refuses unsafe ones.
///
/// A cache directory another user can write to lets that user plant a symlink at the
/// lock or temp path, or replace the cache under us; a symlinked directory can move
/// the whole cache somewhere unexpected. So the directory must be a real directory,
/// owned by us and not writable by group or others — unless the host opts into a
/// deliberately shared cache (`allowSharedDirectory`), which lifts the owner and
/// mode checks only: a symlink or a non-directory is refused regardless. Each
/// refusal's message says what to do about that problem
/// (`UnsafeDirectoryProblem.remedy`). (Files inside are always opened with
/// `O_NOFOLLOW`.)
package enum DirectorySafety {
    package static func check(_ path: String, sys: SystemCalls, allowShared: Bool) throws(MetadataCacheError) {
        guard let status = try sys.lstatIfExists(path) else {
            throw .io(operation: "open cache directory", path: path, errno: .noSuchFile)
        }
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

    /// `mkdir -p` with mode 0700 for every directory it creates (the XDG base
    /// directory specification asks the same of `~/.cache`).
    package static func createDirectories(_ path: String, sys: SystemCalls) throws(MetadataCacheError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                try sys.mkdir(prefix, mode: 0o700)
            } catch .io(_, _, let errno) where errno == .fileExists || (errno == .permissionDenied && prefix != path) {
                // Exists already (perhaps created concurrently), or a parent we may
                // not write but can traverse: keep going.
                continue
            }
        }
    }
}
