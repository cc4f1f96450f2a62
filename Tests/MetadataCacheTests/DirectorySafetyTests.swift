import Foundation
import Testing
import TestSupport
@testable import MetadataCache

@Suite struct DirectorySafetyTests {
    func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func aMissingDirectoryIsCreatedPrivateWithItsParents() throws {
        let root = TemporaryDirectory("create")
        let path = root.path + "/a/b/cache"
        let store = try CacheStore(directory: path)
        try store.acquireWriterLock().commit(samplePayload)
        #expect(try permissions(path) == 0o700)
        #expect(try permissions(root.path + "/a") == 0o700)
        #expect(try store.read()?.payload == samplePayload)
    }

    @Test func aSymlinkedDirectoryIsRefusedEvenWhenSharingIsAllowed() throws {
        let root = TemporaryDirectory("symlink")
        let real = root.file("real")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: real)
        var options = CacheStoreOptions()
        options.allowSharedDirectory = true
        let store = try CacheStore(directory: root.file("link"), options: options)
        #expect(throws: MetadataCacheError.unsafeDirectory(path: root.file("link"), problem: .isSymbolicLink)) {
            _ = try store.acquireWriterLock()
        }
        #expect(throws: MetadataCacheError.self) { _ = try store.read() }
    }

    @Test func aGroupWritableDirectoryIsRefusedUnlessSharingIsAllowed() throws {
        let root = TemporaryDirectory("shared")
        let path = root.file("cache")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o770])
        chmod(path, 0o770)
        let store = try CacheStore(directory: path)
        let outcome = acquisitionError { () throws(MetadataCacheError) in try store.acquireWriterLock() }
        guard case let .unsafeDirectory(_, .writableByOthers(mode)) = outcome else {
            Issue.record("expected writableByOthers, got \(String(describing: outcome))")
            return
        }
        #expect(mode == 0o770)
        #expect(outcome?.description.contains("chmod 700") == true)
        var options = CacheStoreOptions()
        options.allowSharedDirectory = true
        try CacheStore(directory: path, options: options).acquireWriterLock().commit(samplePayload)
    }

    @Test(.enabled(if: geteuid() == 0, "changing a directory's owner needs root"))
    func aDirectoryOwnedByAnotherUserIsRefused() throws {
        let root = TemporaryDirectory("owner")
        let path = root.file("cache")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(chown(path, 65534, 65534) == 0)
        let store = try CacheStore(directory: path)
        #expect(throws: MetadataCacheError.unsafeDirectory(path: path, problem: .ownedByAnotherUser(owner: 65534, currentUser: 0))) {
            _ = try store.acquireWriterLock()
        }
    }

    @Test(arguments: ["", ".hidden", "a/b", "bad\u{1}name", String(repeating: "n", count: 101)])
    func invalidCacheNamesAreRefused(name: String) {
        #expect(throws: MetadataCacheError.invalidCacheName(name)) { _ = try CacheStore(directory: "/tmp", name: name) }
    }

    @Test func relativeDirectoriesAreMadeAbsolute() throws {
        let store = try CacheStore(directory: "some/./relative//dir/")
        #expect(store.directory.hasPrefix("/"))
        #expect(store.directory.hasSuffix("/some/relative/dir"))
    }
}

@Suite struct ObservabilityTests {
    @Test func theJSONLinesSinkWritesOneParsableObjectPerEvent() throws {
        let dir = TemporaryDirectory("events")
        let sink = try JSONLinesEventSink(path: dir.file("events.jsonl"))
        var options = CacheStoreOptions()
        options.observer = sink
        let store = try CacheStore(directory: dir.file("cache"), options: options)
        try store.acquireWriterLock().commit(samplePayload)
        _ = try store.read()
        let lines = try String(contentsOfFile: dir.file("events.jsonl"), encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let names = objects.compactMap { $0["event"] as? String }
        #expect(names == ["lockAcquired", "commitSucceeded", "lockReleased", "readHit"])
        let commit = try #require(objects.first { $0["event"] as? String == "commitSucceeded" })
        #expect(commit["generation"] as? Int == 1)
        #expect(commit["bytes"] as? Int == samplePayload.count)
        #expect(commit["renameRetries"] as? Int == 0)
        #expect(commit["durationMs"] is Double || commit["durationMs"] is Int)
        #expect((objects.first?["time"] as? String).flatMap(ISO8601Timestamp.parse) != nil)
    }

    @Test func eventLinesEscapeStrings() throws {
        let holder = HolderRecord(
            pid: 7, host: "h", processStartTime: nil, command: "tool \"quoted\"\n\\ ünï", acquiredAt: Date(),
            backend: .advisory, leaseID: "1")
        let line = CacheEvent.lockWaitStarted(lockPath: "/tmp/a\"b", holder: holder, timeout: .infinite).jsonLine()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["lockPath"] as? String == "/tmp/a\"b")
        #expect((object["holder"] as? [String: Any])?["command"] as? String == "tool \"quoted\"\n\\ ünï")
        #expect(object["timeout"] as? String == "none")
    }
}

@Suite struct HolderRecordTests {
    @Test func encodesAndParsesBack() throws {
        let record = HolderRecord.forCurrentProcess(backend: .lockFile, leaseSeconds: 30)
        let parsed = try #require(HolderRecord(parsing: Array(record.encodedJSON().utf8)))
        #expect(parsed.pid == record.pid)
        #expect(parsed.host == record.host)
        #expect(parsed.processStartTime == record.processStartTime)
        #expect(parsed.command == record.command)
        #expect(parsed.leaseID == record.leaseID)
        #expect(parsed.leaseSeconds == 30)
        #expect(parsed.backend == .lockFile)
        #expect(abs(parsed.acquiredAt.timeIntervalSince(record.acquiredAt)) < 0.002)
    }

    @Test(arguments: [
        "", "   ", "garbage", "{", #"{"pid":12}"#, #"{"pid":-1,"host":"h","acquiredAt":"2026-01-01T00:00:00.000Z","leaseId":"x"}"#,
        #"{"pid":"12","host":"h","acquiredAt":"2026-01-01T00:00:00.000Z","leaseId":"x"}"#,
        #"{"pid":12,"host":"h","acquiredAt":"yesterday","leaseId":"x"}"#,
    ])
    func malformedRecordsAreIgnored(text: String) {
        #expect(HolderRecord(parsing: Array(text.utf8)) == nil)
    }

    @Test func aTornRecordIsIgnored() {
        let full = Array(HolderRecord.forCurrentProcess(backend: .advisory).encodedJSON().utf8)
        for cut in stride(from: 1, to: full.count - 2, by: 7) {
            #expect(HolderRecord(parsing: full.prefix(cut)) == nil)
        }
    }
}

@Suite struct ValueParsingTests {
    @Test(arguments: [
        ("0", LockTimeout.immediate), ("0.0", .immediate), ("10", .after(.seconds(10))), ("2.5", .after(.milliseconds(2500))),
        ("infinite", .infinite), ("INF", .infinite), (" 3 ", .after(.seconds(3))), ("7s", .after(.seconds(7))),
        (".5", .after(.milliseconds(500))), ("1000000000", .after(.seconds(1_000_000_000))), ("0.0000000001", .immediate),
    ])
    func lockTimeoutsParse(text: String, expected: LockTimeout) {
        #expect(LockTimeout(parsing: text) == expected)
    }

    @Test(arguments: ["", "-1", "abc", "1e3", ".", "s", "5.", "nan", "1.2.3", "10m", "1000000001", "10000000000", "99999999999"])
    func badLockTimeoutsAreRejected(text: String) {
        #expect(LockTimeout(parsing: text) == nil)
    }

    /// Past ~9.2e9 s the nanosecond count overflows Int64: such values must be
    /// refused, never trap.
    @Test(arguments: [1e9 + 1, 1e10, 1e12, Double.greatestFiniteMagnitude, .infinity, -.infinity, .nan, -1])
    func outOfRangeSecondsAreRejectedWithoutTrapping(seconds: Double) {
        #expect(LockTimeout.seconds(seconds) == nil)
    }

    @Test func timestampsRoundTripAtMillisecondPrecision() {
        for ms: Int64 in [0, 1_764_061_862_123, 951_782_400_000, -1000] {
            #expect(ISO8601Timestamp.parse(ISO8601Timestamp.format(millisecondsSinceEpoch: ms)) == ms)
        }
        #expect(ISO8601Timestamp.format(millisecondsSinceEpoch: 1_764_061_862_123) == "2025-11-25T09:11:02.123Z")
        #expect(ISO8601Timestamp.parse("2026-13-01T00:00:00Z") == nil)
    }

    @Test func humanUnits() {
        #expect(DurationText.format(.milliseconds(850)) == "850ms")
        #expect(DurationText.format(.milliseconds(1200)) == "1.2s")
        #expect(DurationText.format(.seconds(4)) == "4s")
        #expect(DurationText.format(.seconds(180)) == "3m")
        #expect(DurationText.format(.seconds(7200)) == "2h")
        #expect(DurationText.format(.seconds(7 * 86400)) == "7d")
        #expect(ByteCountText.format(512) == "512 B")
        #expect(ByteCountText.format(1 << 20) == "1.0 MiB")
        #expect(ByteCountText.format(16 << 20) == "16.0 MiB")
    }
}

@Suite struct StatusTests {
    @Test func statusRefusesAnUnsafeDirectoryLikeRead() throws {
        let root = TemporaryDirectory("status-unsafe")
        let real = root.file("real")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: real)
        let store = try CacheStore(directory: root.file("link"))
        #expect(throws: MetadataCacheError.unsafeDirectory(path: root.file("link"), problem: .isSymbolicLink)) {
            _ = try store.status()
        }
    }

    @Test func statusReportsIntegrityLockAndOrphans() throws {
        let t = try TestStore("status")
        #expect(try t.store.status().integrity == .missing)
        try t.seed()
        try t.directory.write("metadata.json.tmp-99999-0000000000000002", Data("x".utf8))
        let status = try t.store.status()
        #expect(status.integrity == .ok)
        #expect(status.version?.generation == 1)
        #expect(status.payloadBytes == samplePayload.count)
        #expect(status.lock.held == false)
        #expect(status.orphanTemps == [t.directory.file("metadata.json.tmp-99999-0000000000000002")])
        // Status created nothing and removed nothing.
        #expect(t.directory.listing().contains("metadata.json.tmp-99999-0000000000000002"))
    }
}
