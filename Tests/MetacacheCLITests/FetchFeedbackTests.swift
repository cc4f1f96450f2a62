import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// The download's live line (from synthetic fetch events), the helper's report
/// lines, the proxy the environment selects, and the size and trust messages.
@Suite struct FetchFeedbackTests {
    static let source = "http://mirror.example/jdk/catalog.json"
    static let rewrite = "\r\u{1B}[K"

    @Test func theLineSaysSourceBytesOfTotalRateElapsedAndHowToCancel() {
        let line = FetchProgressLine(
            source: Self.source, received: 120 * 1024, expected: 363 * 1024, bytesPerSecond: 58 * 1024, elapsed: .milliseconds(2100))
        #expect(line.text == "Fetching http://mirror.example/jdk/catalog.json: 120.0 KiB of 363.0 KiB (33%), 58.0 KiB/s, 2.1s (Ctrl-C to cancel)")
        let unknownTotal = FetchProgressLine(source: "/tmp/slow.fifo", received: 2048, expected: nil, bytesPerSecond: nil, elapsed: .seconds(3))
        #expect(unknownTotal.text == "Fetching /tmp/slow.fifo: 2.0 KiB, 3s (Ctrl-C to cancel)")
        let nothing = FetchProgressLine(source: "/tmp/slow.fifo", received: 0, expected: nil, bytesPerSecond: 0, elapsed: .milliseconds(400))
        #expect(nothing.text == "Fetching /tmp/slow.fifo: nothing received yet, 400ms (Ctrl-C to cancel)")
    }

    @Test(arguments: [200, 100, 80, 60, 40, 30, 24])
    func aFittedLineKeepsTheBytesAndTheTime(width: Int) {
        let line = FetchProgressLine(
            source: Self.source + "?vendor=temurin&os=linux&arch=x64", received: 1_234_567, expected: 4_000_000,
            bytesPerSecond: 300_000, elapsed: .milliseconds(4200))
        let fitted = line.fitted(width: width)
        #expect(fitted.count <= width, "\(fitted)")
        #expect(fitted.contains("1.2 MiB") && fitted.contains("4.2s"), "\(fitted)")
        if width >= 80 { #expect(fitted.hasPrefix("Fetching http://mi") && fitted.contains("Ctrl-C"), "\(fitted)") }
        if width >= 100 { #expect(fitted.contains("arch=x64: "), "the end of the source stays: \(fitted)") }
    }

    private func events(_ printer: FetchProgressPrinter, _ list: [CacheEvent]) { list.forEach(printer.observe) }

    @Test func nothingForAFastFetchThenOneLiveLineErasedAtTheEnd() {
        let output = CapturedOutput(isTerminal: true, columns: 120)
        let line = TerminalLiveLine(output: output)
        let printer = FetchProgressPrinter(source: Self.source, liveLine: line, enabled: true)
        let path = "/c/metadata.json"
        events(printer, [
            .fetchStarted(path: path),
            .fetchProgress(path: path, received: 0, expected: nil, elapsed: .milliseconds(100)),
            .fetchProgress(path: path, received: 0, expected: 4096, elapsed: .milliseconds(250)),
        ])
        #expect(output.text.isEmpty, "nothing before 300 ms: \(output.text.debugDescription)")
        events(printer, [
            .fetchProgress(path: path, received: 1024, expected: 4096, elapsed: .milliseconds(450)),
            .fetchProgress(path: path, received: 2048, expected: 4096, elapsed: .milliseconds(900)),
        ])
        let drawn = output.text.components(separatedBy: Self.rewrite).dropFirst()
        #expect(drawn.count == 2, "\(output.text.debugDescription)")
        #expect(drawn.first == "Fetching \(Self.source): 1.0 KiB of 4.0 KiB (25%), 450ms (Ctrl-C to cancel)")
        #expect(drawn.last?.contains("2.0 KiB of 4.0 KiB (50%), 2.5 KiB/s, 900ms") == true, "the rate over the last samples: \(drawn)")
        #expect(!output.text.contains("\n"), "one live line, no newlines")
        events(printer, [.fetchFinished(path: path, completion: .payload(bytes: 4096), elapsed: .seconds(1))])
        #expect(output.text.hasSuffix("(Ctrl-C to cancel)" + Self.rewrite), "erased for the result line: \(output.text.debugDescription)")
        #expect(!line.isShowing)
    }

    @Test func disabledOrFastItDrawsNothing() {
        let output = CapturedOutput(isTerminal: true, columns: 80)
        let printer = FetchProgressPrinter(source: Self.source, liveLine: TerminalLiveLine(output: output), enabled: false)
        events(printer, [
            .fetchStarted(path: "/c"), .fetchProgress(path: "/c", received: 5, expected: nil, elapsed: .seconds(2)),
            .fetchFinished(path: "/c", completion: .notModified, elapsed: .seconds(2)),
        ])
        let fast = CapturedOutput(isTerminal: true, columns: 80)
        let quick = FetchProgressPrinter(source: Self.source, liveLine: TerminalLiveLine(output: fast), enabled: true)
        events(quick, [
            .fetchStarted(path: "/c"), .fetchProgress(path: "/c", received: 5, expected: 5, elapsed: .milliseconds(20)),
            .fetchFinished(path: "/c", completion: .payload(bytes: 5), elapsed: .milliseconds(21)),
        ])
        #expect(output.text.isEmpty && fast.text.isEmpty, "\(output.text.debugDescription) \(fast.text.debugDescription)")
    }

    @Test func debugLinesGoAboveTheDownloadLine() {
        let output = CapturedOutput(isTerminal: true, columns: 120)
        let line = TerminalLiveLine(output: output)
        let printer = FetchProgressPrinter(source: "/s", liveLine: line, enabled: true)
        events(printer, [.fetchStarted(path: "/c"), .fetchProgress(path: "/c", received: 1, expected: nil, elapsed: .seconds(1))])
        DiagnosticLog(output: line.linesAbove, verbose: true, quiet: false).debug("HTTP response: 200 OK")
        #expect(output.text.hasSuffix(Self.rewrite + "metacache: debug: HTTP response: 200 OK\nFetching /s: 1 B, 1s (Ctrl-C to cancel)"),
                "\(output.text.debugDescription)")
    }

    @Test func helperLinesAreNotesThenTheReport() {
        let note = FetchHelperLine(Array(#"{"note":"response","status":200,"url":"http://h/c","expectedBytes":42}"#.utf8))
        #expect(note == .note(FetchHelperNote(note: "response", status: 200, url: "http://h/c", expectedBytes: 42)))
        let report = FetchHelperLine(Array(#"{"outcome":"tooLarge","contentLength":99,"url":"http://h/c"}"#.utf8))
        guard case let .report(final) = report else {
            Issue.record("\(report)")
            return
        }
        #expect(final.outcome == .tooLarge && final.contentLength == 99)
        #expect(FetchHelperLine(Array("not json".utf8)) == .unreadable)
        let whole = Array("{\"note\":\"redirect\",\"status\":301}\n{\"outcome\":\"untrustedCertificate\",\"detail\":\"x\"}\n".utf8)
        #expect(FetchHelperReport.decode(whole)?.outcome == .untrustedCertificate)

        var buffer = LineBuffer(limit: 16)
        #expect(buffer.append(ArraySlice(Array("ab\ncd".utf8))) == [Array("ab".utf8)])
        #expect(buffer.append(ArraySlice(Array("e\n".utf8))) == [Array("cde".utf8)])
        #expect(buffer.append(ArraySlice(Array(repeating: UInt8(ascii: "x"), count: 17))) == nil, "a line past the limit")
    }

    @Test func theProxyFollowsLibcurlsRules() {
        func choose(_ url: String, _ variables: [String: String]) -> HTTPProxySelection {
            HTTPProxySelection.choose(for: url, environment: EnvironmentVariables(variables))
        }
        let proxy = "http://proxy.internal:3128"
        #expect(choose("http://h.example/c", [:]) == .direct(reason: "no proxy variable is set"))
        #expect(choose("http://h.example/c", ["http_proxy": proxy]) == .proxy(proxy, variable: "http_proxy"))
        #expect(choose("http://h.example/c", ["HTTP_PROXY": proxy])
                == .direct(reason: "HTTP_PROXY is ignored for http:// URLs; only lowercase http_proxy is read"))
        #expect(HTTPProxySelection.ignoresUppercaseHTTPProxy(for: "http://h.example/c", environment: EnvironmentVariables(["HTTP_PROXY": proxy])))
        #expect(choose("https://h.example/c", ["HTTPS_PROXY": proxy]) == .proxy(proxy, variable: "HTTPS_PROXY"))
        #expect(choose("https://h.example/c", ["http_proxy": proxy]) == .direct(reason: "no proxy variable is set"))
        #expect(choose("http://h.example/c", ["ALL_PROXY": proxy]) == .proxy(proxy, variable: "ALL_PROXY"))
        #expect(choose("http://h.example/c", ["http_proxy": proxy, "all_proxy": "x"]) == .proxy(proxy, variable: "http_proxy"))
        #expect(choose("http://a.h.example:8/c", ["http_proxy": proxy, "no_proxy": "localhost, .h.example"])
                == .direct(reason: "no_proxy lists .h.example"))
        #expect(choose("http://h.example/c", ["http_proxy": proxy, "NO_PROXY": "h.example"]) == .direct(reason: "NO_PROXY lists h.example"))
        #expect(choose("http://xh.example/c", ["http_proxy": proxy, "no_proxy": "h.example"]) == .proxy(proxy, variable: "http_proxy"))
        #expect(choose("http://user@h.example/c", ["http_proxy": proxy, "no_proxy": "*"]) == .direct(reason: "no_proxy lists *"))
        #if os(Linux)
        if case .direct = choose("http://[::1]:8/c", ["http_proxy": proxy]) {} else { Issue.record("an IPv6 literal goes direct on Linux") }
        #endif
    }

    @Test func sizeAndTrustMessagesSayWhatWasSeenAndWhatToDo() {
        let streamed = SourceFailure.tooLarge(source: "http://h/c", limit: 1 << 20, evidence: .receivedBeforeStopping).message
        #expect(streamed.hasPrefix("source http://h/c is larger than the limit of 1.0 MiB: more than 1.0 MiB received before stopping; raise --max-bytes"))
        let announced = SourceFailure.tooLarge(source: "http://h/c", limit: 4096, evidence: .contentLength(7400)).message
        #expect(announced.contains("larger than the limit of 4.0 KiB: the server announces 7.2 KiB (Content-Length: 7400); nothing was downloaded"))
        let file = SourceFailure.tooLarge(source: "/f", limit: 4096, evidence: .fileSize(5000)).message
        #expect(file.contains("larger than the limit of 4.0 KiB: it is 4.9 KiB (5000 bytes)"))
        let trust = SourceFailure.untrustedCertificate(url: "https://h/c", detail: "SSL certificate problem: self-signed certificate")
        #expect(trust.exitCode == .unavailable)
        #expect(trust.message.hasPrefix("cannot fetch https://h/c: the server's TLS certificate is not trusted (SSL certificate problem: self-signed certificate)."))
        #if os(Linux)
        #expect(trust.message.contains("/usr/local/share/ca-certificates/") && trust.message.contains("'update-ca-certificates'"))
        #expect(trust.message.contains("SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE are ignored"))
        #endif
    }
}
