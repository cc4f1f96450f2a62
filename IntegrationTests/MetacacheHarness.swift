#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

/// Runs the built `metacache` binary as a real process, in an environment cleared
/// of the variables that would change its behaviour (the developer's own
/// METACACHE_DIR must never leak into a test).
enum Metacache {
    static var path: String { BuiltProducts.path(of: "metacache") }

    static let packageRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
    }()

    static func environment(_ changes: [String: String?] = [:]) -> [String: String] {
        var base: [String: String?] = [
            "METACACHE_DIR": nil, "METACACHE_LOCK_TIMEOUT": nil, "XDG_CACHE_HOME": nil,
            // libcurl in metacache-fetch reads these: a developer's proxy must not
            // receive the tests' loopback requests (loopback is not exempt).
            "http_proxy": nil, "HTTP_PROXY": nil, "https_proxy": nil, "HTTPS_PROXY": nil, "all_proxy": nil, "ALL_PROXY": nil,
            "no_proxy": nil, "NO_PROXY": nil,
        ]
        for (key, value) in changes { base[key] = value }
        return ChildProcess.environment(adding: base)
    }

    /// Runs to completion with stdout and stderr captured.
    static func run(
        _ arguments: [String], environment changes: [String: String?] = [:], stdin: ChildProcess.Stream = .null,
        workingDirectory: String? = nil, timeout: Duration = .seconds(60)
    ) throws -> ChildProcess.Result {
        try ChildProcess.run(
            path, arguments, environment: environment(changes), stdin: stdin, workingDirectory: workingDirectory,
            timeout: timeout)
    }

    /// Starts it with stderr on a pipe (to synchronise on its feedback lines).
    static func start(
        _ arguments: [String], environment changes: [String: String?] = [:], stdin: ChildProcess.Stream = .null,
        stdout: ChildProcess.Stream = .captured, stderr: ChildProcess.Stream = .pipe
    ) throws -> ChildProcess {
        try ChildProcess(path, arguments, environment: environment(changes), stdin: stdin, stdout: stdout, stderr: stderr)
    }
}

/// A JDK-distribution-like catalogue of `entries` entries, as JSON bytes.
func sampleCatalogue(entries: Int = 40, seed: Int = 0) -> [UInt8] {
    let vendors = ["temurin", "zulu", "corretto", "liberica", "graalvm"]
    let systems = [("linux", "x64"), ("linux", "aarch64"), ("macos", "aarch64"), ("windows", "x64")]
    var items: [String] = []
    for i in 0..<entries {
        let vendor = vendors[(i + seed) % vendors.count]
        let (os, arch) = systems[i % systems.count]
        let version = "\(17 + (i % 3) * 2).0.\(i % 10)"
        items.append("""
            {"vendor":"\(vendor)","version":"\(version)","os":"\(os)","arch":"\(arch)","archive":"tar.gz",\
            "url":"https://downloads.example.invalid/\(vendor)/jdk-\(version)-\(os)-\(arch).tar.gz",\
            "sha256":"\(String(repeating: String(format: "%02x", (i * 7 + seed) % 256), count: 32))","size":\(190_000_000 + i * 1_031)}
            """)
    }
    return Array("{\"schema\":1,\"seed\":\(seed),\"distributions\":[\(items.joined(separator: ","))]}".utf8)
}

/// A cache directory with a committed cache, for tests that check nothing changes.
final class PopulatedCache {
    let directory = TemporaryDirectory("cli")
    var cacheDir: String { directory.file("cache") }
    var cacheFile: String { cacheDir + "/metadata.json" }
    let payload: [UInt8]

    init(entries: Int = 20) throws {
        payload = sampleCatalogue(entries: entries)
        try directory.write("good.json", Data(payload))
        let result = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", directory.file("good.json")])
        try #require(result.exitCode == 0, "setting up the cache failed: \(result.stderr)")
    }

    /// The cache file's bytes now, compared with `==` (an `Equatable` wrapper whose
    /// description is a digest, so a failed comparison does not print megabytes).
    func cacheBytes() -> FileBytes { FileBytes(Array(FileManager.default.contents(atPath: cacheFile) ?? Data())) }

    /// Files in the cache directory that look like temp files.
    func tempFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cacheDir)) ?? []).filter { $0.contains(".tmp-") }
    }
}

extension ChildProcess.Result {
    /// For failure messages.
    var summary: String { "\(termination); stdout: \(stdoutText.prefix(500)); stderr: \(stderr)" }
}

/// File contents that compare by value and print as a size and a hash.
struct FileBytes: Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var description: String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return "\(bytes.count) bytes, FNV-1a \(String(hash, radix: 16))"
    }
}

/// Every integration suite that runs processes is nested here (`extension
/// MetacacheIntegration { @Suite struct … }`) and runs one test at a time, each
/// on a thread of its own (`.dedicatedThread`). These tests block their thread
/// for seconds (waiting on child processes); on the shared concurrency pool (two
/// threads on a 2-core machine) they would starve the library's async tests
/// running in the same test process — and the stress runs, which want both cores
/// and assert timings (re-acquire under 1 s, throughput), must not share the
/// machine with another process-heavy suite. Suites of pure checks on synthetic
/// input stay outside.
@Suite(.serialized, .dedicatedThread) struct MetacacheIntegration {}
