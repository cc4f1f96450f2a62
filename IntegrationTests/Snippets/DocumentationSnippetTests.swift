import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Every ```swift block of README.md and docs/*.md builds as a host's
/// `main.swift` against this package and, unless marked `no-run`, runs to a clean
/// exit against a loopback server standing in for `https://api.example.com`, with
/// `HOME` and `XDG_CACHE_HOME` in a fresh directory (the snippets keep their
/// cache in `$XDG_CACHE_HOME/mytool`). Issue 15 item 8 asked for compiling; issue 18 item 1 for
/// running: the quick start used to crash with `selfDeadlock` as written.
@Suite struct DocumentationSnippetTests {
    /// The host the snippets fetch from; the check points it at its own server.
    static let placeholderHost = "https://api.example.com"

    /// `/catalogue.json` as the snippets' `Catalogue` model expects it, with an
    /// ETag and a 304 for a request that sends it back.
    static func catalogueServer() throws -> LoopbackHTTPServer {
        let etag = "\"catalogue-v1\""
        let body = Array(#"{"packages":[{"name":"temurin","version":"21.0.5"},{"name":"zulu","version":"17.0.13"}]}"#.utf8)
        return try LoopbackHTTPServer { request in
            guard request.path == "/catalogue.json" else { return .respond(status: 404, body: Array("not here".utf8)) }
            if request.headers["if-none-match"] == etag { return .respond(status: 304, headers: [("ETag", etag)]) }
            return .respond(status: 200, headers: [("ETag", etag), ("Content-Type", "application/json")], body: body)
        }
    }

    /// Builds and runs `snippets` in the host package made from the README's
    /// manifest block.
    static func check(_ snippets: [DocumentationSnippet]) throws -> [SnippetHostPackage.Outcome] {
        let all = try DocumentationSnippet.all(inPackageAt: Metacache.packageRoot)
        let manifests = all.filter { $0.kind == .manifest }
        try #require(manifests.count == 1, "expected one ```swift manifest block (the host's Package.swift), found \(manifests)")
        let server = try catalogueServer()
        let package = SnippetHostPackage(manifest: manifests[0], packageRoot: Metacache.packageRoot)
        let base = server.url("")
        return try package.check(snippets, rewrite: { $0.replacing(placeholderHost + "/", with: base) }) { executable, snippet in
            // A fresh home and cache home per run: every snippet starts as a first-time
            // user, and none writes into the real ~/.cache.
            let home = TemporaryDirectory("snippet-home")
            let cacheHome = home.file(".cache")
            let requestsBefore = server.requests.count
            let result = try ChildProcess.run(
                executable, [], environment: Metacache.environment(["HOME": home.path, "XDG_CACHE_HOME": cacheHome]),
                timeout: .seconds(120))
            guard result.exitCode == 0 else {
                return .runFailed("\(result.termination); stdout: \(result.stdoutText.suffix(2000)); stderr: \(result.stderr.prefix(3000))")
            }
            if snippet.code.contains(placeholderHost), server.requests.count == requestsBefore {
                return .runFailed("exited 0 but never fetched from the server standing in for \(placeholderHost)")
            }
            if (try? FileManager.default.contentsOfDirectory(atPath: cacheHome))?.isEmpty ?? true {
                return .runFailed("exited 0 but kept no cache under XDG_CACHE_HOME (\(cacheHome)): where did it write?")
            }
            return .ran(stdout: result.stdoutText)
        }
    }

    @Test func everySwiftBlockOfTheDocsBuildsAndRuns() throws {
        let started = ContinuousClock.now
        let snippets = try DocumentationSnippet.all(inPackageAt: Metacache.packageRoot).filter { $0.kind != .manifest }
        try #require(snippets.contains { $0.location.hasPrefix("README.md") && $0.kind == .run }, "no runnable README block found")
        let outcomes = try Self.check(snippets)
        for (snippet, outcome) in zip(snippets, outcomes) {
            #expect(!outcome.failed, "\(snippet): \(outcome)")
        }
        print("DocumentationSnippetTests: \(snippets.count) blocks (\(snippets.filter { $0.kind == .run }.count) run) "
            + "built and checked in \(ContinuousClock.now - started)")
    }

    /// The controls: the check must catch a block that does not compile (the old
    /// README's second block, which had no import) and one that compiles but
    /// fails when run (the old quick start's pattern: the writer guard still held
    /// when `update` runs, which throws `selfDeadlock`), next to a good block it
    /// must pass.
    @Test func theCheckCatchesABlockThatDoesNotCompileAndOneThatFailsWhenRun() throws {
        let missingImport = DocumentationSnippet(location: "control:missing-import", kind: .run, code: """
            let options = CacheStoreOptions()
            let store = try CacheStore(directory: NSTemporaryDirectory() + "/control", options: options)
            print(store.cachePath)

            """)
        let heldGuard = DocumentationSnippet(location: "control:self-deadlock", kind: .run, code: """
            import Foundation
            import MetadataCache

            @main struct Tool {
                static func main() async throws {
                    let store = try CacheStore(directory: ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]! + "/t")
                    let writer = try await store.acquireWriterLock(timeout: .after(.seconds(10)))
                    try writer.commit(Data("[1]".utf8))
                    try await store.update { _ in Data("[2]".utf8) }
                    writer.release()
                }
            }

            """)
        let good = DocumentationSnippet(location: "control:good", kind: .run, code: """
            import Foundation
            import MetadataCache

            @main struct Tool {
                static func main() async throws {
                    let store = try CacheStore(directory: ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]! + "/t")
                    try await store.update { _ in Data("[2]".utf8) }
                    print(try store.read()?.generation ?? 0)
                }
            }

            """)
        let outcomes = try Self.check([missingImport, heldGuard, good])
        guard case let .buildFailed(log) = outcomes[0] else {
            Issue.record("a block without its import must fail to build: \(outcomes[0])")
            return
        }
        #expect(log.contains("CacheStoreOptions"), "the build log should name the unknown type: \(log)")
        guard case let .runFailed(output) = outcomes[1] else {
            Issue.record("a block that deadlocks on its own guard must fail when run: \(outcomes[1])")
            return
        }
        #expect(output.contains("selfDeadlock") || output.contains("held by this process"), "\(output)")
        #expect(outcomes[2] == .ran(stdout: "1\n"), "the good control must pass, on a cache of its own: \(outcomes[2])")
    }
}
}
