import Foundation
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
/// The harness's checks can fail: each `--sabotage` mode breaks one guarantee on
/// purpose, and the run must exit 1 naming exactly that kind of violation. Plus
/// the harness's refusals (usage, a foreign cache, a placeholder CLI).
@Suite(.serialized) struct HarnessSelfTests {
    @Test func writersThatBypassTheLockAreCaughtOverlappingAndLosingUpdates() async throws {
        let run = try await StressRun.start(["--sabotage", "lock-bypass", "--duration", "2"], seconds: 2)
        #expect(run.exitCode == 1, "\(run.summary)")
        let r = try #require(run.report)
        #expect(!r.ok)
        #expect(r.writerOverlaps > 0)
        #expect(r.commitOrderViolations > 0)
        #expect(r.lostUpdates > 0)
        #expect(r.violations.contains { $0.hasPrefix("writer overlaps:") })
        #expect(r.violations.contains { $0.hasPrefix("lost updates:") })
    }

    @Test func aSplicedPayloadTheLibraryAcceptsIsCaughtAsATornRead() async throws {
        let run = try await StressRun.start(["--sabotage", "torn-payload", "--updaters", "0", "--duration", "2"], seconds: 2)
        #expect(run.exitCode == 1, "\(run.summary)")
        let r = try #require(run.report)
        #expect(r.tornReads > 0)
        #expect(r.corruptReads == 0, "the library's checksum covers the spliced bytes, so only the harness can tell")
        #expect(r.violations.contains { $0.hasPrefix("torn reads:") && $0.contains("digest mismatch") })
    }

    @Test func aWriterThatRewritesInPlaceIsCaughtByCorruptReads() async throws {
        let run = try await StressRun.start(["--sabotage", "in-place-write", "--updaters", "0", "--duration", "2"], seconds: 2)
        #expect(run.exitCode == 1, "\(run.summary)")
        let r = try #require(run.report)
        #expect(r.corruptReads > 0)
        #expect(r.violations.contains { $0.hasPrefix("corrupt reads:") })
    }

    @Test func usageErrorsExit64WithTheReason() throws {
        let cases: [([String], String)] = [
            ([], "--dir is required"),
            (["--dir", "/tmp/x", "--duration", "5", "--iterations", "3"], "either --duration or --iterations"),
            (["--dir", "/tmp/x", "--readers", "-1"], "--readers"),
            (["--dir", "/tmp/x", "--lock-backend", "nfs"], "--lock-backend"),
            (["--dir", "/tmp/x", "--use-cli", "--updaters", "2"], "--updaters cannot be combined"),
            (["--dir", "/tmp/x", "--refreshers", "0", "--kill-writers-every", "10"], "needs at least one refresher"),
            (["--dir", "/tmp/x", "--use-cli", "--kill-writers-every", "10"], "cannot be combined with --use-cli"),
            (["--dir", "/tmp/x", "--payload-bytes", "100"], "--payload-bytes must be at least"),
            (["--dir", "/tmp/x", "--bogus"], "unknown option --bogus"),
        ]
        for (arguments, message) in cases {
            let result = try ChildProcess.run(StressRun.harness, arguments)
            #expect(result.exitCode == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("usage: metacache-stress"))
        }
    }

    @Test func aCacheTheHarnessDidNotWriteIsNeverTouched() throws {
        let dir = TemporaryDirectory("foreign")
        let store = try MetadataCacheFixture.commit(#"{"vendor":"temurin"}"#, in: dir.path)
        let before = try #require(dir.contents("metadata.json"))
        let result = try ChildProcess.run(StressRun.harness, ["--dir", dir.path, "--duration", "1"])
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("did not write; refusing"))
        #expect(dir.contents("metadata.json") == before)
        _ = store
    }

    @Test func aPlaceholderCLIIsRefusedRatherThanStressedEmpty() throws {
        let dir = TemporaryDirectory("placeholder")
        // Like the stub that stands in for the CLI until issue 3 lands: exits 0,
        // prints nothing, does nothing.
        let stub = dir.file("metacache")
        try dir.write("metacache", Data("#!/bin/sh\nexit 0\n".utf8))
        chmod(stub, 0o755)
        let result = try ChildProcess.run(
            StressRun.harness, ["--dir", dir.path + "/c", "--use-cli", "--duration", "1"],
            environment: ChildProcess.environment(adding: ["METACACHE_STRESS_CLI": stub]))
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("placeholder"), "\(result.stderr)")
    }
}
}
