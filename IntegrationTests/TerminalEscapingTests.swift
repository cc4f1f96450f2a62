import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// Values another process or a server wrote never reach the terminal raw
/// (issue 19 item 3): ESC, BEL, CSI (U+009B) and a bidi override are planted in
/// an ETag and a Last-Modified header, a holder's command line, the recorded
/// source and a temp file's name, and every command that prints them — `status`,
/// `status --json`, `read --meta`, wait lines, the lock-timeout error, `sweep` —
/// shows them escaped.
@Suite struct TerminalEscapingTests {
    /// The planted sequence: clear screen, set the window title, ring the bell,
    /// an 8-bit CSI, a right-to-left override.
    static let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}\u{9B}31m\u{202E}"

    /// The bytes a terminal would act on: ESC, BEL, the UTF-8 of U+009B and U+202E.
    static func unsafeBytes(in bytes: [UInt8]) -> [String] {
        var found: [String] = []
        if bytes.contains(0x1B) { found.append("ESC") }
        if bytes.contains(0x07) { found.append("BEL") }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.unicodeScalars.contains("\u{9B}") { found.append("CSI") }
        if text.unicodeScalars.contains("\u{202E}") { found.append("RLO") }
        return found
    }

    static func expectSafe(_ result: ChildProcess.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(unsafeBytes(in: result.stdout).isEmpty, "\(what) stdout: \(result.stdoutText.debugDescription)", sourceLocation: sourceLocation)
        #expect(unsafeBytes(in: Array(result.stderr.utf8)).isEmpty, "\(what) stderr: \(result.stderr.debugDescription)", sourceLocation: sourceLocation)
    }

    @Test func validatorsFromAServerArePrintedEscaped() throws {
        let payload = sampleCatalogue(entries: 3)
        // Header values may carry any byte but CR/LF on the wire; ESC and BEL are
        // what a hostile server would send.
        let server = try LoopbackHTTPServer { _ in
            .respond(status: 200, headers: [("ETag", "\"v1\(Self.hostile)\""), ("Last-Modified", "Mon\(Self.hostile)")], body: payload)
        }
        let dir = TemporaryDirectory("escape-validators")
        let refresh = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/c.json")])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        let status = try Metacache.run(["cache", "status", "--dir", dir.file("c")])
        #expect(status.exitCode == 0, "\(status.summary)")
        Self.expectSafe(status, "status")
        // The values were recorded (so the check above had something to catch),
        // and are shown visibly.
        #expect(status.stdoutText.contains(#"ETag "v1\x1b[2J\x1b]0;pwned\x07\x9b31m\u202e""#), "\(status.stdoutText)")
        let meta = try Metacache.run(["cache", "read", "--meta", "--dir", dir.file("c")])
        Self.expectSafe(meta, "read --meta")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(meta.stdout)) as? [String: Any])
        #expect((object["etag"] as? String)?.contains(Self.hostile) == true || meta.stdoutText.contains(#"\u001b[2J"#), "\(meta.stdoutText)")
    }

    @Test func aHoldersCommandTheSourceAndTempNamesArePrintedEscaped() throws {
        let scratch = TemporaryDirectory("escape-holder")
        let cacheDir = scratch.file("c")
        // The holder's command line carries the sequence (its FIFO source's name).
        let holder = try LockHolder(cacheDir: cacheDir, scratch: scratch, name: "src\(Self.hostile).fifo")

        let status = try Metacache.run(["cache", "status", "--dir", cacheDir])
        Self.expectSafe(status, "status while held")
        #expect(status.stdoutText.contains(#"src\x1b[2J\x1b]0;pwned\x07\x9b31m\u202e.fifo"#), "\(status.stdoutText)")
        let statusJSON = try Metacache.run(["cache", "status", "--json", "--dir", cacheDir])
        Self.expectSafe(statusJSON, "status --json while held")
        #expect((try? JSONSerialization.jsonObject(with: Data(statusJSON.stdout))) != nil, "still JSON: \(statusJSON.stdoutText)")

        let busy = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", scratch.file("x.json"), "--lock-timeout", "0"])
        #expect(busy.exitCode != 0)
        Self.expectSafe(busy, "lock-timeout error")
        #expect(busy.stderr.contains(#"\x1b[2J"#), "the holder is named: \(busy.stderr)")

        let waiting = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", scratch.file("x.json"), "--lock-timeout", "1"])
        #expect(waiting.exitCode != 0)
        Self.expectSafe(waiting, "wait lines")

        #expect(try holder.release() == .exited(0))
        // The source recorded is the FIFO's hostile path.
        let after = try Metacache.run(["cache", "status", "--dir", cacheDir])
        Self.expectSafe(after, "status of the committed cache")
        #expect(after.stdoutText.contains(#"\x1b]0;pwned"#), "\(after.stdoutText)")

        // A temp file named by an attacker with write access to the directory.
        let planted = cacheDir + "/metadata.json.tmp-\(Self.hostile)"
        #expect(FileManager.default.createFile(atPath: planted, contents: Data("x".utf8)))
        let listed = try Metacache.run(["cache", "status", "--dir", cacheDir])
        Self.expectSafe(listed, "status listing a planted temp")
        let swept = try Metacache.run(["cache", "sweep", "--dir", cacheDir])
        Self.expectSafe(swept, "sweep")
        #expect(listed.stdoutText.contains(#"tmp-\x1b[2J"#) || swept.stdoutText.contains(#"tmp-\x1b[2J"#),
                "the planted temp is shown by one of them: \(listed.stdoutText) / \(swept.stdoutText)")
    }
}
}
