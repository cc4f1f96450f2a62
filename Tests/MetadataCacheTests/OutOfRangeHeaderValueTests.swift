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

/// The formatting helpers behind every date and duration a user sees.
@Suite struct TimeFormattingTests {
    /// Exact text for every signed 64-bit millisecond count, checked against
    /// Java's `Instant.ofEpochMilli` (an independent implementation) at the
    /// edges, and round-tripping through `parse` for every year 0000-9999.
    @Test func everyMillisecondCountHasItsExactText() {
        let references: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (253_402_300_800_000, "+10000-01-01T00:00:00.000Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
            (-62_167_219_200_001, "-0001-12-31T23:59:59.999Z"),
            (Int64.max, "+292278994-08-17T07:12:55.807Z"),
            (Int64.min, "-292275055-05-16T16:47:04.192Z"),
        ]
        for (ms, text) in references {
            #expect(ISO8601Timestamp.format(millisecondsSinceEpoch: ms) == text)
        }
        var ms: Int64 = -62_167_219_200_000
        while ms < 253_402_300_800_000 {
            #expect(ISO8601Timestamp.parse(ISO8601Timestamp.format(millisecondsSinceEpoch: ms)) == ms)
            ms += 86_400_000 * 97 + 3_600_000 * 5 + 61_001
        }
    }

    /// The fixed-width form (holder records) writes the nearest four-digit-year
    /// instant, never a clamped year with the real month and day.
    @Test func theFixedWidthFormClampsTheWholeInstant() {
        func fixed(_ ms: Int64) -> String {
            var bytes = [UInt8](repeating: 0, count: ISO8601Timestamp.length)
            ISO8601Timestamp.write(millisecondsSinceEpoch: ms, into: &bytes, at: 0)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(fixed(Int64.max) == "9999-12-31T23:59:59.999Z")
        #expect(fixed(Int64.min) == "0000-01-01T00:00:00.000Z")
        #expect(fixed(1_764_061_862_123) == ISO8601Timestamp.format(millisecondsSinceEpoch: 1_764_061_862_123))
    }

    @Test func agesAndConversionsSaturate() {
        #expect(EpochMilliseconds.age(since: .min, now: .max) == .milliseconds(Int64.max))
        #expect(EpochMilliseconds.age(since: .max, now: .min) == .zero)
        #expect(EpochMilliseconds.age(since: 1000, now: 500) == .zero)
        #expect(EpochMilliseconds.age(since: 500, now: 1500) == .milliseconds(1000))
        #expect(EpochMilliseconds.saturating(.infinity) == .max)
        #expect(EpochMilliseconds.saturating(-.infinity) == .min)
        #expect(EpochMilliseconds.saturating(.nan) == 0)
        #expect(EpochMilliseconds.saturating(9_223_372_036_854_775_808.0) == .max)
        #expect(EpochMilliseconds.milliseconds(EpochMilliseconds.date(1_764_061_862_123)) == 1_764_061_862_123)
        #expect(FileStatus.nanoseconds(seconds: 9_999_999_999, nanoseconds: 5) == .max)
        #expect(FileStatus.nanoseconds(seconds: -9_999_999_999, nanoseconds: 5) == .min)
        #expect(FileStatus.nanoseconds(seconds: 9_223_372_036, nanoseconds: 999_999_999) == .max)
        #expect(FileStatus.nanoseconds(seconds: 2, nanoseconds: 3) == 2_000_000_003)
        for seconds in [Double.nan, .infinity, -.infinity, 1e300, -5] {
            #expect(!DurationText.format(seconds: seconds).isEmpty)
        }
    }
}
