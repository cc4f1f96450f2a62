import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
/// The real `metacache cache refresh`, killed by strace at each step of its commit
/// or made to meet a failing system call — then recovered with the CLI itself:
/// `status --json` shows the lock free and the orphan, `sweep` removes it, the next
/// `refresh` succeeds and `read` prints exactly the expected payload.
///
/// Only fsync and rename are struck here. The CLI runs on Swift concurrency and
/// commits on whichever pool thread resumes it; other threads of the runtime also
/// call write(2), so a `when=N` aimed at the commit's write can
/// land on the runtime's wake-up write instead — and that leaves the CLI waiting
/// forever for a wake-up that never came. No other thread fsyncs or renames, so
/// those strikes always land. Writes are struck in the harness's commit-once
/// worker (single-threaded: StraceCrashAndFaultTests) and by the library's fault
/// seam; the CLI meets a real full disk in RealFullFilesystemTests.
///
/// Skipped, with the reason printed, only where strace cannot trace; a broken CLI
/// fails every test (`CLIUnderTest.requireUsable`).
@Suite(.enabled(if: Strace.isAvailable, Strace.skipReason))
struct CLICrashAndFaultTests {
    static let map: Result<CommitSyscallMap, any Error> = Result {
        try CLIUnderTest.requireUsable()
        let dir = TemporaryDirectory("cli-calibrate")
        let cli = CLIUnderTest(dir)
        _ = try cli.refreshBlocking(sequence: 1)
        return try CommitSyscallMap.calibrate { wrapper in
            let result = try cli.refreshBlocking(sequence: 2, under: wrapper)
            guard result.exitCode == 0 else {
                throw CommitSyscallMap.CalibrationError(description: "clean traced refresh: \(result.termination) \(result.stderr)")
            }
        }
    }

    /// A directory whose cache the CLI refreshed once, and one strike at a second
    /// refresh.
    struct Strike {
        let dir: TemporaryDirectory
        let cli: CLIUnderTest
        let oldFile: Data
        let result: ChildProcess.Result
        let trace: StraceTrace
    }

    static func strike(_ injection: String) async throws -> Strike {
        let dir = TemporaryDirectory("cli-strace")
        let cli = CLIUnderTest(dir)
        let seeded = try await cli.refresh(sequence: 1)
        guard seeded.exitCode == 0, let oldFile = CacheDirectoryState(cli.cacheDirectory).cacheFile else {
            throw CommitSyscallMap.CalibrationError(description: "seeding refresh failed: \(seeded.termination) \(seeded.stderr)")
        }
        let result = try await cli.refresh(sequence: 2, under: Strace.injecting(injection, output: dir.file("trace")))
        return Strike(dir: dir, cli: cli, oldFile: oldFile, result: result, trace: StraceTrace.read(dir.file("trace")))
    }

    @Test(arguments: [StraceCrashPoint.beforeWrite, .beforeFsync, .beforeRename, .beforeDirectoryFsync])
    func aKilledRefreshIsRecoveredWithTheCLIItself(point: StraceCrashPoint) async throws {
        try CLIUnderTest.requireUsable()
        let map = try Self.map.get()
        let s = try await StraceStrike.aim { attempt in
            let s = try await Self.strike(try point.injection(map, attempt: attempt))
            return (s, s.trace.killed(at: point.step))
        }
        let cli = s.cli
        #expect(s.result.termination == .signaled(SIGKILL), "\(point): \(s.result.termination) \(s.result.stderr)")

        // Exactly the old file, or exactly the new payload.
        let state = CacheDirectoryState(cli.cacheDirectory)
        let read = try await cli.run(["cache", "read"])
        #expect(read.exitCode == 0)
        if point.renamed {
            let isNew = read.stdout == cli.payload(sequence: 2)
            #expect(isNew, "\(point): not the new payload")
            #expect(state.temps.isEmpty)
        } else {
            #expect(state.cacheFile == s.oldFile, "\(point): the old cache changed")
            let isOld = read.stdout == cli.payload(sequence: 1)
            #expect(isOld, "\(point): not the old payload")
            #expect(state.temps.count == 1, "\(point): \(state.temps)")
        }

        // status: the lock is free and the orphan is listed.
        let status = try await cli.run(["cache", "status", "--json"])
        #expect(status.exitCode == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout)) as? [String: Any])
        #expect((object["lock"] as? [String: Any])?["held"] as? Bool == false, "\(status.stdoutText)")
        #expect((object["orphanTemps"] as? [Any])?.count == state.temps.count, "\(status.stdoutText)")

        // sweep removes the orphan (and says so).
        let sweep = try await cli.run(["cache", "sweep"])
        #expect(sweep.exitCode == 0, "\(sweep.stderr)")
        for temp in state.temps { #expect((sweep.stdoutText + sweep.stderr).contains(temp), "sweep did not report \(temp)") }
        #expect(CacheDirectoryState(cli.cacheDirectory).temps.isEmpty)

        // The next refresh succeeds; the cache verifies and reads back exactly.
        #expect(try await cli.refresh(sequence: 3).exitCode == 0)
        #expect(try await cli.run(["cache", "verify"]).exitCode == 0)
        let third = try await cli.run(["cache", "read"]).stdout == cli.payload(sequence: 3)
        #expect(third, "the refresh after the crash did not read back exactly")
    }

    // The commit's data goes out in one writev, a call the CLI makes for nothing
    // else (its output uses write), so the write step can be aimed at too.
    static let faultPoints = StraceFaultPoint.all
    static let storms = StraceInterruptStorm.all

    @Test(arguments: faultPoints)
    func aFailingSystemCallFailsTheRefreshWithTheDocumentedStatus(point: StraceFaultPoint) async throws {
        try CLIUnderTest.requireUsable()
        let map = try Self.map.get()
        let s = try await StraceStrike.aim { attempt in
            let s = try await Self.strike(try point.injection(map, attempt: attempt))
            return (s, s.trace.failed(at: point.step))
        }
        #expect(s.result.exitCode == point.exitCode, "\(point): \(s.result.termination) \(s.result.stderr)")
        #expect(s.result.stderr.contains(point.errno), "the error names \(point.errno): \(s.result.stderr)")
        let after = CacheDirectoryState(s.cli.cacheDirectory)
        #expect(after.cacheFile == s.oldFile, "the old cache changed")
        #expect(after.temps.isEmpty, "temp left behind: \(after.temps)")
        #expect(try await s.cli.run(["cache", "verify"]).exitCode == 0)
    }

    @Test(arguments: storms)
    func anEINTRStormDoesNotFailTheRefresh(storm: StraceInterruptStorm) async throws {
        try CLIUnderTest.requireUsable()
        let map = try Self.map.get()
        let s = try await StraceStrike.aim { attempt in
            let s = try await Self.strike(try storm.injection(map, attempt: attempt))
            let (count, onCommitThread) = s.trace.interruptions()
            return (s, count == StraceInterruptStorm.length && onCommitThread)
        }
        #expect(s.result.exitCode == 0, "\(storm): \(s.result.termination) \(s.result.stderr)")
        let exact = try await s.cli.run(["cache", "read"]).stdout == s.cli.payload(sequence: 2)
        #expect(exact, "the cache is not exactly the new payload")
        #expect(CacheDirectoryState(s.cli.cacheDirectory).temps.isEmpty)
    }
}
}
