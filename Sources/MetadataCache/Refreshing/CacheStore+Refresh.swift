#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a fetch closure is told about the cache it refreshes.
public struct FetchRequest: Sendable {
    /// The cache as read and fully verified under the lock: generation, validators
    /// for a conditional request, source. Nil when there is none or it is corrupt —
    /// so a corrupt cache is never revalidated with its stored validators (a `304`
    /// would confirm bytes that no longer verify) but fetched unconditionally.
    public let current: CachedVersion?
    /// Report the download's progress here (`report(received:expected:)`, as often
    /// as you like); the store's observer receives it as `fetchProgress` events.
    public let progress: FetchProgressReporter
}

/// Which commits by other processes satisfy a refresh that waited for the lock.
public enum RefreshCoalescing: Sendable, Hashable {
    /// Any commit made while this refresh waited: concurrent refreshers of one
    /// upstream (the default).
    case anySource
    /// Only a commit whose recorded source is exactly this one. A refresh from a
    /// different source (the user asked for `--source other.json`) must not be
    /// satisfied by a daemon's refresh from the usual URL.
    case sameSource(String)
    /// Never: this refresh commits its own document whatever others did (a document
    /// piped on stdin exists nowhere else).
    case never
}

/// A cache version's header facts, without the payload.
public struct CachedVersion: Sendable, Equatable {
    public let generation: UInt64
    public let commitID: UInt64
    /// When the payload was fetched or last revalidated (an `update` keeps the
    /// time of the version it edited; see `wasFetched`).
    public let fetchedAt: Date
    /// What made this commit: a fetch, a revalidation or a local update.
    public let commitKind: CommitKind
    public let source: String?
    public let validators: HTTPValidators
    public let writerPID: Int32
    public let writerHost: String?
    /// The header's exact value (a `Date` cannot hold every 64-bit millisecond).
    package let fetchedAtMilliseconds: Int64

    public init(
        generation: UInt64, commitID: UInt64, fetchedAt: Date, commitKind: CommitKind = .fetch, source: String?,
        validators: HTTPValidators, writerPID: Int32, writerHost: String?
    ) {
        self.generation = generation
        self.commitID = commitID
        self.fetchedAt = fetchedAt
        self.commitKind = commitKind
        self.source = source
        self.validators = validators
        self.writerPID = writerPID
        self.writerHost = writerHost
        fetchedAtMilliseconds = EpochMilliseconds.milliseconds(fetchedAt)
    }

    package init(_ snapshot: CacheSnapshot) {
        self.init(snapshot.header)
    }

    init(_ header: CacheHeader) {
        generation = header.generation
        commitID = header.commitID
        fetchedAt = EpochMilliseconds.date(header.fetchedAtMilliseconds)
        commitKind = header.effectiveCommitKind
        source = header.source
        validators = HTTPValidators(etag: header.etag, lastModified: header.lastModified)
        writerPID = header.writerPID
        writerHost = header.writerHost
        fetchedAtMilliseconds = header.fetchedAtMilliseconds
    }

    /// False for a payload created by `update` with no previous version.
    public var wasFetched: Bool { fetchedAtMilliseconds != CacheHeader.neverFetched }

    /// Time since `fetchedAt`: zero for a time in the future, the longest
    /// representable duration for a payload never fetched.
    public var age: Duration { EpochMilliseconds.age(since: fetchedAtMilliseconds) }
}

/// What a fetch produced.
public enum FetchResult: Sendable {
    /// A new payload (validated before it is committed).
    case payload(Data, source: String?, validators: HTTPValidators = HTTPValidators())
    /// The source confirmed the cached payload is current (HTTP 304).
    case notModified(validators: HTTPValidators? = nil)
}

/// How a `refresh` ended. All are successes.
public enum RefreshOutcome: Sendable {
    /// Fetched and committed a new payload.
    case fetched(CommitReceipt)
    /// The source said the payload is unchanged; `fetchedAt` was renewed.
    case revalidated(CommitReceipt)
    /// The cache was fresh enough; nothing was fetched and no lock was taken
    /// (or, if `lockWaited` is non-zero, it became fresh while we waited).
    case skippedFresh(age: Duration, maximumAge: Duration)
    /// Another process committed while this refresh waited for the lock, so this one
    /// did not fetch at all.
    case coalesced(CachedVersion, lockWaited: Duration)
}

extension CacheStore {
    /// Refreshes the cache from `fetch`, coalescing with concurrent refreshers.
    ///
    /// 1. Without taking any lock: if `maximumAge` is given (and not `force`) and the
    ///    cache verifies and is younger, returns `.skippedFresh`. The check reads and
    ///    verifies the whole file, not just its header: a cache whose payload no
    ///    longer verifies is never "fresh", or a host calling `refresh(ifOlderThan:)`
    ///    then `read()` would fail on every call until the header aged.
    /// 2. Takes the writer lock (waiting up to `timeout`), so concurrent refreshes of
    ///    all processes run one at a time and never download twice.
    /// 3. Reads and verifies the cache again under the lock: if another process
    ///    committed a fetch or revalidation since this call began (and not `force`,
    ///    and `coalescing` accepts that commit's source), returns `.coalesced`
    ///    without fetching. An `update` committed meanwhile is a local edit, not
    ///    what this refresh waited for: it fetches. A corrupt cache counts as none.
    /// 4. Calls `fetch` while holding the lock and commits its result.
    ///
    /// A cache file written by a newer MetadataCache (`newerFormat`) is neither
    /// fetched for nor replaced: the refresh throws before taking the lock, unless
    /// `CacheStoreOptions.overwriteNewerFormat` is set.
    ///
    /// Concurrent calls in one process queue behind each other (no `selfDeadlock`).
    /// Cancelling the task cancels the wait, or the fetch (the lock is released and
    /// nothing is written): `cancelled`.
    ///
    /// An error thrown by `fetch` arrives as `fetchFailed`, unchanged inside it and
    /// named with `source` (where `fetch` gets the payload: a URL, a path), or when
    /// that is nil with the source the cache recorded; a `MetadataCacheError`
    /// thrown by `fetch` (from a store call it made) arrives as it is.
    public func refresh(
        ifOlderThan maximumAge: Duration? = nil, force: Bool = false, source: String? = nil,
        coalescing: RefreshCoalescing = .anySource, timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil,
        fetch: @Sendable (FetchRequest) async throws -> FetchResult
    ) async throws(MetadataCacheError) -> RefreshOutcome {
        let before = try verifiedVersion()
        if !force, let maximumAge, let before, before.age <= maximumAge {
            return .skippedFresh(age: before.age, maximumAge: maximumAge)
        }
        let lock = try await acquireHeldLockAsync(timeout: timeout, cancellation: cancellation, reentrancy: .queue)
        let writer = CacheWriterLockGuard(lock: lock, store: self)
        let current = try verifiedVersion()
        if !force, let current {
            if current.commitID != before?.commitID, current.commitKind.isFromSource,
                Self.accepts(coalescing, commitFrom: current.source)
            {
                return .coalesced(current, lockWaited: writer.waited)
            }
            if let maximumAge, current.age <= maximumAge {
                return .skippedFresh(age: current.age, maximumAge: maximumAge)
            }
        }
        if Task.isCancelled { throw .cancelled(lockPath: lockPath, waited: writer.waited) }
        let outcome: RefreshOutcome
        do throws(MetadataCacheError) {
            let result: FetchResult
            do {
                result = try await observedFetch(current: current, fetch)
            } catch let error as MetadataCacheError {
                throw error
            } catch {
                if Task.isCancelled || error is CancellationError { throw .cancelled(lockPath: lockPath, waited: writer.waited) }
                throw .fetchFailed(source: source ?? current?.source, error: error)
            }
            if Task.isCancelled { throw .cancelled(lockPath: lockPath, waited: writer.waited) }
            switch result {
            case let .payload(data, source, validators):
                outcome = .fetched(try writer.commit(data, source: source, validators: validators))
            case let .notModified(validators):
                outcome = .revalidated(try writer.commitRevalidation(validators: validators))
            }
        } catch {
            // Failure memory (RefreshFailureRecord), still under the lock: the
            // backoff of background refreshes counts from here. A cancellation is
            // the user's choice, not the source's failure.
            if case .cancelled = error {} else { _ = writer.recordRefreshFailure(Self.failureMessage(error)) }
            throw error
        }
        writer.clearRefreshFailure()
        return outcome
    }

    /// What the failure record says: the source's own error for a failed fetch
    /// (the record already says it was a refresh), the store's otherwise.
    private static func failureMessage(_ error: MetadataCacheError) -> String {
        if case let .fetchFailed(_, underlying) = error { return String(describing: underlying) }
        return error.description
    }

    /// The current cache's facts if it exists and verifies completely; nil when it
    /// is missing, corrupt or unreadable: a refresh then treats it as absent and
    /// rebuilds it. Corruption is still reported (`readCorrupt`), so an observer
    /// learns why this refresh fetched. A newer format's file is not absent: it
    /// throws `newerFormat`, unless the options allow overwriting it.
    private func verifiedVersion() throws(MetadataCacheError) -> CachedVersion? {
        do {
            guard let directory = try openDirectoryIfPresent() else { return nil }
            return try CacheFileReader(directory: directory).read(layout.cacheName).map(CachedVersion.init)
        } catch .newerFormat(let path, let version, let flags) {
            guard options.overwriteNewerFormat else {
                throw .newerFormat(path: path, version: version, unknownFlags: flags)
            }
            return nil
        } catch {
            if case let .corruptCache(path, problem) = error { options.observer?.observe(.readCorrupt(path: path, problem: problem)) }
            return nil
        }
    }

    private static func accepts(_ coalescing: RefreshCoalescing, commitFrom source: String?) -> Bool {
        switch coalescing {
        case .anySource: true
        case let .sameSource(wanted): source == wanted
        case .never: false
        }
    }

    /// Read-modify-write under the writer lock: `transform` receives the current
    /// cache (nil if none) and returns the new payload, which is validated and
    /// committed. An error thrown by `transform` arrives as `updateFailed`,
    /// unchanged inside it; nothing is written. Concurrent updates from any number of processes are serialised,
    /// so none is lost. Blocks the calling thread while waiting for the lock.
    ///
    /// An update is a local edit, not a fetch: the new version keeps the
    /// fetchedAt, source and HTTP validators of the version it edited (so a stale
    /// cache stays stale and can still be revalidated with a `304`), and is
    /// recorded as `CommitKind.update`, which never satisfies a waiting refresh.
    /// With nothing to edit, the new payload counts as never fetched.
    @available(*, noasync, message: "blocks the thread while waiting for the lock; use the async update")
    @discardableResult
    public func update(
        timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil,
        _ transform: (CacheSnapshot?) throws -> Data
    ) throws(MetadataCacheError) -> CommitReceipt {
        let lock = try acquireHeldLock(
            timeout: timeout, cancellation: cancellation.map { [$0] } ?? [], reentrancy: .queue)
        let writer = CacheWriterLockGuard(lock: lock, store: self)
        let current = try writer.readForEditing()
        let payload: Data
        do {
            payload = try transform(current)
        } catch {
            throw updateFailure(error)
        }
        return try writer.commitUpdate(payload, editing: current)
    }

    /// What an update throws when its transform threw `error`: a
    /// `MetadataCacheError` (from a store call the transform made) as it is, any
    /// other error inside `updateFailed`.
    private func updateFailure(_ error: any Error) -> MetadataCacheError {
        error as? MetadataCacheError ?? .updateFailed(path: cachePath, error: error)
    }

    /// Async form of `update` (same semantics); the lock wait runs on a thread of
    /// its own and honours task cancellation.
    ///
    /// `transform` is `@Sendable`, as `refresh`'s fetch is: this method is not
    /// isolated to the caller's actor, so a closure written in `@MainActor` code
    /// (an `@main` type's `main()`, a GUI) would otherwise be rejected as "sending
    /// a main actor-isolated value" under Swift 6 language mode.
    @discardableResult
    public func update(
        timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil,
        _ transform: @Sendable (CacheSnapshot?) async throws -> Data
    ) async throws(MetadataCacheError) -> CommitReceipt {
        let lock = try await acquireHeldLockAsync(timeout: timeout, cancellation: cancellation, reentrancy: .queue)
        let writer = CacheWriterLockGuard(lock: lock, store: self)
        let current = try writer.readForEditing()
        let payload: Data
        do {
            payload = try await transform(current)
        } catch {
            throw updateFailure(error)
        }
        return try writer.commitUpdate(payload, editing: current)
    }

    /// The async `update`, for a transform that does not await. Async code that
    /// writes `await store.update { current in ... }` gets this overload, never the
    /// blocking one (which is unavailable there): a thread of the concurrency pool
    /// blocked in a lock wait starves every other task.
    @discardableResult
    public func update(
        timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil,
        _ transform: @Sendable (CacheSnapshot?) throws -> Data
    ) async throws(MetadataCacheError) -> CommitReceipt {
        try await update(timeout: timeout, cancellation: cancellation) { (current) async throws -> Data in try transform(current) }
    }
}
