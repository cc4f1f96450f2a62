import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

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

    /// An owner record of this boot and pid namespace, or (`foreign`) of another
    /// host whose pid cannot be checked here.
    func ownerRecord(pid: Int32, host: String = ProcessIdentity.hostName, start: UInt64?, lease: Double = 30, foreign: Bool = false) -> Data {
        Data(HolderRecord(
            pid: pid, host: host, processStartTime: start, command: "elsewhere", acquiredAt: Date(),
            backend: .lockFile, leaseID: "00000000000000cc", leaseSeconds: lease,
            bootID: foreign ? "00000000-0000-4000-8000-000000000002" : ProcessIdentity.bootID,
            pidNamespace: foreign ? 1 : ProcessIdentity.pidNamespace
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

    /// Where only owner files exclude, holding the lock does not prove an owner
    /// file stale: only its holder's proven death does. A possibly live holder's
    /// owner file (this process; another host; another container, whose pid means
    /// nothing here even if no process here has it; a version-1 record without
    /// identity) is kept. Where the `flock` on a local filesystem is held, no live
    /// holder can be without it, so the same files are leftovers and go.
    @Test func anOwnerFileIsSweptOnlyWhenNoLiveHolderCanOwnIt() throws {
        let t = try TestStore("sweep-owner-live")
        let possiblyLive = [
            ownerRecord(pid: getpid(), start: ProcessIdentity.currentStartTime),
            ownerRecord(pid: 1, host: "other-host.example", start: nil, lease: 3600, foreign: true),
            ownerRecord(pid: try deadPID(), start: nil, foreign: true),
            Data(HolderRecord(
                pid: try deadPID(), host: ProcessIdentity.hostName, processStartTime: nil, command: "v1",
                acquiredAt: Date(), backend: .lockFile, leaseID: "00000000000000ee", leaseSeconds: 30
            ).encodedJSON().utf8),
            Data(),
        ]
        for proof in [OrphanSweeper.Proof.creatorProvablyDead, .lockExcludesEveryWriter] {
            let sweeper = OrphanSweeper(
                layout: t.store.layout, directory: try t.store.openDirectoryForWriting(), observer: nil,
                leaseDuration: .seconds(30), proof: proof)
            for record in possiblyLive {
                try t.directory.write("metadata.lock.owner", record)
                let removed = sweeper.sweepWhileHoldingLock()
                if proof == .creatorProvablyDead {
                    #expect(removed.isEmpty)
                    #expect(t.directory.contents("metadata.lock.owner") == record)
                } else {
                    #expect(removed == [t.directory.file("metadata.lock.owner")])
                    #expect(t.directory.listing() == [], "nothing left aside, no claim left: \(t.directory.listing())")
                }
            }
        }
        // `cache sweep` on this local filesystem holds the flock: a leftover goes.
        try t.directory.write("metadata.lock.owner", possiblyLive[1])
        #expect(try t.store.sweep().removed == [t.directory.file("metadata.lock.owner")])
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

    /// Where only owner files exclude (no `flock`, or a network filesystem), the
    /// lock proves nothing about a holder stopped past its lease: only a file whose
    /// creator (named in it) is of this boot and pid namespace and dead is swept.
    /// Where the `flock` on a local filesystem excludes every writer, every
    /// leftover is an orphan, whatever its name.
    @Test(.enabled(if: ProcessIdentity.bootID != nil && ProcessIdentity.pidNamespace != nil, "needs /proc"))
    func withoutAnExcludingFlockOnlyFilesOfProvablyDeadCreatorsAreSwept() throws {
        let boot = try #require(ProcessIdentity.bootID).filter { $0 != "-" }
        let namespace = try #require(ProcessIdentity.pidNamespace)
        let dead = try deadPID()
        func tag(_ pid: Int32, boot: String = boot, namespace: UInt64 = namespace, start: UInt64?) -> String {
            FileCreatorTag(
                pid: pid, random: UInt64.random(in: 0...UInt64.max),
                identity: start.map { .init(bootID: boot, pidNamespace: namespace, startTime: $0) }
            ).text
        }
        let me = try #require(ProcessIdentity.currentStartTime)
        let orphans = [
            "metadata.json.tmp-" + tag(dead, start: 1),
            "metadata.lock.owner.break-" + tag(dead, start: 1),
            "metadata.lock.owner.next-" + tag(dead, start: 1),
        ]
        let kept = [
            "metadata.json.tmp-" + tag(getpid(), start: me),  // alive
            "metadata.json.tmp-" + tag(dead, namespace: namespace &+ 1, start: 1),  // another container
            "metadata.json.tmp-" + tag(dead, boot: String(repeating: "0", count: 32), start: 1),  // another boot or host
            "metadata.json.tmp-" + tag(dead, start: nil),  // a version-1 name: no identity
        ]
        for proof in [OrphanSweeper.Proof.creatorProvablyDead, .lockExcludesEveryWriter] {
            let t = try TestStore("sweep-proof")
            for name in orphans + kept { try t.directory.write(name, Data("x".utf8)) }
            let sweeper = OrphanSweeper(
                layout: t.store.layout, directory: try t.store.openDirectoryForWriting(), observer: nil,
                leaseDuration: .seconds(30), proof: proof)
            let removed = Set(sweeper.sweepWhileHoldingLock().map { $0.split(separator: "/").last.map(String.init) ?? $0 })
            if proof == .creatorProvablyDead {
                #expect(removed == Set(orphans), "\(removed)")
                #expect(Set(t.directory.listing()) == Set(kept))
            } else {
                #expect(removed == Set(orphans + kept), "\(removed)")
            }
        }
    }

    /// A claim left by a breaker that died is swept once its claimant is provably
    /// dead; a live breaker's is kept.
    @Test(.enabled(if: ProcessIdentity.bootID != nil, "needs /proc"))
    func aDeadBreakersClaimIsSweptButALiveOnesIsKept() throws {
        let t = try TestStore("sweep-claims")
        let claim = { (pid: Int32, start: UInt64?) in
            Data(HolderRecord(
                pid: pid, host: ProcessIdentity.hostName, processStartTime: start, command: "breaker", acquiredAt: Date(),
                backend: .lockFile, leaseID: Hex.format(UInt64.random(in: 1...UInt64.max)), leaseSeconds: 30,
                bootID: ProcessIdentity.bootID, machineID: ProcessIdentity.machineID, pidNamespace: ProcessIdentity.pidNamespace
            ).encodedJSON().utf8)
        }
        try t.directory.write("metadata.lock.owner.claim-00000000000000aa-1", claim(try deadPID(), nil))
        try t.directory.write("metadata.lock.owner.claim-00000000000000bb-1", claim(getpid(), ProcessIdentity.currentStartTime))
        let sweeper = OrphanSweeper(
            layout: t.store.layout, directory: try t.store.openDirectoryForWriting(), observer: nil,
            leaseDuration: .seconds(30), proof: .creatorProvablyDead)
        #expect(sweeper.sweepWhileHoldingLock() == [t.directory.file("metadata.lock.owner.claim-00000000000000aa-1")])
        #expect(t.directory.listing() == ["metadata.lock.owner.claim-00000000000000bb-1"])
    }
}
