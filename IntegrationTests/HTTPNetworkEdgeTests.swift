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
/// The edges of HTTP sources that a loopback server can reproduce: an IPv6
/// literal host, a trickling body against `--fetch-timeout`, a body without
/// `Content-Length` over `--max-bytes`, oversized validators, an untrusted TLS
/// certificate, proxies from the environment, compressed bodies, and the
/// `--verbose` account of the request.
@Suite struct HTTPNetworkEdgeTests {
    static let ipv6Unavailable = LoopbackHTTPServer.ipv6LoopbackUnavailableReason

    private func meta(_ dir: String) throws -> [String: Any] {
        let result = try Metacache.run(["cache", "read", "--meta", "--dir", dir])
        try #require(result.exitCode == 0, "\(result.summary)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
    }

    /// `http://[::1]:PORT/` was refused as malformed (64): FoundationNetworking on
    /// Linux rejects every IPv6-literal URL. It is fetched, conditionally the
    /// second time, with the server's own name in `Host`.
    @Test(.enabled(if: ipv6Unavailable == nil, "\(ipv6Unavailable ?? "")"))
    func anIPv6LoopbackURLIsFetchedAndRevalidated() throws {
        let payload = sampleCatalogue(entries: 9)
        let server = try LoopbackHTTPServer(address: .ipv6Loopback) { request in
            if request.headers["if-none-match"] == "\"v6\"" { return .respond(status: 304, headers: [("ETag", "\"v6\"")]) }
            return .respond(status: 200, headers: [("ETag", "\"v6\"")], body: payload)
        }
        let dir = TemporaryDirectory("ipv6")
        let url = server.url("/catalog.json")
        #expect(url.hasPrefix("http://[::1]:"))
        let first = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", url])
        #expect(first.exitCode == 0, "\(first.summary)")
        #expect(first.stdoutText.hasPrefix("Refreshed 'metadata': generation 1, "), "\(first.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)
        #expect(try meta(dir.file("c"))["source"] as? String == url, "the URL as given is recorded")
        #expect(server.requests.first?.headers["host"] == "[::1]:\(server.port)", "the server is told its own name")

        let second = try Metacache.run(["cache", "refresh", "--verbose", "--dir", dir.file("c"), "--source", url])
        #expect(second.exitCode == 0, "\(second.summary)")
        #expect(second.stdoutText.hasPrefix("Revalidated 'metadata': not modified (HTTP 304)"), "\(second.summary)")
        #expect(server.requests.last?.headers["if-none-match"] == "\"v6\"")
        #expect(second.stderr.contains("HTTP response: 304 Not Modified from \(url)"), "the log names the URL as given: \(second.stderr)")
    }

    /// Redirects on an IPv6 server, relative and absolute, stay on its address.
    @Test(.enabled(if: ipv6Unavailable == nil, "\(ipv6Unavailable ?? "")"))
    func redirectsOnAnIPv6ServerAreFollowed() throws {
        let payload = sampleCatalogue(entries: 4)
        let box = LockedPort()
        let server = try LoopbackHTTPServer(address: .ipv6Loopback) { request in
            switch request.path {
            case "/relative": .respond(status: 302, headers: [("Location", "/absolute")])
            case "/absolute": .respond(status: 301, headers: [("Location", "http://[::1]:\(box.port)/final")])
            default: .respond(status: 200, body: payload)
            }
        }
        box.port = server.port
        let dir = TemporaryDirectory("ipv6-redirect")
        let result = try Metacache.run(["cache", "refresh", "--verbose", "--dir", dir.file("c"), "--source", server.url("/relative")])
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)
        #expect(server.requests.map(\.path) == ["/relative", "/absolute", "/final"])
        #expect(server.requests.allSatisfy { $0.headers["host"] == "[::1]:\(server.port)" }, "\(server.requests.map(\.headers))")
        #expect(result.stderr.contains("HTTP redirect: 301 Moved Permanently to http://[::1]:\(server.port)/final"), "\(result.stderr)")
    }

    /// The server's port, known only after it started, for its own handler.
    final class LockedPort: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UInt16 = 0
        var port: UInt16 {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    @Test(.enabled(if: ipv6Unavailable == nil, "\(ipv6Unavailable ?? "")"))
    func aRefusedIPv6ConnectionSaysSo() throws {
        let server = try LoopbackHTTPServer(address: .ipv6Loopback) { _ in .hangUp }
        let port = server.port
        server.stop()
        let dir = TemporaryDirectory("ipv6-refused")
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", "http://[::1]:\(port)/c.json"])
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains("cannot reach http://[::1]:\(port)/c.json: connecting to [::1]:\(port): Connection refused"),
                "\(result.stderr)")
    }

    /// The fetch's duration from the `--events` file (`fetchFinished`), which is
    /// what the timeout bounds; process start-up is not part of it.
    private func fetchMilliseconds(_ eventsPath: String) throws -> Double {
        let text = try String(contentsOfFile: eventsPath, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").last { $0.contains("\"event\":\"fetchFinished\"") }, "\(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try #require(object["durationMs"] as? Double)
    }

    /// A body that trickles in for 10 s: `--fetch-timeout 1.5` ends the exchange
    /// at 1.5 s — not at 1 s (libcurl's whole seconds), not at 4.5 s (the old
    /// helper's deadline plus slack, which every chunk pushed further).
    @Test func aTricklingBodyIsCutAtTheFractionalFetchTimeout() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let server = try LoopbackHTTPServer { _ in
            .trickle(status: 200, body: sampleCatalogue(entries: 40), chunks: 40, interval: .milliseconds(250))
        }
        let events = cache.directory.file("events.jsonl")
        let result = try Metacache.run([
            "cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/c.json"), "--fetch-timeout", "1.5", "--events", events,
        ])
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains("timed out after 1.5s"), "\(result.stderr)")
        let fetched = try fetchMilliseconds(events)
        // Never before the timeout; after it, one 100 ms poll tick and stopping the
        // helper (SIGTERM), with a second and a half of slack for a loaded machine.
        #expect(fetched >= 1500 && fetched < 3000, "the fetch took \(fetched) ms")
        #expect(cache.cacheBytes() == before)
        #expect(cache.tempFiles().isEmpty)
        server.stop()
    }

    @Test func fetchTimeoutInfiniteWaitsForASlowBodyAndZeroIsRefused() throws {
        let payload = sampleCatalogue(entries: 16)
        let server = try LoopbackHTTPServer { _ in .trickle(status: 200, body: payload, chunks: 6, interval: .milliseconds(200)) }
        let dir = TemporaryDirectory("fetch-infinite")
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/c"), "--fetch-timeout", "infinite"])
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)
        let zero = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/c"), "--fetch-timeout", "0"])
        #expect(zero.exitCode == 64, "\(zero.summary)")
        #expect(zero.stderr.contains("invalid --fetch-timeout '0': expected a positive number of seconds (2.5, 60)"), "\(zero.stderr)")
        #expect(zero.stderr.contains("or 'infinite'"))
    }

    /// Without `Content-Length` the size is unknown: the message says how much
    /// arrived before the helper stopped, not a size it never learned.
    @Test func overMaxBytesWithAndWithoutContentLength() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let big = sampleCatalogue(entries: 40)
        try #require(big.count > 8192)
        let server = try LoopbackHTTPServer { request in
            request.path == "/streamed"
                ? .trickle(status: 200, body: big, chunks: 4, interval: .milliseconds(10), announceLength: false)
                : .respond(status: 200, body: big)
        }
        let streamed = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/streamed"), "--max-bytes", "4K"])
        #expect(streamed.exitCode == 65, "\(streamed.summary)")
        #expect(streamed.stderr.contains(
            "source \(server.url("/streamed")) is larger than the limit of 4.0 KiB: more than 4.0 KiB received before stopping; raise --max-bytes"),
            "\(streamed.stderr)")
        let announced = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/announced"), "--max-bytes", "4K"])
        #expect(announced.exitCode == 65, "\(announced.summary)")
        #expect(announced.stderr.contains("the server announces \(Self.kib(big.count)) (Content-Length: \(big.count)); nothing was downloaded"),
                "\(announced.stderr)")
        #expect(cache.cacheBytes() == before)
    }

    /// A 60 KB `Last-Modified` (and `ETag`) of characters JSON must escape made
    /// the report line longer than the parent read: "exited with status 0 without
    /// a report". Validators the cache cannot store are dropped and said so.
    @Test func hugeValidatorsNeverBreakTheHelperProtocol() throws {
        let payload = sampleCatalogue(entries: 5)
        let hostile = String(repeating: "\"\\", count: 30_000)
        let kept = "\"" + String(repeating: "k", count: 8000) + "\""
        let server = try LoopbackHTTPServer { request in
            request.path == "/hostile"
                ? .respond(status: 200, headers: [("Last-Modified", hostile), ("ETag", hostile)], body: payload)
                : .respond(status: 200, headers: [("ETag", kept)], body: payload)
        }
        let dir = TemporaryDirectory("huge-validators")
        let result = try Metacache.run(["cache", "refresh", "--verbose", "--dir", dir.file("c"), "--source", server.url("/hostile")])
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(result.stderr.contains("ignoring the response's Last-Modified header of 60000 bytes"), "\(result.stderr)")
        #expect(result.stderr.contains("ignoring the response's ETag header of 60000 bytes"), "\(result.stderr)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)
        let stored = try meta(dir.file("c"))
        #expect(stored["etag"] is NSNull && stored["lastModified"] is NSNull, "\(stored)")
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/hostile")]).exitCode == 0)
        #expect(server.requests.last?.headers["if-modified-since"] == nil && server.requests.last?.headers["if-none-match"] == nil)

        // 8002 bytes is within what the format stores: kept, and sent back.
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("k"), "--source", server.url("/kept")]).exitCode == 0)
        #expect(try meta(dir.file("k"))["etag"] as? String == kept)
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("k"), "--source", server.url("/kept")]).exitCode == 0)
        #expect(server.requests.last?.headers["if-none-match"] == kept)
    }

    /// Content-Encoding is undone by the HTTP stack as the body arrives: the cache
    /// holds the JSON, and the log says the size was not known in advance.
    @Test func aGzipBodyIsDecompressed() throws {
        let payload = sampleCatalogue(entries: 30)
        let scratch = TemporaryDirectory("gzip")
        try scratch.write("c.json", Data(payload))
        let gzip = try ChildProcess.run("/bin/gzip", ["-c", "-9", scratch.file("c.json")])
        try #require(gzip.exitCode == 0, "gzip is part of every Debian system: \(gzip.stderr)")
        let compressed = gzip.stdout
        let server = try LoopbackHTTPServer { request in
            request.headers["accept-encoding"]?.contains("gzip") == true
                ? .respond(status: 200, headers: [("Content-Encoding", "gzip")], body: compressed)
                : .respond(status: 406)
        }
        let result = try Metacache.run(["cache", "refresh", "--verbose", "--dir", scratch.file("c"), "--source", server.url("/c.json")])
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", scratch.file("c")]).stdout == payload)
        #expect(result.stderr.contains("Content-Encoding gzip, decompressed as it arrives"), "\(result.stderr)")
        #expect(result.stderr.contains("HTTP body: \(Self.kib(payload.count)) received"), "\(result.stderr)")
    }

    /// `--verbose` says what was sent (validators, proxy) and what came back
    /// (status, size, bytes).
    @Test func verboseLogsTheRequestAndTheResponse() throws {
        let payload = sampleCatalogue(entries: 12)
        let server = try HTTPRefreshTests.catalogueServer(payload: payload, etag: "\"v1\"")
        let dir = TemporaryDirectory("verbose-http")
        let url = server.url("/catalog.json")
        let first = try Metacache.run(["cache", "refresh", "--verbose", "--dir", dir.file("c"), "--source", url])
        #expect(first.exitCode == 0, "\(first.summary)")
        #expect(first.stderr.contains("metacache: debug: HTTP request: GET \(url); no validators; proxy: none (no proxy variable is set)"),
                "\(first.stderr)")
        #expect(first.stderr.contains("metacache: debug: HTTP response: 200 OK from \(url); \(Self.kib(payload.count)) announced (Content-Length: \(payload.count))"),
                "\(first.stderr)")
        #expect(first.stderr.contains("metacache: debug: HTTP body: "), "\(first.stderr)")
        #expect(!first.stdoutText.contains("debug"), "diagnostics stay off stdout")
        let second = try Metacache.run(["cache", "refresh", "--verbose", "--dir", dir.file("c"), "--source", url])
        #expect(second.stderr.contains("HTTP request: GET \(url); sending If-None-Match: \"v1\"; proxy: none"), "\(second.stderr)")
        #expect(second.stderr.contains("HTTP 304 Not Modified: nothing downloaded"), "\(second.stderr)")
    }

    /// libcurl reads the proxy from the environment the helper inherits:
    /// `http_proxy` (lowercase only), `all_proxy`/`ALL_PROXY`, minus `no_proxy`.
    /// The "proxy" is a loopback server that answers any absolute-form request.
    @Test func proxiesComeFromTheEnvironmentAsLibcurlReadsIt() throws {
        let payload = sampleCatalogue(entries: 3)
        let proxy = try LoopbackHTTPServer { _ in .respond(status: 200, body: payload) }
        let proxyURL = "http://127.0.0.1:\(proxy.port)"
        // localhost resolves from /etc/hosts (no DNS); nothing listens on the port,
        // so a request that bypasses the proxy fails at once with 69.
        let target = "http://localhost:\(LoopbackHTTPServer.unusedPort())/catalog.json"
        let dir = TemporaryDirectory("proxy")
        func refresh(_ environment: [String: String?]) throws -> ChildProcess.Result {
            try Metacache.run(["cache", "refresh", "--force", "--verbose", "--dir", dir.file("c"), "--source", target], environment: environment)
        }

        let lower = try refresh(["http_proxy": proxyURL])
        #expect(lower.exitCode == 0, "\(lower.summary)")
        #expect(proxy.requests.last?.path == target, "the proxy got the absolute-form request")
        #expect(lower.stderr.contains("proxy: \(proxyURL) (from http_proxy)"), "\(lower.stderr)")

        let all = try refresh(["ALL_PROXY": proxyURL])
        #expect(all.exitCode == 0, "\(all.summary)")
        #expect(proxy.requests.count == 2)
        #expect(all.stderr.contains("proxy: \(proxyURL) (from ALL_PROXY)"), "\(all.stderr)")

        let upper = try refresh(["HTTP_PROXY": proxyURL])
        #expect(upper.exitCode == 69, "uppercase HTTP_PROXY is ignored: \(upper.summary)")
        #expect(proxy.requests.count == 2)
        #expect(upper.stderr.contains("metacache: warning: HTTP_PROXY is set but not used"), "\(upper.stderr)")

        let exempt = try refresh(["http_proxy": proxyURL, "no_proxy": "example.org,localhost"])
        #expect(exempt.exitCode == 69, "no_proxy sends it direct: \(exempt.summary)")
        #expect(proxy.requests.count == 2)
        #expect(exempt.stderr.contains("proxy: none (no_proxy lists localhost)"), "\(exempt.stderr)")
    }

    /// A self-signed certificate (made with the openssl command, served by
    /// python3's http.server with ssl): "not trusted", how to trust a CA on this
    /// system, and that SSL_CERT_FILE does not help.
    @Test func anUntrustedCertificateSaysHowToTrustTheCA() throws {
        guard let openssl = Self.which("openssl"), let python = Self.which("python3") else {
            print("skipped: needs openssl and python3 (apt-get install -y openssl python3)")
            return
        }
        let dir = TemporaryDirectory("tls")
        let made = try ChildProcess.run(openssl, [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem"),
        ])
        try #require(made.exitCode == 0, "\(made.summary)")
        try dir.write("catalog.json", Data(sampleCatalogue(entries: 4)))
        try dir.write("serve.py", Data("""
            import http.server, ssl, sys, functools
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            server.socket = context.wrap_socket(server.socket, server_side=True)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """.utf8))
        let server = try ChildProcess(
            python, [dir.file("serve.py"), dir.file("cert.pem"), dir.file("key.pem"), dir.path], stdout: .pipe, stderr: .captured)
        defer {
            server.signal(SIGKILL)
            _ = try? server.wait()
        }
        let port = try #require(try server.readLine(timeout: .seconds(30)), "the TLS server did not start")
        let url = "https://127.0.0.1:\(port)/catalog.json"

        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", url])
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains("cannot fetch \(url): the server's TLS certificate is not trusted (SSL certificate problem: self-signed certificate)"),
                "\(result.stderr)")
        #expect(result.stderr.contains("run 'update-ca-certificates'"), "\(result.stderr)")
        // The certificate itself as SSL_CERT_FILE changes nothing: the stack reads the system store only.
        let withCertFile = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", url], environment: ["SSL_CERT_FILE": dir.file("cert.pem")])
        #expect(withCertFile.exitCode == 69, "\(withCertFile.summary)")
        #expect(withCertFile.stderr.contains("SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE are ignored"), "\(withCertFile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("c/metadata.json")))
    }

    /// A size as the messages print it (`ByteCountText`: tenths of KiB).
    static func kib(_ bytes: Int) -> String { ByteCountText.format(bytes) }

    static func which(_ program: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(program)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }
}
}
