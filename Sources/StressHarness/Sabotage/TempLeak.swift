import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--sabotage leak-temp`: leaves a file named like a commit's temp in the cache
/// directory, as a commit that forgot to remove its temp on some path would.
///
/// Guarantee: the file carries the pid given (the leaking writer's, as the
/// library names its temps: `NAME.json.tmp-PID-RANDOM`), and no writer of the
/// run was killed holding the lock with that pid, so no kill explains it: the
/// run must report it, whether it is still there at the end or a later writer
/// swept it.
enum TempLeak {
    static func plant(directory: String, pid: Int32) {
        let layout = StoreLayout(directory: directory, name: "metadata")
        let path = layout.path(of: layout.tempPrefix + "\(pid)-5ab07a9e1eaced00")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = "leaked by --sabotage leak-temp\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}
