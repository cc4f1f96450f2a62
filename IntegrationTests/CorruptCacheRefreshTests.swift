import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// `refresh` on a cache whose payload no longer verifies: it counts as no cache,
/// so it is never "fresh" and never revalidated with the stored validators (a 304
/// would confirm bytes that fail their checksum); it is fetched and rebuilt.
@Suite struct CorruptCacheRefreshTests {
    /// Flips one payload bit of the cache file in place.
    static func corruptPayload(_ file: String) throws {
        var bytes = Array(FileManager.default.contents(atPath: file) ?? Data())
        try #require(bytes.count > 8)
        bytes[bytes.count - 3] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    @Test func aCorruptCacheIsNotFreshAndIsRebuilt() throws {
        let cache = try PopulatedCache()
        try Self.corruptPayload(cache.cacheFile)
        try #require(try Metacache.run(["cache", "verify", "--dir", cache.cacheDir]).exitCode == 65, "the cache is corrupt now")

        let refresh = try Metacache.run(
            ["cache", "refresh", "--if-older-than", "1h", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        #expect(refresh.stdoutText.hasPrefix("Refreshed 'metadata': generation "), "a corrupt cache counts as none: \(refresh.summary)")
        #expect(!refresh.stdoutText.contains("Skipped"))
        #expect(try Metacache.run(["cache", "verify", "--dir", cache.cacheDir]).exitCode == 0)
        #expect(try Metacache.run(["cache", "read", "--dir", cache.cacheDir]).stdout == cache.payload)
    }

    @Test func anHTTPRefreshOfACorruptCacheSendsNoValidators() throws {
        let payload = sampleCatalogue(entries: 12)
        let date = "Wed, 21 Oct 2026 07:28:00 GMT"
        let server = try HTTPRefreshTests.catalogueServer(payload: payload, etag: "\"v7\"", lastModified: date)
        let dir = TemporaryDirectory("http-corrupt")
        let cacheDir = dir.file("c")
        let url = server.url("/catalog.json")
        #expect(try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url]).exitCode == 0)
        try Self.corruptPayload(cacheDir + "/metadata.json")

        let refresh = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url])
        #expect(refresh.exitCode == 0, "\(refresh.summary)")
        #expect(refresh.stdoutText.hasPrefix("Refreshed 'metadata': generation "), "fetched, not revalidated: \(refresh.summary)")
        try #require(server.requests.count == 2)
        let second = server.requests[1].headers
        #expect(second["if-none-match"] == nil, "no stored ETag for bytes that no longer verify: \(second)")
        #expect(second["if-modified-since"] == nil, "no stored Last-Modified either: \(second)")
        #expect(try Metacache.run(["cache", "read", "--dir", cacheDir]).stdout == payload)

        // And once healed, the validators are back in use.
        let third = try Metacache.run(["cache", "refresh", "--dir", cacheDir, "--source", url])
        #expect(third.stdoutText.hasPrefix("Revalidated"), "\(third.summary)")
        #expect(server.requests.last?.headers["if-none-match"] == "\"v7\"")
    }
}
}
