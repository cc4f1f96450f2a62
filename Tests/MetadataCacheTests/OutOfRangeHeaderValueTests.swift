import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import MetadataCache

/// Header values at the edges of their types, in files whose checksums are valid
/// (XXH64 is public: a buggy or hostile writer can seal any values). No byte
/// sequence, timestamp or size may trap; each is read, reported or refused.
@Suite struct OutOfRangeHeaderValueTests {
    // MARK: Payload length (N)

    /// Payload lengths for which `H + N` overflows a signed or unsigned 64-bit sum.
    static let hugePayloadLengths: [UInt64] = [
        .max, UInt64(Int64.max), UInt64(Int64.max) - 50, UInt64(Int64.max) + 1, 1 << 62,
    ]

    @Test(arguments: hugePayloadLengths)
    func aHugePayloadLengthIsCorruptNotATrap(payloadLength: UInt64) throws {
        let t = try TestStore("huge-n")
        var file = CraftedCacheFile()
        file.payloadLength = payloadLength
        try t.directory.write("metadata.json", Data(file.bytes))

        for (what, body) in [
            ("read", { () throws(MetadataCacheError) in _ = try t.store.read() }),
            ("readHeader", { () throws(MetadataCacheError) in _ = try t.store.readHeader() }),
        ] {
            do throws(MetadataCacheError) {
                try body()
                Issue.record("\(what) accepted a file announcing \(payloadLength) payload bytes")
            } catch {
                guard case let .corruptCache(_, problem) = error, case .lengthMismatch = problem else {
                    Issue.record("\(what): expected a length mismatch, got \(error)")
                    continue
                }
                #expect(problem.description.contains(String(payloadLength)), "\(problem)")
            }
        }
        let status = try t.store.status()
        #expect(status.integrity.name == "corrupt")
        // The store stays usable: the file is moved aside (never deleted) and a
        // refresh rebuilds the cache.
        let aside = try #require(try t.store.moveCorruptCacheAside())
        #expect(t.directory.contents(URL(fileURLWithPath: aside).lastPathComponent) == Data(file.bytes))
        try t.seed()
        #expect(try t.store.read()?.payload == samplePayload)
    }

    /// Files larger than the default payload limit have their header checked
    /// before the payload is read: that check compares lengths too.
    @Test func aHugePayloadLengthInALargeFileIsCorruptNotATrap() throws {
        let t = try TestStore("huge-n-large")
        var file = CraftedCacheFile()
        file.payloadLength = .max
        let path = t.directory.file("metadata.json")
        try t.directory.write("metadata.json", Data(file.bytes))
        // Sparse: past the size above which the header is checked first.
        #expect(truncate(path, off_t(CacheFileReader.headerCheckedFirstAbove + 4096)) == 0)
        #expect {
            _ = try t.store.read()
        } throws: { error in
            guard case let MetadataCacheError.corruptCache(_, problem) = error, case .lengthMismatch = problem else { return false }
            return true
        }
    }

    // MARK: Timestamps

    static let extremeMilliseconds: [Int64] = [
        .min, .min + 1, -62_167_219_200_001, -1, 0, 253_402_300_800_000, .max - 1, .max,
    ]

    /// fetchedAt and committedAt are any signed 64-bit value: reading, the age,
    /// freshness and `status` work for each of them.
    @Test(arguments: extremeMilliseconds)
    func extremeTimestampsAreReadWithoutTrapping(milliseconds: Int64) async throws {
        let t = try TestStore("extreme-time")
        var file = CraftedCacheFile()
        file.fetchedAtMilliseconds = milliseconds
        file.committedAtMilliseconds = milliseconds
        try t.directory.write("metadata.json", Data(file.bytes))

        let snapshot = try #require(try t.store.read())
        #expect(snapshot.payload == Data(file.payload))
        let age = snapshot.age
        #expect(age >= .zero)
        _ = snapshot.isOlder(than: .seconds(3600))
        let status = try t.store.status()
        #expect(status.integrity == .ok)
        _ = try #require(status.version).age

        // Freshness: a fetchedAt in the future is "just fetched" (age 0), one in the
        // distant past is stale and refetched.
        let outcome = try await t.store.refresh(ifOlderThan: .seconds(3600)) { _ in
            .payload(samplePayload, source: "refetched")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        switch outcome {
        case .skippedFresh: #expect(milliseconds > now - 3_600_000)
        case .fetched: #expect(milliseconds <= now - 3_600_000)
        default: Issue.record("unexpected outcome \(outcome)")
        }
    }

    /// An mtime past 2262 (`touch -d @9999999999`) or before 1678 is beyond
    /// signed 64-bit nanoseconds: reads and "changed since?" still work.
    @Test(arguments: [9_999_999_999, 99_999_999_999, -9_999_999_999] as [Int])
    func aFileTimeBeyondSigned64BitNanosecondsDoesNotTrap(seconds: Int) throws {
        let t = try TestStore("far-mtime")
        try t.seed()
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 999_999_999)]
        #expect(utimensat(AT_FDCWD, t.store.cachePath, &times, AT_SYMLINK_NOFOLLOW) == 0)
        let snapshot = try #require(try t.store.read())
        #expect(snapshot.payload == samplePayload)
        #expect(try !t.store.hasChanged(since: snapshot))
        try t.seed()
        #expect(try t.store.hasChanged(since: snapshot))
    }
}
