#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// HTTP(S) refreshes through `metacache-fetch` against a loopback server the test
/// runs: conditional requests and 304, error statuses, network failures,
/// timeouts, redirects, limits, and cancellation of a stalled download.
@Suite struct HTTPRefreshTests {
    /// A server with one catalogue at /catalog.json, served with an ETag and a
    /// Last-Modified date; answers 304 when the request's validator matches.
    static func catalogueServer(payload: [UInt8], etag: String = "\"v1-abc\"", lastModified: String? = nil) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            guard request.path == "/catalog.json" else { return .respond(status: 404, body: Array("not here".utf8)) }
            if request.headers["if-none-match"] == etag { return .respond(status: 304, headers: [("ETag", etag)]) }
            if let lastModified, request.headers["if-modified-since"] == lastModified { return .respond(status: 304) }
            var headers = [("ETag", etag), ("Content-Type", "application/json")]
            if let lastModified { headers.append(("Last-Modified", lastModified)) }
            return .respond(status: 200, headers: headers, body: payload)
        }
    }

    private func meta(_ dir: String) throws -> [String: Any] {
        let result = try Metacache.run(["cache", "read", "--meta", "--dir", dir])
        try #require(result.exitCode == 0, "\(result.summary)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
    }

    @Test func okWithETagThen304KeepsThePayloadAndGenerationAndRenewsFetchedAt() throws {
        let payload = sampleCatalogue(entries: 30)
        let server = try Self.catalogueServer(payload: payload)
        let dir = TemporaryDirectory("http200")
        let cacheDir = dir.file("c")
        let url = server.url("/catalog.json")

        let first = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url])
        #expect(first.exitCode == 0, "\(first.summary)")
        #expect(first.stdoutText.hasPrefix("Refreshed 'metadata': generation 1, "), "\(first.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", cacheDir]).stdout == payload)
        let afterFirst = try meta(cacheDir)
        #expect(afterFirst["etag"] as? String == "\"v1-abc\"")
        #expect(afterFirst["source"] as? String == url)
        #expect(server.requests.first?.headers["if-none-match"] == nil, "the first request has nothing to validate")

        let second = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url])
        #expect(second.exitCode == 0, "\(second.summary)")
        #expect(second.stdoutText.hasPrefix("Revalidated 'metadata': not modified (HTTP 304); generation 1 kept, fetchedAt renewed"), "\(second.summary)")
        #expect(server.requests.count == 2)
        #expect(server.requests.last?.headers["if-none-match"] == "\"v1-abc\"")
        let afterSecond = try meta(cacheDir)
        #expect(afterSecond["generation"] as? Int == 1)
        #expect(afterSecond["commitId"] as? String != afterFirst["commitId"] as? String, "a revalidation is a new commit")
        // Strictly later: a 304 that did not renew fetchedAt must fail here.
        #expect((afterSecond["fetchedAt"] as? String ?? "") > (afterFirst["fetchedAt"] as? String ?? "~"),
                "\(String(describing: afterFirst["fetchedAt"])) → \(String(describing: afterSecond["fetchedAt"]))")
        #expect(try Metacache.run(["cache", "read", "--dir", cacheDir]).stdout == payload)

        let forced = try Metacache.run(["cache", "refresh", "--force", "--dir", cacheDir, "--source", url])
        #expect(forced.exitCode == 0)
        #expect(forced.stdoutText.hasPrefix("Revalidated"), "--force still sends the validators: \(forced.summary)")
        #expect(server.requests.last?.headers["if-none-match"] == "\"v1-abc\"")

        let fresh = try Metacache.run(["cache", "refresh", "--if-older-than", "1h", "--dir", cacheDir, "--source", url])
        #expect(fresh.exitCode == 0)
        #expect(fresh.stdoutText.hasPrefix("Skipped: cache is fresh (age "), "\(fresh.summary)")
        #expect(fresh.stdoutText.contains(" < 1h)"))
        #expect(server.requests.count == 3, "a fresh cache is not fetched")
    }

    /// `--max-bytes` limits what is downloaded; a 304 downloads nothing, so it
    /// succeeds even when the kept payload is larger than the new limit.
    @Test func a304KeepsAPayloadLargerThanMaxBytes() throws {
        let payload = Array("{\"pad\":\"\(String(repeating: "x", count: 2048))\"}".utf8)
        let server = try Self.catalogueServer(payload: payload)
        let dir = TemporaryDirectory("http304max")
        let url = server.url("/catalog.json")
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", url]).exitCode == 0)
        let result = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", url, "--max-bytes", "1000"])
        #expect(result.exitCode == 0, "\(result.summary)")
        #expect(result.stdoutText.hasPrefix("Revalidated 'metadata': not modified (HTTP 304)"), "\(result.summary)")
        #expect(server.requests.last?.headers["if-none-match"] == "\"v1-abc\"")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload, "the 2 KiB payload is kept")
    }

    @Test func lastModifiedIsSentAsIfModifiedSince() throws {
        let date = "Wed, 21 Oct 2026 07:28:00 GMT"
        let server = try Self.catalogueServer(payload: sampleCatalogue(entries: 3), etag: "\"e\"", lastModified: date)
        let dir = TemporaryDirectory("httplm")
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/catalog.json")]).exitCode == 0)
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/catalog.json")]).exitCode == 0)
        #expect(server.requests.last?.headers["if-modified-since"] == date)
    }

    @Test func validatorsOfAnotherSourceAreNotSent() throws {
        let server = try Self.catalogueServer(payload: sampleCatalogue(entries: 3))
        let dir = TemporaryDirectory("httpother")
        #expect(try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/catalog.json")]).exitCode == 0)
        let other = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/catalog.json?mirror=2")])
        #expect(other.exitCode == 69)  // the test server knows only /catalog.json
        #expect(server.requests.last?.headers["if-none-match"] == nil, "an ETag of one URL must never be sent to another")
    }

    @Test(arguments: [(500, "HTTP 500 Internal Server Error"), (404, "HTTP 404 Not Found"), (503, "HTTP 503 Service Unavailable")])
    func errorStatusExits69NamingTheStatus(status: Int, expected: String) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let server = try LoopbackHTTPServer { _ in .respond(status: status, body: Array("<html>oops</html>".utf8)) }
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/catalog.json")])
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.contains(server.url("/catalog.json")))
        #expect(cache.cacheBytes() == before)
        #expect(cache.tempFiles().isEmpty)
    }

    @Test func connectionRefusedExits69() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let url = "http://127.0.0.1:\(LoopbackHTTPServer.unusedPort())/catalog.json"
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", url])
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains("cannot reach \(url)"), "\(result.stderr)")
        #expect(cache.cacheBytes() == before)
    }

    @Test func aServerThatStallsPastTheTimeoutExits69() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let never = LoopbackHTTPServer.Gate()
        let server = try LoopbackHTTPServer { _ in .stall(until: never, then: .respond(status: 200, body: Array("{}".utf8))) }
        let started = ContinuousClock.now
        let result = try Metacache.run(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/catalog.json"), "--fetch-timeout", "1"])
        let elapsed = ContinuousClock.now - started
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains("timed out after 1s"), "\(result.stderr)")
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(20), "took \(elapsed)")
        #expect(cache.cacheBytes() == before)
        server.stop()
    }

    @Test func redirectsAreFollowedAndLoopsRefused() throws {
        let payload = sampleCatalogue(entries: 4)
        let server = try LoopbackHTTPServer { request in
            switch request.path {
            case "/old": .respond(status: 301, headers: [("Location", "/new")])
            case "/new": .respond(status: 200, headers: [("ETag", "\"n\"")], body: payload)
            default: .respond(status: 302, headers: [("Location", request.path == "/a" ? "/b" : "/a")])
            }
        }
        let dir = TemporaryDirectory("httpredirect")
        let moved = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/old")])
        #expect(moved.exitCode == 0, "\(moved.summary)")
        #expect(try Metacache.run(["cache", "read", "--dir", dir.file("c")]).stdout == payload)

        let loop = try Metacache.run(["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/a")])
        #expect(loop.exitCode == 69, "\(loop.summary)")
        #expect(loop.stderr.contains("redirects"), "\(loop.stderr)")
    }

    @Test func aBodyOverTheLimitOrNotJSONExits65() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let big = sampleCatalogue(entries: 40)
        let server = try LoopbackHTTPServer { request in
            request.path == "/big" ? .respond(status: 200, body: big)
                : .respond(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>login</html>".utf8))
        }
        let tooBig = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/big"), "--max-bytes", "4K"])
        #expect(tooBig.exitCode == 65, "\(tooBig.summary)")
        #expect(tooBig.stderr.contains("larger than the limit of 4.0 KiB"), "\(tooBig.stderr)")
        let html = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/login")])
        #expect(html.exitCode == 65, "\(html.summary)")
        #expect(html.stderr.contains("unexpected character '<' at byte 0"), "\(html.stderr)")
        #expect(cache.cacheBytes() == before)
    }

    @Test func ctrlCDuringAStalledDownloadStopsTheHelperAndWritesNothing() throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let never = LoopbackHTTPServer.Gate()
        let server = try LoopbackHTTPServer { _ in .stall(until: never, then: .hangUp) }
        let refresh = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", server.url("/catalog.json"), "--fetch-timeout", "120"],
            stderr: .captured)
        #expect(server.waitForRequests(1), "the helper never connected")
        refresh.signal(SIGINT)
        #expect(try refresh.wait(timeout: .seconds(20)) == .exited(130))
        #expect(refresh.standardError.contains("Cancelled while fetching \(server.url("/catalog.json"))"), "\(refresh.standardError)")
        #expect(server.waitForStalledClientToHangUp(timeout: .seconds(20)), "metacache-fetch kept the connection open: it outlived the cancel")
        #expect(cache.cacheBytes() == before)
        #expect(cache.tempFiles().isEmpty)
        server.stop()
    }

    @Test func killingMetacacheOutrightAlsoEndsTheHelper() throws {
        let dir = TemporaryDirectory("httpkill")
        let never = LoopbackHTTPServer.Gate()
        let server = try LoopbackHTTPServer { _ in .stall(until: never, then: .hangUp) }
        let refresh = try Metacache.start(
            ["cache", "refresh", "--dir", dir.file("c"), "--source", server.url("/catalog.json"), "--fetch-timeout", "120"],
            stderr: .captured)
        #expect(server.waitForRequests(1), "the helper never connected")
        refresh.signal(SIGKILL)  // no handler runs: only the helper's stdin pipe tells it
        #expect(try refresh.wait(timeout: .seconds(20)) == .signaled(SIGKILL))
        #expect(server.waitForStalledClientToHangUp(timeout: .seconds(20)), "the orphaned metacache-fetch kept downloading")
        server.stop()
    }

    /// A malformed URL is a usage error found before the lock is taken: with the
    /// lock held by another process and `--lock-timeout 0`, a refresh that took
    /// the lock path would end 75, not 64.
    @Test(arguments: [
        ("http://host:abc/x", "the port 'abc' is not a number (expected 1-65535)"),
        ("http://[::1/x", "the IPv6 address '[::1' has no closing ']'"),
        ("http://127.0.0.1:99999/x", "the port 99999 is out of range"),
        ("https://[zz]/catalog.json", "[zz] is not a valid IPv6 address"),
    ])
    func aMalformedURLExits64BeforeTakingTheLock(url: String, problem: String) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let result = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", url, "--lock-timeout", "0"])
        #expect(result.exitCode == 64, "\(result.summary)")
        #expect(result.stderr.contains("invalid source '\(url)' from --source: \(problem)"), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: metacache cache refresh"))
        #expect(!result.stderr.contains("Waiting for lock"), "it never got as far as the lock")
        #expect(try holder.release() == .exited(0))
        #expect(cache.cacheBytes() != before, "the holder's own commit went through")
    }

    /// The helper's own check, for URLs it is given directly: a URL libcurl
    /// cannot use is reported as `badURL` with exit 64, not as unreachable (69).
    @Test(arguments: ["http://127.0.0.1:99999/x", "http://host:abc/x", "http://[::1/x"])
    func theHelperReportsAMalformedURLAsBadURL(url: String) throws {
        let result = try ChildProcess.run(
            BuiltProducts.path(of: "metacache-fetch"), [url, "--timeout", "5"], environment: Metacache.environment())
        #expect(result.exitCode == 64, "\(result.summary)")
        #expect(result.stderr.contains("\"outcome\":\"badURL\""), "\(result.stderr)")
    }

    @Test func aMissingHelperSaysHowToBuildIt() throws {
        let dir = TemporaryDirectory("nohelper")
        // A hard link where possible: a copy's write descriptor can be inherited by a
        // process another test spawns at that instant, making exec fail with ETXTBSY
        // until that process execs; so a copy is retried on exactly that error.
        if link(Metacache.path, dir.file("metacache")) != 0 {
            try FileManager.default.copyItem(atPath: Metacache.path, toPath: dir.file("metacache"))
        }
        var attempt: ChildProcess.Result?
        for _ in 0..<50 where attempt == nil {
            do {
                attempt = try ChildProcess.run(
                    dir.file("metacache"), ["cache", "refresh", "--dir", dir.file("c"), "--source", "http://127.0.0.1:9/x.json"],
                    environment: Metacache.environment())
            } catch let failure as ChildProcess.Failure where failure.description.contains("Text file busy") {
                continue
            }
        }
        let result = try #require(attempt)
        #expect(result.exitCode == 69, "\(result.summary)")
        #expect(result.stderr.contains(dir.file("metacache-fetch")), "\(result.stderr)")
        #expect(result.stderr.contains("swift build"), "\(result.stderr)")
    }
}
}
