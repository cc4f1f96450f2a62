#if canImport(Darwin)
import Darwin

/// Kernel notifications for one cache directory on Darwin, through kqueue.
///
/// The directory is opened with `O_EVTONLY` (it does not keep a volume busy) and
/// watched with `EVFILT_VNODE`: `NOTE_WRITE` fires when an entry is added, renamed
/// or removed — every commit renames its temp file over `NAME.json` — and
/// `NOTE_DELETE`/`NOTE_RENAME`/`NOTE_REVOKE` when the directory itself goes, which
/// re-arms on the path. kqueue does not name the entry, so each `NOTE_WRITE` costs
/// the cheap look of `CacheChangeCheck` (a header read) rather than a full read. A
/// missing directory is waited for on its nearest existing ancestor (any entry
/// change there re-arms). The stop pipes are registered in the same queue, so one
/// `kevent` call waits for both.
///
/// Not covered, unlike inotify: a renamed *parent* of the cache directory (only
/// the directory itself is watched), and foreign writers that rewrite `NAME.json`
/// in place (no directory change).
final class KqueueChangeNotifier: CacheChangeNotifier {
    private var queue: Int32
    private var directoryFD: Int32 = -1
    private var watchingCacheDirectory = false
    private var needsArming = true
    private var registeredStops: [Int32] = []
    private let layout: StoreLayout
    private let sys: SystemCalls
    private let path: WatchedPath

    private init(queue: Int32, layout: StoreLayout, sys: SystemCalls) {
        self.queue = queue
        self.layout = layout
        self.sys = sys
        path = WatchedPath(layout.directory)
    }

    deinit { close() }

    static func make(layout: StoreLayout, sys: SystemCalls) -> Result<KqueueChangeNotifier, NotificationsUnavailable> {
        let queue = kqueue()
        guard queue >= 0 else {
            return .failure(NotificationsUnavailable(reason: "kqueue: \(Errno(rawValue: errno))"))
        }
        _ = fcntl(queue, F_SETFD, FD_CLOEXEC)
        return .success(KqueueChangeNotifier(queue: queue, layout: layout, sys: sys))
    }

    func close() {
        if directoryFD >= 0 { Darwin.close(directoryFD) }
        directoryFD = -1
        if queue >= 0 { Darwin.close(queue) }
        queue = -1
    }

    private func register(_ fd: Int32, filter: Int32, flags: UInt32) -> Bool {
        var change = kevent()
        change.ident = UInt(fd)
        change.filter = Int16(filter)
        change.flags = UInt16(EV_ADD | EV_CLEAR)
        change.fflags = flags
        return kevent(queue, &change, 1, nil, 0, nil) == 0
    }

    func waitForChange(stops: [Int32]) -> ChangeWait {
        for stop in stops where !registeredStops.contains(stop) {
            guard register(stop, filter: EVFILT_READ, flags: 0) else {
                return .unavailable(reason: "kevent: \(Errno(rawValue: errno))")
            }
            registeredStops.append(stop)
        }
        var events = [kevent](repeating: kevent(), count: 16)
        while true {
            if needsArming {
                if let problem = arm() { return problem }
                needsArming = false
                return .mayHaveChanged(reread: true)
            }
            let n = kevent(queue, nil, 0, &events, Int32(events.count), nil)
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(.io(operation: "wait for notifications on the cache directory", path: layout.directory,
                                   errno: Errno(rawValue: errno)))
            }
            var changed = false
            for event in events.prefix(Int(n)) {
                if registeredStops.contains(Int32(truncatingIfNeeded: event.ident)) { return .stopped }
                let gone = event.fflags & UInt32(NOTE_DELETE | NOTE_RENAME | NOTE_REVOKE) != 0
                if gone || !watchingCacheDirectory {
                    needsArming = true
                } else if event.fflags & UInt32(NOTE_WRITE) != 0 {
                    changed = true
                }
            }
            if needsArming { continue }
            if changed { return .mayHaveChanged(reread: false) }
        }
    }

    /// Opens and registers the nearest existing level of the path. Nil when armed.
    private func arm() -> ChangeWait? {
        if directoryFD >= 0 {
            // Closing the descriptor removes its registration.
            Darwin.close(directoryFD)
            directoryFD = -1
        }
        var level = path.cacheDirectoryLevel
        while true {
            let isCacheDirectory = level == path.cacheDirectoryLevel
            let flags = O_EVTONLY | O_DIRECTORY | O_CLOEXEC | (isCacheDirectory ? O_NOFOLLOW : 0)
            let fd = open(path.levels[level], flags)
            if fd >= 0 {
                directoryFD = fd
                watchingCacheDirectory = isCacheDirectory
                break
            }
            let failure = Errno(rawValue: errno)
            if failure == .noSuchFile, level > 0 {
                level -= 1
                continue
            }
            if isCacheDirectory, failure == .tooManySymlinks || failure.rawValue == ENOTDIR,
                let status = try? sys.lstatIfExists(path.levels[level])
            {
                return .failed(.unsafeDirectory(path: path.levels[level], problem: status.kind == .symlink ? .isSymbolicLink : .notADirectory))
            }
            return .failed(.io(operation: "watch the cache directory", path: path.levels[level], errno: failure))
        }
        if let fileSystem = try? sys.fileSystemType(path.levels[level]), fileSystem.isNetworkFileSystem {
            return .unavailable(reason:
                "the cache directory is on a network filesystem (\(fileSystem)), whose notifications do not include other machines' commits")
        }
        guard register(directoryFD, filter: EVFILT_VNODE, flags: UInt32(NOTE_WRITE | NOTE_DELETE | NOTE_RENAME | NOTE_REVOKE)) else {
            return .unavailable(reason: "kevent: \(Errno(rawValue: errno))")
        }
        return nil
    }
}
#endif
