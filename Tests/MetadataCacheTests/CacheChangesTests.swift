import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// `CacheStore.changes()`: what a long-running host is given, in-process, on real
/// directories — with kernel notifications and with polling (every test that is
/// not about notifications runs in both modes). Cross-process behaviour (500
/// generations from three refresher processes, the CLI, real inotify limits, the
/// 10,000-watch leak check) is in `IntegrationTests/WatchTests.swift`.
@Suite struct CacheChangesTests {
    static let modes: [CacheChangeDetection] = [.automatic(), .polling(interval: .milliseconds(20))]

    /// Commits `payload` to the store at `directory` from a store of its own (as
    /// another process would), creating the directory if needed.
    @discardableResult
    func commit(_ directory: String, _ payload: String) throws -> CommitReceipt {
        try CacheStore(directory: directory).acquireWriterLock().commit(Data(payload.utf8))
    }

    /// What an HTTP 304 commits: the same payload and generation, renewed.
    func revalidate(_ directory: String) throws -> CommitReceipt {
        try CacheStore(directory: directory).acquireWriterLock().commitRevalidation()
    }

    func payload(_ n: Int) -> String { #"{"catalogue":\#(n)}"# }

    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Replaces the cache file by rename with `bytes` (a foreign writer), so the
    /// watch sees one complete file appear at once.
    func plant(_ bytes: Data, in directory: String) throws {
        let temp = directory + "/planted.tmp"
        try bytes.write(to: URL(fileURLWithPath: temp))
        #expect(rename(temp, directory + "/metadata.json") == 0)
    }

    /// A cache directory `root/cache` holding generation 1, and a watch that has
    /// been given it (and, with notifications, is armed on the directory).
    func watchingGenerationOne(_ label: String, mode: CacheChangeDetection) async throws
        -> (root: TemporaryDirectory, cacheDirectory: String, watch: WatchRecorder)
    {
        let root = TemporaryDirectory(label)
        let cacheDirectory = root.path + "/cache"
        try commit(cacheDirectory, payload(1))
        let watch = WatchRecorder(try CacheStore(directory: cacheDirectory).changes(detection: mode))
        try await watch.waitForGeneration(1)
        if mode == .automatic() { try await InotifyWatchTable.waitUntilWatched(cacheDirectory) }
        return (root, cacheDirectory, watch)
    }

    @Test(arguments: modes)
    func yieldsTheCurrentVersionAtOnceThenEveryCommit(mode: CacheChangeDetection) async throws {
        let dir = TemporaryDirectory("watch")
        try commit(dir.path, payload(1))
        let watch = WatchRecorder(try CacheStore(directory: dir.path).changes(detection: mode))
        try await watch.waitForGeneration(1)
        for n in 2...4 {
            let receipt = try commit(dir.path, payload(n))
            try await watch.waitForGeneration(UInt64(n), commitID: receipt.commitID)
        }
        #expect(watch.generations == [1, 2, 3, 4])
        #expect(watch.elements.map { String(decoding: $0.payload, as: UTF8.self) } == (1...4).map(payload))
    }

    @Test(arguments: modes)
    func waitsForADirectoryThatDoesNotExistYetAndCreatesNothing(mode: CacheChangeDetection) async throws {
        let root = TemporaryDirectory("watch-missing")
        let cacheDirectory = root.path + "/a/b/cache"
        let watch = WatchRecorder(try CacheStore(directory: cacheDirectory).changes(detection: mode))
        if mode == .automatic() {
            // Armed on the nearest existing ancestor: the commit below must be followed
            // down three levels of directories created one after the other.
            try await InotifyWatchTable.waitUntilWatched(root.path)
        }
        #expect(!FileManager.default.fileExists(atPath: root.path + "/a"), "the watch must not create the directory")
        let receipt = try commit(cacheDirectory, payload(1))
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        let second = try commit(cacheDirectory, payload(2))
        try await watch.waitForGeneration(2, commitID: second.commitID)
        #expect(watch.generations == [1, 2])
    }

    @Test(arguments: modes)
    func corruptAndTornFilesAreNeverYielded(mode: CacheChangeDetection) async throws {
        let t = try TestStore("watch-corrupt")
        try commit(t.directory.path, payload(1))
        let good = try #require(t.cacheBytes)
        let watch = WatchRecorder(t.store.changes(detection: mode))
        try await watch.waitForGeneration(1)

        // A foreign file renamed into place: not a cache file at all.
        try plant(Data("garbage, not a cache".utf8), in: t.directory.path)
        try await bounded("readCorrupt") { await t.events.waitFor("readCorrupt", count: 1) }
        // A torn file: the good file's first half, written in place.
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: t.directory.file("metadata.json")))
        try await bounded("readCorrupt") { await t.events.waitFor("readCorrupt", count: 2) }
        // A payload bit flip: header and lengths fine, only the checksum can tell.
        var flipped = good
        flipped[flipped.count - 3] ^= 0x01
        try plant(flipped, in: t.directory.path)
        try await bounded("readCorrupt") { await t.events.waitFor("readCorrupt", count: 3) }

        // The next commit is yielded.
        let receipt = try commit(t.directory.path, payload(2))
        try await watch.waitForCommit(receipt.commitID)
        #expect(watch.elements.map { String(decoding: $0.payload, as: UTF8.self) } == [payload(1), payload(2)])
        #expect(watch.ended == nil)
    }

    @Test(arguments: modes)
    func aCorruptFileMovedAsideThenRebuiltIsFollowed(mode: CacheChangeDetection) async throws {
        let t = try TestStore("watch-repair")
        try commit(t.directory.path, payload(1))
        let watch = WatchRecorder(t.store.changes(detection: mode))
        try await watch.waitForGeneration(1)
        try plant(Data("garbage".utf8), in: t.directory.path)
        try await bounded("readCorrupt") { await t.events.waitFor("readCorrupt") }
        // What `verify --repair` does: move the file aside under the lock.
        let directory = t.directory.path
        let aside = try #require(try await BlockingWork.run { try CacheStore(directory: directory).moveCorruptCacheAside() })
        #expect(aside.contains(".corrupt-"))
        let receipt = try commit(t.directory.path, payload(2))
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        #expect(watch.elements.count == 2)
    }

    @Test(arguments: modes)
    func followsTheDirectoryDeletedAndRecreated(mode: CacheChangeDetection) async throws {
        let (root, cacheDirectory, watch) = try await watchingGenerationOne("watch-deleted", mode: mode)
        defer { withExtendedLifetime(root) {} }
        try FileManager.default.removeItem(atPath: cacheDirectory)
        let receipt = try commit(cacheDirectory, payload(2))
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        let next = try commit(cacheDirectory, payload(3))
        try await watch.waitForGeneration(2, commitID: next.commitID)
        #expect(watch.generations == [1, 1, 2])
    }

    @Test(arguments: modes)
    func followsThePathWhenTheDirectoryIsMovedAwayAndReplaced(mode: CacheChangeDetection) async throws {
        let (root, cacheDirectory, watch) = try await watchingGenerationOne("watch-replaced", mode: mode)
        #expect(rename(cacheDirectory, root.path + "/cache.old") == 0)
        // A commit into the moved directory is not the cache at the path any more.
        let elsewhere = try commit(root.path + "/cache.old", payload(99))
        try makeDirectory(cacheDirectory)
        let receipt = try commit(cacheDirectory, payload(2))
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        let next = try commit(cacheDirectory, payload(3))
        try await watch.waitForGeneration(2, commitID: next.commitID)
        #expect(!watch.elements.contains { $0.commitID == elsewhere.commitID })
        #expect(watch.generations == [1, 1, 2])
    }

    @Test func followsTheCacheDirectoryWhenAParentIsRenamed() async throws {
        let root = TemporaryDirectory("watch-parent")
        let cacheDirectory = root.path + "/parent/cache"
        try commit(cacheDirectory, payload(1))
        let watch = WatchRecorder(try CacheStore(directory: cacheDirectory).changes())
        try await watch.waitForGeneration(1)
        // Armed on the cache directory itself: renaming its parent raises no event on
        // it; only the watch on the parent tells.
        try await InotifyWatchTable.waitUntilWatched(cacheDirectory)
        #expect(rename(root.path + "/parent", root.path + "/parent.old") == 0)
        let receipt = try commit(cacheDirectory, payload(2))
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
    }

    @Test(arguments: modes)
    func aSymbolicLinkInPlaceOfTheDirectoryEndsTheWatchWithAClearError(mode: CacheChangeDetection) async throws {
        let (root, cacheDirectory, watch) = try await watchingGenerationOne("watch-symlink", mode: mode)
        #expect(rename(cacheDirectory, root.path + "/real") == 0)
        #expect(symlink(root.path + "/real", cacheDirectory) == 0)
        let ending = try await watch.waitForEnd()
        #expect(ending == .threw(.unsafeDirectory(path: cacheDirectory, problem: .isSymbolicLink)))
    }

    @Test func aBurstOfCommitsIsCoalescedToTheLatest() async throws {
        let dir = TemporaryDirectory("watch-burst")
        try commit(dir.path, payload(1))
        let gate = AsyncGate()
        // The host is busy with its first element while 30 commits land.
        let watch = WatchRecorder(try CacheStore(directory: dir.path).changes(), pause: { await gate.pass() })
        var last: CommitReceipt?
        for n in 2...31 { last = try commit(dir.path, payload(n)) }
        await gate.open()
        try await watch.waitForGeneration(31, commitID: last?.commitID)
        let generations = watch.generations
        #expect(zip(generations, generations.dropFirst()).allSatisfy { $0 < $1 }, "\(generations)")
        #expect(generations.last == 31)
        #expect(generations.count < 31, "nothing was coalesced: \(generations)")
        #expect(watch.elements.last.map { String(decoding: $0.payload, as: UTF8.self) } == payload(31))
    }

    @Test(arguments: modes)
    func aRevalidationIsYieldedWithTheSameGenerationAndPayload(mode: CacheChangeDetection) async throws {
        let dir = TemporaryDirectory("watch-304")
        try commit(dir.path, payload(1))
        let watch = WatchRecorder(try CacheStore(directory: dir.path).changes(detection: mode))
        try await watch.waitForGeneration(1)
        let receipt = try revalidate(dir.path)
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        let elements = watch.elements
        #expect(elements.count == 2)
        #expect(elements[0].payload == elements[1].payload)
        #expect(elements[0].commitID != elements[1].commitID)
    }

    // MARK: Ending the watch

    @Test(arguments: modes)
    func cancellingTheTaskEndsTheWatchAndClosesItsWatch(mode: CacheChangeDetection) async throws {
        let dir = TemporaryDirectory("watch-cancel")
        try commit(dir.path, payload(1))
        let inode = try #require(InotifyWatchTable.inode(of: dir.path))
        let watch = WatchRecorder(try CacheStore(directory: dir.path).changes(detection: mode))
        try await watch.waitForGeneration(1)
        watch.cancel()
        #expect(try await watch.waitForEnd() == .returnedNil)
        // next() returned nil only after the thread closed its inotify descriptor.
        #expect(!InotifyWatchTable.watchedInodes().contains(inode))
    }

    @Test func cancellingTheTokenEndsTheWatch() async throws {
        let dir = TemporaryDirectory("watch-token")
        try commit(dir.path, payload(1))
        let token = CancellationToken()
        let watch = WatchRecorder(try CacheStore(directory: dir.path).changes(cancellation: token))
        try await watch.waitForGeneration(1)
        token.cancel()
        #expect(try await watch.waitForEnd() == .returnedNil)
    }

    @Test func aCancelledTaskOrTokenGetsNilAtOnce() async throws {
        let dir = TemporaryDirectory("watch-precancelled")
        try commit(dir.path, payload(1))
        let store = try CacheStore(directory: dir.path)
        let token = CancellationToken()
        token.cancel()
        var iterator = store.changes(cancellation: token).makeAsyncIterator()
        #expect(try await iterator.next() == nil)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var iterator = store.changes().makeAsyncIterator()
            return try await iterator.next()
        }
        #expect(try await task.value == nil)
    }

    @Test func releasingTheIteratorStopsTheWatch() async throws {
        let dir = TemporaryDirectory("watch-release")
        try commit(dir.path, payload(1))
        let inode = try #require(InotifyWatchTable.inode(of: dir.path))
        do {
            var iterator = try CacheStore(directory: dir.path).changes().makeAsyncIterator()
            #expect(try await iterator.next()?.generation == 1)
            #expect(InotifyWatchTable.watchedInodes().contains(inode))
        }
        // The iterator is gone (a `break` out of a for-await loop does the same): its
        // thread wakes, closes its inotify instance and exits.
        try await InotifyWatchTable.waitUntilUnwatched(inode: inode)
    }

    // MARK: Falling back to polling

    @Test(arguments: [
        (SystemCallKind.inotifyInit, EMFILE, "EMFILE"),
        (.inotifyInit, ENFILE, "ENFILE"),
        (.inotifyAddWatch, ENOSPC, "ENOSPC"),
        (.inotifyAddWatch, ENOMEM, "ENOMEM"),
    ])
    func kernelLimitsFallBackToPollingAndSaySo(call: SystemCallKind, errno: Int32, errnoName: String) async throws {
        let t = try TestStore("watch-limit", faults: [InjectedFault(call, occurrence: nil, action: .fail(Errno(rawValue: errno)))])
        try commit(t.directory.path, payload(1))
        let watch = WatchRecorder(t.store.changes(detection: .automatic(fallbackInterval: .milliseconds(20))))
        try await bounded("watchFallbackToPolling") { await t.events.waitFor("watchFallbackToPolling") }
        try await watch.waitForGeneration(1)
        let receipt = try commit(t.directory.path, payload(2))
        try await watch.waitForGeneration(2, commitID: receipt.commitID)
        let fallbacks = t.events.events.compactMap { event -> (String, Duration)? in
            if case let .watchFallbackToPolling(path, reason, interval) = event, path == t.store.cachePath { return (reason, interval) }
            return nil
        }
        #expect(fallbacks.count == 1)
        #expect(fallbacks.first?.0.contains(errnoName) == true, "\(fallbacks)")
        #expect(fallbacks.first?.1 == .milliseconds(20))
    }

    @Test func aLimitReachedWhenReArmingFallsBackMidWatch() async throws {
        let root = TemporaryDirectory("watch-rearm-limit")
        let cacheDirectory = root.path + "/cache"
        try commit(cacheDirectory, payload(1))
        // The first watch on the cache directory succeeds; the one after it was
        // recreated hits the watch limit.
        let t = try TestStore("unused", faults: [InjectedFault(.inotifyAddWatch, occurrence: 2, pathContains: cacheDirectory, action: .fail(Errno(rawValue: ENOSPC)))])
        let events = EventRecorder()
        var options = t.store.options
        options.observer = events
        let store = try CacheStore(directory: cacheDirectory, options: options)
        let watch = WatchRecorder(store.changes(detection: .automatic(fallbackInterval: .milliseconds(20))))
        try await watch.waitForGeneration(1)
        try await InotifyWatchTable.waitUntilWatched(cacheDirectory)
        try FileManager.default.removeItem(atPath: cacheDirectory)
        let receipt = try commit(cacheDirectory, payload(2))
        try await bounded("watchFallbackToPolling") { await events.waitFor("watchFallbackToPolling") }
        try await watch.waitForGeneration(1, commitID: receipt.commitID)
        let next = try commit(cacheDirectory, payload(3))
        try await watch.waitForGeneration(2, commitID: next.commitID)
    }

    @Test func aNetworkFilesystemIsPolledNotTrustedToNotify() async throws {
        let t = try TestStore("watch-nfs") { options in
            options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(
                faults: [], reportedFileSystem: FileSystemType(name: "nfs", isNetworkFileSystem: true)))
        }
        try commit(t.directory.path, payload(1))
        let watch = WatchRecorder(t.store.changes(detection: .automatic(fallbackInterval: .milliseconds(20))))
        try await bounded("watchFallbackToPolling") { await t.events.waitFor("watchFallbackToPolling") }
        try await watch.waitForGeneration(1)
        let receipt = try commit(t.directory.path, payload(2))
        try await watch.waitForGeneration(2, commitID: receipt.commitID)
        guard case let .watchFallbackToPolling(_, reason, _)? = t.events.events.first(where: { $0.name == "watchFallbackToPolling" }) else {
            Issue.record("no fallback event")
            return
        }
        #expect(reason.contains("network filesystem (nfs)"))
    }

    @Test func pollingIntervalsHaveAFloor() {
        #expect(CacheChangeDetection.polling(interval: .zero).pollingInterval == .milliseconds(10))
        #expect(CacheChangeDetection.polling(interval: .seconds(-5)).pollingInterval == .milliseconds(10))
        #expect(CacheChangeDetection.automatic().pollingInterval == .seconds(1))
        #expect(CacheChangeDetection.automatic(fallbackInterval: .seconds(3)).pollingInterval == .seconds(3))
    }

    @Test func theFallbackEventIsAJSONLine() throws {
        let line = CacheEvent.watchFallbackToPolling(path: "/c/metadata.json", reason: "inotify_init1: EMFILE", interval: .milliseconds(1500))
            .jsonLine(at: Date(timeIntervalSince1970: 0), pid: 7)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "watchFallbackToPolling")
        #expect(object["path"] as? String == "/c/metadata.json")
        #expect(object["reason"] as? String == "inotify_init1: EMFILE")
        #expect(object["intervalMs"] as? Double == 1500)
    }
}

/// A one-way gate for async code: `pass()` suspends until `open()`.
actor AsyncGate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func pass() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        waiting.forEach { $0.resume() }
        waiting = []
    }
}
