/// How a watch (`CacheStore.changes`) notices commits.
public enum CacheChangeDetection: Sendable, Hashable {
    /// Kernel change notifications on the cache directory — inotify on Linux, kqueue
    /// on Darwin: a commit is seen within microseconds of its rename, and an idle
    /// watch costs no CPU. Where notifications cannot be trusted or had, the watch
    /// polls instead, every `fallbackInterval`, and says so once with a
    /// `watchFallbackToPolling` event: the directory is on a network filesystem
    /// (NFS, SMB, ...: notifications there never include other machines' commits),
    /// or a kernel limit is reached (inotify instances per user, `EMFILE`; watches
    /// per user, `ENOSPC`; kernel memory).
    case automatic(fallbackInterval: Duration = .seconds(1))
    /// Never notifications: a cheap look at the cache file every `interval` (see
    /// `CacheStore.changes`). For filesystems whose notifications report only this
    /// machine's changes while other machines commit too, and that the automatic
    /// choice cannot recognise: FUSE mounts, 9p or virtiofs shared with a VM host.
    case polling(interval: Duration)

    /// Shortest polling interval honoured: a smaller (or negative) one is raised to
    /// this, so that a typo cannot turn a watch into a busy loop.
    public static let minimumPollingInterval: Duration = .milliseconds(10)

    /// The interval used when polling, whether chosen or as a fallback.
    var pollingInterval: Duration {
        switch self {
        case let .automatic(interval), let .polling(interval): max(interval, Self.minimumPollingInterval)
        }
    }
}
