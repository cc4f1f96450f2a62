#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

/// The library's real-process test helper (Sources/cache-test-agent, watch roles).
enum WatchAgent {
    static var path: String { BuiltProducts.path(of: "cache-test-agent") }

    static func start(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(path, arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
    }
}

/// One version a watcher reported.
struct WatchedVersion: Equatable {
    let generation: UInt64
    let commit: String
    let digest: String?
}

/// One commit a refresher reported.
struct CommittedVersion: Equatable {
    let generation: UInt64
    let digest: String
}

extension String {
    /// `key=value` field of an agent line.
    func agentField(_ key: String) -> String? {
        for part in split(separator: " ") where part.hasPrefix(key + "=") { return String(part.dropFirst(key.count + 1)) }
        return nil
    }
}

/// Whether this machine lets an unprivileged user namespace set its own inotify
/// limits (`/proc/sys/user/max_inotify_*` are per user namespace since Linux 4.9).
enum UserNamespaceLimits {
    static let available: Bool = {
        guard let result = try? ChildProcess.run(
            "/usr/bin/unshare", ["-U", "-r", "sh", "-c", "echo 0 > /proc/sys/user/max_inotify_watches"], timeout: .seconds(20))
        else { return false }
        return result.exitCode == 0
    }()

    static let skipReason: Comment =
        "needs 'unshare -U -r' (util-linux) and per-user-namespace inotify limits (Linux 4.9+); this machine refused"

    /// `metacache ARGS` in a new user namespace whose inotify `limit` (`instances`
    /// or `watches`) is 0: the real EMFILE / ENOSPC of a user who reached it.
    static func metacacheArguments(limit: String, _ arguments: [String]) -> [String] {
        ["-U", "-r", "sh", "-c", "echo 0 > /proc/sys/user/max_inotify_\(limit) && exec \"$0\" \"$@\"", Metacache.path] + arguments
    }
}

extension MetacacheIntegration {
/// `CacheStore.changes()` and `metacache cache watch` with real processes: a
/// watcher sees every refresher's commits in order up to the last, across
/// directory replacement and repair; Ctrl-C, `--once`, escaping; real inotify
/// limits fall back to polling; 10,000 watches leave no descriptor or thread.
@Suite struct WatchTests {
    /// Reads VERSION lines of an agent watcher until `generation` (bounded).
    func agentVersions(_ watcher: ChildProcess, until generation: UInt64, timeout: Duration = .seconds(120)) throws -> [WatchedVersion] {
        var versions: [WatchedVersion] = []
        let deadline = ContinuousClock.now + timeout
        while versions.last?.generation != generation {
            let line = try #require(try watcher.readLine(timeout: max(.milliseconds(1), deadline - .now)), "watcher ended early")
            if line.hasPrefix("ENDED") { Issue.record("watcher ended: \(line)"); break }
            guard line.hasPrefix("VERSION") else { continue }
            versions.append(WatchedVersion(
                generation: UInt64(line.agentField("generation") ?? "") ?? 0, commit: line.agentField("commit") ?? "",
                digest: line.agentField("digest")))
        }
        return versions
    }

    /// Reads `--json` lines of a CLI watcher until `generation` (bounded).
    func cliVersions(_ watcher: ChildProcess, until generation: UInt64, timeout: Duration = .seconds(120)) throws -> [WatchedVersion] {
        var versions: [WatchedVersion] = []
        let deadline = ContinuousClock.now + timeout
        while versions.last?.generation != generation {
            let line = try #require(try watcher.readLine(timeout: max(.milliseconds(1), deadline - .now)), "watcher ended early")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            versions.append(WatchedVersion(
                generation: (object["generation"] as? NSNumber)?.uint64Value ?? 0,
                commit: object["commitId"] as? String ?? "", digest: nil))
        }
        return versions
    }

    @Test func aWatcherSeesThreeRefreshersFiveHundredGenerationsInOrderToTheLast() throws {
        let dir = TemporaryDirectory("watch-500")
        let cache = dir.path + "/cache"
        var committed: [String: CommittedVersion] = [:]
        let seed = try ChildProcess.run(WatchAgent.path, ["commit-many", "--dir", cache, "--count", "1", "--tag", "seed"])
        #expect(seed.exitCode == 0, "\(seed.stdoutText)")

        // Three watchers: the CLI (inotify), the library (inotify), the library polling.
        let cli = try Metacache.start(["cache", "watch", "--json", "--dir", cache], stdout: .pipe, stderr: .captured)
        let notified = try WatchAgent.start(["watch", "--dir", cache])
        let polling = try WatchAgent.start(["watch", "--dir", cache, "--polling-ms", "5"])
        #expect(try cliVersions(cli, until: 1).count == 1)
        #expect(try agentVersions(notified, until: 1).count == 1)
        #expect(try agentVersions(polling, until: 1).count == 1)

        let counts = [167, 167, 166]
        let refreshers = try counts.enumerated().map { index, count in
            try WatchAgent.start(["commit-many", "--dir", cache, "--count", String(count), "--tag", "r\(index)"])
        }
        for refresher in refreshers {
            refresher.closeStdin()
            while let line = try refresher.readLine(timeout: .seconds(120)), line != "DONE" {
                // The lock is contended: the agent reports its waits.
                if line.hasPrefix("WAITING") || line.hasPrefix("PROGRESS") { continue }
                guard line.hasPrefix("COMMITTED"), let commit = line.agentField("commit") else {
                    Issue.record("refresher: \(line)")
                    break
                }
                committed[commit] = CommittedVersion(
                    generation: UInt64(line.agentField("generation") ?? "") ?? 0, digest: line.agentField("digest") ?? "")
            }
            #expect(try refresher.wait(timeout: .seconds(60)) == .exited(0))
        }
        #expect(committed.count == 500)
        let last = try #require(committed.values.map(\.generation).max())
        #expect(last == 501, "generations are consecutive across the refreshers")

        for (name, versions) in [
            ("CLI watch --json", try cliVersions(cli, until: last)),
            ("library, inotify", try agentVersions(notified, until: last)),
            ("library, polling every 5 ms", try agentVersions(polling, until: last)),
        ] {
            let generations = versions.map(\.generation)
            #expect(zip(generations, generations.dropFirst()).allSatisfy { $0 < $1 }, "\(name): not strictly increasing: \(generations)")
            #expect(generations.last == last, "\(name) ended at \(generations.last ?? 0), not \(last)")
            for version in versions {
                let origin = committed[version.commit]
                #expect(origin?.generation == version.generation, "\(name): \(version) was not committed as such")
                if let digest = version.digest {
                    // Byte for byte what that refresher committed (FNV-1a, independent of XXH64).
                    #expect(origin?.digest == digest, "\(name): payload of generation \(version.generation) differs")
                }
            }
            print("watch-500: \(name) saw \(versions.count) of \(last) generations (the rest coalesced)")
        }
        for agent in [notified, polling] {
            agent.closeStdin()
            #expect(try agent.readLine(until: { $0.hasPrefix("ENDED") }, timeout: .seconds(30)) == "ENDED")
            #expect(try agent.wait(timeout: .seconds(30)) == .exited(0))
        }
        cli.signal(SIGINT)
        #expect(try cli.wait(timeout: .seconds(30)) == .exited(130))
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func theCLIPrintsTheCurrentVersionThenEachCommitAndExits130WhenInterrupted(signal: Int32) throws {
        let cache = try PopulatedCache()
        let watcher = try Metacache.start(["cache", "watch", "--dir", cache.cacheDir], stdout: .pipe, stderr: .pipe)
        let start = try #require(try watcher.readErrorLine())
        #expect(start == "Watching \(cache.cacheFile) (now at generation 1; Ctrl-C to stop)")
        let first = try #require(try watcher.readLine())
        #expect(first.hasPrefix("generation 1, commit "), "\(first)")
        #expect(first.hasSuffix(", source \(cache.directory.file("good.json"))"), "\(first)")
        let refresh = try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(refresh.exitCode == 0)
        let second = try #require(try watcher.readLine())
        #expect(second.hasPrefix("generation 2, commit "), "\(second)")
        watcher.signal(signal)
        #expect(try watcher.wait(timeout: .seconds(20)) == .exited(130))
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(watcher.standardError.hasSuffix("Stopped watching \(cache.cacheFile) (\(name))\n"), "\(watcher.standardError)")
    }

    @Test func onceWaitsForTheNextCommitPrintsItAndExits0() throws {
        let cache = try PopulatedCache()
        let watcher = try Metacache.start(["cache", "watch", "--once", "--dir", cache.cacheDir], stdout: .pipe, stderr: .pipe)
        #expect(try watcher.readErrorLine() == "Waiting for the next commit to \(cache.cacheFile) (now at generation 1; Ctrl-C to stop)")
        let refresh = try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(refresh.exitCode == 0)
        #expect(try watcher.wait(timeout: .seconds(20)) == .exited(0))
        let lines = watcher.standardOutputText.split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("generation 2, commit ") == true, "\(lines)")
    }

    @Test func onceOnADirectoryThatDoesNotExistYetWaitsForTheFirstCommit() throws {
        let dir = TemporaryDirectory("watch-once-new")
        let cacheDir = dir.path + "/not/yet"
        try dir.write("good.json", Data(sampleCatalogue()))
        let watcher = try Metacache.start(["cache", "watch", "--once", "--json", "--dir", cacheDir], stdout: .pipe, stderr: .pipe)
        #expect(try watcher.readErrorLine() == "Waiting for the next commit to \(cacheDir)/metadata.json (no cache yet; Ctrl-C to stop)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/not"), "watch creates nothing")
        let refresh = try Metacache.run(["cache", "refresh", "-q", "--dir", cacheDir, "--source", dir.file("good.json")])
        #expect(refresh.exitCode == 0)
        #expect(try watcher.wait(timeout: .seconds(20)) == .exited(0))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(watcher.standardOutput)) as? [String: Any])
        #expect(object["generation"] as? Int == 1)
        #expect(object["payloadBytes"] as? Int == sampleCatalogue().count)
    }

    @Test func theWatchFollowsAReplacedDirectoryAndARepairedCacheAndNeverHangs() throws {
        let cache = try PopulatedCache()
        let source = cache.directory.file("good.json")
        let watcher = try Metacache.start(["cache", "watch", "--json", "--dir", cache.cacheDir], stdout: .pipe, stderr: .captured)
        let initial = try cliVersions(watcher, until: 1)

        // The directory moved away and a new one created by the next refresh.
        #expect(rename(cache.cacheDir, cache.directory.file("cache.old")) == 0)
        #expect(try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", source]).exitCode == 0)
        let replaced = try cliVersions(watcher, until: 1)

        // A corrupt file: nothing printed; `verify --repair` moves it aside (65); the
        // rebuild is printed.
        try Data("not a cache file".utf8).write(to: URL(fileURLWithPath: cache.directory.file("planted")))
        #expect(rename(cache.directory.file("planted"), cache.cacheFile) == 0)
        let repair = try Metacache.run(["cache", "verify", "--repair", "--dir", cache.cacheDir])
        #expect(repair.exitCode == 65, "\(repair.summary)")
        #expect(try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", source]).exitCode == 0)
        let rebuilt = try cliVersions(watcher, until: 1)

        // The whole directory deleted, then recreated by a refresh.
        try FileManager.default.removeItem(atPath: cache.cacheDir)
        #expect(try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", source]).exitCode == 0)
        let recreated = try cliVersions(watcher, until: 1)

        let commits = (initial + replaced + rebuilt + recreated).map(\.commit)
        #expect(commits.count == 4 && Set(commits).count == 4, "one line per commit: \(commits)")
        watcher.signal(SIGINT)
        #expect(try watcher.wait(timeout: .seconds(20)) == .exited(130))
        #expect(watcher.standardError.contains("metacache: warning: skipped a corrupt cache file \(cache.cacheFile): "),
                "\(watcher.standardError)")
    }

    @Test func controlCharactersFromTheFileCannotReachTheTerminal() throws {
        let dir = TemporaryDirectory("watch-escape")
        // A source path a hostile writer chose: ESC sequences, a C1 CSI, DEL, a newline.
        let name = "cat\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\u{7F}\nforged line.json"
        try dir.write(name, Data(sampleCatalogue()))
        let cacheDir = dir.path + "/cache"
        #expect(try Metacache.run(["cache", "refresh", "-q", "--dir", cacheDir, "--source", dir.file(name)]).exitCode == 0)

        let text = try Metacache.run(["cache", "watch", "--once", "--dir", cacheDir], timeout: .seconds(60), thenCommitFrom: dir.file(name))
        let line = text.stdoutText
        #expect(line.hasSuffix(#"cat\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\x0aforged line.json"# + "\n"), "\(line)")
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(!line.unicodeScalars.dropLast().contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })

        let json = try Metacache.run(["cache", "watch", "--once", "--json", "--dir", cacheDir], timeout: .seconds(60), thenCommitFrom: dir.file(name))
        #expect(!json.stdoutText.unicodeScalars.dropLast().contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        #expect(object["source"] as? String == dir.file(name), "the JSON still carries the exact value")
    }

    @Test(.enabled(if: UserNamespaceLimits.available, UserNamespaceLimits.skipReason), arguments: [
        ("instances", "inotify_init1: EMFILE"),
        ("watches", "inotify_add_watch: ENOSPC"),
    ])
    func aRealInotifyLimitFallsBackToPollingAndSaysSo(limit: String, expected: String) throws {
        let cache = try PopulatedCache()
        let watcher = try ChildProcess(
            "/usr/bin/unshare", UserNamespaceLimits.metacacheArguments(limit: limit, ["cache", "watch", "--once", "--dir", cache.cacheDir]),
            environment: Metacache.environment(), stdout: .pipe, stderr: .pipe)
        let warning = try watcher.readErrorLine(until: { $0.hasPrefix("metacache: warning:") })
        #expect(warning.hasPrefix("metacache: warning: watching \(cache.cacheFile) by polling every 1s: \(expected)"), "\(warning)")
        #expect(try Metacache.run(["cache", "refresh", "-q", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")]).exitCode == 0)
        #expect(try watcher.wait(timeout: .seconds(30)) == .exited(0))
        #expect(watcher.standardOutputText.hasPrefix("generation 2, commit "), "\(watcher.standardOutputText)")
    }

    @Test func tenThousandWatchesOpenedAndStoppedLeaveNoDescriptorOrThread() throws {
        let dir = TemporaryDirectory("watch-churn")
        #expect(try ChildProcess.run(WatchAgent.path, ["commit-many", "--dir", dir.path, "--count", "1"]).exitCode == 0)

        // Threads are counted by the watch's own thread name: the process's total
        // also moves with the concurrency pool and the runtime, which grow and
        // shrink on their own schedule (a loaded machine made the total flaky).
        func churn(_ arguments: [String]) throws -> (base: (fds: Int, threads: Int), after: (fds: Int, threads: Int)) {
            let agent = try WatchAgent.start(["watch-churn", "--dir", dir.path] + arguments)
            agent.closeStdin()
            let base = try agent.readLine(until: { $0.hasPrefix("BASELINE") || $0.hasPrefix("ERROR") }, timeout: .seconds(60))
            let after = try agent.readLine(until: { $0.hasPrefix("AFTER") || $0.hasPrefix("ERROR") }, timeout: .seconds(300))
            #expect(try agent.wait(timeout: .seconds(60)) == .exited(0), "\(agent.standardError)")
            func counts(_ line: String) -> (Int, Int) { (Int(line.agentField("fds") ?? "") ?? -1, Int(line.agentField("watchThreads") ?? "") ?? -1) }
            print("watch-churn \(arguments): \(base) / \(after)")
            return (counts(base), counts(after))
        }

        // Every way a watch ends — task cancelled while waiting, token cancelled,
        // `break`, cancelled before the first element — 16 at a time.
        let churned = try churn(["--count", "10000", "--lanes", "16"])
        #expect(churned.after.fds == churned.base.fds, "descriptors leaked")
        #expect(churned.base.threads == 0 && churned.after.threads == 0, "watch threads leaked")

        // The control: 25 watches left running must show in the same counts (each
        // holds its thread, its inotify instance and its two stop-pipe ends).
        let kept = try churn(["--count", "100", "--keep", "25"])
        #expect(kept.after.fds == kept.base.fds + 25 * 3)
        #expect(kept.after.threads == kept.base.threads + 25)
    }
}
}

extension Metacache {
    /// Runs a `watch --once` command, and once it has said it is waiting, commits a
    /// refresh from `source` so that it has something to print.
    static func run(_ arguments: [String], timeout: Duration, thenCommitFrom source: String) throws -> ChildProcess.Result {
        let watcher = try start(arguments, stdout: .captured, stderr: .pipe)
        _ = try watcher.readErrorLine(until: { $0.hasPrefix("Waiting for the next commit") }, timeout: timeout)
        guard let dir = arguments.firstIndex(of: "--dir").map({ arguments[$0 + 1] }) else {
            throw ChildProcess.Failure(description: "no --dir")
        }
        let refresh = try run(["cache", "refresh", "-q", "--force", "--dir", dir, "--source", source])
        guard refresh.exitCode == 0 else { throw ChildProcess.Failure(description: "refresh failed: \(refresh.summary)") }
        let termination = try watcher.wait(timeout: timeout)
        return ChildProcess.Result(termination: termination, stdout: watcher.standardOutput, stderr: watcher.standardError)
    }
}
