import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// The two lock backends exclude each other wherever `flock` works: a process
/// forced to owner files and one on advisory locks (or `auto`) never hold the
/// lock, commit, or sweep at the same time. Real processes throughout.
@Suite(.serialized, .dedicatedThread) struct CrossBackendTests {
    /// (backend of the holding child, backend of the in-process acquirer)
    static let pairs: [(String, LockBackendSelection)] = [
        ("lockfile", .advisory), ("lockfile", .auto), ("advisory", .lockFile), ("auto", .lockFile),
    ]

    @Test(arguments: pairs)
    func aHolderOfOneBackendMakesAnImmediateAcquisitionWithTheOtherTimeOut(
        holderBackend: String, acquirerBackend: LockBackendSelection
    ) throws {
        let t = try TestStore("cross-\(holderBackend)", backend: acquirerBackend)
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", holderBackend])
        let line = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .lockTimeout(_, _, _, recorded) = outcome else {
            Issue.record("\(holderBackend) holder (\(line)), \(acquirerBackend) acquirer: expected lockTimeout, got \(String(describing: outcome))")
            holder.closeStdin()
            try holder.wait()
            return
        }
        // The holder's record reaches the other backend's waiter too.
        #expect(recorded?.pid == holder.pid, "\(line)")
        // A failed lock-file attempt leaves no owner file behind.
        if holderBackend != "lockfile" { #expect(!t.directory.listing().contains("metadata.lock.owner")) }
        holder.closeStdin()
        #expect(try holder.wait() == .exited(0))
        // Released: the other backend now gets it at once, and nothing is left.
        let writer = try t.store.acquireWriterLock(timeout: .immediate)
        writer.release()
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
    }

    /// A child's blocked wait with one backend ends when a holder of the other
    /// releases (the lock-file waiter polls; the advisory one is woken).
    @Test(arguments: [("lockfile", "advisory"), ("advisory", "lockfile")])
    func aWaiterOfOneBackendGetsTheLockWhenAHolderOfTheOtherReleases(holderBackend: String, waiterBackend: String) throws {
        let t = try TestStore("cross-wait")
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", holderBackend])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--backend", waiterBackend, "--timeout", "30"])
        let waiting = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        #expect(waiting.field("holderPid") == String(holder.pid))
        holder.closeStdin()
        let acquired = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(acquired.field("backend") == (waiterBackend == "lockfile" ? "lockfile" : "advisory"))
        #expect(try waiter.wait() == .exited(0))
        #expect(try holder.wait() == .exited(0))
    }

    /// The sweeper's proof ("holding the lock, every temp is an orphan") holds
    /// across backends: a sweep with one backend skips while a writer of the
    /// other is mid-commit, and its live temp survives.
    @Test(arguments: [("lockfile", LockBackendSelection.advisory), ("advisory", .lockFile)])
    func aSweepWithOneBackendNeverRemovesTheLiveTempOfAWriterWithTheOther(
        writerBackend: String, sweeperBackend: LockBackendSelection
    ) throws {
        let t = try TestStore("cross-sweep", backend: sweeperBackend)
        let writer = try Agent.start([
            "commit", "--dir", t.directory.path, "--backend", writerBackend, "--payload", #"{"from":"child"}"#,
            "--fault", "rename@.tmp-=pause",
        ])
        let paused = try writer.readLine(until: { $0.hasPrefix("PAUSED") })
        let liveTemp = try #require(paused.field("temp"))
        #expect(liveTemp.contains(".tmp-"), "\(paused)")
        let report = try t.store.sweep()
        #expect(report.skipped)
        #expect(report.skippedBecauseHeldBy?.pid == writer.pid)
        #expect(t.directory.listing().contains(liveTemp), "the live writer's temp was removed")
        writer.closeStdin()
        _ = try writer.readLine(until: { $0.hasPrefix("COMMITTED") })
        #expect(try writer.wait() == .exited(0))
        #expect(try t.store.read()?.payload == Data(#"{"from":"child"}"#.utf8))
    }
}
