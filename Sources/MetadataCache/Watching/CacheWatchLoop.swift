import CSystemShims

/// The body of a watch's thread: arm the notifier, look at the cache, wait, and
/// again — until a stop descriptor is readable or the watch fails.
///
/// Arming comes before looking, every time (at the start, and after the directory
/// appeared or was replaced): a commit before the arming is found by the look, a
/// commit after it raises a notification. So no commit falls between the two.
struct CacheWatchLoop: Sendable {
    let layout: StoreLayout
    let sys: SystemCalls
    let observer: (any CacheObserver)?
    let allowSharedDirectory: Bool
    let detection: CacheChangeDetection

    init(store: CacheStore, detection: CacheChangeDetection) {
        layout = store.layout
        sys = store.sys
        observer = store.options.observer
        allowSharedDirectory = store.options.allowSharedDirectory
        self.detection = detection
    }

    /// Runs on the watch's own thread until stopped; always ends with
    /// `mailbox.finish`, after the notifier's descriptors are closed.
    func run(mailbox: LatestSnapshotMailbox, stops: [CancellationToken]) {
        // Named for whoever lists a host's threads (top -H, a debugger): it is
        // otherwise named after the thread that started it.
        _ = csystem_name_this_thread("metacache-watch")
        let stopDescriptors = stops.map(\.pollDescriptor).filter { $0 >= 0 }
        var check = CacheChangeCheck(
            layout: layout, sys: sys, observer: observer, allowSharedDirectory: allowSharedDirectory)
        var notifier: any CacheChangeNotifier
        switch makeNotifier() {
        case let .success(made): notifier = made
        case let .failure(unavailable): notifier = fallBack(because: unavailable.reason)
        }
        var failure: MetadataCacheError?
        watching: while !stops.contains(where: \.isCancelled) {
            switch notifier.waitForChange(stops: stopDescriptors) {
            case .stopped:
                break watching
            case let .mayHaveChanged(reread):
                do throws(MetadataCacheError) {
                    if let snapshot = try check.run(reread: reread) { mailbox.post(snapshot) }
                } catch {
                    failure = error
                    break watching
                }
            case let .unavailable(reason):
                notifier.close()
                notifier = fallBack(because: reason)
            case let .failed(error):
                failure = error
                break watching
            }
        }
        notifier.close()
        mailbox.finish(failure)
    }

    private func makeNotifier() -> Result<any CacheChangeNotifier, NotificationsUnavailable> {
        guard case .automatic = detection else {
            return .success(PollingChangeNotifier(interval: detection.pollingInterval, directory: layout.directory))
        }
        #if os(Linux)
        return InotifyChangeNotifier.make(layout: layout, sys: sys)
            .map { $0 as any CacheChangeNotifier }
        #elseif canImport(Darwin)
        return KqueueChangeNotifier.make(layout: layout, sys: sys)
            .map { $0 as any CacheChangeNotifier }
        #else
        return .failure(NotificationsUnavailable(reason: "this platform has no directory notifications the library uses"))
        #endif
    }

    private func fallBack(because reason: String) -> any CacheChangeNotifier {
        let interval = detection.pollingInterval
        observer?.observe(.watchFallbackToPolling(path: layout.cachePath, reason: reason, interval: interval))
        return PollingChangeNotifier(interval: interval, directory: layout.directory)
    }
}

/// Why kernel notifications cannot serve a watch; the watch polls instead.
struct NotificationsUnavailable: Error {
    let reason: String
}
