import MetadataCache
import Testing
@testable import MetacacheCLI

/// Issue 18 item 2, the CLI's side: the library words remedies neutrally and
/// gives them as data; `metacache` renders its own commands (located on the same
/// cache) and flags on top, so its users still get a command to paste.
@Suite struct RemedyRenderingTests {
    static let hints = HintCommands(program: "metacache", locating: ["--dir", "/c"])

    static func message(_ error: MetadataCacheError, source: String? = nil) -> String {
        CacheErrorClassification.failure(for: error, source: source, hints: hints, refreshSource: .known("https://h/c.json")).message
    }

    @Test(arguments: [
        (MetadataCacheError.corruptCache(path: "/c/metadata.json", problem: .badMagic),
         ["'metacache cache verify --repair --dir /c'", "'metacache cache refresh --source https://h/c.json --dir /c'"]),
        (.payloadTooLarge(bytes: 100 << 20, limit: 64 << 20), ["raise --max-bytes"]),
        (.lockingUnsupported(lockPath: "/c/metadata.json.lock", errno: .noLocks), ["--lock-backend auto"]),
        (.newerFormat(path: "/c/metadata.json", version: 2, unknownFlags: 0),
         ["'metacache cache refresh --source https://h/c.json --overwrite-newer-format --dir /c'"]),
        (.unsafeDirectory(path: "/c", problem: .writableByOthers(permissions: 0o775)), ["--allow-shared-dir", "chmod 700 /c"]),
    ])
    func theCLIRendersItsOwnCommands(error: MetadataCacheError, expected: [String]) {
        let text = Self.message(error)
        for fragment in expected { #expect(text.contains(fragment), "\(text)") }
        // ...while the library's own description names none of them.
        #expect(!error.description.contains("metacache ") && !error.description.contains("--"), "\(error.description)")
    }

    /// Where the CLI has no command for the remedy, it uses the library's neutral words.
    @Test func otherwiseTheNeutralRemedy() {
        let error = MetadataCacheError.io(operation: "fsync", path: "/c/metadata.json", errno: .ioError)
        #expect(Self.message(error) == error.description)
        #expect(Self.message(error).hasSuffix("check the system log."))
    }

    /// Every remedy with a CLI command or flag has a CLI rendering.
    @Test func remediesWithACommandAreRendered() throws {
        let rendered: [MetadataCacheError.Remedy] = [
            .waitLongerForLock, .useLockFileBackend, .raiseSizeLimit, .moveCorruptCacheAside, .upgradeOrReplaceNewerFormat,
            .secureDirectory(path: "/c", problem: .ownedByAnotherUser(owner: 0, currentUser: 1)),
        ]
        for remedy in rendered {
            let text = try #require(CacheErrorClassification.remedyText(remedy, hints: Self.hints), "\(remedy)")
            #expect(text.contains("--") || text.contains("metacache"), "\(remedy): \(text)")
        }
    }
}
