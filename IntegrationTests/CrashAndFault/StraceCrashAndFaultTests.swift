import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The same crash and fault checks as the injector-based tests, but against a
/// real, unmodified process (the harness's commit-once worker): strace kills it
/// with SIGKILL on entry to a chosen system call, or makes that call fail, and the
/// library inside knows nothing. Where the calls fall is learned by tracing one
/// clean commit first (`CommitSyscallMap`), so the tests follow the program.
@Suite(.enabled(if: Strace.isAvailable, Strace.skipReason))
struct StraceCrashAndFaultTests {
    static let map: Result<CommitSyscallMap, any Error> = Result {
        let dir = TemporaryDirectory("strace-calibrate")
        _ = try CommitOnceChild(directory: dir.path, sequence: 1).runBlocking()
        let trace = dir.file("trace")
        let result = try CommitOnceChild(directory: dir.path, sequence: 2).runBlocking(under: Strace.recording(output: trace))
        guard result.exitCode == 0 else { throw CommitSyscallMap.CalibrationError(description: "clean traced run: \(result.termination)") }
        return try CommitSyscallMap(trace: String(contentsOfFile: trace, encoding: .utf8))
    }

    @Test(arguments: [
        StraceCrashPoint.betweenWrites, .beforeFsync, .beforeRename, .beforeDirectoryFsync, .beforeRelease,
    ])
    func aSIGKILLAtARealSystemCallLeavesTheOldOrNewVersionAndARecoverableDirectory(point: StraceCrashPoint) async throws {
        let injection = try point.injection(try Self.map.get())
        let dir = TemporaryDirectory("strace-crash")
        let old = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await old.run().exitCode == 0)
        let oldFile = try #require(CacheDirectoryState(dir.path).cacheFile)

        let crashing = CommitOnceChild(directory: dir.path, sequence: 2)
        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let result = try await crashing.run(under: Strace.injecting(injection, output: trace))
        #expect(result.termination == .signaled(SIGKILL), "\(point): strace ended with \(result.termination): \(result.stderr)")
        let traceText = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        #expect(traceText.contains("+++ killed by SIGKILL +++"), "the traced process was not killed by the injection")
        #expect(!result.stdoutText.contains("COMMITTED"))

        let state = CacheDirectoryState(dir.path)
        if let orphan = point.orphan {
            let temp = try #require(state.temps.first, "\(point): no orphaned temp file")
            let headerLength = oldFile.count - old.expectedPayload.count
            let expected = orphan == .headerOnly ? headerLength : headerLength + crashing.expectedPayload.count
            #expect(state.tempSize(temp) == expected, "\(point): the temp holds \(state.tempSize(temp)) bytes, expected \(expected)")
        }
        try await CrashRecovery.check(
            directory: dir.path, backend: .advisory, oldFile: oldFile, oldPayload: old.expectedPayload,
            newPayload: crashing.expectedPayload, expectNew: point.renamed, context: point.name)
    }

    @Test(arguments: StraceFaultPoint.all)
    func aFailingRealSystemCallFailsTheCommitCleanly(point: StraceFaultPoint) async throws {
        let injection = try point.injection(try Self.map.get())
        let dir = TemporaryDirectory("strace-fault")
        let old = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await old.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(dir.path).cacheFile)

        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let result = try await CommitOnceChild(directory: dir.path, sequence: 2).run(under: Strace.injecting(injection, output: trace))
        #expect(result.exitCode == point.exitCode, "\(point): \(result.termination) \(result.stdoutText)")
        #expect(CommitOnceChild.Verdict(result) == .failed(kind: "io", errno: point.errno), "\(result.stdoutText)")
        let after = CacheDirectoryState(dir.path)
        #expect(after.cacheFile == before, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
    }

    @Test(arguments: StraceInterruptStorm.all)
    func anEINTRStormOnARealSystemCallIsRetriedAndTheCommitSucceeds(storm: StraceInterruptStorm) async throws {
        let injection = try storm.injection(try Self.map.get())
        let dir = TemporaryDirectory("strace-eintr")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1).run().exitCode == 0)
        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let child = CommitOnceChild(directory: dir.path, sequence: 2)
        let result = try await child.run(under: Strace.injecting(injection, output: trace))
        #expect(result.exitCode == 0, "\(storm): \(result.termination) \(result.stdoutText) \(result.stderr)")
        let interrupted = StraceInterruptStorm.count(inTrace: (try? String(contentsOfFile: trace, encoding: .utf8)) ?? "")
        #expect(interrupted == StraceInterruptStorm.length, "\(storm): \(interrupted) injected interruptions")
        let after = CacheDirectoryState(dir.path)
        #expect(try after.verifiedPayload() == child.expectedPayload)
        #expect(after.temps.isEmpty)
    }
}
