import Foundation
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
/// The harness's checks can fail: each `--sabotage` mode breaks one guarantee on
/// purpose — on the library path and on the CLI path, with either lock backend —
/// and the run must exit 1 with exactly that kind of violation named; the
/// re-acquire check and the stall watch have controls of their own. Plus the
/// harness's refusals (usage, a foreign cache, a placeholder CLI, an unusable
/// directory), its JSON on errors, and its partial report on SIGINT/SIGTERM.
@Suite(.serialized) struct HarnessSelfTests {
    /// The mode, where it runs, and what it must be caught as.
    struct SabotageCase: Sendable, CustomStringConvertible {
        var mode: String
        var cli: Bool
        var backend: String
        var description: String { "\(mode), \(cli ? "CLI" : "library"), \(backend)" }

        var arguments: [String] {
            var a = ["--sabotage", mode, "--lock-backend", backend, "--refreshers", "2", "--readers", "2", "--seed", "20"]
            if cli {
                // CLI refreshers are processes: a little longer for as many commits.
                a += ["--use-cli", "--duration", "1.5"]
            } else {
                a += ["--updaters", mode == "lock-bypass" ? "2" : "0", "--duration", "1"]
            }
            return a
        }

        /// The checks that must be VIOLATED, and (when exact) the only ones.
        var expected: (must: Set<InvariantKind>, only: Bool) {
            switch mode {
            // Exclusion is what it breaks; what follows from that (repeated
            // generations, lost updates) depends on how the holds interleave,
            // except for updaters, which read, wait and write back.
            case "lock-bypass": (cli ? [.writerOverlaps] : [.writerOverlaps, .lostUpdates], false)
            case "torn-payload": ([.tornReads], false)
            case "in-place-write": ([.corruptReads], true)
            default: ([.leakedTemps], true)
            }
        }
    }

    static let sabotageCases: [SabotageCase] = ["lock-bypass", "torn-payload", "in-place-write", "leak-temp"].flatMap { mode in
        [false, true].flatMap { cli in ["auto", "lockfile"].map { SabotageCase(mode: mode, cli: cli, backend: $0) } }
    }

    @Test(arguments: sabotageCases)
    func everySabotageModeFailsTheRunInEveryMode(_ c: SabotageCase) async throws {
        if c.cli { try CLIUnderTest.requireUsable() }
        let run = try await StressRun.start(c.arguments, seconds: 2)
        #expect(run.exitCode == 1, "\(c): \(run.summary)")
        let r = try #require(run.report, "\(c): \(run.summary)")
        #expect(!r.ok)
        #expect(r.config.sabotage == c.mode)
        #expect(r.config.useCLI == c.cli)
        let violated = Set(InvariantKind.allCases.filter { r.checks[$0]?.verdict == .violated })
        #expect(c.expected.must.isSubset(of: violated), "\(c): expected \(c.expected.must), violated \(violated): \(r.violations)")
        if c.expected.only { #expect(violated == c.expected.must, "\(c): \(r.violations)") }
        if c.mode == "torn-payload" {
            #expect(r.corruptReads == 0, "the library's checksum covers the spliced bytes, so only the harness can tell")
            #expect(r.violations.contains { $0.hasPrefix("torn reads:") && $0.contains("digest mismatch") }, "\(r.violations)")
        }
        // Every violation sits under a VIOLATED row.
        #expect(r.violations.count >= violated.count)
        for kind in violated { #expect(r.checks[kind]?.note != nil) }
    }

    /// The control of the re-acquire check: a keeper child keeps the lock for
    /// 1.5 s after its holder is killed, and the run must fail on it.
    @Test(arguments: ["auto", "lockfile"])
    func aLockThatOutlivesItsKilledHolderFailsTheReacquireCheck(backend: String) async throws {
        let run = try await StressRun.start(
            ["--sabotage", "lock-outlives-holder", "--lock-backend", backend, "--refreshers", "2", "--readers", "0",
             "--updaters", "0", "--kill-writers-every", "100", "--duration", "2.5"], seconds: 3)
        #expect(run.exitCode == 1, "\(run.summary)")
        let r = try #require(run.report)
        #expect(r.checks[.reacquire]?.verdict == .violated, "\(r.violations)")
        #expect((r.maxReacquireMillis ?? 0) >= 1000)
        #expect(r.violations.contains { $0.hasPrefix("re-acquire: after killing pid") }, "\(r.violations)")
    }

    /// The control of the stall watch: the first holder stops itself, everyone
    /// else waits forever, and the run is failed as stalled after `--stall-after`
    /// (the workers that would not stop are killed and said to be).
    @Test func aFrozenHolderIsCaughtByTheStallWatch() async throws {
        let run = try await StressRun.start(
            ["--sabotage", "freeze-holder", "--lock-timeout", "infinite", "--stall-after", "1", "--refreshers", "2",
             "--readers", "1", "--updaters", "0", "--duration", "60"], seconds: 10)
        #expect(run.exitCode == 1, "\(run.summary)")
        let r = try #require(run.report)
        #expect(r.checks[.stall]?.verdict == .violated, "\(r.violations)")
        #expect(r.violations.contains { $0.hasPrefix("stalled: no writer logged anything for") }, "\(r.violations)")
        #expect(r.measuredSeconds < 30, "the stall ended the run, not the duration")
        #expect(r.unterminatedHolds == 0, "the frozen holder was killed by the coordinator and logged as such")
        #expect(r.workerCrashes == 0, "workers killed after the stall are the stall's doing")
    }

    @Test func sabotageThatCouldShowNothingIsRefusedWithTheReason() throws {
        let cases: [([String], String)] = [
            (["--refreshers", "1", "--updaters", "0", "--sabotage", "lock-bypass"], "at least two writers"),
            (["--readers", "0", "--sabotage", "in-place-write"], "it needs a reader"),
            (["--use-cli", "--readers", "0", "--sabotage", "torn-payload"], "CLI refreshers do not read"),
            (["--sabotage", "lock-outlives-holder"], "needs --kill-writers-every"),
            (["--use-cli", "--sabotage", "freeze-holder"], "freezes a library refresher"),
        ]
        for (arguments, message) in cases {
            let result = try ChildProcess.run(StressRun.harness, ["--dir", "/tmp/never-created"] + arguments)
            #expect(result.exitCode == 64, "\(arguments)")
            #expect(result.stderr.contains("cannot show anything in this run") && result.stderr.contains(message),
                "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-created"))
    }

    @Test func usageErrorsExit64WithTheReason() throws {
        let cases: [([String], String)] = [
            ([], "--dir is required"),
            (["--dir", "/tmp/x", "--duration", "5", "--iterations", "3"], "either --duration or --iterations"),
            (["--dir", "/tmp/x", "--readers", "-1"], "--readers"),
            (["--dir", "/tmp/x", "--lock-backend", "nfs"], "--lock-backend"),
            (["--dir", "/tmp/x", "--lock-timeout", "soon"], "infinite (inf, forever, none)"),
            (["--dir", "/tmp/x", "--use-cli", "--updaters", "2"], "--updaters cannot be combined"),
            (["--dir", "/tmp/x", "--refreshers", "0", "--kill-writers-every", "10"], "needs at least one refresher"),
            (["--dir", "/tmp/x", "--use-cli", "--kill-writers-every", "10"], "cannot be combined with --use-cli"),
            (["--dir", "/tmp/x", "--payload-bytes", "100"], "--payload-bytes must be at least"),
            (["--dir", "/tmp/x", "--bogus"], "unknown option --bogus"),
            (["--dir", "/tmp/x", "--refreshers", "1", "--refreshers", "2"], "--refreshers given more than once"),
            (["--dir", "/tmp/x", "--json", "--json"], "--json given more than once"),
            (["--dir", "/tmp/x", "--stall-after", "0"], "--stall-after"),
        ]
        for (arguments, message) in cases {
            let result = try ChildProcess.run(StressRun.harness, arguments)
            #expect(result.exitCode == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("usage: metacache-stress"))
        }
        for help in ["-h", "--help"] {
            let result = try ChildProcess.run(StressRun.harness, [help])
            #expect(result.exitCode == 0, "\(help): \(result.stderr)")
            #expect(result.stdoutText.contains("usage: metacache-stress"))
            #expect(result.stdoutText.contains("infinite (also: inf, forever, none)"), "the accepted spellings are documented")
        }
    }

    @Test func withJSONEveryErrorIsStillOneJSONObject() throws {
        // A usage error.
        var result = try ChildProcess.run(StressRun.harness, ["--dir", "/tmp/x", "--bogus", "--json"])
        #expect(result.exitCode == 64)
        var error = try JSONDecoder().decode(StressErrorReport.self, from: Data(result.stdout))
        #expect(!error.ok && error.exitCode == 64 && error.error.contains("--bogus"), "\(error)")
        #expect(error.config == nil)
        // A directory that cannot be used: the configuration is known.
        let dir = TemporaryDirectory("json-error")
        try dir.write("file", Data("x".utf8))
        result = try ChildProcess.run(StressRun.harness, ["--dir", dir.file("file"), "--duration", "1", "--json", "--seed", "5"])
        #expect(result.exitCode == 64)
        error = try JSONDecoder().decode(StressErrorReport.self, from: Data(result.stdout))
        #expect(error.exitCode == 64 && error.error.contains("not a directory"), "\(error)")
        #expect(error.config?.seed == 5)
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]).keys
        #expect(Set(keys) == Set(try StressDocs.fields("error")))
    }

    @Test func anUnusableDirectoryIsAUsageErrorThatNamesTheProblem() throws {
        let dir = TemporaryDirectory("unusable")
        try dir.write("file", Data("x".utf8))
        let shared = dir.file("shared")
        mkdir(shared, 0o777)
        chmod(shared, 0o777)
        let readOnlyParent = dir.file("ro")
        mkdir(readOnlyParent, 0o500)
        let cases: [(String, String)] = [
            (dir.file("file"), "it exists and is not a directory"),
            (dir.file("file") + "/sub", "Not a directory"),
            ("/proc/no-such-dir/cache", "cannot create /proc/no-such-dir"),
            (shared, "writable by group or others"),
        ]
        for (path, message) in cases {
            let result = try ChildProcess.run(StressRun.harness, ["--dir", path, "--duration", "1"])
            #expect(result.exitCode == 64, "\(path): \(result.termination) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(path): \(result.stderr)")
            #expect(!result.stderr.contains("allowSharedDirectory"), "the harness has no such option: \(result.stderr)")
        }
        // Root ignores directory permissions; the read-only case is only meaningful otherwise.
        if geteuid() != 0 {
            let result = try ChildProcess.run(StressRun.harness, ["--dir", readOnlyParent + "/cache", "--duration", "1"])
            #expect(result.exitCode == 64, "\(result.stderr)")
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
            StressRun.harness, ["--dir", dir.path + "/c", "--use-cli", "--duration", "1", "--json"],
            environment: ChildProcess.environment(adding: ["METACACHE_STRESS_CLI": stub]))
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("placeholder"), "\(result.stderr)")
        let error = try JSONDecoder().decode(StressErrorReport.self, from: Data(result.stdout))
        #expect(error.exitCode == 2 && error.error.contains("placeholder"))
    }

    /// Ctrl-C as a terminal sends it — to the whole foreground process group —
    /// and SIGTERM as a service manager sends it — to the harness alone: either
    /// way the run stops in order and prints a partial report marked as such.
    @Test(arguments: [SIGINT, SIGTERM])
    func anInterruptedRunStillReports(signal: Int32) async throws {
        let directory = TemporaryDirectory("interrupted")
        let dir = directory.path + "/cache"
        let json = signal == SIGINT
        // setsid: a process group of its own, as a shell gives a foreground job.
        var arguments = [StressRun.harness, "--dir", dir, "--duration", "60", "--refreshers", "2", "--readers", "2", "--updaters", "1"]
        if json { arguments.append("--json") }
        let process = try ChildProcess("/usr/bin/setsid", arguments, stdout: .captured, stderr: .captured)
        // Wait (bounded) until writers are committing: the log shows an exit record.
        let log = dir + "/stress-run/intervals.log"
        let started = try await BlockingWork.run {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("\nexit ") { return true }
                var tick = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                nanosleep(&tick, nil)
            }
            return false
        }
        #expect(started, "the run never committed")
        if signal == SIGINT { kill(-process.pid, SIGINT) } else { kill(process.pid, SIGTERM) }
        let termination = try await BlockingWork.run { try process.wait(timeout: .seconds(60)) }
        #expect(termination == .exited(128 + signal), "\(termination): \(process.standardError)")
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        if json {
            let r = try JSONDecoder().decode(StressReport.self, from: Data(process.standardOutput))
            #expect(r.interrupted?.signal == name)
            #expect((r.interrupted?.afterSeconds ?? 60) < 55)
            #expect(!r.ok)
            #expect(r.violations.isEmpty, "an orderly stop breaks nothing: \(r.violations)")
            #expect(r.workerCrashes == 0, "the workers were not hit by the terminal's SIGINT")
            #expect(r.commits > 0)
        } else {
            let text = process.standardOutputText
            #expect(text.contains("INTERRUPTED by \(name) after"), "\(text)")
            #expect(text.contains("invariants"), "\(text)")
        }
        // Nothing is left running in the directory.
        #expect(AfterRunInspection.advisoryLockIsFree(dir + "/metadata.lock"))
    }
}
}
