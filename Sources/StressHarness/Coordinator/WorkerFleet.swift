import Foundation
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker processes of a run: started as the harness re-executing itself,
/// told when to go and when to stop, killed and replaced by kill chaos, and
/// finally collected with their stats.
///
/// Guarantee: every process it starts is reaped — collected normally, killed and
/// waited for, or killed by `ChildProcess`'s deinit if the run is abandoned — so a
/// run never leaves workers behind. A killed worker's pipes are closed as soon as
/// it is reaped, and the fleet forgets it (its captured stderr file goes with
/// it): the number of kills a run can do is not bounded by the descriptor limit. (The report learns about
/// killed workers from the interval log, not from here.)
final class WorkerFleet {
    final class Member {
        let slot: WorkerSlot
        let invocation: WorkerInvocation
        let process: ChildProcess

        init(slot: WorkerSlot, invocation: WorkerInvocation, process: ChildProcess) {
            self.slot = slot
            self.invocation = invocation
            self.process = process
        }
    }

    let executable: String
    private(set) var current: [WorkerSlot: Member] = [:]
    private var nextWorkerID = 1

    init(executable: String) { self.executable = executable }

    /// Starts a worker for `slot`; it announces READY and waits for `go`.
    @discardableResult
    func start(_ slot: WorkerSlot, _ template: WorkerInvocation) throws -> Member {
        var invocation = template
        invocation.worker = nextWorkerID
        invocation.slot = slot.index
        nextWorkerID += 1
        let process = try ChildProcess(
            executable, invocation.arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
        let member = Member(slot: slot, invocation: invocation, process: process)
        current[slot] = member
        return member
    }

    /// Waits for every current worker's READY line.
    func awaitReady(timeout: Duration) throws {
        for member in current.values.sorted(by: { $0.invocation.worker < $1.invocation.worker }) {
            _ = try member.process.readLine(until: { $0.hasPrefix("READY") }, timeout: timeout)
        }
    }

    func go(_ member: Member, deadline: UInt64) {
        member.process.send("go \(deadline)\n")
    }

    func goAll(deadline: UInt64) {
        for member in current.values { go(member, deadline: deadline) }
    }

    /// The current member whose process has this pid.
    func member(pid: Int32) -> Member? {
        current.values.first { $0.process.pid == pid }
    }

    /// SIGKILLs a current worker, reaps it and drops it: returns once it is gone
    /// and its pipes are closed.
    func kill(_ member: Member) {
        member.process.signal(SIGKILL)
        _ = try? member.process.wait(timeout: .seconds(30))
        current[member.slot] = nil
        member.process.closePipes()
    }

    /// Tells workers to stop starting new operations.
    func stop(_ roles: Set<WorkerInvocation.Role>) {
        for member in current.values where roles.contains(member.slot.role) { member.process.closeStdin() }
    }

    /// Reads each current worker's STATS line and reaps it.
    ///
    /// Without `abort`, each worker gets `timeout` to report (a worker that does
    /// not is a problem of the run). With `abort` — after a stall or an
    /// interrupt — all of them together get `timeout`: whoever has not reported
    /// by then is logged (`abort` record, so its open hold is closed as killed)
    /// and SIGKILLed, and its outcome says why, as the coordinator's doing.
    func collect(
        _ roles: Set<WorkerInvocation.Role>, timeout: Duration, abort: (log: WriterIntervalLog, reason: String)?
    ) -> [WorkerOutcome] {
        var outcomes: [WorkerOutcome] = []
        let deadline = ContinuousClock.now + timeout
        for member in current.values.sorted(by: { $0.invocation.worker < $1.invocation.worker })
        where roles.contains(member.slot.role) {
            var stats: WorkerStats?
            var problem: String?
            var aborted = false
            do {
                let wait = abort == nil ? timeout : max(deadline - ContinuousClock.now, .milliseconds(50))
                let line = try member.process.readLine(until: { $0.hasPrefix("STATS ") }, timeout: wait)
                stats = try JSONDecoder().decode(WorkerStats.self, from: Data(line.dropFirst(6).utf8))
            } catch {
                problem = "\(error)"
                if let abort {
                    abort.log.append(.abort(
                        time: MonotonicClock.nanoseconds(), pid: member.process.pid, worker: member.invocation.worker,
                        slot: member.slot.index))
                    member.process.signal(SIGKILL)
                    aborted = true
                    problem = "killed by the coordinator: \(abort.reason) and it did not stop within \(timeout)"
                }
            }
            let termination = try? member.process.wait(timeout: .seconds(60))
            if termination != .exited(0) && !aborted {
                let stderr = member.process.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                let reason = termination.map { "\($0)" } ?? "did not exit"
                problem = [problem, "\(reason)", stderr.isEmpty ? nil : "stderr: \(stderr.suffix(600))"]
                    .compactMap { $0 }.joined(separator: "; ")
            }
            outcomes.append(WorkerOutcome(
                slot: member.slot, pid: member.process.pid, stats: stats, termination: termination, problem: problem,
                abortedByCoordinator: aborted))
        }
        return outcomes
    }
}
