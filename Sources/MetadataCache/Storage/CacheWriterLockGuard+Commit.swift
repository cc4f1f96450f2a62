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

extension CacheWriterLockGuard {
    /// The current cache as seen under the lock (verified); nil when there is none.
    public func read() throws(MetadataCacheError) -> CacheSnapshot? {
        try store.read()
    }

    /// The version an `update` edits: `read()`, except that a newer format's file
    /// counts as none when the options allow overwriting it.
    package func readForEditing() throws(MetadataCacheError) -> CacheSnapshot? {
        do {
            return try read()
        } catch .newerFormat(let path, let version, let flags) {
            guard store.options.overwriteNewerFormat else {
                throw .newerFormat(path: path, version: version, unknownFlags: flags)
            }
            return nil
        }
    }

    /// Commits `payload` as the new cache: validated (strict JSON, size limit) before
    /// any file is touched, then written durably (see `DurableCommit`). On failure
    /// the previous cache is unchanged and no temp file remains. It is recorded as
    /// a fetch (`CommitKind.fetch`). A cache file written by a newer MetadataCache
    /// is not replaced (`newerFormat`) unless the options allow it.
    /// - Parameters:
    ///   - source: where the payload came from (URL or path), stored for `status`.
    ///   - validators: HTTP validators to send on the next conditional refresh.
    ///   - fetchedAt: when the payload was fetched (freshness is measured from it).
    @discardableResult
    public func commit(
        _ payload: some ContiguousBytes, source: String? = nil, validators: HTTPValidators = HTTPValidators(),
        fetchedAt: Date = Date(), validation: PayloadValidation = .strictJSON
    ) throws(MetadataCacheError) -> CommitReceipt {
        try withBytes(of: payload) { (bytes) throws(MetadataCacheError) in
            try commitBytes(
                bytes, kind: .fetch, source: source, validators: validators,
                fetchedAtMilliseconds: EpochMilliseconds.milliseconds(fetchedAt), validation: validation, generation: .next)
        }
    }

    /// Commits `payload` as a local edit of `previous` (what `update` does): the
    /// new version keeps `previous`'s fetchedAt, source and validators, so it is
    /// exactly as fresh, as revalidatable and as attributable as what it edited;
    /// with no previous version it was never fetched.
    @discardableResult
    package func commitUpdate(_ payload: Data, editing previous: CacheSnapshot?) throws(MetadataCacheError) -> CommitReceipt {
        try withBytes(of: payload) { (bytes) throws(MetadataCacheError) in
            try commitBytes(
                bytes, kind: .update, source: previous?.source, validators: previous?.validators ?? HTTPValidators(),
                fetchedAtMilliseconds: previous?.fetchedAtMilliseconds ?? CacheHeader.neverFetched,
                validation: .strictJSON, generation: .next)
        }
    }

    /// Commits `value` encoded as JSON; `JSONEncoder` output is valid by construction,
    /// so only the size limit is checked. A value that does not encode throws
    /// `encodingFailed`, with the encoder's `EncodingError`.
    @discardableResult
    public func commit<T: Encodable>(
        encoding value: T, encoder: JSONEncoder = JSONEncoder(), source: String? = nil,
        validators: HTTPValidators = HTTPValidators(), fetchedAt: Date = Date()
    ) throws(MetadataCacheError) -> CommitReceipt {
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            let encodingError = error as? EncodingError ?? EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: [], debugDescription: String(describing: error), underlyingError: error))
            throw .encodingFailed(type: String(describing: T.self), error: encodingError)
        }
        return try commit(data, source: source, validators: validators, fetchedAt: fetchedAt, validation: .trusted)
    }

    /// Records that the source confirmed the cached payload is current (an HTTP
    /// `304 Not Modified`): rewrites the file with the same payload and generation
    /// and a new `fetchedAt` (so freshness restarts), keeping or replacing the
    /// validators. Throws `corruptCache` if the current cache does not verify, and
    /// `io(ENOENT)` if there is none to revalidate.
    @discardableResult
    public func commitRevalidation(
        fetchedAt: Date = Date(), validators: HTTPValidators? = nil
    ) throws(MetadataCacheError) -> CommitReceipt {
        guard let current = try CacheFileReader(directory: lock.directory).read(store.layout.cacheName) else {
            throw .io(operation: "revalidate cache", path: store.cachePath, errno: .noSuchFile)
        }
        let keep = validators ?? current.validators
        return try withBytes(of: current.payload) { (bytes) throws(MetadataCacheError) in
            try commitBytes(
                bytes, kind: .revalidation, source: current.source, validators: keep,
                fetchedAtMilliseconds: EpochMilliseconds.milliseconds(fetchedAt), validation: .trusted,
                generation: .same(current.generation))
        }
    }

    /// Moves a corrupt cache file aside to `NAME.json.corrupt-TIMESTAMP` (never
    /// deletes it), so the next refresh rebuilds the cache. Returns the new path, or
    /// nil when the current cache is fine or missing. A file written by a newer
    /// MetadataCache is intact, not corrupt: it stays in place (`newerFormat`).
    public func moveCorruptCacheAside() throws(MetadataCacheError) -> String? {
        do {
            _ = try CacheFileReader(directory: lock.directory).read(store.layout.cacheName)
            return nil
        } catch .corruptCache {
            let asideName = store.layout.corruptAsideName(millisecondsSinceEpoch: EpochMilliseconds.now)
            let aside = lock.directory.path(of: asideName)
            // rename, not unlink or copy: one atomic step that keeps the evidence
            // (bytes and inode) for whoever investigates, and leaves readers with
            // "no cache" rather than a half-moved file. We hold the writer lock, so
            // no commit can rename a new cache into place in between.
            // Relative to the directory the lock is held in, never by path.
            try lock.directory.rename(store.layout.cacheName, to: asideName)
            store.options.observer?.observe(.corruptCacheMovedAside(path: store.cachePath, movedTo: aside))
            return aside
        }
    }

    /// Removes orphaned temp files now (what the guard proves orphaned: see
    /// `OrphanSweeper`).
    public func sweepOrphans() -> [String] {
        OrphanSweeper(holding: lock, store: store, directory: lock.directory).sweepWhileHoldingLock()
    }

    enum GenerationRule {
        case next
        case same(UInt64)
    }

    private func commitBytes(
        _ bytes: UnsafeRawBufferPointer, kind: CommitKind, source: String?, validators: HTTPValidators,
        fetchedAtMilliseconds: Int64, validation: PayloadValidation, generation rule: GenerationRule
    ) throws(MetadataCacheError) -> CommitReceipt {
        let started = ContinuousClock.now
        let options = store.options
        let retries = DurableCommit.RetryCounter()
        do throws(MetadataCacheError) {
            // Step 1 of the protocol: nothing touches the disk until the payload is
            // known good. A revalidation rewrites bytes that were committed and
            // verified before: a lower limit set since must not turn a `304` into
            // a failure.
            if case .next = rule, bytes.count > options.maximumPayloadBytes {
                throw MetadataCacheError.payloadTooLarge(bytes: bytes.count, limit: options.maximumPayloadBytes)
            }
            if validation == .strictJSON {
                do {
                    try StrictJSONValidator(maxDepth: options.maximumJSONDepth).validate(bytes)
                } catch {
                    throw MetadataCacheError.invalidPayload(error)
                }
            }
            try lock.verifyStillHeld()

            let generation: UInt64
            switch rule {
            case .next:
                // A corrupt or missing cache restarts at 1; commit ids still differ.
                // A newer format's file is replaced only when the options say so
                // (then it restarts at 1 too: its generation may mean anything).
                // Any other failure to read the previous header (EIO, EMFILE) fails
                // the commit: numbering on would silently restart the generation.
                let previous: UInt64
                do throws(MetadataCacheError) {
                    previous = try CacheFileReader(directory: lock.directory).readHeader(store.layout.cacheName)?.header
                        .generation ?? 0
                } catch .corruptCache {
                    previous = 0
                } catch .newerFormat(let path, let version, let flags) {
                    guard options.overwriteNewerFormat else {
                        throw MetadataCacheError.newerFormat(path: path, version: version, unknownFlags: flags)
                    }
                    previous = 0
                }
                // 2^64 - 1 commits later, numbering starts again at 1 (never 0).
                generation = previous == .max ? 1 : previous + 1
            case let .same(g):
                generation = g
            }
            var header = CacheHeader(
                payloadLength: UInt64(bytes.count), payloadChecksum: 0, generation: generation,
                commitID: UInt64.random(in: 1...UInt64.max),
                fetchedAtMilliseconds: fetchedAtMilliseconds, committedAtMilliseconds: EpochMilliseconds.now,
                writerPID: ProcessIdentity.currentPID, source: source, etag: validators.etag,
                lastModified: validators.lastModified, writerHost: ProcessIdentity.hostName, commitKind: kind)
            let durable = DurableCommit(
                layout: store.layout, directory: lock.directory, fileMode: mode_t(options.fileMode),
                freeSpaceMargin: options.freeSpaceMargin,
                permissionErrorsMayBeTransient: DurableCommit.permissionErrorsMayBeTransient(
                    on: store.fileSystem(of: lock.directory)),
                observer: options.observer)
            let lock = self.lock
            let result = try durable.commit(
                header: { checksum in
                    header.payloadChecksum = checksum
                    return header.encoded()
                }, payload: bytes, renameBudget: lock.remainingBudget, retries: retries,
                beforeRename: { () throws(MetadataCacheError) in try lock.verifyStillHeld() })
            let duration = ContinuousClock.now - started
            options.observer?.observe(.commitSucceeded(
                path: store.cachePath, generation: generation, bytes: bytes.count, duration: duration,
                renameRetries: result.renameRetries))
            return CommitReceipt(
                path: store.cachePath, generation: generation, commitID: header.commitID, payloadBytes: bytes.count,
                fetchedAt: EpochMilliseconds.date(fetchedAtMilliseconds), duration: duration, renameRetries: result.renameRetries, lockWaited: lock.waited)
        } catch {
            options.observer?.observe(.commitFailed(path: store.cachePath, error: error, renameRetries: retries.count))
            throw error
        }
    }
}
