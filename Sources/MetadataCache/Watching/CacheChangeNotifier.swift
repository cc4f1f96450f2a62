/// What a watch's thread waits with: kernel notifications on the cache directory,
/// or a polling timer. Each blocks the watch's own thread (never a Swift
/// concurrency thread) until the cache may have changed.
protocol CacheChangeNotifier: AnyObject {
    /// Blocks until the cache may have changed, a stop descriptor becomes readable,
    /// or notifications stop working. The first call returns `mayHaveChanged` as
    /// soon as the notifier is armed, and so does every call after it re-armed on a
    /// directory that appeared or was replaced: a commit made before the arming is
    /// found by the check that follows, one made after it raises a notification.
    func waitForChange(stops: [Int32]) -> ChangeWait
    /// Releases the notifier's descriptors. Idempotent.
    func close()
}

/// The outcome of `CacheChangeNotifier.waitForChange`.
enum ChangeWait: Equatable {
    /// Look at the cache. `reread`: read it in full even if a cheap look says it
    /// is unchanged (a notification named the cache file, or the notifier was just
    /// armed).
    case mayHaveChanged(reread: Bool)
    /// A stop descriptor is readable: the watch was cancelled.
    case stopped
    /// Notifications cannot serve this directory (network filesystem, kernel
    /// limits): poll instead. The reason is for the `watchFallbackToPolling` event.
    case unavailable(reason: String)
    /// The watch cannot go on (an unsafe directory, permission denied, ...).
    case failed(MetadataCacheError)
}
