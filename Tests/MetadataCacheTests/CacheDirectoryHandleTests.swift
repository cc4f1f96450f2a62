import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

#if canImport(Glibc)
import Glibc
#endif

/// Issue 19: the directory is used through the descriptor that was checked, and
/// the files in it are the store's own regular files. (The two-user swap attack
/// itself is `LocalAttackTests`; this is its deterministic core.)
@Suite struct CacheDirectoryHandleTests {
    static let payload = Data(#"{"mine":true}"#.utf8)

    /// A directory swapped for another between the check and the use (here at
    /// the exact instant: while the commit opens the lock file) does not receive
    /// the commit: the temp file, the new cache and the fsync all go to the
    /// directory that was checked, wherever it now is. Control: after the swap
    /// the path names the other directory — a write by path would have landed
    /// there.
    @Test func aDirectorySwappedAfterTheCheckGetsNothing() throws {
        let root = TemporaryDirectory("swap-core")
        let cache = root.file("cache")
        let elsewhere = root.file("elsewhere")
        let moved = root.file("moved")
        for path in [cache, elsewhere] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        try Data("decoy".utf8).write(to: URL(fileURLWithPath: elsewhere + "/marker"))
        let swap: @Sendable (SystemCallKind, String?) -> Void = { _, _ in
            // cache -> moved, elsewhere -> cache: the path now names the decoy.
            rename(cache, moved)
            rename(elsewhere, cache)
        }
        var options = CacheStoreOptions()
        options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(
            faults: [InjectedFault(.open, occurrence: 1, pathContains: "metadata.lock", action: .pause)], onPause: swap))
        let store = try CacheStore(directory: cache, options: options)
        let writer = try store.acquireWriterLock()
        try writer.commit(Self.payload)
        writer.release()

        // Control: the path was really redirected.
        #expect(FileManager.default.fileExists(atPath: cache + "/marker"), "the swap did not happen")
        // Nothing of ours in the directory now at the path; everything in the checked one.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).sorted() == ["marker"])
        let checked = try FileManager.default.contentsOfDirectory(atPath: moved).sorted()
        #expect(checked == ["metadata.json", "metadata.lock"], "\(checked)")
        #expect(try CacheStore(directory: moved).read()?.payload == Self.payload)
    }

    /// An ancestor writable by others without the sticky bit (the issue's
    /// `mkdir -m 777 /tmp/x`) is refused, with the remedy, before anything in it is
    /// created; a sticky one (like /tmp) is accepted.
    @Test func anAncestorWritableByOthersIsRefusedUnlessSticky() throws {
        let root = TemporaryDirectory("ancestor")
        let open = root.file("x")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [:])
        chmod(open, 0o777)
        let store = try CacheStore(directory: open + "/cache")
        let outcome = acquisitionError { () throws(MetadataCacheError) in try store.acquireWriterLock() }
        guard case let .unsafeDirectory(_, .ancestorWritableByOthers(ancestor, mode))? = outcome else {
            Issue.record("expected an ancestor refusal, got \(String(describing: outcome))")
            return
        }
        #expect(ancestor == open && mode == 0o777)
        #expect(outcome?.description.contains("chmod") == true, "\(String(describing: outcome))")
        #expect(!FileManager.default.fileExists(atPath: open + "/cache"), "created something inside before refusing")
        #expect(throws: MetadataCacheError.self) { _ = try store.read() }

        chmod(open, 0o1777)
        try CacheStore(directory: open + "/cache").acquireWriterLock().commit(Self.payload)
    }

    @Test(.enabled(if: geteuid() == 0, "giving a directory to another user needs root"))
    func anAncestorOwnedByAnotherUserIsRefused() throws {
        let root = TemporaryDirectory("ancestor-owner")
        let theirs = root.file("theirs")
        try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        #expect(chown(theirs, 65534, 65534) == 0)
        let mine = theirs + "/cache"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(throws: MetadataCacheError.unsafeDirectory(path: theirs, problem: .ancestorOwnedByAnotherUser(ancestor: theirs, owner: 65534))) {
            _ = try CacheStore(directory: mine).read()
        }
    }

    /// A symbolic link among the ancestors is followed (macOS's /tmp, a moved
    /// home directory); the directory itself still may not be one.
    @Test func aSymlinkedAncestorIsFollowed() throws {
        let root = TemporaryDirectory("ancestor-link")
        try FileManager.default.createDirectory(atPath: root.file("real"), withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: "real")
        let store = try CacheStore(directory: root.file("link") + "/cache")
        try store.acquireWriterLock().commit(Self.payload)
        #expect(FileManager.default.fileExists(atPath: root.file("real") + "/cache/metadata.json"))
        #expect(try store.read()?.payload == Self.payload)
    }

    /// A hard link at NAME.lock (to any file the attacker wants overwritten) is
    /// refused before the holder record is written into it. Control: the same
    /// content as a lock file of one link is accepted.
    @Test func aHardLinkAtTheLockFileIsRefusedAndItsTargetUntouched() throws {
        let t = try TestStore("hardlink")
        let victim = t.directory.file("victim")
        let original = Data(String(repeating: "precious ", count: 200).utf8)
        try original.write(to: URL(fileURLWithPath: victim))
        let cacheDir = t.store.directory
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        #expect(link(victim, cacheDir + "/metadata.lock") == 0)
        #expect(throws: MetadataCacheError.unsafeStoreFile(path: t.store.lockPath, problem: .hardLinked(linkCount: 2))) {
            _ = try t.store.acquireWriterLock()
        }
        #expect(FileManager.default.contents(atPath: victim) == original, "the lock's holder record overwrote the link's target")

        unlink(cacheDir + "/metadata.lock")
        try original.write(to: URL(fileURLWithPath: cacheDir + "/metadata.lock"))
        chmod(cacheDir + "/metadata.lock", 0o600)
        try t.store.acquireWriterLock().commit(Self.payload)
    }

    /// The lock file is created 0600 whatever `fileMode` says (a readable lock
    /// file lets anyone who can read it hold its flock forever); an existing
    /// wider one is used but reported.
    @Test func theLockFileIsPrivateAndAWiderOneIsReported() throws {
        let t = try TestStore("lock-mode") { $0.fileMode = 0o644 }
        try t.store.acquireWriterLock().commit(Self.payload)
        var s = stat()
        #expect(stat(t.store.lockPath, &s) == 0)
        #expect(s.st_mode & 0o777 == 0o600)
        #expect(stat(t.store.cachePath, &s) == 0)
        #expect(s.st_mode & 0o777 == 0o644, "the cache file still takes fileMode")
        #expect(!t.events.names().contains("lockFileModeTooWide"))

        chmod(t.store.lockPath, 0o644)
        try t.store.acquireWriterLock().commit(Self.payload)
        #expect(t.events.events.contains(.lockFileModeTooWide(lockPath: t.store.lockPath, permissions: 0o644)))
    }

    /// In a directory shared on purpose, a lock file another user created is
    /// accepted (everyone sharing must open it); otherwise it is refused.
    @Test(.enabled(if: geteuid() == 0, "giving a file to another user needs root"))
    func anotherUsersLockFileIsRefusedUnlessTheDirectoryIsShared() throws {
        let t = try TestStore("lock-owner")
        try t.store.acquireWriterLock().commit(Self.payload)
        #expect(chown(t.store.lockPath, 65534, 65534) == 0)
        #expect(throws: MetadataCacheError.unsafeStoreFile(
            path: t.store.lockPath, problem: .ownedByAnotherUser(owner: 65534, currentUser: 0))) {
            _ = try t.store.acquireWriterLock()
        }
        var options = CacheStoreOptions()
        options.allowSharedDirectory = true
        try CacheStore(directory: t.store.directory, options: options).acquireWriterLock().commit(Self.payload)
    }

    /// A holder that took NAME.lock's flock without publishing a record is named
    /// by the pid the kernel's lock table gives, not "another process".
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/locks"), "needs /proc/locks"))
    func aHolderWithoutARecordIsNamedByItsPid() throws {
        let t = try TestStore("blank-holder")
        try t.store.acquireWriterLock().commit(Self.payload)
        // Blank the slot, then hold the flock the way any process can.
        let fd = open(t.store.lockPath, O_RDWR | O_TRUNC | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(try SystemCalls.live.tryFlock(fd, path: t.store.lockPath))
        let lock = t.store.lockState()
        #expect(lock.held)
        #expect(lock.holder?.pid == getpid(), "\(String(describing: lock.holder))")
        #expect(lock.holder?.command.contains("/proc/locks") == true)
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, holder)? = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(holder?.pid == getpid())
    }

    /// The sweep does a bounded amount of work under the lock and says how much
    /// it left; the next sweep continues. Control: all planted files are orphans
    /// (a sweep without the bound removes them all at once).
    @Test func aFloodOfPlantedTempFilesIsSweptInBoundedPasses() throws {
        let t = try TestStore("flood") { $0.sweepOnOpen = false }
        try t.store.acquireWriterLock().commit(Self.payload)
        let planted = OrphanSweeper.maximumExaminedPerSweep + 40
        for i in 0..<planted {
            try t.directory.write("metadata.json.tmp-99999-\(String(format: "%016x", i))", Data())
        }
        let first = try t.store.sweep()
        #expect(first.removed.count == OrphanSweeper.maximumExaminedPerSweep)
        #expect(first.left == 40)
        #expect(t.events.events.contains(.sweepIncomplete(directory: t.store.directory, left: 40)))
        let second = try t.store.sweep()
        #expect(second.removed.count == 40 && second.left == 0)
        #expect(t.directory.listing() == ["metadata.json", "metadata.lock"])
    }

    /// `--events FILE` never writes through a symbolic link planted at FILE.
    @Test func theEventsFileIsNotFollowedThroughASymlink() throws {
        let dir = TemporaryDirectory("events-link")
        let target = dir.file("target")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: dir.file("events.jsonl"), withDestinationPath: target)
        #expect(throws: MetadataCacheError.io(operation: "open events file", path: dir.file("events.jsonl"), errno: .tooManySymlinks)) {
            _ = try JSONLinesEventSink(path: dir.file("events.jsonl"))
        }
        #expect(FileManager.default.contents(atPath: target) == Data("keep".utf8))
        let sink = try JSONLinesEventSink(path: dir.file("fresh.jsonl"))
        _ = sink
        var s = stat()
        #expect(stat(dir.file("fresh.jsonl"), &s) == 0 && s.st_mode & 0o777 == 0o600)
    }
}
