import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// The lock-file backend: stale detection and never deleting another holder's file.
@Suite struct OwnerFileLockTests {
    /// Writes an owner file as some other holder would have, optionally backdated.
    func plantOwnerFile(_ t: TestStore, _ contents: String, age: TimeInterval = 0) throws {
        let path = t.directory.file("metadata.lock.owner")
        try t.directory.write("metadata.lock.owner", Data(contents.utf8))
        if age > 0 {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
        }
    }

    func record(pid: Int32, host: String = ProcessIdentity.hostName, start: UInt64?, lease: Double = 30) -> String {
        HolderRecord(
            pid: pid, host: host, processStartTime: start, command: "elsewhere", acquiredAt: Date(),
            backend: .lockFile, leaseID: "00000000000000aa", leaseSeconds: lease
        ).encodedJSON()
    }

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

    @Test func theHolderRenewsItsLease() throws {
        let t = try TestStore("renew", backend: .lockFile) { $0.leaseDuration = .milliseconds(300) }
        let writer = try t.store.acquireWriterLock()
        let path = t.directory.file("metadata.lock.owner")
        func mtime() throws -> Date { try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date }
        let first = try mtime()
        // Wait (bounded) for the renewal thread's touch: an event, not a fixed sleep.
        let deadline = ContinuousClock.now + .seconds(10)
        while try mtime() == first, ContinuousClock.now < deadline {
            try FileManager.default.contentsOfDirectory(atPath: t.directory.path).forEach { _ in }
        }
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
