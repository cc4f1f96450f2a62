import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

/// A genuinely full filesystem: a 4 MiB tmpfs mounted for the test (root with
/// mount permission; skipped with the reason printed elsewhere).
@Suite(.enabled(if: TmpfsMount.isAvailable, TmpfsMount.skipReason))
struct RealFullFilesystemTests {
    static let size = 4 << 20

    @Test func aCommitThatCannotFitIsRefusedBeforeWritingAndSaysSo() async throws {
        let fs = try TmpfsMount(sizeBytes: Self.size)
        let old = CommitOnceChild(directory: fs.path, sequence: 1, payloadBytes: 16 << 10)
        #expect(try await old.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(fs.path).cacheFile)

        // 3.5 MiB fits in the free space but not with the library's 1 MiB margin.
        let big = CommitOnceChild(directory: fs.path, sequence: 2, payloadBytes: 3584 << 10)
        let result = try await big.run()
        #expect(result.exitCode == 73, "\(result.termination) \(result.stdoutText)")
        #expect(CommitOnceChild.Verdict(result) == .failed(kind: "insufficientSpace", errno: "-"))
        #expect(result.stdoutText.contains("available"), "the error gives the space needed and available: \(result.stdoutText)")
        let after = CacheDirectoryState(fs.path)
        #expect(after.cacheFile == before)
        #expect(after.temps.isEmpty)
    }

    @Test func aRealENOSPCFromTheKernelFailsCleanlyAndGivesTheSpaceBack() async throws {
        let fs = try TmpfsMount(sizeBytes: Self.size)
        let old = CommitOnceChild(directory: fs.path, sequence: 1, payloadBytes: 16 << 10)
        #expect(try await old.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(fs.path).cacheFile)
        let freeBefore = fs.availableBytes

        // The free-space check is told there is plenty (as if another process
        // filled the disk right after it), so the write itself meets the full
        // filesystem: the kernel's own ENOSPC, part-way through the payload.
        let big = CommitOnceChild(
            directory: fs.path, sequence: 2, payloadBytes: 6 << 20, faults: ["availableBytes#*=report:1000000000000"])
        let result = try await big.run()
        #expect(result.exitCode == 73, "\(result.termination) \(result.stdoutText)")
        #expect(CommitOnceChild.Verdict(result) == .failed(kind: "io", errno: "ENOSPC"), "\(result.stdoutText)")
        let after = CacheDirectoryState(fs.path)
        #expect(after.cacheFile == before, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
        #expect(try after.verifiedPayload() == old.expectedPayload)
        #expect(fs.availableBytes == freeBefore, "the partial temp's space was not given back")

        // And once there is room again, a commit succeeds.
        let next = CommitOnceChild(directory: fs.path, sequence: 3, payloadBytes: 64 << 10)
        #expect(try await next.run().exitCode == 0)
        #expect(try CacheDirectoryState(fs.path).verifiedPayload() == next.expectedPayload)
    }
}
