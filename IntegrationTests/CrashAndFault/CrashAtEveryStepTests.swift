import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A refresher process SIGKILLed at each step of the commit protocol, through the
/// library's fault injector (`crash-before`/`crash-after`: the child kills itself
/// exactly there). After each crash: the cache is exactly the old or exactly the
/// new version, the lock is free and re-acquirable, the sweeper removes the
/// orphaned temp file, and a following refresh succeeds.
@Suite struct CrashAtEveryStepTests {
    /// One crash point. `faults` depend on the backend: the lock-file backend
    /// fsyncs its owner file first, so the temp file's fsync is the second one.
    struct CrashStep: CustomStringConvertible, Sendable {
        let name: String
        let faults: @Sendable (LockBackendSelection) -> [String]
        /// The rename happened: the new version is in place and no temp remains.
        let renamed: Bool
        var description: String { name }
    }

    static func tempFsync(_ backend: LockBackendSelection) -> Int { backend == .lockFile ? 2 : 1 }

    static let steps: [CrashStep] = [
        CrashStep(name: "after temp create", faults: { _ in ["open@.tmp-=crash-after"] }, renamed: false),
        CrashStep(name: "mid-write of the header", faults: { _ in ["write#1=crash-after"] }, renamed: false),
        CrashStep(name: "mid-write of the payload", faults: { _ in ["write#2=crash-after"] }, renamed: false),
        CrashStep(name: "after write, before fsync", faults: { ["fsync#\(tempFsync($0))=crash-before"] }, renamed: false),
        CrashStep(name: "after fsync", faults: { ["fsync#\(tempFsync($0))=crash-after"] }, renamed: false),
        CrashStep(name: "after close, before rename", faults: { _ in ["rename@.tmp-=crash-before"] }, renamed: false),
        CrashStep(name: "after rename", faults: { _ in ["rename@.tmp-=crash-after"] }, renamed: true),
        CrashStep(name: "after directory fsync", faults: { _ in ["fsyncDirectory=crash-after"] }, renamed: true),
    ]

    static let backends: [LockBackendSelection] = [.advisory, .lockFile]

    @Test(arguments: steps, backends)
    func aCrashLeavesTheOldOrTheNewVersionAndARecoverableDirectory(step: CrashStep, backend: LockBackendSelection) async throws {
        let dir = TemporaryDirectory("crash")
        let old = CommitOnceChild(directory: dir.path, sequence: 1, backend: backend)
        let seeded = try await old.run()
        #expect(seeded.exitCode == 0, "seeding failed: \(seeded.stdoutText) \(seeded.stderr)")
        let before = CacheDirectoryState(dir.path)
        let oldFile = try #require(before.cacheFile)

        let crashing = CommitOnceChild(directory: dir.path, sequence: 2, backend: backend, faults: step.faults(backend))
        let crash = try await crashing.run()
        #expect(crash.termination == .signaled(SIGKILL), "expected a SIGKILL at \(step): \(crash.termination) \(crash.stdoutText)")

        try await CrashRecovery.check(
            directory: dir.path, backend: backend, oldFile: oldFile, oldPayload: old.expectedPayload,
            newPayload: crashing.expectedPayload, expectNew: step.renamed, context: "\(step) (\(backend))")
    }
}

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
