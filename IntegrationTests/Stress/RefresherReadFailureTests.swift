import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

extension MetacacheIntegration {
/// A writer whose read of the current version under the lock fails: that
/// operation is a counted, reported failure and commits nothing — never taken
/// for "no cache", which would commit every update counter reset to zero — and
/// its hold is closed in the log, never left for a writer that vanished.
@Suite struct RefresherReadFailureTests {
    /// Runs one worker process through its whole conversation: READY, go, STATS.
    static func run(_ w: WorkerInvocation) async throws -> (WorkerStats, ChildProcess.Termination) {
        let arguments = w.arguments
        return try await BlockingWork.run {
            let child = try ChildProcess(StressRun.harness, arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
            _ = try child.readLine(until: { $0.hasPrefix("READY") }, timeout: .seconds(60))
            child.send("go 0\n")
            let line = try child.readLine(until: { $0.hasPrefix("STATS ") }, timeout: .seconds(60))
            child.closeStdin()
            let termination = try child.wait(timeout: .seconds(60))
            return (try JSONDecoder().decode(WorkerStats.self, from: Data(line.dropFirst(6).utf8)), termination)
        }
    }

    @Test func aFailedReadUnderTheLockFailsTheRefreshAndCommitsNothing() async throws {
        let dir = TemporaryDirectory("refresher-read")
        let seed = CommitOnceChild(directory: dir.path, sequence: 1)
        #expect(try await seed.run().exitCode == 0)
        let before = try #require(CacheDirectoryState(dir.path).cacheFile)

        // Opens of the cache file in one refresh: its header before the lock, its
        // header under the lock (both tolerated by the library), then the
        // refresher's own full read under the lock — the third fails.
        var w = WorkerInvocation(role: .refresher, directory: dir.path)
        w.worker = 2
        w.iterations = 1
        w.logPath = dir.file("intervals.log")
        w.faults = ["open#3@metadata.json=EIO"]
        let (stats, termination) = try await Self.run(w)
        #expect(termination == .exited(0))
        #expect(stats.operations == 1)
        #expect(stats.succeeded == 0, "the refresh was counted as a success")
        #expect(stats.failures == 1)
        #expect(stats.problems.first?.text.contains("metadata.json") == true, "\(stats.problems)")
        #expect(stats.problems.first?.text.contains("EIO") == true, "\(stats.problems)")

        // Nothing was committed, and the hold was closed without a commit.
        #expect(CacheDirectoryState(dir.path).cacheFile == before, "a payload was committed after the failed read")
        let records = WriterIntervalLog.Reader(path: dir.file("intervals.log")).poll()
        let analysis = WriterIntervalAnalysis(records: records)
        #expect(analysis.refreshCommits == 0)
        #expect(analysis.failures == 1)
        #expect(analysis.unterminatedIntervals.isEmpty)
        #expect(analysis.intervals.count == 1)
    }

    /// Corrupting the cache under a run: an updater's `update` fails reading it
    /// under the lock, inside the library, before any commit event. The release
    /// closes the hold (`released`), so the report names the failure, never a
    /// writer that "acquired the lock and never released it".
    @Test func anUpdateThatFailsUnderTheLockClosesItsHold() async throws {
        let dir = TemporaryDirectory("updater-read")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1).run().exitCode == 0)
        var bytes = try #require(dir.contents("metadata.json"))
        bytes[bytes.count - 100] ^= 0x01
        try dir.write("metadata.json", bytes)

        var w = WorkerInvocation(role: .updater, directory: dir.path)
        w.worker = 3
        w.iterations = 1
        w.logPath = dir.file("intervals.log")
        let (stats, termination) = try await Self.run(w)
        #expect(termination == .exited(0))
        #expect(stats.failures == 1)
        #expect(stats.problems.first?.kind == .writerFailures)
        let records = WriterIntervalLog.Reader(path: dir.file("intervals.log")).poll()
        #expect(records.contains { if case .released = $0 { true } else { false } }, "\(records)")
        let analysis = WriterIntervalAnalysis(records: records)
        #expect(analysis.unterminatedIntervals.isEmpty, "a failed update was taken for a writer that never released")
        #expect(analysis.failures == 1)
        #expect(analysis.intervals.count == 1)
    }
}
}
