#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Every exit status of `metacache`, produced by a real process (the HTTP ones are
/// in HTTPRefreshTests, 75 and 130 in LockContentionTests and InterruptTests).
@Suite struct ExitCodeTests {
    @Test func successRefreshThenReadReturnsThePayloadByteForByte() throws {
        let dir = TemporaryDirectory("exit0")
        // No trailing newline and a non-ASCII string: read must not add or re-encode anything.
        let payload = Array("{\"vendor\":\"Azul Zulu — ☕\",\"versions\":[21,17]}".utf8)
        try dir.write("src.json", Data(payload))
        let refresh = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", dir.file("src.json")])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        #expect(refresh.stdoutText.contains("Refreshed 'metadata': generation 1, \(payload.count) B in "), "\(refresh.summary)")
        #expect(refresh.stdoutText.contains("(waited 0 ms)"))
        #expect(refresh.stderr.isEmpty, "a success has no diagnostics: \(refresh.stderr)")
        let read = try Metacache.run(["cache", "read", "--dir", dir.file("c")])
        #expect(read.exitCode == 0)
        #expect(read.stdout == payload)
        #expect(read.stderr.isEmpty)
    }

    @Test(arguments: [
        (["cache", "refresh", "--bogus"], "unknown option '--bogus'"),
        (["cache", "refresh", "--dir"], "option '--dir' needs a value"),
        (["cache", "refresh", "--if-older-than", "10"], "invalid --if-older-than '10'"),
        (["cache", "refresh", "--if-older-than=5x"], "invalid --if-older-than '5x'"),
        (["cache", "refresh", "--max-bytes", "-5"], "invalid --max-bytes '-5'"),
        (["cache", "refresh", "--lock-timeout", "soon"], "invalid lock timeout \"soon\" from --lock-timeout"),
        (["cache", "refresh", "--lock-backend", "nfs"], "invalid --lock-backend 'nfs'"),
        (["cache", "read", "--json"], "option '--json' does not apply to 'metacache cache read'"),
        (["cache", "frobnicate"], "unknown command 'frobnicate'"),
        (["cache"], "missing subcommand"),
        ([], "missing command"),
        (["cache", "read", "extra"], "unexpected argument 'extra'"),
        (["cache", "read", "--name", "../etc"], "invalid --name"),
        (["cache", "refresh", "--force=yes"], "option '--force' does not take a value"),
        (["cache", "refresh", "--source", "ftp://example.invalid/x.json"], "unsupported scheme 'ftp://'"),
        // An explicit --lock-timeout is checked by every command, even those that never wait.
        (["cache", "read", "--lock-timeout", "soon"], "invalid lock timeout \"soon\" from --lock-timeout"),
        (["cache", "status", "--lock-timeout=-1"], "invalid lock timeout \"-1\" from --lock-timeout"),
        (["cache", "verify", "--lock-timeout", "ten"], "invalid lock timeout \"ten\" from --lock-timeout"),
        (["cache", "sweep", "--lock-timeout", "1e10"], "invalid lock timeout \"1e10\" from --lock-timeout: at most 1000000000 s"),
        (["cache", "refresh", "--fetch-timeout", "10000000000"],
         "invalid --fetch-timeout '10000000000': expected a positive number of seconds (2.5, 60), at most 1000000000 s (about 31 years), or 'infinite'"),
        (["cache", "refresh", "--fetch-timeout", "0"], "invalid --fetch-timeout '0'"),
    ])
    func usageErrorsExit64WithAMessageAndTheUsageLine(arguments: [String], expected: String) throws {
        let dir = TemporaryDirectory("exit64")
        let result = try Metacache.run(arguments + (arguments.count > 1 ? ["--dir", dir.file("c")] : []))
        #expect(result.exitCode == 64, "\(arguments): \(result.summary)")
        #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage: metacache"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func noSourceAnywhereExits64WithAHint() throws {
        let dir = TemporaryDirectory("nosource")
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("c")])
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("no source to refresh from: pass --source"), "\(result.stderr)")
        #expect(result.stderr.contains(dir.file("c") + "/config.json"))
    }

    @Test func helpIsAvailableOnEveryLevelAndListsTheExitCodes() throws {
        for arguments in [["--help"], ["cache", "--help"], ["cache", "refresh", "--help"], ["cache", "read", "-h"],
                          ["cache", "status", "--help"], ["cache", "verify", "--help"], ["cache", "sweep", "--help"]] {
            let result = try Metacache.run(arguments)
            #expect(result.exitCode == 0, "\(arguments)")
            #expect(result.stdoutText.contains("Usage: metacache"), "\(arguments)")
            #expect(result.stdoutText.contains("75   lock timeout"), "\(arguments)")
        }
        let refresh = try Metacache.run(["cache", "refresh", "--help"]).stdoutText
        for option in ["--source", "--if-older-than", "--force", "--max-bytes", "--lock-timeout", "--lock-backend", "--quiet", "--verbose", "--events"] {
            #expect(refresh.contains(option), "refresh --help lacks \(option)")
        }
        let version = try Metacache.run(["--version"])
        #expect(version.exitCode == 0)
        #expect(version.stdoutText.hasPrefix("metacache "))
    }

    @Test func invalidPayloadExits65NamingTheProblemAndWritesNothing() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        try cache.directory.write("bad.json", Data("{\"vendor\":\"temurin\",".utf8))
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("bad.json")])
        #expect(result.exitCode == 65, "\(result.summary)")
        #expect(result.stderr.contains("invalid JSON payload from \(cache.directory.file("bad.json"))"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was written"))
        #expect(cache.cacheBytes() == before, "the previous cache must stay byte-for-byte intact")
        #expect(cache.tempFiles().isEmpty)
    }

    @Test func corruptCacheExits65OnReadAndVerifyAndRepairMovesItAside() throws {
        let cache = try PopulatedCache()
        var bytes = cache.cacheBytes().bytes
        bytes[bytes.count - 3] ^= 0x20  // a bit flip in the payload
        try Data(bytes).write(to: URL(fileURLWithPath: cache.cacheFile))

        let read = try Metacache.run(["cache", "read", "--dir", cache.cacheDir])
        #expect(read.exitCode == 65)
        #expect(read.stderr.contains("is corrupt: payload checksum mismatch"), "\(read.stderr)")
        #expect(read.stdout.isEmpty, "a corrupt payload must never reach stdout")

        let verify = try Metacache.run(["cache", "verify", "--dir", cache.cacheDir])
        #expect(verify.exitCode == 65)
        #expect(verify.stderr.contains("verify --repair"))
        #expect(FileManager.default.fileExists(atPath: cache.cacheFile), "verify without --repair must not move anything")

        let repair = try Metacache.run(["cache", "verify", "--repair", "--dir", cache.cacheDir])
        #expect(repair.exitCode == 65, "\(repair.summary)")
        let moved = try #require(try FileManager.default.contentsOfDirectory(atPath: cache.cacheDir).first { $0.hasPrefix("metadata.json.corrupt-") })
        #expect(repair.stderr.contains("Moved it aside to \(cache.cacheDir)/\(moved)"), "\(repair.stderr)")
        #expect(Array(FileManager.default.contents(atPath: cache.cacheDir + "/" + moved) ?? Data()) == bytes, "kept byte for byte")
        #expect(!FileManager.default.fileExists(atPath: cache.cacheFile))

        let afterRepair = try Metacache.run(["cache", "verify", "--dir", cache.cacheDir])
        #expect(afterRepair.exitCode == 66)
        let refresh = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(refresh.exitCode == 0)
        #expect(try Metacache.run(["cache", "verify", "--dir", cache.cacheDir]).exitCode == 0)
    }

    @Test func missingSourceOrCacheExits66() throws {
        let dir = TemporaryDirectory("exit66")
        let refresh = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", dir.file("nope.json")])
        #expect(refresh.exitCode == 66)
        #expect(refresh.stderr.contains("source \(dir.file("nope.json")) does not exist"), "\(refresh.stderr)")

        let read = try Metacache.run(["cache", "read", "--dir", dir.file("never")])
        #expect(read.exitCode == 66)
        #expect(read.stderr.contains(
            "no cache at \(dir.file("never"))/metadata.json yet; create it with '\(Metacache.path) cache refresh --dir \(dir.file("never")) --source SRC'"),
            "\(read.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("never")), "read must not create the directory")

        let verify = try Metacache.run(["cache", "verify", "--dir", dir.file("never")])
        #expect(verify.exitCode == 66)
    }

    @Test func cacheDirectoryThatCannotBeCreatedExits73() throws {
        let dir = TemporaryDirectory("exit73")
        try dir.write("plain-file", Data("x".utf8))
        try dir.write("src.json", Data("{}".utf8))
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("plain-file/cache"), "--source", dir.file("src.json")])
        #expect(result.exitCode == 73, "\(result.summary)")
        #expect(result.stderr.contains(dir.file("plain-file")), "\(result.stderr)")
    }

    @Test func writeErrorOnStdoutExits74() throws {
        let cache = try PopulatedCache()
        let full = open("/dev/full", O_WRONLY)
        try #require(full >= 0)
        defer { close(full) }
        let child = try ChildProcess(
            Metacache.path, ["cache", "read", "--dir", cache.cacheDir], environment: Metacache.environment(),
            stdout: .descriptor(full), stderr: .captured)
        #expect(try child.wait() == .exited(74))
        #expect(child.standardError.contains("writing to standard output failed: ENOSPC"), "\(child.standardError)")
    }

    @Test func unsafeCacheDirectoryExits77() throws {
        let dir = TemporaryDirectory("exit77")
        try FileManager.default.createDirectory(atPath: dir.file("shared"), withIntermediateDirectories: false)
        chmod(dir.file("shared"), 0o777)
        try dir.write("src.json", Data("{}".utf8))
        let refresh = try Metacache.run(["cache", "refresh", "--dir", dir.file("shared"), "--source", dir.file("src.json")])
        #expect(refresh.exitCode == 77, "\(refresh.summary)")
        #expect(refresh.stderr.contains("writable by group or others"), "\(refresh.stderr)")
        #expect(refresh.stderr.contains("'chmod 700 \(dir.file("shared"))'"), "\(refresh.stderr)")

        symlink(dir.file("shared"), dir.file("link"))
        let read = try Metacache.run(["cache", "read", "--dir", dir.file("link")])
        #expect(read.exitCode == 77, "\(read.summary)")
        #expect(read.stderr.contains("symbolic link"))
        #expect(read.stderr.contains("It points to \(dir.file("shared")): use --dir \(dir.file("shared")) instead"), "\(read.stderr)")
        let sharedLink = try Metacache.run(["cache", "read", "--allow-shared-dir", "--dir", dir.file("link")])
        #expect(sharedLink.exitCode == 77, "a symlink is refused even with --allow-shared-dir: \(sharedLink.summary)")
    }

    /// The common trigger: mkdir under umask 002 gives mode 775. The message says
    /// how to fix it; --allow-shared-dir accepts it on purpose, for every command.
    @Test func aDirectoryMadeUnderUmask002IsRefusedWithTheFixAndAllowedOnRequest() throws {
        let dir = TemporaryDirectory("umask002")
        let cacheDir = dir.file("cache")
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: false)
        chmod(cacheDir, 0o775)
        try dir.write("src.json", Data(sampleCatalogue(entries: 2)))
        let refused = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", dir.file("src.json")])
        #expect(refused.exitCode == 77, "\(refused.summary)")
        #expect(refused.stderr.contains("it is writable by group or others (mode 775)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("'chmod g-w,o-w \(cacheDir)'") && refused.stderr.contains("umask 002"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--allow-shared-dir"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cacheDir + "/metadata.json"), "nothing was written")

        let allowed = try Metacache.run(["cache", "refresh", "--allow-shared-dir", "--dir", cacheDir, "--source", dir.file("src.json")])
        #expect(allowed.exitCode == 0, "\(allowed.summary)")
        for command in [["read"], ["status"], ["verify"], ["sweep"]] {
            #expect(try Metacache.run(["cache"] + command + ["--allow-shared-dir", "--dir", cacheDir]).exitCode == 0, "\(command)")
            #expect(try Metacache.run(["cache"] + command + ["--dir", cacheDir]).exitCode == 77, "\(command) without the flag")
        }
        #expect(try Metacache.run(["cache", "read", "--allow-shared-dir", "--dir", cacheDir]).stdout == sampleCatalogue(entries: 2))
    }

    @Test func aFileWhereTheCacheDirectoryShouldBeGetsNoChmodAdvice() throws {
        let dir = TemporaryDirectory("notadir")
        try dir.write("cache", Data("a file".utf8))
        try dir.write("src.json", Data("{}".utf8))
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("cache"), "--source", dir.file("src.json")])
        #expect(result.exitCode == 77, "\(result.summary)")
        #expect(result.stderr.contains("it is not a directory. Something else is at that path"), "\(result.stderr)")
        #expect(!result.stderr.contains("chmod") && !result.stderr.contains("--allow-shared-dir"), "\(result.stderr)")
        #expect(Array(dir.contents("cache") ?? Data()) == Array("a file".utf8), "the file is untouched")
    }

    @Test func malformedConfigFileExits78NamingTheFile() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        for (content, expected) in [("{\"source\": ", "is not valid JSON"), ("[1,2]", "is not a JSON object"),
                                    ("{\"source\": 5}", "\"source\" of type number")] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: cache.cacheDir + "/config.json"))
            let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir])
            #expect(result.exitCode == 78, "\(content): \(result.summary)")
            #expect(result.stderr.contains("config file \(cache.cacheDir)/config.json"), "\(result.stderr)")
            #expect(result.stderr.contains(expected), "\(content): \(result.stderr)")
        }
        #expect(cache.cacheBytes() == before, "the previous cache must stay byte-for-byte intact")
    }
}
}
