import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// What `metacache cache watch` prints, and the escaping that keeps values from
/// files off the terminal's control channel. (The command itself, with real
/// processes and signals: IntegrationTests/WatchTests.swift.)
@Suite struct WatchOutputTests {
    @Test(arguments: [
        ("plain https://api.example/catalogue.json?x=1", "plain https://api.example/catalogue.json?x=1"),
        ("tab\there", #"tab\x09here"#),
        ("line\nforged", #"line\x0aforged"#),
        ("\u{1B}[2J\u{1B}]0;title\u{07}", #"\x1b[2J\x1b]0;title\x07"#),
        ("del\u{7F}", #"del\x7f"#),
        ("c1 csi \u{9B}31m and \u{80} \u{9F}", #"c1 csi \x9b31m and \x80 \x9f"#),
        ("nul\u{0}", #"nul\x00"#),
        // Not controls: printed as they are (backslashes too).
        (#"C:\path\x1b é ✓ \u{A0}nbsp"#, #"C:\path\x1b é ✓ \u{A0}nbsp"#),
        ("\u{1F}\u{20}\u{7E}\u{7F}\u{9F}\u{A0}", "\\x1f\u{20}\u{7E}\\x7f\\x9f\u{A0}"),
    ])
    func everyC0C1AndDELIsEscapedAndNothingElse(input: String, expected: String) {
        #expect(TerminalSafeText.escaped(input) == expected)
        #expect(!TerminalSafeText.escaped(input).unicodeScalars.contains(where: TerminalSafeText.isControl))
    }

    @Test func jsonLinesKeepTheirValueAndLoseRawC1AndDEL() throws {
        let value = "src\u{1B}[1m\u{9B}2J\u{7F}\n"
        let line = JSONText.object([("source", JSONText.quoted(value))])
        let safe = TerminalSafeText.escapedJSON(line)
        #expect(!safe.unicodeScalars.contains(where: TerminalSafeText.isControl))
        #expect(safe.contains(#"\u009b"#) && safe.contains(#"\u007f"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(safe.utf8)) as? [String: String])
        #expect(object["source"] == value)
    }

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
