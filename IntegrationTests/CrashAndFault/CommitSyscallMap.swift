import Foundation
import TestSupport

/// Where the commit's system calls fall in a real process's sequence of calls,
/// learned by tracing clean commits (no injection) of the same program.
///
/// strace counts `when=N` per thread: the injection fires at the Nth call *of
/// each thread*. So a step's index is its position among the calls of that name
/// made by the thread that committed, and a trace where another thread reaches
/// that count first is no use for the step (that thread would be hit instead).
/// Threads can differ from run to run (the CLI continues on whichever pool thread
/// resumes it), so several clean runs are traced and each step keeps its indices
/// by how often they were seen; strikes try the likeliest first and are checked
/// against their own trace afterwards (`StraceStrike`).
struct CommitSyscallMap: Sendable {
    private var seen: [CommitStep: [Int: Int]] = [:]
    private var problems: [CommitStep: String] = [:]

    struct CalibrationError: Error, CustomStringConvertible { let description: String }

    /// The `when=` indices observed for a step, most frequent first.
    func candidates(_ step: CommitStep) throws -> [Int] {
        guard let counts = seen[step], !counts.isEmpty else {
            throw CalibrationError(description: "\(step): \(problems[step] ?? "not calibrated")")
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    /// The likeliest `when=` index of a step.
    func index(_ step: CommitStep) throws -> Int { try candidates(step)[0] }

    init(traces: [StraceTrace]) throws {
        for trace in traces {
            guard let (thread, positions) = trace.commitSteps() else { continue }
            let calls = trace.calls
            for step in CommitStep.allCases {
                guard let position = positions[step] else {
                    problems[step] = "not found in the trace of a clean commit"
                    continue
                }
                let name = calls[position].name
                let index = calls[...position].filter { $0.thread == thread && $0.name == name }.count
                var perThread: [String: Int] = [:]
                for call in calls[..<position] where call.thread != thread && call.name == name { perThread[call.thread, default: 0] += 1 }
                if let (other, count) = perThread.first(where: { $0.value >= index }) {
                    problems[step] = "thread \(other) makes its \(name) call #\(index) (of \(count)) before the commit thread does: when=\(index) would hit it"
                    continue
                }
                seen[step, default: [:]][index, default: 0] += 1
            }
        }
        guard !seen.isEmpty else { throw CalibrationError(description: "no header writev (\\211MCACHE) in any calibration trace") }
    }

    /// Traces `runs` clean commits made by `commit` (which is given the strace
    /// prefix to run under) and learns from all of them.
    static func calibrate(runs: Int = 7, _ commit: (_ wrapper: [String]) throws -> Void) throws -> CommitSyscallMap {
        let dir = TemporaryDirectory("strace-calibrate")
        var traces: [StraceTrace] = []
        for run in 0..<runs {
            let output = dir.file("trace-\(run)")
            try commit(Strace.recording(output: output))
            traces.append(StraceTrace.read(output))
        }
        return try CommitSyscallMap(traces: traces)
    }
}
