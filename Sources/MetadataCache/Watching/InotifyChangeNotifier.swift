#if os(Linux)
import Glibc

/// Kernel notifications for one cache directory on Linux, through inotify.
///
/// Every commit replaces the cache file by `rename`, so a watch on the file's inode
/// would go silent after the first commit: the *directory* is watched, for entries
/// renamed into it (`IN_MOVED_TO`: every commit) or closed after writing
/// (`IN_CLOSE_WRITE`: a foreign writer), and only events naming `NAME.json` count —
/// temp files, the lock file and moved-aside corrupt files wake the thread but are
/// ignored.
///
/// The *path* is followed, not the inode:
/// - the directory's own deletion, move or unmount (`IN_DELETE_SELF`,
///   `IN_MOVE_SELF`, `IN_IGNORED`, `IN_UNMOUNT`) re-arms on the path;
/// - a directory that does not exist is waited for on its nearest existing
///   ancestor, for the next component (`IN_CREATE`, `IN_MOVED_TO`), level by level;
/// - every directory above is watched for `IN_MOVE_SELF`: renaming a parent moves
///   the cache directory off its path without any event on the directory itself;
/// - a queue overflow (`IN_Q_OVERFLOW`) re-arms and looks.
///
/// Unavailable, so the watch polls: on a network filesystem (its notifications never
/// include other machines' commits), and at kernel limits — `inotify_init1` failing
/// (`EMFILE`: instances per user or descriptors per process; `ENFILE`; `ENOMEM`)
/// or `inotify_add_watch` failing with `ENOSPC` (watches per user) or `ENOMEM`.
/// The descriptor is `IN_CLOEXEC` (a host's children never inherit it) and
/// `IN_NONBLOCK` (the thread blocks in `poll`, together with its stop pipes).
final class InotifyChangeNotifier: CacheChangeNotifier {
    private enum Role: Equatable {
        case cacheDirectory
        /// The nearest existing ancestor of a missing cache directory, waiting for
        /// this entry to appear in it.
        case awaitingChild(String)
        /// A directory above: only its renaming matters.
        case ancestor
    }

    private var fd: Int32
    private let layout: StoreLayout
    private let sys: SystemCalls
    private let path: WatchedPath
    private let cacheFileName: String
    private var roles: [Int32: Role] = [:]
    private var needsArming = true
    /// Room for many events per read: a burst of commits is drained in one go and
    /// answered with one look at the cache.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)

    private static let cacheDirectoryMask = flags(IN_MOVED_TO, IN_CLOSE_WRITE, IN_DELETE_SELF, IN_MOVE_SELF)
        | flags(IN_ONLYDIR, IN_DONT_FOLLOW)
    private static let awaitingChildMask = flags(IN_CREATE, IN_MOVED_TO, IN_DELETE_SELF, IN_MOVE_SELF) | flags(IN_ONLYDIR)
    /// `IN_MASK_ADD`: should the same inode be watched at two levels (a symbolic
    /// link in the path), its other mask is extended, never replaced.
    private static let ancestorMask = flags(IN_MOVE_SELF) | flags(IN_ONLYDIR, IN_MASK_ADD)
    private static let directoryGone = flags(IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED, IN_UNMOUNT)
    private static let overflow = flags(IN_Q_OVERFLOW)

    private static func flags(_ values: Int32...) -> UInt32 {
        values.reduce(0) { $0 | UInt32(bitPattern: $1) }
    }

    private init(fd: Int32, layout: StoreLayout, sys: SystemCalls) {
        self.fd = fd
        self.layout = layout
        self.sys = sys
        path = WatchedPath(layout.directory)
        cacheFileName = layout.name + ".json"
    }

    deinit {
        close()
        buffer.deallocate()
    }

    static func make(layout: StoreLayout, sys: SystemCalls) -> Result<InotifyChangeNotifier, NotificationsUnavailable> {
        do {
            return .success(InotifyChangeNotifier(fd: try sys.inotifyInit(path: layout.directory), layout: layout, sys: sys))
        } catch {
            let errno = error.errno ?? Errno(rawValue: 0)
            let why: String
            switch errno.rawValue {
            case EMFILE:
                why = "the limit of inotify instances per user (fs.inotify.max_user_instances) or of open files per process is reached"
            case ENFILE: why = "the system-wide limit of open files is reached"
            case ENOMEM: why = "the kernel is out of memory for inotify"
            case ENOSYS: why = "the kernel has no inotify"
            default: why = "it failed"
            }
            return .failure(NotificationsUnavailable(reason: "inotify_init1: \(errno): \(why)"))
        }
    }

    func close() {
        guard fd >= 0 else { return }
        // Closing the instance removes all its watches.
        sys.closeIgnoringErrors(fd)
        fd = -1
        roles.removeAll()
    }

    func waitForChange(stops: [Int32]) -> ChangeWait {
        while true {
            if needsArming {
                if let problem = arm() { return problem }
                needsArming = false
                return .mayHaveChanged(reread: true)
            }
            switch DescriptorReadiness.wait(stops + [fd], timeout: nil) {
            case let .readable(index) where index < stops.count:
                return .stopped
            case .readable, .timedOut:
                break
            case let .failed(errno):
                return .failed(.io(operation: "wait for notifications on the cache directory", path: layout.directory, errno: errno))
            }
            var changed = false
            // Drain the queue: every event of a burst, answered by one look.
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { break }
                    return .failed(.io(operation: "read notifications of the cache directory", path: layout.directory,
                                       errno: Errno(rawValue: errno)))
                }
                for event in InotifyEventParser.events(in: UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
                    classify(event, changed: &changed)
                }
                // A read that left room for another largest event emptied the queue.
                if n <= buffer.count - (InotifyEventParser.headerSize + 255 + 1) { break }
            }
            if needsArming { continue }
            if changed { return .mayHaveChanged(reread: true) }
        }
    }

    private func classify(_ event: InotifyEvent, changed: inout Bool) {
        if event.mask & Self.overflow != 0 {
            // Events were lost: start over and look.
            needsArming = true
            return
        }
        // Events of watches removed by an earlier re-arming have no role: ignored.
        guard let role = roles[event.watch] else { return }
        let gone = event.mask & Self.directoryGone != 0
        switch role {
        case .cacheDirectory:
            if gone {
                needsArming = true
            } else if event.name == cacheFileName {
                changed = true
            }
        case let .awaitingChild(child):
            if gone || event.name == child { needsArming = true }
        case .ancestor:
            if gone { needsArming = true }
        }
    }

    // MARK: Arming

    private enum ArmingOutcome {
        case armed
        /// An ancestor vanished while arming: the path changed under us.
        case pathChanged
        case problem(ChangeWait)
    }

    /// Watches the path as it is now. Nil when armed; otherwise why the watch must
    /// poll or end.
    private func arm() -> ChangeWait? {
        // Each retry follows a change of the path made while arming; a path that
        // never holds still for a few system calls is polled instead.
        for _ in 0..<1000 {
            removeAllWatches()
            switch armOnce() {
            case .armed: return nil
            case .pathChanged: continue
            case let .problem(wait): return wait
            }
        }
        removeAllWatches()
        return .unavailable(reason: "the cache directory's path kept changing while its watch was being set up")
    }

    private func removeAllWatches() {
        // Each removal queues an IN_IGNORED for a descriptor that no longer has a
        // role; watch descriptors are allocated cyclically, so it is not reused soon.
        for watch in roles.keys { _ = inotify_rm_watch(fd, watch) }
        roles.removeAll()
    }

    /// Watches are added from the top down, each resolving the path as it is at
    /// that moment: a level renamed after its watch was added raises an event; one
    /// renamed before is seen by the lookups of the levels below it. Only the
    /// nearest existing level needs a check after its watch: the entry it waits
    /// for may have appeared just before.
    private func armOnce() -> ArmingOutcome {
        var level = 1
        while level <= path.cacheDirectoryLevel {
            let isCacheDirectory = level == path.cacheDirectoryLevel
            do {
                let watch = try sys.inotifyAddWatch(
                    fd, path: path.levels[level], mask: isCacheDirectory ? Self.cacheDirectoryMask : Self.ancestorMask)
                if isCacheDirectory {
                    roles[watch] = .cacheDirectory
                } else if roles[watch] == nil {
                    // (A level seen twice through a symbolic link keeps its first role.)
                    roles[watch] = .ancestor
                }
            } catch .io(_, _, .noSuchFile) {
                // The deepest existing level is the one above: wait there for this one.
                return awaitChild(at: level - 1)
            } catch let .io(_, _, errno) where errno == .permissionDenied && !isCacheDirectory {
                // An ancestor we may traverse but not read: only its renaming goes
                // unnoticed; everything below it is still watched.
            } catch {
                return .problem(problem(error, at: level))
            }
            level += 1
        }
        if let unavailable = networkFileSystem(at: path.cacheDirectoryLevel) { return .problem(unavailable) }
        return .armed
    }

    /// Watches `level` for the creation of the next level down, then checks it was
    /// not created just before the watch.
    private func awaitChild(at level: Int) -> ArmingOutcome {
        let child = path.names[level + 1]
        do {
            // The same inode as its ancestor watch, if it has one: this mask (which
            // still includes IN_MOVE_SELF) replaces that one.
            let watch = try sys.inotifyAddWatch(fd, path: path.levels[level], mask: Self.awaitingChildMask)
            roles[watch] = .awaitingChild(child)
        } catch .io(_, _, .noSuchFile) {
            return .pathChanged
        } catch {
            return .problem(problem(error, at: level))
        }
        if (try? sys.lstatIfExists(path.levels[level + 1])) != nil { return .pathChanged }
        if let unavailable = networkFileSystem(at: level) { return .problem(unavailable) }
        return .armed
    }

    /// Notifications of a network filesystem miss other machines' commits.
    private func networkFileSystem(at level: Int) -> ChangeWait? {
        guard let fileSystem = try? sys.fileSystemType(path.levels[level]), fileSystem.isNetworkFileSystem else { return nil }
        removeAllWatches()
        return .unavailable(reason:
            "the cache directory is on a network filesystem (\(fileSystem)), whose notifications do not include other machines' commits")
    }

    private func problem(_ error: MetadataCacheError, at level: Int) -> ChangeWait {
        guard case let .io(_, failedPath, errno) = error else { return .failed(error) }
        switch errno.rawValue {
        case ENOSPC:
            return .unavailable(reason:
                "inotify_add_watch: ENOSPC: the limit of inotify watches per user (fs.inotify.max_user_watches) is reached")
        case ENOMEM:
            return .unavailable(reason: "inotify_add_watch: ENOMEM: the kernel is out of memory for inotify watches")
        case ENOTDIR where level == path.cacheDirectoryLevel:
            // IN_ONLYDIR|IN_DONT_FOLLOW: a symbolic link or a file is at the path.
            if let status = try? sys.lstatIfExists(failedPath) {
                return .failed(.unsafeDirectory(path: failedPath, problem: status.kind == .symlink ? .isSymbolicLink : .notADirectory))
            }
            return .failed(.io(operation: "watch the cache directory (a component of its path is not a directory)",
                               path: failedPath, errno: errno))
        case ENOTDIR:
            return .failed(.io(operation: "watch the cache directory (a component of its path is not a directory)",
                               path: failedPath, errno: errno))
        default:
            return .failed(.io(operation: "watch the cache directory", path: failedPath, errno: errno))
        }
    }
}
#endif
