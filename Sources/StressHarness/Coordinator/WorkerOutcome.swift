import ProcessSpawning

/// What a collected worker left: its slot and pid, its final stats, how it
/// ended, and what went wrong if anything did — no live process handle, so
/// reports can be built (and tested) from plain values.
package struct WorkerOutcome: Sendable {
    package let slot: WorkerSlot
    package let pid: Int32
    package let stats: WorkerStats?
    package let termination: ChildProcess.Termination?
    package let problem: String?
    /// The coordinator killed it because the run stalled or was interrupted and
    /// it did not stop in time: that is the stall's (or the user's) doing, reported
    /// as such, not a crash of the worker.
    package let abortedByCoordinator: Bool

    package init(
        slot: WorkerSlot, pid: Int32, stats: WorkerStats?, termination: ChildProcess.Termination?, problem: String?,
        abortedByCoordinator: Bool = false
    ) {
        self.slot = slot
        self.pid = pid
        self.stats = stats
        self.termination = termination
        self.problem = problem
        self.abortedByCoordinator = abortedByCoordinator
    }
}
