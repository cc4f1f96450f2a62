import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The same crash and fault checks as the injector-based tests, but against a
/// real, unmodified process: strace kills it with SIGKILL on entry to a chosen
/// system call, or makes that call fail, and the library inside knows nothing.
/// Where the calls fall is learned by tracing one clean commit first
/// (`CommitSyscallMap`), so the tests follow the program rather than guess.
@Suite(.enabled(if: Strace.isAvailable, Strace.skipReason))
struct StraceCrashAndFaultTests {
    /// The commit's calls in the harness's commit-once worker (advisory backend).
    static let map: Result<CommitSyscallMap, any Error> = Result {
        let dir = TemporaryDirectory("strace-calibrate")
        _ = try CommitOnceChild(directory: dir.path, sequence: 1).runBlocking()
        let trace = dir.file("trace")
        let result = try CommitOnceChild(directory: dir.path, sequence: 2).runBlocking(under: Strace.recording(output: trace))
        guard result.exitCode == 0 else { throw CommitSyscallMap.CalibrationError(description: "clean traced run: \(result.termination)") }
        return try CommitSyscallMap(trace: String(contentsOfFile: trace, encoding: .utf8))
    }

    struct CrashPoint: CustomStringConvertible, Sendable {
        let name: String
        let injection: @Sendable (CommitSyscallMap) -> String
        /// nil: no temp; otherwise whether the temp holds only the header.
        let orphan: Orphan?
        let renamed: Bool
        enum Orphan: Sendable { case headerOnly, complete }
        var description: String { name }
    }

    static let crashPoints: [CrashPoint] = [
        CrashPoint(name: "between the header and payload writes", injection: { "write:signal=SIGKILL:when=\($0.payloadWrite)" },
            orphan: .headerOnly, renamed: false),
        CrashPoint(name: "after the writes, before fsync", injection: { "fsync:signal=SIGKILL:when=\($0.tempFsync)" },
            orphan: .complete, renamed: false),
        CrashPoint(name: "after fsync and close, before rename",
            injection: { "\(CommitSyscallMap.renameCalls):signal=SIGKILL:when=\($0.rename)" }, orphan: .complete, renamed: false),
        CrashPoint(name: "after rename, before the directory fsync", injection: { "fsync:signal=SIGKILL:when=\($0.directoryFsync)" },
            orphan: nil, renamed: true),
        CrashPoint(name: "after the directory fsync, still holding the lock",
            injection: { "ftruncate:signal=SIGKILL:when=\($0.releaseTruncate)" }, orphan: nil, renamed: true),
    ]

    @Test(arguments: crashPoints)
    func aSIGKILLAtARealSystemCallLeavesTheOldOrNewVersionAndARecoverableDirectory(point: CrashPoint) async throws {
        let map = try Self.map.get()
        let dir = TemporaryDirectory("strace-crash")
        let old = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await old.run().exitCode == 0)
        let oldFile = try #require(CacheDirectoryState(dir.path).cacheFile)

        let crashing = CommitOnceChild(directory: dir.path, sequence: 2)
        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let result = try await crashing.run(under: Strace.injecting(point.injection(map), output: trace))
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

    struct FaultPoint: CustomStringConvertible, Sendable {
        let name: String
        let injection: @Sendable (CommitSyscallMap) -> String
        let errno: String
        /// 73: no space / read-only (cannot create); 74: other I/O (docs/cli.md).
        var exitCode: Int32 = 74
        var description: String { name }
    }

    static let faultPoints: [FaultPoint] = [
        FaultPoint(name: "ENOSPC on the header write", injection: { "write:error=ENOSPC:when=\($0.headerWrite)" }, errno: "ENOSPC", exitCode: 73),
        FaultPoint(name: "ENOSPC on the payload write", injection: { "write:error=ENOSPC:when=\($0.payloadWrite)" }, errno: "ENOSPC", exitCode: 73),
        FaultPoint(name: "EIO on the payload write", injection: { "write:error=EIO:when=\($0.payloadWrite)" }, errno: "EIO"),
        FaultPoint(name: "EIO on fsync", injection: { "fsync:error=EIO:when=\($0.tempFsync)" }, errno: "EIO"),
        FaultPoint(name: "EXDEV on rename", injection: { "\(CommitSyscallMap.renameCalls):error=EXDEV:when=\($0.rename)" }, errno: "EXDEV"),
        FaultPoint(name: "EROFS on rename", injection: { "\(CommitSyscallMap.renameCalls):error=EROFS:when=\($0.rename)" }, errno: "EROFS", exitCode: 73),
    ]

    @Test(arguments: faultPoints)
    func aFailingRealSystemCallFailsTheCommitCleanly(point: FaultPoint) async throws {
        let map = try Self.map.get()
        let dir = TemporaryDirectory("strace-fault")
        let old = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await old.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(dir.path).cacheFile)

        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let result = try await CommitOnceChild(directory: dir.path, sequence: 2).run(under: Strace.injecting(point.injection(map), output: trace))
        #expect(result.exitCode == point.exitCode, "\(point): \(result.termination) \(result.stdoutText)")
        #expect(CommitOnceChild.Verdict(result) == .failed(kind: "io", errno: point.errno), "\(result.stdoutText)")
        let after = CacheDirectoryState(dir.path)
        #expect(after.cacheFile == before, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
    }

    static let storms: [FaultPoint] = [
        FaultPoint(name: "EINTR storm on the writes", injection: { "write:error=EINTR:when=\($0.headerWrite)..\($0.headerWrite + 40)" }, errno: "-"),
        FaultPoint(name: "EINTR storm on fsync", injection: { "fsync:error=EINTR:when=\($0.tempFsync)..\($0.tempFsync + 40)" }, errno: "-"),
        FaultPoint(name: "EINTR storm on rename",
            injection: { "\(CommitSyscallMap.renameCalls):error=EINTR:when=\($0.rename)..\($0.rename + 40)" }, errno: "-"),
    ]

    @Test(arguments: storms)
    func anEINTRStormOnARealSystemCallIsRetriedAndTheCommitSucceeds(point: FaultPoint) async throws {
        let map = try Self.map.get()
        let dir = TemporaryDirectory("strace-eintr")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1).run().exitCode == 0)
        let trace = dir.path + ".trace"
        defer { unlink(trace) }
        let child = CommitOnceChild(directory: dir.path, sequence: 2)
        let result = try await child.run(under: Strace.injecting(point.injection(map), output: trace))
        #expect(result.exitCode == 0, "\(point): \(result.termination) \(result.stdoutText) \(result.stderr)")
        let interrupted = ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").components(separatedBy: "EINTR (Interrupted system call) (INJECTED)").count - 1
        #expect(interrupted == 41, "\(point): \(interrupted) injected interruptions")
        let after = CacheDirectoryState(dir.path)
        #expect(try after.verifiedPayload() == child.expectedPayload)
        #expect(after.temps.isEmpty)
    }
}
