import Foundation
import Testing
import TestSupport
@testable import MetadataCache

@Suite(.serialized, .dedicatedThread) struct OrphanSweeperTests {
    @Test func theFirstAcquisitionOfAStoreSweepsOrphans() throws {
        let t = try TestStore("sweep-open")
        try t.plain().acquireWriterLock().commit(samplePayload)
        try t.directory.write("metadata.json.tmp-99999-0000000000000001", Data("partial".utf8))
        let writer = try t.store.acquireWriterLock()
        #expect(t.tempFiles.isEmpty)
        #expect(t.events.names().contains("sweepRemoved"))
        writer.release()
        // Unrelated files are never touched.
        try t.directory.write("notes.txt", Data("keep".utf8))
        #expect(try t.store.sweep().removed.isEmpty)
        #expect(t.directory.contents("notes.txt") == Data("keep".utf8))
    }

    @Test func openingWithNothingToSweepCostsOneDirectoryScan() throws {
        let recorder = FaultInjectingSystemCalls(faults: [])
        let t = try TestStore("one-scan") { $0.systemCalls = SystemCalls(provider: recorder) }
        let writer = try t.store.acquireWriterLock()
        writer.release()
        let again = try t.store.acquireWriterLock()
        again.release()
        #expect(recorder.callLog.filter { $0.hasPrefix("listDirectory") }.count == 1)
    }

    @Test func aLiveWritersTempIsNeverSweptButOrphansAreOnceItFinishes() throws {
        let t = try TestStore("live-writer")
        try t.plain().acquireWriterLock().commit(samplePayload)
        // A child process commits and freezes just before fsync: its temp exists.
        // (Its own first acquisition already swept the directory.)
        let writer = try Agent.start([
            "commit", "--dir", t.directory.path, "--payload", #"{"from":"child"}"#, "--fault", "fsync=pause",
        ])
        let paused = try writer.readLine(until: { $0.hasPrefix("PAUSED") })
        let liveTemp = try #require(paused.field("temp"))
        let orphan = "metadata.json.tmp-99999-00000000000000ff"
        try t.directory.write(orphan, Data("left by a crash".utf8))
        #expect(liveTemp != orphan)
        #expect(t.directory.listing().contains(liveTemp))

        let report = try t.store.sweep()
        #expect(report.skipped)
        #expect(report.skippedBecauseHeldBy?.pid == writer.pid)
        #expect(t.directory.listing().contains(liveTemp), "the live writer's temp was removed")
        #expect(t.directory.listing().contains(orphan), "nothing may be removed while a writer is live")

        writer.closeStdin()
        _ = try writer.readLine(until: { $0.hasPrefix("COMMITTED") })
        #expect(try writer.wait() == .exited(0))
        #expect(try t.store.read()?.payload == Data(#"{"from":"child"}"#.utf8))

        let after = try t.store.sweep()
        #expect(!after.skipped)
        #expect(after.removed == [t.directory.file(orphan)])
        #expect(t.tempFiles.isEmpty)
    }

    /// A pid that certainly belonged to a process that has exited.
    func deadPID() throws -> Int32 {
        let child = try ChildProcess("/bin/true", [])
        try child.wait()
        return child.pid
    }

    func ownerRecord(pid: Int32, host: String = ProcessIdentity.hostName, start: UInt64?, lease: Double = 30) -> Data {
        Data(HolderRecord(
            pid: pid, host: host, processStartTime: start, command: "elsewhere", acquiredAt: Date(),
            backend: .lockFile, leaseID: "00000000000000cc", leaseSeconds: lease
        ).encodedJSON().utf8)
    }

    @Test func aStaleOwnerFileIsSweptOnOpenAndOnDemand() throws {
        let t = try TestStore("sweep-owner")
        try t.directory.write("metadata.lock.owner", ownerRecord(pid: try deadPID(), start: nil))
        let report = try t.store.sweep()
        #expect(report.removed == [t.directory.file("metadata.lock.owner")])
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
        #expect(t.directory.listing().allSatisfy { !$0.contains(".break-") }, "nothing left aside")
        let reason = t.events.events.compactMap { event -> String? in
            if case let .sweepRemoved(_, reason) = event { return reason }
            return nil
        }.first
        #expect(reason?.contains("no longer running") == true, "\(String(describing: reason))")

        // On open: a store's first acquisition sweeps it too (advisory backend).
        let fresh = try TestStore("sweep-owner-open")
        try fresh.directory.write("metadata.lock.owner", ownerRecord(pid: try deadPID(), start: nil))
        let writer = try fresh.store.acquireWriterLock(timeout: .immediate)
        #expect(writer.backend == .advisory)
        #expect(!fresh.directory.listing().contains("metadata.lock.owner"))
        writer.release()
    }

    /// Holding the lock proves temp files orphaned, but not owner files: only the
    /// stale rules do. A live holder's owner file (one on another host with a
    /// fresh lease, or one on this host whose process runs) is kept.
    @Test func aLiveHoldersOwnerFileIsNeverSwept() throws {
        let t = try TestStore("sweep-owner-live")
        let live = [
            ownerRecord(pid: getpid(), start: ProcessIdentity.currentStartTime),
            ownerRecord(pid: 1, host: "other-host.example", start: nil, lease: 3600),
        ]
        for record in live {
            try t.directory.write("metadata.lock.owner", record)
            let report = try t.store.sweep()
            #expect(!report.skipped)
            #expect(report.removed.isEmpty)
            #expect(t.directory.contents("metadata.lock.owner") == record)
        }
    }

    /// A real lock-file holder: the sweep cannot take the lock (the holder also
    /// holds NAME.lock's flock), skips, and its owner file stays.
    @Test func aLockFileHoldersOwnerFileSurvivesASweep() throws {
        let t = try TestStore("sweep-owner-holder")
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", "lockfile"])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let before = try #require(t.directory.contents("metadata.lock.owner"))
        let report = try t.store.sweep()
        #expect(report.skipped)
        #expect(report.skippedBecauseHeldBy?.pid == holder.pid)
        #expect(t.directory.contents("metadata.lock.owner") == before)
        holder.closeStdin()
        #expect(try holder.wait() == .exited(0))
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
    }

    @Test(arguments: [
        "open@.tmp-=crash-after", "write#1=crash-after", "write#2=crash-after", "fsync=crash-before",
        "fsync=crash-after", "rename=crash-before", "rename=crash-after", "fsyncDirectory=crash-after",
    ])
    func aCrashAtAnyStepLeavesOldOrNewCacheAndTheNextWriterCleansUp(fault: String) throws {
        let t = try TestStore("crash")
        try t.plain().acquireWriterLock().commit(samplePayload)
        let old = try #require(t.cacheBytes)
        let newPayload = #"{"version":"new"}"#
        let result = try Agent.run(["commit", "--dir", t.directory.path, "--payload", newPayload, "--fault", fault])
        #expect(result.termination == .signaled(SIGKILL), "\(result.stdoutText)")

        // Exactly the old file or exactly a complete new one, never anything else.
        let snapshot = try #require(try t.plain().read())
        let isOld = t.cacheBytes == old
        let isNew = snapshot.payload == Data(newPayload.utf8)
        #expect(isOld || isNew)
        if fault.hasPrefix("rename=crash-after") || fault.hasPrefix("fsyncDirectory") { #expect(isNew) }
        if fault.hasPrefix("open") || fault.hasPrefix("write") || fault.hasPrefix("fsync=") || fault == "rename=crash-before" {
            #expect(isOld)
        }

        // The kernel released the dead writer's lock; the next writer sweeps its temp.
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        #expect(t.tempFiles.isEmpty)
        try writer.commit(Data("[3]".utf8))
        writer.release()
        #expect(try t.plain().read()?.payload == Data("[3]".utf8))
    }
}
