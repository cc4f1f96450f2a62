import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
    /// The same crash and fault checks as the injector-based tests, but against a
    /// real, unmodified process (the harness's commit-once worker): strace kills it
    /// with SIGKILL on entry to a chosen system call, or makes that call fail, and the
    /// library inside knows nothing. Where the calls fall is learned by tracing one
    /// clean commit first (`CommitSyscallMap`), and every strike is checked against
    /// its own trace.
    @Suite(.enabled(if: Strace.isAvailable, Strace.skipReason))
    struct StraceCrashAndFaultTests {
        static let map: Result<CommitSyscallMap, any Error> = Result {
            let dir = TemporaryDirectory("strace-calibrate")
            _ = try CommitOnceChild(directory: dir.path, sequence: 1).runBlocking()
            return try CommitSyscallMap.calibrate { wrapper in
                let result = try CommitOnceChild(directory: dir.path, sequence: 2).runBlocking(under: wrapper)
                guard result.exitCode == 0 else { throw CommitSyscallMap.CalibrationError(description: "clean traced run: \(result.termination)") }
            }
        }

        /// A directory with a committed old version, and one strike at a new one.
        struct Strike {
            let dir: TemporaryDirectory
            let old: CommitOnceChild
            let new: CommitOnceChild
            let oldFile: Data
            let result: ChildProcess.Result
            let trace: StraceTrace
        }

        static func strike(_ injection: String) async throws -> Strike {
            let dir = TemporaryDirectory("strace")
            let old = CommitOnceChild(directory: dir.path, sequence: 1)
            let seeded = try await old.run()
            guard seeded.exitCode == 0, let oldFile = CacheDirectoryState(dir.path).cacheFile else {
                throw CommitSyscallMap.CalibrationError(description: "seeding failed: \(seeded.termination)")
            }
            let new = CommitOnceChild(directory: dir.path, sequence: 2)
            let trace = dir.path + ".trace"
            defer { unlink(trace) }
            let result = try await new.run(under: Strace.injecting(injection, output: trace))
            return Strike(dir: dir, old: old, new: new, oldFile: oldFile, result: result, trace: StraceTrace.read(trace))
        }

        @Test(arguments: [
            StraceCrashPoint.beforeWrite, .beforeFsync, .beforeRename, .beforeDirectoryFsync, .beforeRelease,
        ])
        func aSIGKILLAtARealSystemCallLeavesTheOldOrNewVersionAndARecoverableDirectory(point: StraceCrashPoint) async throws {
            let map = try Self.map.get()
            let s = try await StraceStrike.aim { attempt in
                let s = try await Self.strike(try point.injection(map, attempt: attempt))
                return (s, s.trace.killed(at: point.step))
            }
            #expect(s.result.termination == .signaled(SIGKILL), "\(point): strace ended with \(s.result.termination): \(s.result.stderr)")
            #expect(!s.result.stdoutText.contains("COMMITTED"))

            let state = CacheDirectoryState(s.dir.path)
            if let orphan = point.orphan {
                let temp = try #require(state.temps.first, "\(point): no orphaned temp file")
                let headerLength = s.oldFile.count - s.old.expectedPayload.count
                let expected = orphan == .empty ? 0 : headerLength + s.new.expectedPayload.count
                #expect(state.tempSize(temp) == expected, "\(point): the temp holds \(state.tempSize(temp)) bytes, expected \(expected)")
            }
            try await CrashRecovery.check(
                directory: s.dir.path, backend: .advisory, oldFile: s.oldFile, oldPayload: s.old.expectedPayload,
                newPayload: s.new.expectedPayload, expectNew: point.renamed, context: point.name)
        }

        @Test(arguments: StraceFaultPoint.all)
        func aFailingRealSystemCallFailsTheCommitCleanly(point: StraceFaultPoint) async throws {
            let map = try Self.map.get()
            let s = try await StraceStrike.aim { attempt in
                let s = try await Self.strike(try point.injection(map, attempt: attempt))
                return (s, s.trace.failed(at: point.step))
            }
            #expect(s.result.exitCode == point.exitCode, "\(point): \(s.result.termination) \(s.result.stdoutText)")
            #expect(CommitOnceChild.Verdict(s.result) == .failed(kind: "io", errno: point.errno), "\(s.result.stdoutText)")
            let after = CacheDirectoryState(s.dir.path)
            #expect(after.cacheFile == s.oldFile, "the old cache changed")
            #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
        }

        @Test(arguments: StraceInterruptStorm.all)
        func anEINTRStormOnARealSystemCallIsRetriedAndTheCommitSucceeds(storm: StraceInterruptStorm) async throws {
            let map = try Self.map.get()
            let s = try await StraceStrike.aim { attempt in
                let s = try await Self.strike(try storm.injection(map, attempt: attempt))
                let (count, onCommitThread) = s.trace.interruptions()
                return (s, count == StraceInterruptStorm.length && onCommitThread)
            }
            #expect(s.result.exitCode == 0, "\(storm): \(s.result.termination) \(s.result.stdoutText) \(s.result.stderr)")
            let after = CacheDirectoryState(s.dir.path)
            let exact = try after.verifiedPayload() == s.new.expectedPayload
            #expect(exact, "the cache is not exactly the new payload")
            #expect(after.temps.isEmpty)
        }
    }
}
