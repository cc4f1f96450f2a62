import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Where settings come from, observed through real processes: the cache
/// directory, the lock timeout (with `--verbose` naming the origin) and the source.
@Suite struct PrecedenceTests {
    private func statusPath(_ arguments: [String], environment: [String: String?]) throws -> String? {
        let result = try Metacache.run(["cache", "status", "--json"] + arguments, environment: environment)
        guard result.exitCode == 0 else { return "exit \(String(describing: result.exitCode)): \(result.stderr)" }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        return object?["path"] as? String
    }

    @Test func cacheDirectoryPrecedence() throws {
        let dir = TemporaryDirectory("dirs")
        let all: [String: String?] = [
            "METACACHE_DIR": dir.file("env"), "XDG_CACHE_HOME": dir.file("xdg"), "HOME": dir.file("home"),
        ]
        #expect(try statusPath(["--dir", dir.file("flag")], environment: all) == dir.file("flag") + "/metadata.json")
        #expect(try statusPath([], environment: all) == dir.file("env") + "/metadata.json")
        var noEnv = all
        noEnv["METACACHE_DIR"] = .some(nil)
        #expect(try statusPath([], environment: noEnv) == dir.file("xdg") + "/metacache/metadata.json")
        noEnv["XDG_CACHE_HOME"] = .some("relative/xdg")  // the XDG spec says: ignore relative paths
        #expect(try statusPath([], environment: noEnv) == dir.file("home") + "/.cache/metacache/metadata.json")
        noEnv["XDG_CACHE_HOME"] = .some(nil)
        #expect(try statusPath(["--name", "jdks"], environment: noEnv) == dir.file("home") + "/.cache/metacache/jdks.json")
    }

    private func verboseTimeout(_ dir: String, _ arguments: [String] = [], environment: [String: String?] = [:]) throws -> ChildProcess.Result {
        try Metacache.run(
            ["cache", "refresh", "--verbose", "--dir", dir, "--source", dir + "/../good.json"] + arguments, environment: environment)
    }

    @Test func lockTimeoutPrecedenceAndOrigins() throws {
        let cache = try PopulatedCache()
        let config = cache.cacheDir + "/config.json"
        func line(_ result: ChildProcess.Result) -> String {
            result.stderr.split(separator: "\n").first { $0.contains("debug: lock timeout:") }.map(String.init) ?? result.stderr
        }
        #expect(line(try verboseTimeout(cache.cacheDir)) == "metacache: debug: lock timeout: 10s (from default)")
        try Data("{\"lockTimeout\": 7}".utf8).write(to: URL(fileURLWithPath: config))
        #expect(line(try verboseTimeout(cache.cacheDir)) == "metacache: debug: lock timeout: 7s (from key lockTimeout in \(config))")
        let env: [String: String?] = ["METACACHE_LOCK_TIMEOUT": "2.5"]
        #expect(line(try verboseTimeout(cache.cacheDir, environment: env))
                == "metacache: debug: lock timeout: 2.5s (from environment variable METACACHE_LOCK_TIMEOUT)")
        #expect(line(try verboseTimeout(cache.cacheDir, ["--lock-timeout", "infinite"], environment: env))
                == "metacache: debug: lock timeout: none (from --lock-timeout)")

        // An invalid value is a usage error naming where it came from, never a silent fallback.
        let badEnv = try verboseTimeout(cache.cacheDir, environment: ["METACACHE_LOCK_TIMEOUT": "ten"])
        #expect(badEnv.exitCode == 64)
        #expect(badEnv.stderr.contains("invalid lock timeout \"ten\" from environment variable METACACHE_LOCK_TIMEOUT"), "\(badEnv.stderr)")
        try Data("{\"lockTimeout\": -3}".utf8).write(to: URL(fileURLWithPath: config))
        let badConfig = try verboseTimeout(cache.cacheDir)
        #expect(badConfig.exitCode == 64)
        #expect(badConfig.stderr.contains("invalid lock timeout \"-3\" from key lockTimeout in \(config)"), "\(badConfig.stderr)")
        // ...but a valid higher level wins without looking at the bad lower one.
        #expect(try verboseTimeout(cache.cacheDir, ["--lock-timeout", "3"]).exitCode == 0)
    }

    /// A timeout too large for a finite wait (over 10^9 s) is a usage error from
    /// every origin, naming the origin, and changes nothing.
    @Test(arguments: [
        (["--lock-timeout", "10000000000"], [:], nil, "invalid lock timeout \"10000000000\" from --lock-timeout: at most 1000000000 s"),
        ([], ["METACACHE_LOCK_TIMEOUT": "10000000000"], nil,
         "invalid lock timeout \"10000000000\" from environment variable METACACHE_LOCK_TIMEOUT: at most 1000000000 s"),
        ([], [:], "{\"lockTimeout\": 1e12}", "invalid lock timeout \"1000000000000\" from key lockTimeout in "),
        (["--fetch-timeout", "1e10"], [:], nil, "invalid --fetch-timeout '1e10': expected a positive number of seconds (2.5, 60), at most 1000000000 s (about 31 years), or 'infinite'"),
    ] as [([String], [String: String?], String?, String)])
    func hugeTimeoutsExit64NamingTheirOrigin(arguments: [String], environment: [String: String?], config: String?, message: String) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        if let config { try Data(config.utf8).write(to: URL(fileURLWithPath: cache.cacheDir + "/config.json")) }
        let result = try verboseTimeout(cache.cacheDir, arguments, environment: environment)
        #expect(result.exitCode == 64, "\(result.summary)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        if config != nil { #expect(result.stderr.contains(cache.cacheDir + "/config.json: at most 1000000000 s"), "\(result.stderr)") }
        #expect(cache.cacheBytes() == before)
    }

    /// Config numbers are JSON numbers: `0.00001` and `5e-1` are valid timeouts,
    /// not text with an exponent that the flag parser would reject.
    @Test func configNumbersWithExponentsOrTinyFractionsAreValid() throws {
        let cache = try PopulatedCache()
        let config = cache.cacheDir + "/config.json"
        func line(_ result: ChildProcess.Result) -> String {
            result.stderr.split(separator: "\n").first { $0.contains("debug: lock timeout:") }.map(String.init) ?? result.stderr
        }
        try Data("{\"lockTimeout\": 0.00001}".utf8).write(to: URL(fileURLWithPath: config))
        #expect(line(try verboseTimeout(cache.cacheDir)) == "metacache: debug: lock timeout: 0ms (from key lockTimeout in \(config))")
        try Data("{\"lockTimeout\": 5e-1}".utf8).write(to: URL(fileURLWithPath: config))
        #expect(line(try verboseTimeout(cache.cacheDir)) == "metacache: debug: lock timeout: 500ms (from key lockTimeout in \(config))")
    }

    @Test func sourceFromTheConfigFileIsRelativeToItsDirectory() throws {
        let cache = try PopulatedCache()
        let payload = sampleCatalogue(entries: 2, seed: 5)
        try Data(payload).write(to: URL(fileURLWithPath: cache.cacheDir + "/upstream.json"))
        try Data("{\"source\": \"upstream.json\", \"lockTimout\": 3}".utf8).write(to: URL(fileURLWithPath: cache.cacheDir + "/config.json"))
        // Run from another directory: the relative path is resolved against the config file's directory.
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir], workingDirectory: "/")
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(result.stderr.contains("warning: ignoring unknown key(s) \"lockTimout\""), "a typo in the config is pointed out: \(result.stderr)")
        #expect(try Metacache.run(["cache", "read", "--dir", cache.cacheDir]).stdout == payload)
        // --source beats the config file.
        let flag = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(flag.exitCode == 0)
        #expect(try Metacache.run(["cache", "read", "--dir", cache.cacheDir]).stdout == cache.payload)
    }

    @Test func stdinAndFileURLSources() throws {
        let dir = TemporaryDirectory("stdin")
        let payload = sampleCatalogue(entries: 3)
        try dir.write("with space.json", Data(payload))
        let fromStdin = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", "-"], stdin: .file(dir.file("with space.json")))
        #expect(fromStdin.exitCode == 0, "\(fromStdin.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)
        let url = "file://" + dir.file("with%20space.json")
        let fromURL = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source=" + url])
        #expect(fromURL.exitCode == 0, "\(fromURL.summary)")
        let status = try Metacache.run(["cache", "status", "--json", "--dir", dir.file("c")])
        #expect(status.stdoutText.contains("\"source\":\"\(dir.file("with space.json"))\""), "\(status.stdoutText)")
    }
}
}
