import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// Rename errors that can only mean a lasting permission problem fail at once.
@Suite(.serialized, .dedicatedThread) struct RenamePermissionErrorTests {
    @Test func permissionErrorsAreTransientOnlyOffTheKnownLocalFilesystems() {
        #expect(!DurableCommit.permissionErrorsMayBeTransient(on: FileSystemType(name: "ext4", isNetworkFileSystem: false)))
        #expect(!DurableCommit.permissionErrorsMayBeTransient(on: FileSystemType(name: "tmpfs", isNetworkFileSystem: false)))
        #expect(DurableCommit.permissionErrorsMayBeTransient(on: FileSystemType(name: "nfs", isNetworkFileSystem: true)))
        #expect(DurableCommit.permissionErrorsMayBeTransient(on: FileSystemType(name: "9p", isNetworkFileSystem: false)))
        #expect(DurableCommit.permissionErrorsMayBeTransient(on: FileSystemType(name: "fuse", isNetworkFileSystem: false)))
        #expect(DurableCommit.permissionErrorsMayBeTransient(on: nil))
        #expect(!DurableCommit.isTransientRenameError(Errno(rawValue: EACCES), permissionErrorsMayBeTransient: false))
        #expect(DurableCommit.isTransientRenameError(Errno(rawValue: EACCES), permissionErrorsMayBeTransient: true))
        #expect(DurableCommit.isTransientRenameError(Errno(rawValue: EBUSY), permissionErrorsMayBeTransient: false))
    }

    @Test func anEPERMRenameOnALocalFilesystemIsNotRetried() throws {
        let t = try TestStore("rename-eperm", faults: [InjectedFault(.rename, occurrence: nil, pathContains: ".tmp-", action: .fail(Errno(rawValue: EPERM)))])
        let local = try #require(t.store.fileSystem)
        try #require(!DurableCommit.permissionErrorsMayBeTransient(on: local), "needs a local filesystem, have \(local)")
        try t.seed()
        let before = t.cacheBytes
        let writer = try t.store.acquireWriterLock(timeout: .after(.seconds(30)))
        let started = ContinuousClock.now
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Data("[4]".utf8)) }
        guard case .failure(.io(_, _, let errno)) = outcome, errno.rawValue == EPERM else {
            Issue.record("expected EPERM, got \(outcome)")
            return
        }
        // The first backoff alone is 50 ms; not retrying finishes far sooner than
        // the 30 s budget would allow (generous bound: 5 s).
        #expect(ContinuousClock.now - started < .seconds(5))
        let failed = t.events.events.compactMap { event -> Int? in
            if case let .commitFailed(_, _, retries) = event { return retries }
            return nil
        }
        #expect(failed == [0])
        #expect(t.cacheBytes == before)
        #expect(t.tempFiles.isEmpty)
    }
}
