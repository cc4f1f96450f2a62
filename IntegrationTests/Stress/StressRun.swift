import Foundation
import StressHarness
import Testing
import TestSupport

/// Runs the built `metacache-stress` as a real process with `--json` and decodes
/// its report.
struct StressRun: Sendable {
    static var harness: String { BuiltProducts.path(of: "metacache-stress") }

    let result: ChildProcess.Result
    let report: StressReport?
    let directory: TemporaryDirectory

    /// Runs the harness (on a thread of its own: see `BlockingWork`).
    /// - Parameters:
    ///   - arguments: everything but `--dir` and `--json`.
    ///   - openFileHeadroom: if given, the harness and its workers may open only
    ///     this many descriptors beyond those they inherit (a soft
    ///     `RLIMIT_NOFILE` of the inherited count plus this, set by `ulimit -n` in
    ///     a shell that then execs the harness). Inherited: whatever the test
    ///     process had open without close-on-exec at that moment, which depends
    ///     on the tests running alongside, so a fixed limit would be flaky.
    static func start(_ arguments: [String], seconds: Double, openFileHeadroom: Int? = nil) async throws -> StressRun {
        let directory = TemporaryDirectory("stress")
        // A subdirectory the harness creates itself (mode 0700).
        let dir = directory.path + "/cache"
        var command = [Self.harness, "--dir", dir, "--json"] + arguments
        if let openFileHeadroom {
            let script = "ulimit -n $(( $(ls /proc/$$/fd | wc -l) + \(openFileHeadroom) )) && exec \"$0\" \"$@\""
            command = ["/bin/sh", "-c", script] + command
        }
        let result = try await BlockingWork.run { [command] in
            try ChildProcess.run(command[0], Array(command.dropFirst()), timeout: .seconds(Int64(seconds) + 180))
        }
        return StressRun(result: result, directory: directory)
    }

    private init(result: ChildProcess.Result, directory: TemporaryDirectory) {
        self.result = result
        self.directory = directory
        report = try? JSONDecoder().decode(StressReport.self, from: Data(result.stdout))
    }

    var exitCode: Int32? { result.exitCode }

    /// One line for test output: the figures worth seeing in a CI log.
    var summary: String {
        guard let r = report else { return "no report; exit \(result.termination); stderr: \(result.stderr.suffix(1000))" }
        return "\(r.configuration): \(r.reads) reads (\(r.throughput.readsPerSecond)/s, p99 \(r.readLatencyMicros.p99 ?? 0) µs), "
            + "\(r.commits) commits, \(r.updates) updates, lock wait p99 \(r.lockWaitMicros.p99 ?? 0) µs, "
            + "handover p50 \(r.handoverMicros.p50 ?? 0) µs, kills \(r.kills) (\(r.killsWhileHolding) holding), "
            + "max re-acquire \(r.maxReacquireMillis.map { "\($0) ms" } ?? "-"); not tested: \(r.notTested.map(\.rawValue)); "
            + "warnings: \(r.warnings); violations: \(r.violations)"
    }

    /// The checks `kinds` had their witness in this run (not `not tested`) and held.
    func expectTested(_ kinds: [InvariantKind], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try #require(report, "\(summary)", sourceLocation: sourceLocation)
        for kind in kinds {
            #expect(r.checks[kind]?.verdict == .ok, "\(kind): \(String(describing: r.checks[kind]))", sourceLocation: sourceLocation)
        }
    }

    /// The checks every passing run must meet.
    func expectEveryInvariant(sourceLocation: SourceLocation = #_sourceLocation) throws {
        print("metacache-stress: \(summary)")
        #expect(exitCode == 0, "\(summary)", sourceLocation: sourceLocation)
        let r = try #require(report, "\(summary)", sourceLocation: sourceLocation)
        #expect(r.ok && r.violations.isEmpty, "\(r.violations)", sourceLocation: sourceLocation)
        #expect(r.tornReads == 0, sourceLocation: sourceLocation)
        #expect(r.corruptReads == 0, sourceLocation: sourceLocation)
        #expect(r.missingReads + r.readErrors + r.staleReads == 0, sourceLocation: sourceLocation)
        #expect(r.writerOverlaps == 0, sourceLocation: sourceLocation)
        #expect(r.commitOrderViolations == 0, sourceLocation: sourceLocation)
        #expect(r.lostUpdates + r.phantomUpdates == 0, sourceLocation: sourceLocation)
        #expect(r.timeouts == 0, sourceLocation: sourceLocation)
        #expect(r.writerFailures + r.workerCrashes == 0, sourceLocation: sourceLocation)
        #expect(r.orphanTempsAfterSweep == 0, sourceLocation: sourceLocation)
        #expect(r.lockFreeAfterRun, sourceLocation: sourceLocation)
        #expect(r.finalCacheVerified, sourceLocation: sourceLocation)
        #expect(r.leakedTemps == 0, sourceLocation: sourceLocation)
        #expect(r.unterminatedHolds == 0, sourceLocation: sourceLocation)
        #expect(r.interrupted == nil, sourceLocation: sourceLocation)
        let violated = r.checks.filter { $0.value.verdict == .violated }.map(\.key)
        #expect(violated.isEmpty, "rows VIOLATED in a passing run: \(violated)", sourceLocation: sourceLocation)
        #expect(r.checks.count == InvariantKind.allCases.count, sourceLocation: sourceLocation)
        // Nothing left behind but the cache, the lock file and the run's logs.
        let names = Set(((try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/cache")) ?? []))
        #expect(names.isSubset(of: ["metadata.json", "metadata.lock", "stress-run"]), "\(names)", sourceLocation: sourceLocation)
    }
}
