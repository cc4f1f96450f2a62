import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

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

    /// A holder record; by default one of this boot and pid namespace (its pid can
    /// be checked here), otherwise of `bootID`/`pidNamespace` (nil: a version-1
    /// record without them).
    func record(
        pid: Int32, host: String = ProcessIdentity.hostName, start: UInt64?, lease: Double = 30,
        leaseID: String = "00000000000000aa", bootID: String? = ProcessIdentity.bootID,
        pidNamespace: UInt64? = ProcessIdentity.pidNamespace
    ) -> String {
        HolderRecord(
            pid: pid, host: host, processStartTime: start, command: "elsewhere", acquiredAt: Date(),
            backend: .lockFile, leaseID: leaseID, leaseSeconds: lease, bootID: bootID,
            machineID: ProcessIdentity.machineID, pidNamespace: pidNamespace
        ).encodedJSON()
    }

    /// A boot id that is not this boot's.
    static let anotherBoot = "00000000-0000-4000-8000-000000000001"

    /// `flock` unavailable, as on the filesystems this backend exists for: only
    /// there do the lease rules decide (holding the `flock` on a local filesystem,
    /// any owner file found is a leftover, see below).
    static let noFlock = [InjectedFault(.flock, occurrence: nil, action: .fail(.noLocks))]

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
        // The store's directory exists (TestStore made it): opening it cannot fail.
        OwnerFileLock(layout: t.store.layout, directory: try! t.store.openDirectoryForWriting(), fileMode: 0o600, leaseDuration: lease)
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

    /// A lease expires by the waiter's own clock: the owner file must stay
    /// unchanged for a whole lease while this process watches. Its mtime says
    /// nothing (an hour-old mtime from another host's clock, or the NFS server's,
    /// proves no silence), so a one-shot attempt never presumes it dead.
    @Test func aLeaseExpiresOnlyAfterTheWaiterHasWatchedItUnchangedForALease() throws {
        let t = try TestStore("expired", backend: .lockFile, faults: Self.noFlock)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 0.3, bootID: Self.anotherBoot), age: 3600)
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case .lockTimeout = outcome else {
            Issue.record("an old mtime alone broke the lease: \(String(describing: outcome))")
            return
        }
        let started = ContinuousClock.now
        let writer = try t.store.acquireWriterLock(timeout: .after(.seconds(30)))
        #expect(ContinuousClock.now - started >= .milliseconds(300), "broken before a lease of watching")
        #expect(brokenReasons(t).first?.contains("lease") == true, "\(brokenReasons(t))")
        writer.release()
    }

    @Test func aFreshLeaseFromAnotherHostIsRespected() throws {
        let t = try TestStore("fresh-lease", backend: .lockFile, faults: Self.noFlock)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 3600, bootID: Self.anotherBoot))
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, holder) = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(holder?.host == "other-host.example")
        #expect(t.directory.listing().contains("metadata.lock.owner"))
    }

    @Test func aMalformedOwnerFileIsRespectedUntilItStaysUnchangedForALease() throws {
        let t = try TestStore("malformed", backend: .lockFile, faults: Self.noFlock) { $0.leaseDuration = .milliseconds(300) }
        try plantOwnerFile(t, "{not json", age: 60)
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, holder) = outcome else {
            Issue.record("a malformed owner file should count as held at first sight; got \(String(describing: outcome))")
            return
        }
        #expect(holder == nil)
        let writer = try t.store.acquireWriterLock(timeout: .after(.seconds(30)))
        #expect(brokenReasons(t).first?.contains("malformed") == true)
        writer.release()
    }

    /// Issue 17 item 8: a start time counted from boot, with its pid, can match a
    /// live process after a reboot (or in another container). A record of another
    /// boot is judged by its lease, never by its pid. Control: version 1's
    /// host-name identity respects it forever.
    @Test(arguments: [false, true])
    func aRecordOfAnotherBootIsJudgedByItsLeaseNotByAPidThatMatchesHere(versionOneIdentity: Bool) throws {
        let t = try TestStore("other-boot", backend: .lockFile, faults: Self.noFlock) {
            $0.leaseDuration = .milliseconds(300)
            if versionOneIdentity { $0.lockFileSabotage = .hostNameIdentity }
        }
        // A live process whose pid and start time the record carries, as a holder
        // of the previous boot whose numbers happen to match would.
        let live = try Agent.start(["hold", "--dir", TemporaryDirectory("other-boot-live").path])
        defer {
            live.closeStdin()
            _ = try? live.wait()
        }
        _ = try live.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let start = try #require(ProcessIdentity.startTime(of: live.pid))
        try plantOwnerFile(t, record(pid: live.pid, start: start, lease: 0.3, bootID: Self.anotherBoot))
        let outcome = acquisitionError { () throws(MetadataCacheError) in
            try t.store.acquireWriterLock(timeout: .after(.seconds(versionOneIdentity ? 2 : 30)))
        }
        if versionOneIdentity {
            guard case .lockTimeout = outcome else {
                Issue.record("the control should respect the matching pid forever: \(String(describing: outcome))")
                return
            }
        } else {
            #expect(outcome == nil, "\(String(describing: outcome))")
            #expect(brokenReasons(t).first?.contains("lease") == true, "\(brokenReasons(t))")
        }
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

    @Test func removingAProvablyStaleFileSparesANewHoldersFileWithTheSameInode() throws {
        let t = try TestStore("same-inode-break", backend: .lockFile)
        try plantOwnerFile(t, record(pid: try deadPID(), start: nil))
        let owner = ownerLock(t)
        let observed = try #require(try owner.readOwner())
        #expect(owner.provableStaleness(of: observed) != nil)
        // Between judging it stale and removing it, the file was replaced by a
        // live holder's whose file got the same inode number.
        try rewriteInPlace(t, someoneElse)
        #expect(try inode(t) == observed.status.inode)
        #expect(try owner.removeIfProvablyStale(observed) == nil)
        #expect(t.directory.contents("metadata.lock.owner") == Data(someoneElse.utf8))
        #expect(t.directory.listing() == ["metadata.lock.owner"], "nothing left aside, no claim left")
    }

    /// A breaker decides on what it observed, then replaces the file holding its
    /// claim — after checking that the file is still exactly what it judged. A file
    /// rewritten in place meanwhile (same inode: a new holder's file that got the
    /// freed number, still empty, or a slow holder renewing) is never taken.
    /// `watch` is aged by hand: as if this waiter had watched it for a minute.
    @Test(arguments: ["new-empty-file", "renewed", "new-live-holder"])
    func aFileThatChangesWhileABreakerPreparesIsNeverTaken(change: String) throws {
        let t = try TestStore("changed-before-break", backend: .lockFile)
        let directory = t.directory
        let stale = change == "new-empty-file" ? "{not json" : record(pid: 1, host: "other-host.example", start: nil, lease: 5, bootID: Self.anotherBoot)
        try plantOwnerFile(t, stale, age: 60)
        let liveRecord = record(pid: getpid(), start: ProcessIdentity.currentStartTime, leaseID: "00000000000000dd")
        let changeIt: @Sendable (SystemCallKind, String?) -> Void = { _, _ in
            let path = directory.file("metadata.lock.owner")
            switch change {
            case "new-empty-file": try? FileHandle(forWritingAtPath: path)?.truncate(atOffset: 0)
            case "renewed": try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: path)
            default:
                let handle = FileHandle(forWritingAtPath: path)
                try? handle?.truncate(atOffset: 0)
                try? handle?.write(contentsOf: Data(liveRecord.utf8))
                try? handle?.close()
            }
        }
        // The pause hook runs as the breaker creates its replacement owner file.
        let sys = SystemCalls(provider: FaultInjectingSystemCalls(
            faults: [InjectedFault(.open, occurrence: 1, pathContains: ".lock.owner.next-", action: .pause)],
            onPause: changeIt))
        let owner = OwnerFileLock(
            layout: t.store.layout, directory: try t.store.openDirectoryForWriting().using(sys), fileMode: 0o600,
            leaseDuration: .seconds(5))
        let before = try #require(try owner.readOwner())
        var watch = LeaseWatch()
        _ = watch.unchangedFor(t.store.layout.ownerPath, before.fingerprint, now: .now - .seconds(60))
        let mine = HolderRecord.forCurrentProcess(backend: .lockFile, leaseSeconds: 5)
        var broke: [String] = []
        let attempt = try owner.attempt(record: mine, watch: &watch) { _, reason in broke.append(reason) }
        guard case .held = attempt else {
            Issue.record("\(change): the breaker took a file that changed after it was judged (\(broke))")
            return
        }
        #expect(broke.isEmpty)
        let after = try #require(try owner.readOwner())
        #expect(after.record?.leaseID != mine.leaseID)
        #expect(t.directory.listing() == ["metadata.lock.owner"], "no replacement, claim or aside file left: \(t.directory.listing())")
    }

    /// The same judgement with nothing changing: the aged watch presumes the holder
    /// dead, and the breaker's replacement takes its place in one rename.
    @Test func aFileUnchangedForALeaseIsReplacedInOneStep() throws {
        let t = try TestStore("replaced", backend: .lockFile)
        try plantOwnerFile(t, record(pid: 1, host: "other-host.example", start: nil, lease: 5, bootID: Self.anotherBoot))
        let recorder = FaultInjectingSystemCalls(faults: [])
        let owner = OwnerFileLock(
            layout: t.store.layout, directory: try t.store.openDirectoryForWriting().using(SystemCalls(provider: recorder)),
            fileMode: 0o600, leaseDuration: .seconds(5))
        let before = try #require(try owner.readOwner())
        var watch = LeaseWatch()
        _ = watch.unchangedFor(t.store.layout.ownerPath, before.fingerprint, now: .now - .seconds(60))
        let mine = HolderRecord.forCurrentProcess(backend: .lockFile, leaseSeconds: 5)
        guard case let .acquired(ownership) = try owner.attempt(record: mine, watch: &watch, onBreak: { _, _ in }) else {
            Issue.record("not acquired")
            return
        }
        defer { close(ownership.fd) }
        #expect(try owner.readOwner()?.record?.leaseID == mine.leaseID)
        // The owner path was never removed: no unlink of it, no rename away from it.
        #expect(!recorder.callLog.contains { $0.hasPrefix("unlink") && $0.hasSuffix("metadata.lock.owner") })
        #expect(!recorder.callLog.contains { $0.hasPrefix("rename") && $0.hasSuffix("metadata.lock.owner") })
        #expect(t.directory.listing() == ["metadata.lock.owner"], "\(t.directory.listing())")
    }

    /// Creating the owner file succeeded but writing the record failed: the
    /// clean-up removes the file it created — and only that file, even if a
    /// breaker replaced it meanwhile.
    @Test func aFailedCreationRemovesItsOwnFileOnly() throws {
        // (The record's fsync is skipped on a local filesystem, so the failure is
        // injected into the fstat that follows it: the first after the record's
        // pwrite, its number learned from a dry run.)
        let afterRecord = try TestStore.occurrence(of: "fstat", after: { $0.hasPrefix("pwrite") }, backend: .lockFile) {
            _ = try $0.store.acquireWriterLock(timeout: .immediate)
        }
        let failing = try TestStore(
            "failed-create", backend: .lockFile, faults: [InjectedFault(.fstat, occurrence: afterRecord, action: .fail(.ioError))])
        #expect(throws: MetadataCacheError.io(operation: "fstat", path: failing.store.layout.ownerPath, errno: .ioError)) {
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
                InjectedFault(.fstat, occurrence: afterRecord, action: .fail(.ioError)),
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

    /// Holding the `flock` on `NAME.lock` on a local filesystem, where every live
    /// lock-file holder holds it too, an owner file found is a leftover whoever
    /// wrote it: a holder killed between creating its file and writing its
    /// record, or one of another container whose pid cannot be checked. It is
    /// replaced at once, not after a lease.
    @Test(arguments: ["", "foreign"])
    func holdingTheFlockOnALocalFilesystemAnyOwnerFileIsALeftover(kind: String) throws {
        let t = try TestStore("leftover-\(kind.isEmpty ? "empty" : kind)", backend: .lockFile)
        let contents = kind.isEmpty ? "" : record(pid: 1, host: "ns-a", start: nil, lease: 3600, bootID: Self.anotherBoot)
        try plantOwnerFile(t, contents)
        // `status` agrees for a record-less leftover (a record from another pid
        // namespace still says "held": the kernel's lock table does not list
        // holders there, see CacheStore.lockState).
        #expect(try t.store.status().lock.held == !kind.isEmpty)
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(brokenReasons(t).first?.contains("does not hold NAME.lock's flock") == true, "\(brokenReasons(t))")
        writer.release()
        #expect(t.directory.listing() == ["metadata.lock"], "\(t.directory.listing())")
    }

    /// An I/O error reading the owner file in the check before a commit says
    /// nothing about who holds the lock: the commit fails with that errno, not
    /// with "lock lost … by another process".
    @Test func anIOErrorInTheLeaseCheckIsReportedAsSuch() throws {
        // (No sweep on open: its look at the owner file would be the second open.)
        let t = try TestStore("check-eio", backend: .lockFile, faults: [
            InjectedFault(.open, occurrence: 2, pathContains: "metadata.lock.owner", action: .fail(.ioError)),
        ]) { $0.sweepOnOpen = false }
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(samplePayload) }
        writer.release()
        guard case .failure(.io(_, let path, .ioError)) = outcome else {
            Issue.record("expected the EIO, got \(outcome)")
            return
        }
        #expect(path.hasSuffix("metadata.lock.owner"))
        #expect(t.cacheBytes == nil)
    }
}
