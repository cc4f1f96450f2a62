#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// What every `metacache cache` command does with cache files a buggy or hostile
/// writer can produce with valid checksums (values at the edges of their types),
/// and with files written by a newer format version.
@Suite struct CraftedCacheFileCLITests {
    /// A cache directory holding `file` as its cache.
    static func store(_ file: CraftedCacheFile, label: String) throws -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory(label)
        let cacheDir = dir.file("c")
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Data(file.bytes).write(to: URL(fileURLWithPath: cacheDir + "/metadata.json"))
        try dir.write("src.json", Data(#"{"fresh":true}"#.utf8))
        return (dir, cacheDir)
    }

    static func isTrap(_ result: ChildProcess.Result) -> Bool {
        if case .signaled = result.termination { return true }
        return false
    }

    @Test func aHugePayloadLengthIsCorruptAndRepairMovesItAside() throws {
        var file = CraftedCacheFile()
        file.payloadLength = .max
        let (dir, cacheDir) = try Self.store(file, label: "cli-huge-n")
        for command in [["read"], ["read", "--meta"], ["verify"]] {
            let result = try Metacache.run(["cache"] + command + ["--dir", cacheDir])
            #expect(!Self.isTrap(result), "\(command) trapped: \(result.summary)")
            #expect(result.exitCode == 65, "\(command): \(result.summary)")
            #expect(result.stderr.contains("corrupt"), "\(result.stderr)")
        }
        let status = try Metacache.run(["cache", "status", "--dir", cacheDir])
        #expect(status.exitCode == 0, "\(status.summary)")
        #expect(status.stdoutText.contains("CORRUPT"), "\(status.stdoutText)")

        let repair = try Metacache.run(["cache", "verify", "--repair", "--dir", cacheDir])
        #expect(repair.exitCode == 65, "\(repair.summary)")
        #expect(repair.stderr.contains("Moved it aside"), "\(repair.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cacheDir + "/metadata.json"))
        let refresh = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", dir.file("src.json")])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
    }

    /// Every signed 64-bit fetchedAt/committedAt prints as the exact instant, in
    /// ISO 8601 with an expanded year outside 0000-9999 (references: Java's
    /// `Instant.ofEpochMilli(Long.MAX_VALUE)` and `(Long.MIN_VALUE)`).
    @Test(arguments: [
        (Int64.max, "+292278994-08-17T07:12:55.807Z"),
        (Int64.min + 1, "-292275055-05-16T16:47:04.193Z"),
        (253_402_300_800_000, "+10000-01-01T00:00:00.000Z"),
        (-62_167_219_200_001, "-0001-12-31T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ] as [(Int64, String)])
    func extremeTimestampsPrintExactlyAndNeverTrap(milliseconds: Int64, expected: String) throws {
        var file = CraftedCacheFile()
        file.fetchedAtMilliseconds = milliseconds
        file.committedAtMilliseconds = milliseconds
        let (dir, cacheDir) = try Self.store(file, label: "cli-time")

        let meta = try Metacache.run(["cache", "read", "--meta", "--dir", cacheDir])
        #expect(meta.exitCode == 0, "\(meta.summary)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(meta.stdout)) as? [String: Any], "\(meta.stdoutText)")
        #expect(object["fetchedAt"] as? String == expected)
        #expect(object["committedAt"] as? String == expected)

        let status = try Metacache.run(["cache", "status", "--dir", cacheDir])
        #expect(status.exitCode == 0, "\(status.summary)")
        #expect(status.stdoutText.contains("fetched:      \(expected) ("), "\(status.stdoutText)")
        let json = try Metacache.run(["cache", "status", "--json", "--dir", cacheDir])
        #expect(json.exitCode == 0, "\(json.summary)")
        let statusObject = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        #expect(statusObject["fetchedAt"] as? String == expected)

        let refresh = try Metacache.run(
            ["cache", "refresh", "--if-older-than", "1h", "--dir", cacheDir, "--source", dir.file("src.json")])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        #expect(refresh.stdoutText.hasPrefix(milliseconds > 0 ? "Skipped: cache is fresh" : "Refreshed"), "\(refresh.stdoutText) \(refresh.stderr)")
    }

    /// A file of a newer format version (or with a format flag this version does
    /// not know) is intact: every command says so with exit 76, and nothing
    /// replaces or moves it unless `--overwrite-newer-format` says to.
    @Test(arguments: [(2, 0), (1, 4)] as [(UInt16, UInt16)])
    func aNewerFormatFileIsLeftAloneUnlessOverwritingIsAsked(version: UInt16, flags: UInt16) throws {
        var file = CraftedCacheFile()
        file.version = version
        file.flags = flags
        let (dir, cacheDir) = try Self.store(file, label: "cli-newer")
        let cacheFile = cacheDir + "/metadata.json"
        let source = dir.file("src.json")
        for command in [["read"], ["read", "--meta"], ["verify"], ["verify", "--repair"],
                        ["refresh", "--source", source], ["refresh", "--source", source, "--force"]] {
            let result = try Metacache.run(["cache"] + command + ["--dir", cacheDir])
            #expect(result.exitCode == 76, "\(command): \(result.summary)")
            #expect(result.stderr.contains(version > 1 ? "format version \(version)" : "format flags"), "\(command): \(result.stderr)")
            #expect(result.stderr.contains("newer"), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("corrupt"), "\(command): \(result.stderr)")
            #expect(FileManager.default.contents(atPath: cacheFile) == Data(file.bytes), "\(command) changed the file")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cacheDir)) ?? []).allSatisfy { !$0.contains(".corrupt-") })
        let status = try Metacache.run(["cache", "status", "--dir", cacheDir])
        #expect(status.exitCode == 0, "\(status.summary)")
        #expect(status.stdoutText.contains("newer"), "\(status.stdoutText)")

        let forced = try Metacache.run(["cache", "refresh", "--overwrite-newer-format", "--dir", cacheDir, "--source", source])
        #expect(forced.exitCode == 0, "\(forced.summary)")
        #expect(forced.stdoutText.hasPrefix("Refreshed 'metadata': generation 1,"), "\(forced.stdoutText) \(forced.stderr)")
        #expect(try Metacache.run(["cache", "read", "--dir", cacheDir]).stdout == Array(#"{"fresh":true}"#.utf8))
    }

    /// docs/format.md, tag 1: the CLI records the literal `stdin` for standard
    /// input and an absolute path for a relative file source.
    @Test func theSourceFieldIsWhatTheFormatSays() throws {
        let dir = TemporaryDirectory("source-field")
        try dir.write("src.json", Data(#"{"a":1}"#.utf8))
        func recordedSource() throws -> String? {
            let meta = try Metacache.run(["cache", "read", "--meta", "--dir", dir.file("c")])
            let object = try JSONSerialization.jsonObject(with: Data(meta.stdout)) as? [String: Any]
            return object?["source"] as? String
        }
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", "-"], stdin: .file(dir.file("src.json"))).exitCode == 0)
        #expect(try recordedSource() == "stdin")
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", "src.json"], workingDirectory: dir.path).exitCode == 0)
        #expect(try recordedSource() == dir.file("src.json"))
    }

    /// A filesystem that reports no size (statfs all zeros: LazyFS and other FUSE
    /// mounts; here a tmpfs mounted without a size limit) gets no free-space
    /// preflight: the write's own ENOSPC handling protects the old cache there.
    @Test(.enabled(if: TmpfsMount.isAvailable, TmpfsMount.skipReason))
    func aFilesystemReportingNoSizeIsNotRefused() throws {
        let fs = try TmpfsMount(sizeBytes: 0)
        var s = statvfs()
        try #require(statvfs(fs.path, &s) == 0 && s.f_blocks == 0, "tmpfs size=0 reports its size here")
        let dir = TemporaryDirectory("zero-statfs")
        try dir.write("src.json", Data(sampleCatalogue(entries: 30)))
        let refresh = try Metacache.run(["cache", "refresh", "--dir", fs.path + "/c", "--source", dir.file("src.json"), "--verbose"])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        #expect(refresh.stderr.contains("free space unknown"), "\(refresh.stderr)")
        #expect(try Metacache.run(["cache", "read", "--dir", fs.path + "/c"]).stdout == sampleCatalogue(entries: 30))
    }

    /// Permission denied is exit 77 wherever it happens, creating the temp file
    /// included (it was 73, "cannot create"), and the message names the path.
    @Test func aPermissionDeniedCreatingTheTempFileExits77() throws {
        let scratch = TemporaryDirectory("eacces-temp")
        let cacheDir = scratch.file("c")
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try scratch.write("src.json", Data(#"{"a":1}"#.utf8))
        var prefix: [String] = []
        if geteuid() == 0 {
            // Permission bits do not stop root: run as an unprivileged user that
            // owns the cache directory.
            let setpriv = "/usr/bin/setpriv"
            try #require(FileManager.default.isExecutableFile(atPath: setpriv), "running as root needs setpriv")
            chmod(scratch.path, 0o711)
            chmod(scratch.file("src.json"), 0o644)
            chown(cacheDir, 65534, 65534)
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        func metacache(_ arguments: [String]) throws -> ChildProcess.Result {
            let command = prefix + [Metacache.path] + arguments + ["--dir", cacheDir]
            return try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment())
        }
        try #require(try metacache(["cache", "refresh", "--source", scratch.file("src.json")]).exitCode == 0)
        let before = FileManager.default.contents(atPath: cacheDir + "/metadata.json")
        chmod(cacheDir, 0o500)  // the lock file exists; the temp file cannot be created
        defer { chmod(cacheDir, 0o700) }
        let result = try metacache(["cache", "refresh", "--source", scratch.file("src.json"), "--force"])
        #expect(result.exitCode == 77, "\(result.summary)")
        #expect(result.stderr.contains(cacheDir), "\(result.stderr)")
        #expect(result.stderr.contains("permission"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: cacheDir + "/metadata.json") == before)
    }
}
}
