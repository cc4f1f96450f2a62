import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// What `metacache cache watch` prints. (The escaping of values from files:
/// TerminalTextTests; the command itself, with real processes and signals:
/// IntegrationTests/WatchTests.swift.)
@Suite struct WatchOutputTests {
    /// Three versions from a real store: a commit, its revalidation, a new history
    /// at the same generation with another payload.
    func versions() throws -> (first: CacheSnapshot, revalidated: CacheSnapshot, rebuilt: CacheSnapshot) {
        let dir = TemporaryDirectory("watch-lines")
        let store = try CacheStore(directory: dir.path)
        try store.acquireWriterLock().commit(Data(#"{"a":1}"#.utf8), source: "https://api.example/c.json")
        let first = try #require(try store.read())
        try store.acquireWriterLock().commitRevalidation()
        let revalidated = try #require(try store.read())
        try FileManager.default.removeItem(atPath: store.cachePath)
        try store.acquireWriterLock().commit(Data(#"{"a":2}"#.utf8), source: "https://api.example/c.json")
        let rebuilt = try #require(try store.read())
        return (first, revalidated, rebuilt)
    }

    @Test func aLineSaysGenerationCommitFetchedSizeAndSource() throws {
        let (first, revalidated, rebuilt) = try versions()
        let line = WatchedVersionLine.text(first, payloadUnchanged: false)
        #expect(line == "generation 1, commit \(Hex.format(first.commitID)), fetched \(StatusReport.timestamp(first.fetchedAt)), 7 B, source https://api.example/c.json")
        #expect(WatchedVersionLine.hasUnchangedPayload(revalidated, since: first))
        #expect(WatchedVersionLine.text(revalidated, payloadUnchanged: true).hasPrefix("generation 1 (payload unchanged), commit "))
        // Same generation, other payload: a rebuilt cache, not a revalidation.
        #expect(rebuilt.generation == 1)
        #expect(!WatchedVersionLine.hasUnchangedPayload(rebuilt, since: revalidated))
        #expect(!WatchedVersionLine.hasUnchangedPayload(first, since: first), "the same commit is not a new version")
        #expect(!WatchedVersionLine.hasUnchangedPayload(first, since: nil))
    }

    @Test func aJSONLineHasTheFieldsOfReadMeta() throws {
        let (first, _, _) = try versions()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(WatchedVersionLine.json(first).utf8)) as? [String: Any])
        #expect(Set(object.keys) == [
            "path", "generation", "commitId", "fetchedAt", "committedAt", "ageSeconds", "source", "etag", "lastModified",
            "writerPid", "writerHost", "payloadBytes", "fileSize",
        ])
        #expect(object["commitId"] as? String == Hex.format(first.commitID))
    }

    @Test func watchTakesJsonAndOnceAndTheyStayOptionsOfTheirCommands() {
        let parsed = ParsedCommandLine.parse(["cache", "watch", "--json", "--once", "--dir", "/c"])
        #expect(parsed.error == nil)
        #expect(parsed.path == .subcommand(.watch) && parsed.has("json") && parsed.has("once"))
        #expect(ParsedCommandLine.parse(["cache", "status", "--json"]).error == nil)
        #expect(ParsedCommandLine.parse(["--json", "cache", "watch"]).error == nil)
        #expect(ParsedCommandLine.parse(["cache", "read", "--json"]).error?.message
            == "option '--json' does not apply to 'metacache cache read' (it is an option of 'metacache cache status' and 'metacache cache watch')")
        #expect(ParsedCommandLine.parse(["cache", "status", "--once"]).error?.message
            == "option '--once' does not apply to 'metacache cache status' (it is an option of 'metacache cache watch')")
    }

    @Test func helpDescribesWatch() {
        #expect(HelpText.text(for: .root).contains("cache watch"))
        #expect(HelpText.text(for: .cache).contains("  watch "))
        let help = HelpText.text(for: .subcommand(.watch))
        #expect(help.hasPrefix("Usage: metacache cache watch [--json] [--once] [common options]"))
        #expect(help.contains("--once") && help.contains("exit 130"))
    }

    @Test func theFallbackIsAWarningEveryUserSees() {
        let output = CapturedOutput()
        DiagnosticLog(output: output, verbose: false, quiet: false).observe(
            .watchFallbackToPolling(path: "/c/metadata.json", reason: "inotify_init1: EMFILE: …", interval: .seconds(1)))
        #expect(output.text == "metacache: warning: watching /c/metadata.json by polling every 1s: inotify_init1: EMFILE: …\n")
    }
}
