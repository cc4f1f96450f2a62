import Foundation
@testable import MetadataCache
import Testing
import TestSupport

/// Issue 18 item 2: the library's messages are read by the users of whatever tool
/// embeds it. They used to say 'metacache cache status', 'metacache cache verify
/// --repair', --max-bytes, --lock-backend lockfile: commands and flags those
/// tools do not have. The library now words problem and remedy neutrally and
/// gives the remedy as data (`MetadataCacheError.Remedy`).
@Suite struct NeutralErrorMessageTests {
    /// One error of every case, so a new case must be added here (the switch in
    /// `caseName` does not compile without it).
    static let samples: [MetadataCacheError] = {
        let holder = HolderRecord(
            pid: 4242, host: "build-7", processStartTime: nil, command: "mytool sync", acquiredAt: Date(),
            backend: .advisory, leaseID: "lease")
        struct HostFailure: Error {}
        return [
            .lockTimeout(lockPath: "/c/metadata.json.lock", timeout: .after(.seconds(10)), waited: .seconds(10), holder: holder),
            .cancelled(lockPath: "/c/metadata.json.lock", waited: .seconds(2)),
            .selfDeadlock(lockPath: "/c/metadata.json.lock", holder: holder, holderIsAncestor: false),
            .selfDeadlock(lockPath: "/c/metadata.json.lock", holder: holder, holderIsAncestor: true),
            .lockLost(lockPath: "/c/metadata.json.lock", reason: "lease expired"),
            .lockingUnsupported(lockPath: "/c/metadata.json.lock", errno: .notSupported),
            .invalidPayload(JSONValidationError(offset: 139, reason: .emptyInput)),
            .payloadTooLarge(bytes: 80 << 20, limit: 64 << 20),
            .corruptCache(path: "/c/metadata.json", problem: .headerChecksumMismatch),
            .newerFormat(path: "/c/metadata.json", version: 2, unknownFlags: 0),
            .insufficientSpace(directory: "/c", needed: 2 << 20, available: 0),
            .io(operation: "create temp file", path: "/c/x.tmp", errno: .noSpace),
            .io(operation: "open", path: "/c/metadata.json", errno: .permissionDenied),
            .io(operation: "open", path: "/c/metadata.json", errno: .readOnlyFileSystem),
            .io(operation: "open", path: "/c/metadata.json", errno: .tooManySymlinks),
            .io(operation: "open", path: "/c/metadata.json", errno: .noSuchFile),
            .io(operation: "fsync", path: "/c/metadata.json", errno: .ioError),
            .io(operation: "fsync", path: "/c/metadata.json", errno: .busy),
            .unsafeDirectory(path: "/c", problem: .isSymbolicLink),
            .unsafeDirectory(path: "/c", problem: .notADirectory),
            .unsafeDirectory(path: "/c", problem: .writableByOthers(permissions: 0o775)),
            .unsafeDirectory(path: "/c", problem: .ownedByAnotherUser(owner: 0, currentUser: 1000)),
            .unsafeDirectory(path: "/t/c", problem: .ancestorWritableByOthers(ancestor: "/t", permissions: 0o777)),
            .unsafeDirectory(path: "/h/c", problem: .ancestorOwnedByAnotherUser(ancestor: "/h", owner: 1001)),
            .unsafeStoreFile(path: "/c/metadata.lock", problem: .notARegularFile(kind: "a FIFO")),
            .unsafeStoreFile(path: "/c/metadata.lock", problem: .hardLinked(linkCount: 2)),
            .unsafeStoreFile(path: "/c/metadata.lock", problem: .ownedByAnotherUser(owner: 1001, currentUser: 1000)),
            .invalidCacheName("../x"),
            .fetchFailed(source: "https://api.example/c.json", error: HostFailure()),
            .fetchFailed(source: nil, error: HostFailure()),
            .updateFailed(path: "/c/metadata.json", error: HostFailure()),
            .decodingFailed(path: "/c/metadata.json", type: "Catalogue", error: .keyNotFound(
                SampleKey("version"), DecodingError.Context(codingPath: [SampleKey("packages"), SampleKey(3)], debugDescription: "No value"))),
            .encodingFailed(type: "Catalogue", error: .invalidValue(Double.nan, EncodingError.Context(
                codingPath: [SampleKey("ratio")], debugDescription: "Unable to encode Double.nan directly in JSON."))),
        ]
    }()

    static func caseName(_ error: MetadataCacheError) -> String {
        switch error {
        case .lockTimeout: "lockTimeout"
        case .cancelled: "cancelled"
        case .selfDeadlock: "selfDeadlock"
        case .lockLost: "lockLost"
        case .lockingUnsupported: "lockingUnsupported"
        case .invalidPayload: "invalidPayload"
        case .payloadTooLarge: "payloadTooLarge"
        case .corruptCache: "corruptCache"
        case .newerFormat: "newerFormat"
        case .insufficientSpace: "insufficientSpace"
        case .io: "io"
        case .unsafeDirectory: "unsafeDirectory"
        case .unsafeStoreFile: "unsafeStoreFile"
        case .invalidCacheName: "invalidCacheName"
        case .fetchFailed: "fetchFailed"
        case .updateFailed: "updateFailed"
        case .decodingFailed: "decodingFailed"
        case .encodingFailed: "encodingFailed"
        }
    }

    /// 17 cases; the samples cover every one.
    @Test func theSamplesCoverEveryCase() {
        #expect(Set(Self.samples.map(Self.caseName)).count == 18)
    }

    @Test(arguments: samples)
    func noMessageNamesAToolsCommandOrFlag(_ error: MetadataCacheError) {
        let text = error.description
        #expect(!text.contains("metacache "), "\(Self.caseName(error)): \(text)")
        #expect(!text.contains("--"), "\(Self.caseName(error)): \(text)")
        #expect(!error.remedy.description.isEmpty)
        #expect(text == error.failureReason + " " + error.remedy.description, "the description is the reason, then the remedy")
    }

    /// The remedy is data a host switches over: the same problem gives the same
    /// case, whatever the paths.
    @Test func theRemedyIsDataAHostCanSwitchOver() {
        func remedy(_ error: MetadataCacheError) -> MetadataCacheError.Remedy { error.remedy }
        #expect(remedy(.corruptCache(path: "/a", problem: .badMagic)) == .moveCorruptCacheAside)
        #expect(remedy(.payloadTooLarge(bytes: 2, limit: 1)) == .raiseSizeLimit)
        #expect(remedy(.lockingUnsupported(lockPath: "/a", errno: .noLocks)) == .useLockFileBackend)
        #expect(remedy(.newerFormat(path: "/a", version: 2, unknownFlags: 0)) == .upgradeOrReplaceNewerFormat)
        #expect(remedy(.io(operation: "open", path: "/a", errno: .quotaExceeded)) == .freeSpace)
        #expect(remedy(.io(operation: "open", path: "/a", errno: .notPermitted)) == .checkPermissions)
        #expect(remedy(.unsafeDirectory(path: "/a", problem: .isSymbolicLink)) == .secureDirectory(path: "/a", problem: .isSymbolicLink))
    }

    /// The grep: no string literal in the library's sources names a `metacache`
    /// command or a `--flag` (comments may: they are for this project's readers).
    @Test func noStringLiteralInTheLibraryNamesTheCLI() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/MetadataCache").path
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        var offending: [String] = []
        var files = 0
        while let file = enumerator.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            files += 1
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for literal in code.matches(of: #/"(?:[^"\\]|\\.)*"/#) {
                    let content = literal.output
                    if content.contains("metacache ") || content.contains(/--[a-z]/) {
                        offending.append("\(file):\(number + 1): \(content)")
                    }
                }
            }
        }
        #expect(files > 50, "found the library's sources")
        #expect(offending.isEmpty, "\(offending.joined(separator: "\n"))")
    }
}

/// A coding key for building `DecodingError` contexts in tests.
private struct SampleKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init(_ int: Int) { stringValue = "Index \(int)"; intValue = int }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.init(intValue) }
}
