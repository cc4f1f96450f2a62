import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// `status` reports the writer lock without disturbing writers (real processes).
@Suite(.serialized, .dedicatedThread) struct LockStatusTests {
    @Test(arguments: ["advisory", "lockfile"])
    func statusSaysHeldAndByWhomWhileAChildHoldsTheLock(backend: String) throws {
        let t = try TestStore("status-held")
        let holder = try Agent.start(["hold", "--dir", t.directory.path, "--backend", backend])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let lock = try t.store.status().lock
        #expect(lock.held)
        #expect(lock.holder?.pid == holder.pid)
        #expect(lock.backend == (backend == "lockfile" ? .lockFile : .advisory))
        holder.closeStdin()
        #expect(try holder.wait() == .exited(0))
        let after = try t.store.status().lock
        #expect(!after.held)
        #expect(after.holder == nil)
    }

    /// A crashed holder's record stays in NAME.lock's slot; it is not a holder.
    @Test func aLeftoverRecordOfAKilledHolderIsNotReportedAsHeld() throws {
        let t = try TestStore("status-killed")
        let holder = try Agent.start(["hold", "--dir", t.directory.path])
        _ = try holder.readLine(until: { $0.hasPrefix("ACQUIRED") })
        holder.signal(SIGKILL)
        #expect(try holder.wait() == .signaled(SIGKILL))
        #expect(HolderRecordSlot.parse(Array(try #require(t.directory.contents("metadata.lock")))) != nil)
        #expect(!(try t.store.status().lock.held))
    }

    /// Status in a tight loop in one process, `.immediate` acquisitions in
    /// another: not one acquisition may fail. (A shared-flock probe makes some
    /// fail: while it holds its shared lock, LOCK_EX|LOCK_NB sees the lock busy.)
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/locks")))
    func statusInATightLoopNeverMakesAnImmediateAcquisitionFail() throws {
        let t = try TestStore("status-loop")
        try t.seed()
        let looper = try Agent.start(["status-loop", "--dir", t.directory.path])
        _ = try looper.readLine(until: { $0.hasPrefix("LOOPING") })
        var failures: [MetadataCacheError] = []
        for _ in 0..<3000 {
            if let error = acquisitionError({ () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }) {
                failures.append(error)
            }
        }
        looper.closeStdin()
        let done = try looper.readLine(until: { $0.hasPrefix("DONE") })
        #expect(try looper.wait() == .exited(0))
        // The loop ran for the whole time (it stopped because we closed stdin).
        #expect(done.field("capped") == "0", "\(done)")
        #expect((Int(done.field("statuses") ?? "") ?? 0) > 10, "\(done)")
        #expect(failures.isEmpty, "\(failures.count) of 3000 .immediate acquisitions failed: \(failures.first.map(String.init(describing:)) ?? "")")
    }
}
