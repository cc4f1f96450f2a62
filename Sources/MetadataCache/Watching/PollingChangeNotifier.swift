/// Polling: the cache is looked at every `interval` (see `CacheChangeCheck` for
/// what a look costs). For network filesystems, kernel limits reached, and hosts
/// that ask for it (`CacheChangeDetection.polling`). A stop wakes it at once.
final class PollingChangeNotifier: CacheChangeNotifier {
    private let interval: Duration
    private let directory: String
    private var first = true

    init(interval: Duration, directory: String) {
        self.interval = interval
        self.directory = directory
    }

    func waitForChange(stops: [Int32]) -> ChangeWait {
        if first {
            first = false
            return .mayHaveChanged(reread: true)
        }
        switch DescriptorReadiness.wait(stops, timeout: interval) {
        case .readable: return .stopped
        case .timedOut: return .mayHaveChanged(reread: false)
        case let .failed(errno):
            return .failed(.io(operation: "wait for the next poll of a cache watch", path: directory, errno: errno))
        }
    }

    func close() {}
}
