import Foundation
import MetadataCache
import Testing
import TestSupport

/// The checks every crash test makes once the crashed writer is gone.
enum CrashRecovery {
    static func check(
        directory: String, backend: LockBackendSelection, oldFile: Data, oldPayload: [UInt8], newPayload: [UInt8],
        expectNew: Bool?, context: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let after = CacheDirectoryState(directory)

        // Exactly the old file, byte for byte, or exactly the new payload.
        let payload = try after.verifiedPayload()
        let isOld = after.cacheFile == oldFile
        let isNew = payload == newPayload
        let oldReadsBack = payload == oldPayload
        #expect(!isOld || oldReadsBack, "\(context): the old file no longer reads back as the old payload", sourceLocation: sourceLocation)
        #expect(isOld || isNew, "\(context): the cache is neither the old file nor the new payload", sourceLocation: sourceLocation)
        if let expectNew {
            #expect(expectNew ? isNew : isOld, "\(context): expected the \(expectNew ? "new" : "old") version", sourceLocation: sourceLocation)
            // Before the rename the crash leaves exactly one orphan; after it, none.
            #expect(after.temps.count == (expectNew ? 0 : 1), "\(context): temps \(after.temps)", sourceLocation: sourceLocation)
        }

        // The lock is free (the kernel dropped the flock; the owner file's pid is dead)…
        var options = CacheStoreOptions.forRecovery
        options.lockBackend = backend
        let store = try CacheStore(directory: directory, options: options)
        let status = try store.status()
        #expect(status.lock.held == false, "\(context): lock still reported held by \(String(describing: status.lock.holder))", sourceLocation: sourceLocation)
        #expect(Set(status.orphanTemps.map { ($0 as NSString).lastPathComponent }) == Set(after.temps), sourceLocation: sourceLocation)
        // …and re-acquirable without waiting.
        let writer = try await store.acquireWriterLock(timeout: .immediate)
        writer.release()

        // The sweeper removes the orphan, and only it.
        let sweep = try store.sweep()
        #expect(Set(sweep.removed.map { ($0 as NSString).lastPathComponent }) == Set(after.temps), sourceLocation: sourceLocation)
        #expect(CacheDirectoryState(directory).temps.isEmpty, sourceLocation: sourceLocation)

        // A following refresh, in a new process, succeeds.
        let next = CommitOnceChild(directory: directory, sequence: 3, backend: backend)
        let result = try await next.run()
        #expect(result.exitCode == 0, "\(context): refresh after the crash: \(result.stdoutText) \(result.stderr)", sourceLocation: sourceLocation)
        let exact = try CacheDirectoryState(directory).verifiedPayload() == next.expectedPayload
        #expect(exact, "\(context): the refresh after the crash did not read back exactly", sourceLocation: sourceLocation)
        #expect(CacheDirectoryState(directory).temps.isEmpty, sourceLocation: sourceLocation)
    }
}

extension CacheStoreOptions {
    /// Inspection after a crash: no sweep on open (the test checks the sweeper
    /// itself), no waiting.
    static var forRecovery: CacheStoreOptions {
        var o = CacheStoreOptions()
        o.sweepOnOpen = false
        o.lockTimeout = .immediate
        return o
    }
}
