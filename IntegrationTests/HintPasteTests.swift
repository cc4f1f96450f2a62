#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Every command a message suggests is pasted into /bin/sh as printed, and must
/// act on the same cache: a directory whose name needs quoting (a space, a `$`),
/// a non-default `--name`, and a `HOME` of the test's own, so that a hint
/// without `--dir` would act on `$HOME/.cache/metacache` — which must stay absent.
@Suite struct HintPasteTests {
    let scratch = TemporaryDirectory("hints")
    var home: String { scratch.file("home") }
    var cacheDir: String { scratch.file("cache dir $X") }
    var defaultCache: String { home + "/.cache/metacache" }

    init() throws {
        try FileManager.default.createDirectory(atPath: scratch.file("home"), withIntermediateDirectories: true)
    }

    private func metacache(_ arguments: [String]) throws -> ChildProcess.Result {
        try Metacache.run(arguments, environment: ["HOME": home])
    }

    /// Runs a hint exactly as a user pastes it.
    private func paste(_ hint: Substring) throws -> ChildProcess.Result {
        try ChildProcess.run("/bin/sh", ["-c", String(hint)], environment: Metacache.environment(["HOME": home]))
    }

    /// The commands between single quotes after each of `leads` in `text`.
    private func hints(in text: String, after leads: [String]) throws -> [Substring] {
        try leads.map { lead in
            let start = try #require(text.range(of: lead + " '"), "no '\(lead)' hint in: \(text)")
            let rest = text[start.upperBound...]
            return rest[..<(try #require(rest.firstIndex(of: "'"), "unterminated hint in: \(text)"))]
        }
    }

    @Test func aCorruptCacheIsRepairedAndRebuiltByPastingTheHints() throws {
        let payload = sampleCatalogue(entries: 14)
        try scratch.write("src catalog.json", Data(payload))
        let source = scratch.file("src catalog.json")
        let located = ["--dir", cacheDir, "--name", "jdk"]
        #expect(try metacache(["cache", "refresh", "--source", source] + located).exitCode == 0)
        let cacheFile = cacheDir + "/jdk.json"
        let handle = try #require(FileHandle(forUpdatingAtPath: cacheFile))
        try handle.seek(toOffset: UInt64(try FileManager.default.attributesOfItem(atPath: cacheFile)[.size] as! Int - 10))
        try handle.write(contentsOf: Data("X".utf8))
        try handle.close()

        let status = try metacache(["cache", "status"] + located)
        #expect(status.exitCode == 0)
        let fromStatus = try hints(in: status.stdoutText, after: ["— run", ", then"])
        let verify = try metacache(["cache", "verify"] + located)
        #expect(verify.exitCode == 65)
        let fromVerify = try hints(in: verify.stderr, after: ["Move it aside with", "then rebuild it with"])
        let read = try metacache(["cache", "read"] + located)
        #expect(read.exitCode == 65 && read.stdout.isEmpty)
        let fromRead = try hints(in: read.stderr, after: ["Move it aside with", "then rebuild it with"])
        #expect(fromStatus == fromVerify && fromVerify == fromRead, "one wording of each hint: \(fromStatus) \(fromVerify) \(fromRead)")
        #expect(fromStatus[0].contains("--dir \"\(cacheDir.replacingOccurrences(of: "$", with: "\\$"))\" --name jdk"), "\(fromStatus[0])")
        #expect(fromStatus[1].contains("--source \"\(source)\""), "the source the cache recorded: \(fromStatus[1])")

        let repaired = try paste(fromStatus[0])
        #expect(repaired.exitCode == 65, "verify --repair reports what it found: \(repaired.summary)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cacheDir).contains { $0.hasPrefix("jdk.json.corrupt-") },
                "moved aside in the same directory")
        let fromRepair = try hints(in: repaired.stderr, after: ["rebuild the cache with"])
        #expect(fromRepair[0] == fromStatus[1])

        let rebuilt = try paste(fromRepair[0])
        #expect(rebuilt.exitCode == 0, "\(rebuilt.summary)")
        #expect(rebuilt.stdoutText.hasPrefix("Refreshed 'jdk': generation 1, "), "\(rebuilt.summary)")
        #expect(try metacache(["cache", "read"] + located).stdout == payload)
        #expect(!FileManager.default.fileExists(atPath: defaultCache), "no hint acted on the default cache")
    }

    /// With a config `source` the refresh hint needs no `--source` and works as is;
    /// without one it says `--source SRC`, the one placeholder.
    @Test func aMissingCacheHintCreatesIt() throws {
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data(sampleCatalogue(entries: 3)).write(to: URL(fileURLWithPath: cacheDir + "/upstream.json"))
        let bare = try metacache(["cache", "verify", "--dir", cacheDir])
        #expect(bare.exitCode == 66)
        #expect(try hints(in: bare.stderr, after: ["create it with"])[0].hasSuffix(" --source SRC"), "\(bare.stderr)")

        try Data(#"{"source": "upstream.json"}"#.utf8).write(to: URL(fileURLWithPath: cacheDir + "/config.json"))
        for command in [["cache", "verify"], ["cache", "read"]] {
            let missing = try metacache(command + ["--dir", cacheDir])
            #expect(missing.exitCode == 66)
            #expect(!(try hints(in: missing.stderr, after: ["create it with"])[0].contains("--source")), "\(missing.stderr)")
        }
        let status = try metacache(["cache", "status", "--dir", cacheDir])
        let create = try hints(in: status.stdoutText, after: ["no cache yet; run"])[0]
        let created = try paste(create)
        #expect(created.exitCode == 0, "\(created.summary)")
        #expect(try metacache(["cache", "verify", "--dir", cacheDir]).exitCode == 0)
        #expect(!FileManager.default.fileExists(atPath: defaultCache))
    }

    @Test func theTimeoutAndSweepHintsNameTheSameCache() throws {
        let payload = sampleCatalogue(entries: 4)
        try scratch.write("good.json", Data(payload))
        #expect(try metacache(["cache", "refresh", "--dir", cacheDir, "--source", scratch.file("good.json")]).exitCode == 0)
        let holder = try LockHolder(cacheDir: cacheDir, scratch: scratch)
        let timedOut = try metacache(["cache", "refresh", "--dir", cacheDir, "--source", scratch.file("good.json"), "--lock-timeout", "0"])
        #expect(timedOut.exitCode == 75)
        let status = try paste(try hints(in: timedOut.stderr, after: ["or see"])[0])
        #expect(status.exitCode == 0, "\(status.summary)")
        #expect(status.stdoutText.contains("lock:         held by pid \(holder.pid)"), "the status of the same cache: \(status.stdoutText)")
        let sweep = try metacache(["cache", "sweep", "--dir", cacheDir])
        #expect(sweep.exitCode == 75)
        #expect(try paste(try hints(in: sweep.stderr, after: ["(see"])[0]).stdoutText.contains("held by pid \(holder.pid)"))
        #expect(try holder.release() == .exited(0))

        #expect(FileManager.default.createFile(atPath: cacheDir + "/metadata.json.tmp-4242-0123456789abcdef", contents: Data()))
        let orphans = try metacache(["cache", "status", "--dir", cacheDir])
        let swept = try paste(try hints(in: orphans.stdoutText, after: ["(remove with"])[0])
        #expect(swept.exitCode == 0, "\(swept.summary)")
        #expect(swept.stdoutText.hasPrefix("Removed 1 orphaned file:"), "\(swept.summary)")
        #expect(!FileManager.default.fileExists(atPath: defaultCache))
    }
}
}
