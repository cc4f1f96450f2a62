import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
    /// A refresher process SIGKILLed at each step of the commit protocol, through the
    /// library's fault injector (`crash-before`/`crash-after`: the child kills itself
    /// exactly there). After each crash: the cache is exactly the old or exactly the
    /// new version, the lock is free and re-acquirable, the sweeper removes the
    /// orphaned temp file, and a following refresh succeeds.
    @Suite struct CrashAtEveryStepTests {
        /// One crash point. `faults` may depend on the backend (they no longer do:
        /// on a local filesystem, where these tests run, the lock-file backend does
        /// not fsync its owner file, so the temp file's fsync is the first one).
        struct CrashStep: CustomStringConvertible, Sendable {
            let name: String
            let faults: @Sendable (LockBackendSelection) -> [String]
            /// The rename happened: the new version is in place and no temp remains.
            let renamed: Bool
            var description: String { name }
        }

        static func tempFsync(_ backend: LockBackendSelection) -> Int { 1 }

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

        /// A payload large enough for the checksum to run on a second thread during
        /// the write, where the header is written twice (provisional, then final).
        /// Advisory backend: pwrite #1 is the holder record, #2 the final header.
        static let largePayloadBytes = ConcurrentChecksum.minimumBytes + 4096
        static let largePayloadSteps: [CrashStep] = [
            CrashStep(name: "mid-write of the payload, checksum running", faults: { _ in ["write#2=crash-after"] }, renamed: false),
            CrashStep(name: "after the provisional header, before the final one", faults: { _ in ["pwrite#2=crash-before"] }, renamed: false),
            CrashStep(name: "after the final header, before fsync", faults: { _ in ["fsync#1=crash-before"] }, renamed: false),
            CrashStep(name: "after rename", faults: { _ in ["rename@.tmp-=crash-after"] }, renamed: true),
        ]

        @Test(arguments: steps, backends)
        func aCrashLeavesTheOldOrTheNewVersionAndARecoverableDirectory(step: CrashStep, backend: LockBackendSelection) async throws {
            try await crash(at: step, backend: backend, payloadBytes: 64 * 1024)
        }

        @Test(arguments: largePayloadSteps)
        func aCrashWhileTheChecksumRunsConcurrentlyLeavesTheOldOrTheNewVersion(step: CrashStep) async throws {
            try await crash(at: step, backend: .advisory, payloadBytes: Self.largePayloadBytes)
        }

        func crash(at step: CrashStep, backend: LockBackendSelection, payloadBytes: Int) async throws {
            let dir = TemporaryDirectory("crash")
            let old = CommitOnceChild(directory: dir.path, sequence: 1, payloadBytes: payloadBytes, backend: backend)
            let seeded = try await old.run()
            #expect(seeded.exitCode == 0, "seeding failed: \(seeded.stdoutText) \(seeded.stderr)")
            let before = CacheDirectoryState(dir.path)
            let oldFile = try #require(before.cacheFile)

            let crashing = CommitOnceChild(
                directory: dir.path, sequence: 2, payloadBytes: payloadBytes, backend: backend, faults: step.faults(backend))
            let crash = try await crashing.run()
            #expect(crash.termination == .signaled(SIGKILL), "expected a SIGKILL at \(step): \(crash.termination) \(crash.stdoutText)")

            try await CrashRecovery.check(
                directory: dir.path, backend: backend, oldFile: oldFile, oldPayload: old.expectedPayload,
                newPayload: crashing.expectedPayload, expectNew: step.renamed, context: "\(step) (\(backend))")
        }
    }
}
