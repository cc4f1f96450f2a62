import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// The lock-file backend: stale detection and never deleting another holder's file.
@Suite(.serialized, .dedicatedThread) struct OwnerFileLockTests {
    /// Writes an owner file as some other holder would have, optionally backdated.
    func plantOwnerFile(_ t: TestStore, _ contents: String, age: TimeInterval = 0) throws {
        let path = t.directory.file("metadata.lock.owner")
        try t.directory.write("metadata.lock.owner", Data(contents.utf8))
        if age > 0 {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
        }
    }

    func record(
        pid: Int32, host: String = ProcessIdentity.hostName, start: UInt64?, lease: Double = 30,
        leaseID: String = "00000000000000aa"
    ) -> String {
        HolderRecord(
            pid: pid, host: host, processStartTime: start, command: "elsewhere", acquiredAt: Date(),
            backend: .lockFile, leaseID: leaseID, leaseSeconds: lease
        ).encodedJSON()
    }

    /// Replaces the owner file's contents *in place*: same inode, new content and
    /// mtime — what a new holder's file that received a reused inode number looks
    /// like to anyone comparing inodes.
    func rewriteInPlace(_ t: TestStore, _ contents: String) throws {
        let path = t.directory.file("metadata.lock.owner")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(contents.utf8))
        try handle.close()
    }

    func inode(_ t: TestStore) throws -> UInt64 {
        try #require(try SystemCalls.live.lstatIfExists(t.directory.file("metadata.lock.owner"))).inode
    }

    func ownerLock(_ t: TestStore, lease: Duration = .seconds(30)) -> OwnerFileLock {
        OwnerFileLock(layout: t.store.layout, sys: .live, fileMode: 0o600, leaseDuration: lease)
    }

    /// A live holder on another host (fresh lease): never stale.
    let someoneElse = HolderRecord(
        pid: 1, host: "other-host.example", processStartTime: nil, command: "elsewhere", acquiredAt: Date(),
        backend: .lockFile, leaseID: "00000000000000bb", leaseSeconds: 3600
    ).encodedJSON()

    /// A pid that certainly belonged to a process that has exited.
    func deadPID() throws -> Int32 {
        let child = try ChildProcess("/bin/true", [])
        try child.wait()
        return child.pid
    }

    func brokenReasons(_ t: TestStore) -> [String] {
        t.events.events.compactMap {
            if case let .staleLockBroken(_, _, reason) = $0 { return reason }
            return nil
        }
    }

    @Test func anOwnerFileOfADeadProcessIsBroken() throws {
        let t = try TestStore("dead", backend: .lockFile)
        try plantOwnerFile(t, record(pid: try deadPID(), start: nil))
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(writer.backend == .lockFile)
        #expect(brokenReasons(t).first?.contains("no longer running") == true)
        writer.release()
    }

    @Test func anOwnerFileWhosePidWasReusedIsBroken() throws {
        let t = try TestStore("reused", backend: .lockFile)
        // A live pid, but the record's start time says it was another process.
        let live = try Agent.start(["hold", "--dir", TemporaryDirectory("other").path])
        _ = try live.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let actualStart = try #require(ProcessIdentity.startTime(of: live.pid))
        try plantOwnerFile(t, record(pid: live.pid, start: actualStart &+ 12345))
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(brokenReasons(t).count == 1)
        writer.release()
        live.closeStdin()
        try live.wait()
    }

    @Test func aLiveSameHostHolderIsRespected() throws {
        let t = try TestStore("live", backend: .lockFile)
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", "lockfile"])
        let line = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(line.contains("backend=lockfile"))
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .after(.milliseconds(300))) }
        guard case let .lockTimeout(_, _, _, recordedHolder) = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(recordedHolder?.pid == holder.pid)
        #expect(brokenReasons(t).isEmpty)
        holder.closeStdin()
        try holder.wait()
        // Released by its holder: the owner file is gone and the lock is free.
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
        #expect(try t.store.acquireWriterLock(timeout: .immediate).backend == .lockFile)
    }

    @Test func anExpiredLeaseFromAnotherHostIsBroken() throws {
        let t = try TestStore("expired", backend: .lockFile)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 5), age: 60)
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(brokenReasons(t).first?.contains("lease") == true)
        writer.release()
    }

    @Test func aFreshLeaseFromAnotherHostIsRespected() throws {
        let t = try TestStore("fresh-lease", backend: .lockFile)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 3600))
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, holder) = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(holder?.host == "other-host.example")
        #expect(t.directory.listing().contains("metadata.lock.owner"))
    }

    @Test func aMalformedOwnerFileIsIgnoredWhileFreshAndBrokenOnceSilent() throws {
        let t = try TestStore("malformed", backend: .lockFile) { $0.leaseDuration = .seconds(5) }
        try plantOwnerFile(t, "{not json")
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, holder) = outcome else {
            Issue.record("a fresh malformed owner file should count as held; got \(String(describing: outcome))")
            return
        }
        #expect(holder == nil)
        try plantOwnerFile(t, "{not json", age: 60)
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(brokenReasons(t).first?.contains("malformed") == true)
        writer.release()
    }

    @Test func releaseNeverRemovesAnotherHoldersOwnerFile() throws {
        let t = try TestStore("theirs", backend: .lockFile)
        let writer = try t.store.acquireWriterLock()
        // Our lease is judged expired elsewhere: another process moves our file away
        // and creates its own.
        try FileManager.default.moveItem(atPath: t.directory.file("metadata.lock.owner"), toPath: t.directory.file("ours-moved"))
        let theirs = record(pid: 1, host: "other-host.example", start: nil, lease: 3600)
        try plantOwnerFile(t, theirs)
        // Committing now must fail: the lock is no longer ours.
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(samplePayload) }
        guard case .failure(.lockLost) = outcome else {
            Issue.record("expected lockLost, got \(outcome)")
            return
        }
        #expect(t.cacheBytes == nil)
        writer.release()
        #expect(t.directory.contents("metadata.lock.owner") == Data(theirs.utf8))
    }

    /// Inode numbers are reused, so "the same inode" does not mean "our file": a
    /// file carrying another lease id is someone else's, whatever its inode.
    @Test func aFileWithOurInodeButAnotherLeaseIDIsNotOursAndSurvivesRelease() throws {
        let t = try TestStore("same-inode", backend: .lockFile)
        let writer = try t.store.acquireWriterLock()
        let ours = try inode(t)
        try rewriteInPlace(t, someoneElse)
        #expect(try inode(t) == ours)
        #expect(throws: MetadataCacheError.self) { try writer.lock.verifyStillHeld() }
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(samplePayload) }
        guard case .failure(.lockLost) = outcome else {
            Issue.record("expected lockLost, got \(outcome)")
            return
        }
        writer.release()
        #expect(t.directory.contents("metadata.lock.owner") == Data(someoneElse.utf8))
        #expect(t.cacheBytes == nil)
    }

    @Test func breakingAStaleFileSparesANewHoldersFileWithTheSameInode() throws {
        let t = try TestStore("same-inode-break", backend: .lockFile)
        try plantOwnerFile(t, record(pid: try deadPID(), start: nil))
        let owner = ownerLock(t)
        let observed = try #require(try owner.readOwner())
        #expect(owner.staleness(of: observed) != nil)
        // Between judging it stale and breaking it, the file was replaced by a
        // live holder's whose file got the same inode number.
        try rewriteInPlace(t, someoneElse)
        #expect(try inode(t) == observed.status.inode)
        #expect(try owner.breakStale(observed) == false)
        #expect(t.directory.contents("metadata.lock.owner") == Data(someoneElse.utf8))
        #expect(t.directory.listing() == ["metadata.lock.owner"], "nothing left aside")
    }

    @Test func breakingAStaleMalformedFileSparesANewHoldersStillEmptyFile() throws {
        let t = try TestStore("same-inode-malformed", backend: .lockFile)
        try plantOwnerFile(t, "{not json", age: 60)
        let owner = ownerLock(t, lease: .seconds(5))
        let observed = try #require(try owner.readOwner())
        #expect(observed.record == nil)
        #expect(owner.staleness(of: observed) != nil)
        // A new holder has just created its file (same inode number) and not yet
        // written its record: unparseable too, but with a fresh mtime.
        try rewriteInPlace(t, "")
        #expect(try inode(t) == observed.status.inode)
        #expect(try owner.breakStale(observed) == false)
        #expect(t.directory.contents("metadata.lock.owner") == Data())
        // The file that was judged stale is still broken when it is what is there.
        try plantOwnerFile(t, "{not json", age: 60)
        let again = try #require(try owner.readOwner())
        #expect(try owner.breakStale(again))
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
    }

    @Test func aStaleFileRenewedBeforeTheBreakIsPutBack() throws {
        let t = try TestStore("renewed-before-break", backend: .lockFile)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 5), age: 60)
        let owner = ownerLock(t)
        let observed = try #require(try owner.readOwner())
        #expect(owner.staleness(of: observed) != nil)
        // Its holder was only slow: it renews (touches) the file before the break.
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: t.directory.file("metadata.lock.owner"))
        #expect(try owner.breakStale(observed) == false)
        #expect(t.directory.listing().contains("metadata.lock.owner"))
    }

    /// Creating the owner file succeeded but writing the record failed: the
    /// clean-up removes the file it created — and only that file, even if a
    /// breaker replaced it meanwhile.
    @Test func aFailedCreationRemovesItsOwnFileOnly() throws {
        let failing = try TestStore(
            "failed-create", backend: .lockFile, faults: [InjectedFault(.fsync, occurrence: 1, action: .fail(.ioError))])
        #expect(throws: MetadataCacheError.io(operation: "fsync", path: failing.store.layout.ownerPath, errno: .ioError)) {
            _ = try failing.store.acquireWriterLock(timeout: .immediate)
        }
        #expect(!failing.directory.listing().contains("metadata.lock.owner"))

        let directory = TemporaryDirectory("failed-create-replaced")
        let theirs = someoneElse
        let replace: @Sendable (SystemCallKind, String?) -> Void = { _, _ in
            // While the record is being written, another process (judging the
            // empty file stale) moved ours away and created its own.
            let path = directory.file("metadata.lock.owner")
            try? FileManager.default.moveItem(atPath: path, toPath: directory.file("moved-away"))
            try? Data(theirs.utf8).write(to: URL(fileURLWithPath: path))
        }
        var options = CacheStoreOptions()
        options.lockBackend = .lockFile
        options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(
            faults: [
                InjectedFault(.pwrite, occurrence: 1, action: .pause),
                InjectedFault(.fsync, occurrence: 1, action: .fail(.ioError)),
            ], onPause: replace))
        let store = try CacheStore(directory: directory.path, options: options)
        #expect(throws: MetadataCacheError.self) { _ = try store.acquireWriterLock(timeout: .immediate) }
        #expect(directory.contents("metadata.lock.owner") == Data(theirs.utf8), "the clean-up removed another holder's file")
    }

    @Test func theHolderRenewsItsLease() throws {
        // The renewal thread's touches are announced by the fault layer's pause
        // hook (which blocks nothing here): the test waits for them as events.
        let touches = DispatchSemaphore(value: 0)
        let announcing = FaultInjectingSystemCalls(faults: [InjectedFault(.touch, occurrence: nil, action: .pause)]) { _, _ in
            touches.signal()
        }
        let t = try TestStore("renew", backend: .lockFile) {
            $0.leaseDuration = .milliseconds(300)
            $0.systemCalls = SystemCalls(provider: announcing)
        }
        let writer = try t.store.acquireWriterLock()
        let path = t.directory.file("metadata.lock.owner")
        func mtime() throws -> Date { try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date }
        let first = try mtime()
        // The hook runs just before each touch: once the second is announced, the
        // first has been performed. (Bounds are generous: renewal is every 100 ms.)
        #expect(touches.wait(timeout: .now() + 10) == .success)
        #expect(touches.wait(timeout: .now() + 10) == .success)
        #expect(try mtime() > first)
        writer.release()
    }

    @Test func ownerFileLocksSerialiseProcesses() throws {
        let t = try TestStore("serial", backend: .lockFile)
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", "lockfile"])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--backend", "lockfile", "--timeout", "30"])
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        holder.closeStdin()
        _ = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(try waiter.wait() == .exited(0))
        #expect(try holder.wait() == .exited(0))
    }
}
