import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

extension MetacacheIntegration {
/// A refresher whose read of the current version under the lock fails: that
/// refresh is a counted, reported failure and commits nothing — never taken for
/// "no cache", which would commit every update counter reset to zero.
@Suite struct RefresherReadFailureTests {
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
        let arguments = w.arguments
        let (stats, termination) = try await BlockingWork.run {
            let child = try ChildProcess(StressRun.harness, arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
            _ = try child.readLine(until: { $0.hasPrefix("READY") }, timeout: .seconds(60))
            child.send("go 0\n")
            let line = try child.readLine(until: { $0.hasPrefix("STATS ") }, timeout: .seconds(60))
            child.closeStdin()
            let termination = try child.wait(timeout: .seconds(60))
            return (try JSONDecoder().decode(WorkerStats.self, from: Data(line.dropFirst(6).utf8)), termination)
        }
        #expect(termination == .exited(0))
        #expect(stats.operations == 1)
        #expect(stats.succeeded == 0, "the refresh was counted as a success")
        #expect(stats.failures == 1)
        #expect(stats.problems.first?.contains("metadata.json") == true, "\(stats.problems)")
        #expect(stats.problems.first?.contains("EIO") == true, "\(stats.problems)")

        // Nothing was committed, and the hold was closed without a commit.
        #expect(CacheDirectoryState(dir.path).cacheFile == before, "a payload was committed after the failed read")
        let records = WriterIntervalLog.Reader(path: dir.file("intervals.log")).poll()
        let analysis = WriterIntervalAnalysis(records: records)
        #expect(analysis.refreshCommits == 0)
        #expect(analysis.failures == 1)
        #expect(analysis.unterminatedIntervals.isEmpty)
        #expect(analysis.intervals.count == 1)
    }
}
}
