#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Every bad source in `Fixtures/bad/expected-exit-codes.json` — committed files
/// and the ones git cannot hold, which this test creates — produces its recorded
/// exit status, says that nothing was written, and leaves the previous cache
/// byte-for-byte intact with no temp file behind.
@Suite struct BadFixtureTests {
    struct Manifest: Decodable {
        struct Fixture: Decodable, CustomTestStringConvertible, Sendable {
            var file: String
            var exitCode: Int32
            var problem: String
            var testDescription: String { file }
        }
        struct Generated: Decodable, CustomTestStringConvertible, Sendable {
            var name: String
            var exitCode: Int32
            var problem: String
            var testDescription: String { name }
        }
        var fixtures: [Fixture]
        var generated: [Generated]
    }

    static let directory = Metacache.packageRoot + "/Fixtures/bad"
    static let manifest: Manifest = {
        let data = FileManager.default.contents(atPath: directory + "/expected-exit-codes.json") ?? Data()
        return (try? JSONDecoder().decode(Manifest.self, from: data)) ?? Manifest(fixtures: [], generated: [])
    }()

    @Test func theManifestListsAtLeastTwentyBadSourcesAndEveryCommittedFile() throws {
        #expect(Self.manifest.fixtures.count + Self.manifest.generated.count >= 20)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0 != "expected-exit-codes.json" }
        #expect(Set(files) == Set(Self.manifest.fixtures.map(\.file)), "every file in Fixtures/bad must be in the manifest and vice versa")
    }

    @Test(arguments: manifest.fixtures)
    func committedFixture(_ fixture: Manifest.Fixture) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let source = Self.directory + "/" + fixture.file
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", source])
        #expect(result.exitCode == fixture.exitCode, "\(fixture.file) (\(fixture.problem)): \(result.summary)")
        #expect(result.stderr.contains(source), "the message names the source: \(result.stderr)")
        #expect(result.stderr.contains("nothing was written"), "\(result.stderr)")
        #expect(cache.cacheBytes() == before, "\(fixture.file) changed the previous cache")
        #expect(cache.tempFiles().isEmpty, "\(fixture.file) left a temp file")
    }

    @Test(arguments: manifest.generated)
    func generatedFixture(_ fixture: Manifest.Generated) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let scratch = cache.directory
        var arguments = ["cache", "refresh", "--dir", cache.cacheDir]
        let result: ChildProcess.Result
        switch fixture.name {
        case "missing-file":
            result = try Metacache.run(arguments + ["--source", scratch.file("does-not-exist.json")])
        case "dangling-symlink":
            symlink(scratch.file("nowhere.json"), scratch.file("link.json"))
            result = try Metacache.run(arguments + ["--source", scratch.file("link.json")])
        case "directory":
            try FileManager.default.createDirectory(atPath: scratch.file("a-directory"), withIntermediateDirectories: false)
            result = try Metacache.run(arguments + ["--source", scratch.file("a-directory")])
        case "fifo-garbage", "fifo-empty":
            let fifo = try FIFOWriter(path: scratch.file("source.fifo"))
            let child = try Metacache.start(arguments + ["--source", fifo.path], stderr: .captured)
            try fifo.openWhenReaderArrives()
            if fixture.name == "fifo-garbage" { fifo.write("<html><body>Service Unavailable</body></html>") }
            fifo.close()
            let termination = try child.wait()
            result = ChildProcess.Result(termination: termination, stdout: child.standardOutput, stderr: child.standardError)
        case "dev-null":
            result = try Metacache.run(arguments + ["--source", "/dev/null"])
        case "stdin-empty":
            result = try Metacache.run(arguments + ["--source", "-"], stdin: .null)
        case "unreadable-file":
            result = try unreadableSourceRun(scratch: scratch, cache: cache, arguments: &arguments)
        case "over-64MiB-sparse":
            let path = scratch.file("huge.json")
            let fd = open(path, O_WRONLY | O_CREAT, 0o600)
            try #require(fd >= 0)
            ftruncate(fd, off_t(64 << 20) + 1)
            close(fd)
            result = try Metacache.run(arguments + ["--source", path])
            #expect(result.stderr.contains("larger than the limit of 64.0 MiB"), "\(result.stderr)")
        case "over-max-bytes":
            let document = sampleCatalogue(entries: 12)
            try #require(document.count > 4096 - 1024 && document.count > 1024)
            try scratch.write("four-k.json", Data(document))
            result = try Metacache.run(arguments + ["--source", scratch.file("four-k.json"), "--max-bytes", "1K"])
            #expect(result.stderr.contains("larger than the limit of 1.0 KiB"), "\(result.stderr)")
        default:
            Issue.record("the manifest lists a generated fixture '\(fixture.name)' this test does not know how to create")
            return
        }
        #expect(result.exitCode == fixture.exitCode, "\(fixture.name) (\(fixture.problem)): \(result.summary)")
        #expect(result.stderr.contains("nothing was written"), "\(fixture.name): \(result.stderr)")
        if fixture.name != "unreadable-file" {
            #expect(cache.cacheBytes() == before, "\(fixture.name) changed the previous cache")
            #expect(cache.tempFiles().isEmpty, "\(fixture.name) left a temp file")
        }
    }

    /// Permission bits do not stop root, so when the tests run as root the refresh
    /// runs as an unprivileged user (setpriv) on a cache that user owns.
    private func unreadableSourceRun(
        scratch: TemporaryDirectory, cache: PopulatedCache, arguments: inout [String]
    ) throws -> ChildProcess.Result {
        try scratch.write("secret.json", Data("{\"a\":1}".utf8))
        chmod(scratch.file("secret.json"), 0)
        guard geteuid() == 0 else {
            return try Metacache.run(arguments + ["--source", scratch.file("secret.json")])
        }
        let setpriv = "/usr/bin/setpriv"
        try #require(FileManager.default.isExecutableFile(atPath: setpriv), "running as root needs setpriv to test an unreadable source")
        chmod(scratch.path, 0o711)  // let the unprivileged user traverse to its own cache directory
        let userCache = scratch.file("nobody-cache")
        try FileManager.default.createDirectory(atPath: userCache, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        chown(userCache, 65534, 65534)
        try scratch.write("public.json", Data("{\"b\":2}".utf8))
        chmod(scratch.file("public.json"), 0o644)
        let asNobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", Metacache.path]
        let setup = try ChildProcess.run(
            asNobody[0], Array(asNobody.dropFirst()) + ["cache", "refresh", "--dir", userCache, "--source", scratch.file("public.json")],
            environment: Metacache.environment())
        try #require(setup.exitCode == 0, "\(setup.summary)")
        let before = FileManager.default.contents(atPath: userCache + "/metadata.json")
        let result = try ChildProcess.run(
            asNobody[0], Array(asNobody.dropFirst()) + ["cache", "refresh", "--dir", userCache, "--source", scratch.file("secret.json")],
            environment: Metacache.environment())
        #expect(result.stderr.contains("cannot open source \(scratch.file("secret.json")): EACCES"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: userCache + "/metadata.json") == before, "the previous cache changed")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: userCache)) ?? []).allSatisfy { !$0.contains(".tmp-") })
        return result
    }
}
}
