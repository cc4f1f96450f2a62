extension CacheStore {
    /// Every version of the cache as it is committed, by this or any other process:
    /// for long-running hosts (daemons, language servers, GUIs, prompt hooks) that
    /// keep a decoded catalogue in memory and must not serve a stale one, without
    /// polling `hasChanged(since:)`.
    ///
    ///     for try await snapshot in store.changes() {
    ///         catalogue = try JSONDecoder().decode(Catalogue.self, from: snapshot.payload)
    ///     }
    ///
    /// Guarantees:
    /// - The first element is the current cache, at once, when there is one that
    ///   verifies; then each later commit. A host that already holds a snapshot skips
    ///   the first element when its `commitID` is the one it has.
    /// - Every element is verified like `read()`. A corrupt or torn file is never
    ///   yielded: it is reported once by a `readCorrupt` event, and the watch waits
    ///   for the next commit.
    /// - Elements come in commit order and never the same commit twice in a row; the
    ///   latest commit is never missed. Commits that follow each other faster than
    ///   the host takes elements are **coalesced**: the host gets the latest one, and
    ///   the generations in between are skipped.
    /// - A `304` revalidation is yielded too: same payload and `generation`, new
    ///   `commitID` and `fetchedAt` (a host that shows the cache's age wants it).
    ///   `snapshot.payload == previous.payload` (a `memcmp`) tells a host it can
    ///   keep what it decoded.
    /// - `generation` restarts at 1 when the cache starts a new history — deleted,
    ///   or moved aside (`verify --repair`), then committed again — and never goes
    ///   down otherwise. It is not a content identifier across histories: an equal
    ///   generation after a restart may hold another payload.
    /// - The watch follows the directory's *path*. A directory that does not exist
    ///   yet, is deleted and recreated, or is moved away and replaced is picked up
    ///   where the path leads (and checked like any reader checks it); commits to a
    ///   directory moved elsewhere are not followed.
    /// - Cancelling the iterating task, cancelling `cancellation`, or releasing the
    ///   iterator stops the watch; after `next()` returned nil its thread has
    ///   finished its work and its watch descriptors are closed.
    /// - It ends by throwing when the cache can no longer be watched for a reason
    ///   other than being absent or corrupt: the directory became unsafe (a symbolic
    ///   link, see `CacheStore`), permission denied, an I/O error.
    ///
    /// Cost: one thread per watch, blocked in the kernel (an idle watch uses no
    /// CPU), which reads and verifies each commit once — never a Swift concurrency
    /// thread. Events (`readCorrupt`, `watchFallbackToPolling`) reach the store's
    /// observer on that thread.
    public func changes(detection: CacheChangeDetection = .automatic(), cancellation: CancellationToken? = nil)
        -> CacheChanges
    {
        CacheChanges(store: self, detection: detection, cancellation: cancellation)
    }
}

/// The sequence `CacheStore.changes` returns. Each iterator runs its own watch,
/// started by its first `next()`.
public struct CacheChanges: AsyncSequence, Sendable {
    public typealias Element = CacheSnapshot
    public typealias Failure = MetadataCacheError

    let store: CacheStore
    let detection: CacheChangeDetection
    let cancellation: CancellationToken?

    public func makeAsyncIterator() -> Iterator { Iterator(changes: self) }

    public struct Iterator: AsyncIteratorProtocol {
        private enum Phase {
            case notStarted(CacheChanges)
            case watching(CacheWatchSession)
            case ended
        }

        private var phase: Phase

        init(changes: CacheChanges) { phase = .notStarted(changes) }

        /// The next version, or nil once the watch was cancelled.
        public mutating func next() async throws(MetadataCacheError) -> CacheSnapshot? {
            let session: CacheWatchSession
            switch phase {
            case .ended:
                return nil
            case let .watching(running):
                session = running
            case let .notStarted(changes):
                if Task.isCancelled || changes.cancellation?.isCancelled == true {
                    phase = .ended
                    return nil
                }
                session = CacheWatchSession(
                    loop: CacheWatchLoop(store: changes.store, detection: changes.detection),
                    cancellation: changes.cancellation)
                phase = .watching(session)
            }
            let delivery = await withTaskCancellationHandler {
                await session.mailbox.take()
            } onCancel: {
                session.cancel()
            }
            switch delivery {
            case let .snapshot(snapshot):
                return snapshot
            case let .ended(failure):
                // Releasing the session releases the last descriptors (its stop pipe).
                phase = .ended
                if let failure { throw failure }
                return nil
            }
        }
    }
}
