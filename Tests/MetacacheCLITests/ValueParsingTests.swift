import MetadataCache
import Testing
@testable import MetacacheCLI

@Suite struct ValueParsingTests {
    @Test(arguments: [("90s", 90), ("15m", 900), ("24h", 86_400), ("7d", 604_800), ("1h30m", 5_400), ("0s", 0), (" 2h ", 7_200)])
    func durations(text: String, seconds: Int64) {
        #expect(DurationArgument.parse(text) == .seconds(seconds))
    }

    @Test(arguments: ["", "10", "5x", "h", "1.5h", "-5m", "30m1h", "1h1h", "99999999999999d", "1 h"])
    func invalidDurations(text: String) {
        #expect(DurationArgument.parse(text) == nil)
    }

    @Test func durationFormattingRoundTrips() {
        for seconds: Int64 in [1, 59, 90, 3_600, 5_400, 86_400, 604_800, 90_061] {
            #expect(DurationArgument.parse(DurationArgument.format(.seconds(seconds))) == .seconds(seconds))
        }
        #expect(DurationArgument.format(.seconds(3_600)) == "1h")
        #expect(DurationArgument.format(.seconds(90)) == "1m30s")
    }

    @Test(arguments: [("1048576", 1_048_576), ("64M", 64 << 20), ("1K", 1024), ("2GiB", 2 << 30), ("7", 7), ("10b", 10)])
    func byteCounts(text: String, bytes: Int) {
        #expect(ByteCountArgument.parse(text) == bytes)
    }

    @Test(arguments: ["", "0", "-1", "1.5M", "12kb", "M", "1T", "99999999999999999G"])
    func invalidByteCounts(text: String) {
        #expect(ByteCountArgument.parse(text) == nil)
    }

    @Test func sources() throws {
        let origin = SettingOrigin.flag("source")
        #expect(try SourceSpecifier.parse("-", origin: origin) == .standardInput)
        #expect(try SourceSpecifier.parse("/a/b.json", origin: origin) == .file(path: "/a/b.json"))
        #expect(try SourceSpecifier.parse("b.json", relativeTo: "/cache", origin: origin) == .file(path: "/cache/b.json"))
        #expect(try SourceSpecifier.parse("file:///a/with%20space.json", origin: origin) == .file(path: "/a/with space.json"))
        #expect(try SourceSpecifier.parse("file://localhost/a.json", origin: origin) == .file(path: "/a.json"))
        #expect(try SourceSpecifier.parse("HTTPS://example.org/c.json?x=1", origin: origin) == .http(url: "https://example.org/c.json?x=1"))
        #expect(try SourceSpecifier.parse("http://127.0.0.1:8080/c", origin: origin) == .http(url: "http://127.0.0.1:8080/c"))
        for url in ["http://[::1]:8080/c.json", "http://[fe80::1%25eth0]/c", "http://user:p%40ss@example.org/c", "http://my_host.example:65535",
                    "http://example.org:/c", "https://example.org?x=1", "http://a.b.c#frag", "http://xn--bcher-kva.example/c"] {
            #expect(try SourceSpecifier.parse(url, origin: origin) == .http(url: url), "\(url)")
        }
    }

    /// On Linux an https:// URL to an IPv6 literal cannot be fetched (TLS cannot go
    /// through the helper's IPv6 relay): a usage error before anything is locked.
    @Test func httpsToAnIPv6LiteralIsRefusedOnLinux() throws {
        #if os(Linux)
        for url in ["https://[::1]:8443/c.json", "https://user@[fe80::1%25eth0]/c"] {
            #expect {
                _ = try SourceSpecifier.parse(url, origin: .flag("source"))
            } throws: { error in
                (error as? UsageError)?.message.contains("cannot be fetched on Linux") == true
                    && (error as? UsageError)?.message.contains("localhost") == true
            }
        }
        #expect(try SourceSpecifier.parse("https://localhost:8443/c.json", origin: .flag("source")) == .http(url: "https://localhost:8443/c.json"))
        #endif
    }

    @Test func coalescingRequiresTheSourceTheCommitRecords() throws {
        let origin = SettingOrigin.flag("source")
        #expect(try SourceSpecifier.parse("b.json", relativeTo: "/cache", origin: origin).coalescing == .sameSource("/cache/b.json"))
        #expect(try SourceSpecifier.parse("file:///a/x%20y.json", origin: origin).coalescing == .sameSource("/a/x y.json"))
        #expect(try SourceSpecifier.parse("HTTPS://example.org/c", origin: origin).coalescing == .sameSource("https://example.org/c"))
        #expect(try SourceSpecifier.parse("-", origin: origin).coalescing == .never)
    }

    @Test(arguments: [
        ("", "it is empty"), ("ftp://x/y", "unsupported scheme 'ftp://'"), ("http:///path", "the URL has no host"),
        ("file://server/a.json", "not host 'server'"), ("file:///a%2", "malformed percent-escape"),
        ("http://h/a b", "spaces or control characters"),
        ("http://host:abc/x", "the port 'abc' is not a number (expected 1-65535)"),
        ("http://host:99999/x", "the port 99999 is out of range (expected 1-65535)"),
        ("http://host:0/x", "the port 0 is out of range"),
        ("http://host:-1/x", "the port '-1' is not a number"),
        ("http://[::1/x", "the IPv6 address '[::1' has no closing ']'"),
        ("http://[zz]/x", "[zz] is not a valid IPv6 address"),
        ("http://[::1]x/", "unexpected 'x' after the IPv6 address [::1]"),
        ("http://::1/x", "the URL has no host"),
        ("http://h%zz/x", "the host 'h%zz' has a malformed percent-escape"),
        ("http://exa<mple.org/", "the host 'exa<mple.org' contains '<'"),
        ("http://::1]/x", "the URL has no host"),
        ("http://@host/x", "empty user name"),
        ("https://", "the URL has no host"),
    ])
    func invalidSources(text: String, problem: String) {
        #expect {
            _ = try SourceSpecifier.parse(text, origin: .configFile(path: "/c/config.json", key: "source"))
        } throws: { error in
            guard let usage = error as? UsageError else { return false }
            return usage.message.contains(problem) && usage.message.contains("from key source in /c/config.json")
        }
    }
}
