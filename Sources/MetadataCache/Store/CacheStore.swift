#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One cached JSON metadata document on local disk, shared safely by many processes.
///
/// - Readers (`read`, `read(as:)`, `hasChanged(since:)`) never lock, never create or
///   modify a file and never wait: they see the last complete commit, verified.
/// - Writers hold the exclusive cross-process writer lock, a `CacheWriterLockGuard`,
///   and commit through it (`writer.commit(_:)`), or use `refresh`/`update`, which
///   take the lock, re-read under it and coalesce with concurrent writers.
///
/// Creating a `CacheStore` does no I/O. The first writer operation of a store
/// instance creates the directory (mode 0700) if needed, checks it is safe, and,
/// holding the lock, sweeps files left by crashed writers.
public struct CacheStore: Sendable {
    /// The cache directory, absolute.
    public let directory: String
    public let name: String
    public let options: CacheStoreOptions
    package let layout: StoreLayout
    private let state: StoreState

    /// Per-instance memo of one-time work, shared by copies of the store.
    private final class StoreState: Sendable {
        let sweptAfterOpen = AtomicCell<Bool>(false)
        let fileSystem = LockedValue<FileSystemType?>(nil)
    }

    public init(directory: String, name: String = "metadata", options: CacheStoreOptions = CacheStoreOptions())
        throws(MetadataCacheError)
    {
        guard StoreLayout.isValidName(name) else { throw .invalidCacheName(name) }
        self.directory = Self.absolute(directory)
        self.name = name
        self.options = options
        self.layout = StoreLayout(directory: self.directory, name: name)
        self.state = StoreState()
    }

    /// `NAME.json`
    public var cachePath: String { layout.cachePath }
    /// `NAME.lock`
    public var lockPath: String { layout.lockPath }

    package var sys: SystemCalls { options.systemCalls }
    private var observer: (any CacheObserver)? { options.observer }

    /// `path` made absolute against the working directory, with "." components
    /// and repeated or trailing slashes dropped.
    package static func absolute(_ path: String) -> String {
        var p = path.isEmpty ? "." : path
        if !p.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                p = (cwd == "/" ? "" : cwd) + "/" + p
            }
        }
        // Drop "." components and repeated or trailing slashes so derived paths are
        // canonical enough to key the in-process lock table. (A plain loop: this
        // runs at every start of a host tool, and `joined` costs a protocol
        // conformance lookup that is measurable in a static binary's start-up.)
        var result = ""
        for part in p.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            result += "/"
            result += part
        }
        return result.isEmpty ? "/" : result
    }

    // MARK: Reading

    /// The current cache, verified; nil when there is none. Lock-free.
    public func read() throws(MetadataCacheError) -> CacheSnapshot? {
        guard let directory = try openDirectoryIfPresent() else {
            observer?.observe(.readMiss(path: cachePath))
            return nil
        }
        do {
            let snapshot = try CacheFileReader(directory: directory).read(layout.cacheName)
            if let observer {
                if let snapshot {
                    observer.observe(.readHit(path: cachePath, generation: snapshot.generation, bytes: snapshot.payload.count))
                } else {
                    observer.observe(.readMiss(path: cachePath))
                }
            }
            return snapshot
        } catch {
            if case let .corruptCache(path, problem) = error { observer?.observe(.readCorrupt(path: path, problem: problem)) }
            throw error
        }
    }

    /// The current cache decoded as `T` by a `CacheJSONDecoder` (JSONDecoder's
    /// results, several times faster); nil when there is none. The payload was
    /// validated as strict JSON when committed and its checksum verified now, so
    /// it is not validated again.
    /// A payload that does not decode as `T` throws `decodingFailed`, with the
    /// decoder's `DecodingError`.
    public func read<T: Decodable>(as type: T.Type, decoder: CacheJSONDecoder = CacheJSONDecoder()) throws(MetadataCacheError)
        -> (value: T, snapshot: CacheSnapshot)?
    {
        guard let snapshot = try read() else { return nil }
        return (try decoded(T.self, from: snapshot) { try decoder.decode(T.self, fromValidated: snapshot.payload) }, snapshot)
    }

    /// The current cache decoded as `T` by Foundation's `JSONDecoder`, for a host
    /// that needs exactly its behaviour; nil when there is none.
    public func read<T: Decodable>(as type: T.Type, decoder: JSONDecoder) throws(MetadataCacheError)
        -> (value: T, snapshot: CacheSnapshot)?
    {
        guard let snapshot = try read() else { return nil }
        return (try decoded(T.self, from: snapshot) { try decoder.decode(T.self, from: snapshot.payload) }, snapshot)
    }

    /// `decode()`, its error as `decodingFailed`: a `DecodingError` as it is, any
    /// other error (thrown by a type's own `init(from:)`) inside one.
    private func decoded<T>(_ type: T.Type, from snapshot: CacheSnapshot, _ decode: () throws -> T) throws(MetadataCacheError) -> T {
        do {
            return try decode()
        } catch {
            let decodingError = error as? DecodingError ?? DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: [], debugDescription: String(describing: error), underlyingError: error))
            throw .decodingFailed(path: snapshot.path, type: String(describing: T.self), error: decodingError)
        }
    }

    /// Whether a commit happened since `snapshot` was read, from one `stat` of the
    /// file in the checked directory (no read; the directory walk costs a few
    /// calls per path component). Long-running hosts call this before re-reading
    /// and re-parsing.
    public func hasChanged(since snapshot: CacheSnapshot) throws(MetadataCacheError) -> Bool {
        guard let directory = try openDirectoryIfPresent() else { return true }
        return try CacheFileReader(directory: directory).identity(layout.cacheName) != snapshot.fileIdentity
    }

    /// The header of the current cache (generation, dates, validators) without
    /// reading or verifying the payload; nil when there is none.
    package func readHeader() throws(MetadataCacheError) -> CacheHeader? {
        guard let directory = try openDirectoryIfPresent() else { return nil }
        return try CacheFileReader(directory: directory).readHeader(layout.cacheName)?.header
    }

    // MARK: Writer lock

    /// Takes the exclusive writer lock, waiting up to `timeout` (default: the
    /// options' `lockTimeout`). Blocks the calling thread; from async code use the
    /// async overload, which also honours task cancellation (async code cannot call
    /// this one: a blocked thread of the concurrency pool starves other tasks).
    ///
    /// Throws `selfDeadlock` at once if this process already holds the lock (a
    /// guard is not re-entrant) or if the holder is an ancestor process.
    @available(*, noasync, message: "blocks the thread while waiting for the lock; use the async acquireWriterLock")
    public func acquireWriterLock(timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil)
        throws(MetadataCacheError) -> CacheWriterLockGuard
    {
        CacheWriterLockGuard(
            lock: try acquireHeldLock(timeout: timeout, cancellation: cancellation.map { [$0] } ?? [], reentrancy: .refuse),
            store: self)
    }

    /// Async form of `acquireWriterLock`: the wait runs on a dedicated thread (it
    /// blocks in the kernel), and cancelling the task ends it with `cancelled`.
    public func acquireWriterLock(timeout: LockTimeout? = nil, cancellation: CancellationToken? = nil) async throws(MetadataCacheError)
        -> CacheWriterLockGuard
    {
        CacheWriterLockGuard(
            lock: try await acquireHeldLockAsync(timeout: timeout, cancellation: cancellation, reentrancy: .refuse),
            store: self)
    }

    /// - Parameter holder: the thread or task that will hold the lock: the caller's
    ///   own, unless the caller acquires on behalf of an async caller.
    package func acquireHeldLock(
        timeout: LockTimeout?, cancellation: [CancellationToken], reentrancy: WriterLockAcquisition.Reentrancy,
        holder: ExecutionContextID = .current
    ) throws(MetadataCacheError) -> HeldWriterLock {
        let directory = try openDirectoryForWriting()
        let held = try acquisition(in: directory).acquire(
            timeout: timeout ?? options.lockTimeout, cancellation: cancellation, reentrancy: reentrancy, holder: holder)
        if options.sweepOnOpen, !state.sweptAfterOpen.exchange(true) {
            // Holding the lock proves which leftovers are orphans (see OrphanSweeper).
            _ = OrphanSweeper(holding: held, store: self, directory: held.directory).sweepWhileHoldingLock()
        }
        return held
    }

    package func acquireHeldLockAsync(
        timeout: LockTimeout?, cancellation: CancellationToken?, reentrancy: WriterLockAcquisition.Reentrancy
    ) async throws(MetadataCacheError) -> HeldWriterLock {
        let taskCancellation = CancellationToken()
        let tokens = [taskCancellation] + (cancellation.map { [$0] } ?? [])
        // The task holds the lock, not the helper thread that waits for it.
        let holder = ExecutionContextID.current
        if Task.isCancelled { throw .cancelled(lockPath: lockPath, waited: .zero) }
        // A nested acquisition by the task that holds the lock (an update inside a
        // refresh's fetch) fails here, at once: no thread is started and nothing
        // waits for the concurrency pool to resume this task.
        if let refusal = selfDeadlock(reentrancy: reentrancy, holder: holder) { throw refusal }
        let result: Result<HeldWriterLock, MetadataCacheError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let store = self
                // The acquisition calls the host's observer: give it a full stack.
                let started = OSThread.detach(stackSize: OSThread.hostCodeStackSize) {
                    do throws(MetadataCacheError) {
                        continuation.resume(returning: .success(
                            try store.acquireHeldLock(
                                timeout: timeout, cancellation: tokens, reentrancy: reentrancy, holder: holder)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                if !started {
                    continuation.resume(returning: Result { () throws(MetadataCacheError) in
                        try store.acquireHeldLock(
                            timeout: timeout, cancellation: tokens, reentrancy: reentrancy, holder: holder)
                    })
                }
            }
        } onCancel: {
            taskCancellation.cancel()
        }
        return try result.get()
    }

    /// The refusal an acquisition by `holder` meets at once because this process
    /// already holds the lock (the rule `WriterLockAcquisition.acquire` applies):
    /// always for a raw guard, and for `update`/`refresh` when the holder is the
    /// acquiring task itself. Nil when the lock is not held here (or the directory
    /// does not exist yet, so it cannot be).
    private func selfDeadlock(reentrancy: WriterLockAcquisition.Reentrancy, holder: ExecutionContextID) -> MetadataCacheError? {
        guard let directory = try? openDirectoryIfPresent(), let mine = HeldWriterLocks.entry(HeldWriterLocks.key(for: layout, directory: directory)),
            reentrancy == .refuse || mine.holder == holder
        else { return nil }
        return .selfDeadlock(lockPath: layout.lockPath, holder: mine.record, holderIsAncestor: false)
    }

    package func acquisition(in directory: CacheDirectoryHandle) -> WriterLockAcquisition {
        WriterLockAcquisition(layout: layout, directory: directory, options: options, fileSystem: fileSystem(of: directory))
    }

    /// The filesystem under the directory (fstatfs of the open directory), looked
    /// up once.
    package func fileSystem(of directory: CacheDirectoryHandle) -> FileSystemType? {
        state.fileSystem.withLock { cached in
            if let cached { return cached }
            cached = try? directory.fileSystemType()
            return cached
        }
    }

    /// The filesystem, when the directory exists (nil otherwise).
    package var fileSystem: FileSystemType? {
        guard let directory = try? openDirectoryIfPresent() else { return nil }
        return fileSystem(of: directory)
    }

    // MARK: Directory

    /// The cache directory, opened and checked (`DirectorySafety.open`), created
    /// with mode 0700 (and missing parents) if needed. Every store file is reached
    /// through the handle.
    ///
    /// Opened anew by each operation, which then uses that one descriptor
    /// throughout (a held lock keeps its own until released). Not kept for the
    /// store's lifetime: a descriptor held open keeps a removed directory alive —
    /// a host would go on reading a deleted directory, and inotify withholds the
    /// directory's `IN_DELETE_SELF` from watchers until the last descriptor
    /// closes. The walk costs a few system calls per level of the path.
    package func openDirectoryForWriting() throws(MetadataCacheError) -> CacheDirectoryHandle {
        // Non-nil: with `create`, a missing directory is made, never reported.
        try DirectorySafety.open(directory, sys: sys, allowShared: options.allowSharedDirectory, create: true)!
    }

    /// For readers: the directory opened and checked, nil when it does not exist
    /// (nothing is created).
    package func openDirectoryIfPresent() throws(MetadataCacheError) -> CacheDirectoryHandle? {
        try DirectorySafety.open(directory, sys: sys, allowShared: options.allowSharedDirectory, create: false)
    }

    /// For readers: checks the directory once if it exists; false when it does not.
    package func checkDirectoryIfPresent() throws(MetadataCacheError) -> Bool {
        try openDirectoryIfPresent() != nil
    }
}