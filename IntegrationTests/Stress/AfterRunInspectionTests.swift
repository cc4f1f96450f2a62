import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
/// What the harness finds in a cache directory after a run, on directories left
/// in each state on purpose: clean, still locked by a live writer (its temp not
/// removable), and holding a final cache that does not verify.
@Suite struct AfterRunInspectionTests {
    static func commit(_ payload: [UInt8], in directory: String) throws {
        let store = try CacheStore(directory: directory)
        let writer = try store.acquireWriterLock(timeout: .immediate)
        try writer.commit(Data(payload), source: "test")
        writer.release()
    }

    @Test func aCleanDirectoryPasses() throws {
        let dir = TemporaryDirectory("inspect-clean")
        try Self.commit(try StressPayload(writer: 1, sequence: 1, generation: 1, length: 4096).build(fillSeed: 1), in: dir.path)
        let i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.orphanTemps.isEmpty)
        #expect(i.lockFree)
        #expect(i.finalCacheProblem == nil)
        #expect(i.finalPayload?.writer == 1)
        #expect(i.finalGeneration == 1)
    }

    @Test(arguments: [LockBackendSelection.advisory, .lockFile])
    func aWriterStillHoldingTheLockLeavesItsTempAndTheLockHeld(backend: LockBackendSelection) async throws {
        let dir = TemporaryDirectory("inspect-held")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1, backend: backend).run().exitCode == 0)
        // Frozen mid-commit: its temp written, before the rename, lock held.
        let holder = CommitOnceChild(directory: dir.path, sequence: 2, backend: backend, faults: ["rename@.tmp-=pause"])
        let process = try ChildProcess(
            CommitOnceChild.harness, holder.invocation.arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
        _ = try await BlockingWork.run { try process.readLine(until: { $0.hasPrefix("PAUSED") }, timeout: .seconds(60)) }

        let i = AfterRunInspection.inspect(directory: dir.path, backend: backend)
        #expect(i.sweepSkippedBecauseHeldBy != nil, "the sweeper must not touch a live writer's temp")
        #expect(i.orphanTemps.count == 1, "\(i.orphanTemps)")
        #expect(!i.lockFree)
        #expect(i.libraryReportsLockHeld)
        if backend == .advisory { #expect(!i.advisoryLockFree) } else { #expect(i.ownerFilePresent) }
        #expect(i.finalCacheProblem == nil, "the old cache is still there and fine")

        process.closeStdin()  // let it finish its commit
        #expect(try await BlockingWork.run { try process.wait(timeout: .seconds(60)) } == .exited(0))
        let after = AfterRunInspection.inspect(directory: dir.path, backend: backend)
        #expect(after.lockFree && after.orphanTemps.isEmpty)
    }

    @Test func anOrphanTempIsSweptAndNotReported() throws {
        let dir = TemporaryDirectory("inspect-orphan")
        try Self.commit(try StressPayload(writer: 1, sequence: 1, generation: 1, length: 4096).build(fillSeed: 1), in: dir.path)
        try dir.write("metadata.json.tmp-deadbeef", Data("partial".utf8))
        let i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.tempsBeforeSweep == ["metadata.json.tmp-deadbeef"], "seen before the sweep, for the leak check")
        #expect(i.swept.count == 1, "\(i.swept)")
        #expect(i.orphanTemps.isEmpty)
    }

    @Test func aFinalCacheThatFailsVerificationIsNamed() throws {
        // A header of generation 1 over a payload written for generation 5.
        var dir = TemporaryDirectory("inspect-mixed")
        try Self.commit(try StressPayload(writer: 1, sequence: 1, generation: 5, length: 4096).build(fillSeed: 1), in: dir.path)
        var i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.finalCacheProblem?.contains("header says generation 1 but its payload was written for generation 5") == true,
            "\(String(describing: i.finalCacheProblem))")
        #expect(i.finalPayload != nil, "the counters stay readable for the lost-update check")

        // Valid for the library, not a stress payload.
        dir = TemporaryDirectory("inspect-foreign")
        try Self.commit(Array(#"{"vendor":"temurin"}"#.utf8), in: dir.path)
        i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.finalCacheProblem?.contains("verifies for the library but not for the harness") == true)
        #expect(i.finalPayload == nil)

        // Damaged on disk: the library's own verification fails.
        dir = TemporaryDirectory("inspect-corrupt")
        try Self.commit(try StressPayload(writer: 1, sequence: 1, generation: 1, length: 4096).build(fillSeed: 1), in: dir.path)
        var bytes = try #require(dir.contents("metadata.json"))
        bytes[bytes.count - 100] ^= 0x01
        try dir.write("metadata.json", bytes)
        i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.finalCacheProblem?.hasPrefix("the final cache does not verify") == true, "\(String(describing: i.finalCacheProblem))")

        // Nothing there at all.
        dir = TemporaryDirectory("inspect-empty")
        i = AfterRunInspection.inspect(directory: dir.path, backend: .auto)
        #expect(i.finalCacheProblem == "no cache file at the end of the run")
    }
}
}
