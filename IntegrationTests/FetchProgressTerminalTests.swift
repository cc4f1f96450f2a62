#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MetadataCache
import Testing
import TestSupport

extension MetacacheIntegration {
/// The download's live line, seen as a user sees it: `metacache` on a
/// pseudo-terminal (stdout and stderr both), fetching from a loopback server
/// that sends its body slowly.
@Suite struct FetchProgressTerminalTests {
    static let rewrite = "\r\u{1B}[K"

    /// A server whose one document takes about 2.4 s to arrive, announced with
    /// `Content-Length`.
    static func slowServer(_ payload: [UInt8]) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { _ in .trickle(status: 200, body: payload, chunks: 12, interval: .milliseconds(200)) }
    }

    @Test func aSlowDownloadShowsOneLiveLineThatTheResultReplaces() throws {
        let payload = sampleCatalogue(entries: 60)
        let server = try Self.slowServer(payload)
        let dir = TemporaryDirectory("progress-tty")
        let terminal = try PseudoTerminal(columns: 200)
        let url = server.url("/catalog.json")
        let refresh = try Metacache.start(
            ["cache", "refresh", "--dir", dir.file("c"), "--source", url, "--events", dir.file("events.jsonl")],
            stdout: .descriptor(terminal.secondary), stderr: .descriptor(terminal.secondary))
        try terminal.read(until: { $0.contains("Refreshed 'metadata'") && $0.hasSuffix("\r\n") }, timeout: .seconds(60))
        #expect(try refresh.wait() == .exited(0))
        let drawn = terminal.outputText
        let total = ByteCountText.format(payload.count)
        let lines = drawn.components(separatedBy: Self.rewrite).dropFirst().filter { $0.hasPrefix("Fetching ") }
        #expect(lines.count >= 3, "rewritten while the body arrives: \(drawn.debugDescription)")
        #expect(lines.allSatisfy { $0.hasPrefix("Fetching \(url): ") && $0.hasSuffix(" (Ctrl-C to cancel)") }, "\(lines)")
        // Before the response's headers arrive (a loaded machine can take longer
        // than the 300 ms before the first draw) the line says nothing came yet;
        // once they have, every line counts bytes of the announced total.
        let counting = lines.drop { $0.contains(": nothing received yet") }
        #expect(!counting.isEmpty && counting.allSatisfy { $0.contains(" of \(total) (") }, "bytes of the announced total: \(lines)")
        #expect(lines.contains { $0.contains("/s, ") }, "a rate once it can be measured: \(lines)")
        #expect(Set(lines).count >= 3, "the line changes: \(lines)")
        // Nothing but the live line until the result, which replaces it (erased, then written on stdout).
        let result = try #require(drawn.range(of: "Refreshed 'metadata'"))
        let before = drawn[..<result.lowerBound]
        #expect(!before.contains("\n"), "no other line during the fetch: \(before.debugDescription)")
        #expect(before.hasSuffix(Self.rewrite), "the live line is erased before the result: \(before.suffix(80).debugDescription)")

        let events = try String(contentsOfFile: dir.file("events.jsonl"), encoding: .utf8).split(separator: "\n")
        let names = events.compactMap { line in line.firstRange(of: "\"event\":\"").map { line[$0.upperBound...].prefix { $0 != "\"" } } }
        let fetch = names.filter { $0.hasPrefix("fetch") }
        #expect(fetch.first == "fetchStarted" && fetch.last == "fetchFinished" && fetch.filter { $0 == "fetchProgress" }.count >= 3, "\(names)")
        #expect(events.contains { $0.contains("\"event\":\"fetchProgress\"") && $0.contains("\"expectedBytes\":\(payload.count)") })
        #expect(events.contains { $0.contains("\"event\":\"fetchFinished\"") && $0.contains("\"outcome\":\"payload\",\"bytes\":\(payload.count)") })
    }

    @Test func aPipeOrQuietGetsNoLiveLine() throws {
        let payload = sampleCatalogue(entries: 30)
        let server = try Self.slowServer(payload)
        let dir = TemporaryDirectory("progress-pipe")
        let piped = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/c.json")])
        #expect(piped.exitCode == 0, "\(piped.summary)")
        #expect(piped.stderr.isEmpty, "no progress on a non-terminal: \(piped.stderr.debugDescription)")
        #expect(piped.stdoutText.hasPrefix("Refreshed 'metadata'"))

        let terminal = try PseudoTerminal(columns: 120)
        let quiet = try Metacache.start(
            ["cache", "refresh", "--quiet", "--force", "--dir", dir.file("c"), "--source", server.url("/c.json")],
            stdout: .descriptor(terminal.secondary), stderr: .descriptor(terminal.secondary))
        #expect(try quiet.wait(timeout: .seconds(60)) == .exited(0))
        #expect(server.requests.count == 2, "the quiet refresh did download")
        _ = try? terminal.read(until: { _ in false }, timeout: .milliseconds(200))
        #expect(terminal.outputText.isEmpty, "--quiet draws nothing: \(terminal.outputText.debugDescription)")
    }

    /// A refresh that ends within 300 ms (a local file) never draws the line.
    @Test func aFastFetchDrawsNothing() throws {
        let dir = TemporaryDirectory("progress-fast")
        try dir.write("c.json", Data(sampleCatalogue(entries: 10)))
        let terminal = try PseudoTerminal(columns: 120)
        let refresh = try Metacache.start(
            ["cache", "refresh", "--dir", dir.file("c"), "--source", dir.file("c.json")],
            stdout: .descriptor(terminal.secondary), stderr: .descriptor(terminal.secondary))
        try terminal.read(until: { $0.contains("Refreshed 'metadata'") && $0.hasSuffix("\r\n") })
        #expect(try refresh.wait() == .exited(0))
        #expect(terminal.outputText.hasPrefix("Refreshed 'metadata'"), "\(terminal.outputText.debugDescription)")
    }
}
}

