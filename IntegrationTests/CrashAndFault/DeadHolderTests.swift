import Foundation
import MetadataCache
import StressHarness
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension MetacacheIntegration {
/// A writer SIGKILLed while holding the lock, whose parent has not reaped it yet
/// (a zombie: dead, its files closed, its pid still in the process table). Hosts
/// that spawn refreshes reap when they get round to it; until then the lock must
/// already be free, with either backend.
@Suite struct DeadHolderTests {
    @Test(arguments: [LockBackendSelection.advisory, .lockFile])
    func aKilledHolderThatIsNotYetReapedDoesNotHoldTheLock(backend: LockBackendSelection) async throws {
        let dir = TemporaryDirectory("zombie")
        #expect(try await CommitOnceChild(directory: dir.path, sequence: 1, backend: backend).run().exitCode == 0)

        // A writer frozen mid-commit (its temp written, before the rename).
        var holder = CommitOnceChild(directory: dir.path, sequence: 2, backend: backend, faults: ["rename@.tmp-=pause"])
        holder.invocation.worker = 8
        let process = try ChildProcess(
            CommitOnceChild.harness, holder.invocation.arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
        _ = try process.readLine(until: { $0.hasPrefix("PAUSED") }, timeout: .seconds(60))

        process.signal(SIGKILL)
        // Wait until it has exited, without reaping it (WNOWAIT): it stays a zombie.
        let pid = process.pid
        let exited = try await BlockingWork.run { () -> Bool in
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
                if errno != EINTR { return false }
            }
            return true
        }
        #expect(exited)
        let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        #expect(state == "Z", "the killed holder should be an unreaped zombie, state \(String(describing: state))")

        var options = CacheStoreOptions.forRecovery
        options.lockBackend = backend
        let store = try CacheStore(directory: dir.path, options: options)
        #expect(try store.status().lock.held == false, "\(backend): a dead holder is reported as holding the lock")
        let acquired = Result { () throws(MetadataCacheError) in try store.acquireWriterLock(timeout: .immediate).release() }
        if case let .failure(error) = acquired {
            Issue.record("\(backend): the lock of a dead, unreaped holder could not be taken: \(error)")
        }
        #expect(try store.sweep().removed.count == 1, "the dead writer's temp is an orphan")
        _ = try process.wait(timeout: .seconds(30))
    }
}
}
