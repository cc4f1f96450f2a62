#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache
import Testing
@testable import MetacacheCLI

@Suite struct ExitCodeMappingTests {
    static let holder = HolderRecord(
        pid: 7, host: "h", processStartTime: nil, command: "host-tool", acquiredAt: .now, backend: .advisory, leaseID: "l")

    @Test(arguments: [
        (MetadataCacheError.lockTimeout(lockPath: "/c/m.lock", timeout: .after(.seconds(1)), waited: .seconds(1), holder: holder), ExitCode.lockUnavailable),
        (.selfDeadlock(lockPath: "/c/m.lock", holder: holder, holderIsAncestor: true), .lockUnavailable),
        (.lockLost(lockPath: "/c/m.lock.owner", reason: "lease expired"), .lockUnavailable),
        (.cancelled(lockPath: "/c/m.lock", waited: .seconds(2)), .cancelled),
        (.lockingUnsupported(lockPath: "/c/m.lock", errno: Errno(rawValue: ENOLCK)), .ioError),
        (.invalidPayload(JSONValidationError(offset: 3, reason: .unexpectedEndOfInput)), .invalidData),
        (.payloadTooLarge(bytes: 100, limit: 10), .invalidData),
        (.corruptCache(path: "/c/m.json", problem: .badMagic), .invalidData),
        (.insufficientSpace(directory: "/c", needed: 10, available: 1), .cannotCreate),
        // Permission denied is 77 wherever it happens (creating included); other
        // failures to create are 73.
        (.io(operation: "create directory", path: "/ro/c", errno: Errno(rawValue: EACCES)), .permission),
        (.io(operation: "create temp file", path: "/c/t", errno: Errno(rawValue: EACCES)), .permission),
        (.io(operation: "open lock file", path: "/c/m.lock", errno: Errno(rawValue: EPERM)), .permission),
        (.io(operation: "open events file", path: "/c/e", errno: Errno(rawValue: EACCES)), .permission),
        (.io(operation: "create temp file", path: "/c/t", errno: Errno(rawValue: EIO)), .cannotCreate),
        (.newerFormat(path: "/c/m.json", version: 2, unknownFlags: 0), .newerFormat),
        (.io(operation: "write", path: "/c/t", errno: Errno(rawValue: ENOSPC)), .cannotCreate),
        (.io(operation: "rename to /c/m.json", path: "/c/t", errno: Errno(rawValue: EROFS)), .cannotCreate),
        (.io(operation: "stat", path: "/c/file/sub", errno: Errno(rawValue: ENOTDIR)), .cannotCreate),
        (.io(operation: "open", path: "/c/m.json", errno: Errno(rawValue: EACCES)), .permission),
        (.io(operation: "read", path: "/c/m.json", errno: Errno(rawValue: EIO)), .ioError),
        (.unsafeDirectory(path: "/c", problem: .isSymbolicLink), .permission),
        (.invalidCacheName("../x"), .usage),
    ])
    func libraryErrors(error: MetadataCacheError, code: ExitCode) {
        #expect(CacheErrorClassification.exitCode(for: error) == code)
        let failure = CacheErrorClassification.failure(for: error)
        #expect(failure.exitCode == code)
        #expect(!failure.message.isEmpty)
    }

    /// A permission failure names the path, the directory that refused it and
    /// what to do; a newer format's file is named as intact and left untouched.
    @Test func permissionAndNewerFormatMessagesSayWhatToDo() {
        let temp = CacheErrorClassification.failure(
            for: .io(operation: "create temp file", path: "/c/metadata.json.tmp-1-ab", errno: Errno(rawValue: EACCES)))
        #expect(temp.message.contains("/c/metadata.json.tmp-1-ab"))
        #expect(temp.message.contains("cannot create files in /c"))
        #expect(temp.message.contains("--dir"))
        let newer = CacheErrorClassification.failure(for: .newerFormat(path: "/c/metadata.json", version: 2, unknownFlags: 0))
        #expect(newer.message.contains("format version 2"))
        #expect(newer.message.contains("left untouched"))
        #expect(newer.message.contains("--overwrite-newer-format"))
        #expect(!newer.message.contains("corrupt"))
    }

    @Test func sourceFailures() {
        #expect(SourceFailure.missing(path: "/x").exitCode == .missing)
        #expect(SourceFailure.notReadable(path: "/x", what: "a directory").exitCode == .missing)
        #expect(SourceFailure.permissionDenied(path: "/x", errno: Errno(rawValue: EACCES)).exitCode == .permission)
        #expect(SourceFailure.readFailed(source: "/x", errno: Errno(rawValue: EIO)).exitCode == .ioError)
        #expect(SourceFailure.empty(source: "/x").exitCode == .invalidData)
        #expect(SourceFailure.tooLarge(source: "/x", limit: 1, evidence: .fileSize(2)).exitCode == .invalidData)
        #expect(SourceFailure.cancelled(source: "/x", bytesRead: 0).exitCode == .cancelled)
        for failure in [SourceFailure.httpStatus(url: "u", status: 500, finalURL: nil), .unreachable(url: "u", detail: "d"),
                        .timedOut(url: "u", seconds: 1), .tooManyRedirects(url: "u", limit: 10), .unexpectedNotModified(url: "u"),
                        .helperMissing(path: "/p"), .helperFailed(detail: "d")] {
            #expect(failure.exitCode == .unavailable, "\(failure)")
        }
        #expect(SourceFailure.httpStatus(url: "https://x/c.json", status: 404, finalURL: nil).message.contains("HTTP 404 Not Found"))
    }

    @Test func theWaitEndLinesArePrintedWithoutPrefix() {
        let text = WaitFeedbackText(cachePath: "/c/metadata.json", action: "refresh")
        let timeout = CacheErrorClassification.failure(
            for: .lockTimeout(lockPath: "/c/metadata.lock", timeout: .after(.seconds(10)), waited: .seconds(10), holder: Self.holder),
            feedback: text)
        #expect(timeout.isFeedbackLine)
        #expect(timeout.message.hasPrefix("Could not acquire lock after 10s; retry with --lock-timeout or see 'metacache cache status'"))
        #expect(timeout.message.contains("held by pid 7 (host-tool) on h"))
        let cancelled = CacheErrorClassification.failure(for: .cancelled(lockPath: "/c/metadata.lock", waited: .seconds(1)), feedback: text)
        #expect(cancelled.isFeedbackLine && cancelled.message.hasPrefix("Cancelled while waiting for lock"))
    }

    /// Each refusal gives the remedy for its own problem: no chmod for a file in
    /// the way, no --allow-shared-dir where it would not help.
    @Test func unsafeDirectoryMessagesGiveTheRemedyForTheirProblem() {
        func message(_ problem: UnsafeDirectoryProblem) -> String {
            let failure = CacheErrorClassification.failure(for: .unsafeDirectory(path: "/c", problem: problem))
            #expect(failure.exitCode == .permission)
            return failure.message
        }
        let umask002 = message(.writableByOthers(permissions: 0o775))
        #expect(umask002.hasPrefix("refusing to use the cache directory /c: it is writable by group or others (mode 775). "), "\(umask002)")
        #expect(umask002.contains("'chmod 700 /c'") && umask002.contains("'chmod g-w,o-w /c'") && umask002.contains("umask 002"), "\(umask002)")
        #expect(umask002.contains("accept it with --allow-shared-dir"), "\(umask002)")
        let worldWritable = message(.writableByOthers(permissions: 0o777))
        #expect(worldWritable.contains("chmod 700") && !worldWritable.contains("umask"), "\(worldWritable)")

        let foreign = message(.ownedByAnotherUser(owner: 1001, currentUser: 1000))
        #expect(foreign.contains("Use a cache directory of your own, or ask its owner (uid 1001)"), "\(foreign)")
        #expect(foreign.contains("--allow-shared-dir") && !foreign.contains("chmod"), "\(foreign)")

        let file = message(.notADirectory)
        #expect(file.contains("it is not a directory. Something else is at that path: move or remove it, or choose another cache directory"), "\(file)")
        #expect(!file.contains("chmod") && !file.contains("--allow-shared-dir"), "\(file)")

        let link = message(.isSymbolicLink)
        #expect(link.contains("symbolic link") && !link.contains("chmod") && !link.contains("accept it with"), "\(link)")
    }

    @Test func theLibraryDescriptionsNameANextStep() {
        let shared = MetadataCacheError.unsafeDirectory(path: "/c", problem: .writableByOthers(permissions: 0o770)).description
        #expect(shared.contains("chmod 700 /c") && shared.contains("allowSharedDirectory"), "\(shared)")
        #expect(!MetadataCacheError.unsafeDirectory(path: "/c", problem: .notADirectory).description.contains("chmod"))
        let cancelled = MetadataCacheError.cancelled(lockPath: "/c/m.lock", waited: .seconds(2)).description
        #expect(cancelled.contains("nothing was changed. Run the operation again to retry"), "\(cancelled)")
        #expect(UnsafeDirectoryProblem.writableByOthers(permissions: 0o777).isLiftedBySharing)
        #expect(!UnsafeDirectoryProblem.isSymbolicLink.isLiftedBySharing && !UnsafeDirectoryProblem.notADirectory.isLiftedBySharing)
    }

    @Test func exitCodesAreTheIssuesSysexitsValues() {
        // 76 (EX_PROTOCOL): a cache written by a newer format version (issue 17 item 9).
        #expect(ExitCode.allCases.map(\.rawValue) == [0, 64, 65, 66, 69, 73, 74, 75, 76, 77, 78, 130])
    }
}
