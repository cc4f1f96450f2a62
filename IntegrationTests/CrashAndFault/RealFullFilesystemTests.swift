import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

extension MetacacheIntegration {
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
        #expect((CommitOnceChild.firedFaults(result) ?? 0) >= 1, "the free-space check was not overridden: \(result.stdoutText)")
        let after = CacheDirectoryState(fs.path)
        #expect(after.cacheFile == before, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
        let intact = try after.verifiedPayload() == old.expectedPayload
        #expect(intact, "the old payload does not read back")
        #expect(fs.availableBytes == freeBefore, "the partial temp's space was not given back")

        // And once there is room again, a commit succeeds.
        let next = CommitOnceChild(directory: fs.path, sequence: 3, payloadBytes: 64 << 10)
        #expect(try await next.run().exitCode == 0)
        let exact = try CacheDirectoryState(fs.path).verifiedPayload() == next.expectedPayload
        #expect(exact, "the cache is not exactly the new payload")
    }

    @Test func theCLIRefusesARefreshThatCannotFitWithStatus73() async throws {
        try CLIUnderTest.requireUsable()
        let fs = try TmpfsMount(sizeBytes: Self.size)
        let work = TemporaryDirectory("cli-full")
        let cache = fs.path + "/cache"
        let small = work.file("small.json")
        let big = work.file("big.json")
        let smallPayload = try StressPayload(writer: 1, sequence: 1, generation: 0, length: 16 << 10).build(fillSeed: 1)
        try Data(smallPayload).write(to: URL(fileURLWithPath: small))
        try Data(StressPayload(writer: 1, sequence: 2, generation: 0, length: 3584 << 10).build(fillSeed: 1))
            .write(to: URL(fileURLWithPath: big))
        func metacache(_ arguments: [String]) async throws -> ChildProcess.Result {
            let command = [CLIUnderTest.path] + arguments + ["--dir", cache]
            return try await BlockingWork.run {
                try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment())
            }
        }
        #expect(try await metacache(["cache", "refresh", "--source", small]).exitCode == 0)
        let before = try #require(CacheDirectoryState(cache).cacheFile)

        let result = try await metacache(["cache", "refresh", "--source", big, "--force"])
        #expect(result.exitCode == 73, "\(result.termination) \(result.stderr)")
        #expect(result.stderr.contains("available"), "the error gives the space needed and available: \(result.stderr)")
        #expect(CacheDirectoryState(cache).cacheFile == before)
        #expect(CacheDirectoryState(cache).temps.isEmpty)
        let read = try await metacache(["cache", "read"])
        let intact = read.stdout == smallPayload
        #expect(read.exitCode == 0 && intact, "the previous cache no longer reads back")
    }
}
}
