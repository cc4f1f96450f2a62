import Foundation
import Testing
import TestSupport

/// `strace` as a fault injector for real, unmodified processes:
/// `-e inject=SYSCALL:signal=SIGKILL:when=N` kills the process as it enters its
/// Nth such call (so the call is never performed), `error=ERRNO` makes the call
/// fail without being performed. The kernel-level counterpart of the library's
/// own fault injector: nothing in the process under test knows.
enum Strace {
    static let path: String? = ["/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why strace cannot be used here, or nil if it can (checked once by tracing
    /// `/bin/true` with an injection: containers often forbid ptrace).
    static let unavailableReason: String? = {
        guard let path else { return "strace is not installed" }
        guard let result = try? ChildProcess.run(
            path, ["-f", "-o", "/dev/null", "-e", "inject=getppid:error=ENOSYS:when=1", "/bin/true"], timeout: .seconds(30))
        else { return "strace could not be run" }
        guard result.exitCode == 0 else {
            return "strace cannot trace here (ptrace not permitted?): \(result.termination) \(result.stderr.prefix(200))"
        }
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }
    static var skipReason: Comment { Comment(rawValue: "skipped: \(unavailableReason ?? "")") }

    /// The command prefix that traces a child (following its threads) with one
    /// injection, writing the trace to `output`. The traced program runs under
    /// `timeout -s KILL`: an injection that lands on the wrong call can leave a
    /// process waiting forever (see `StraceStrike`), and killing strace would
    /// orphan it rather than end it.
    static func injecting(_ injection: String, output: String) -> [String] {
        [path ?? "strace", "-f", "-o", output, "-e", "inject=\(injection)"] + watchdog
    }

    /// The command prefix that only records the commit-related calls (the same
    /// watchdog, so the calibrated process tree is the one struck later).
    static func recording(output: String) -> [String] {
        [path ?? "strace", "-f", "-o", output, "-e", "trace=write,fsync,rename,renameat,renameat2,ftruncate"] + watchdog
    }

    static let watchdogSeconds = 20
    private static var watchdog: [String] {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") ? ["/usr/bin/timeout", "-s", "KILL", String(watchdogSeconds)] : []
    }
}

/// The steps of the commit protocol strace can aim at.
enum CommitStep: String, CaseIterable, Sendable {
    case headerWrite, payloadWrite, tempFsync, rename, directoryFsync, releaseTruncate

    /// The strace syscall set for the step.
    var calls: String {
        switch self {
        case .headerWrite, .payloadWrite: "write"
        case .tempFsync, .directoryFsync: "fsync"
        case .rename: "rename,renameat,renameat2"
        case .releaseTruncate: "ftruncate"
        }
    }
}

/// A trace written by `strace -f -o FILE`, as calls with their results
/// (`<unfinished ...>` and `<... resumed>` halves joined).
struct StraceTrace: Sendable {
    struct Call: Sendable {
        let thread: String
        /// `rename`, `renameat` and `renameat2` are all `rename`.
        let name: String
        /// The call as printed up to its result.
        let text: String
        /// What follows `= ` (`0`, `-1 ENOSPC ... (INJECTED)`, `?` when the thread
        /// died inside the call), or nil if never completed in the trace.
        var result: String?
    }

    private(set) var calls: [Call] = []

    init(_ text: String) {
        var pending: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let thread = String(parts[0])
            let rest = parts[1].drop { $0 == " " }
            if rest.hasPrefix("<...") {
                if let index = pending.removeValue(forKey: thread) { calls[index].result = Self.result(of: rest) }
                continue
            }
            guard !rest.hasPrefix("+++"), !rest.hasPrefix("---"), let paren = rest.firstIndex(of: "(") else { continue }
            var name = String(rest[..<paren])
            if name.hasPrefix("rename") { name = "rename" }
            if rest.hasSuffix("<unfinished ...>") {
                pending[thread] = calls.count
                calls.append(Call(thread: thread, name: name, text: String(rest.dropLast("<unfinished ...>".count)), result: nil))
            } else {
                calls.append(Call(thread: thread, name: name, text: String(rest), result: Self.result(of: rest)))
            }
        }
    }

    /// What follows the `)` that closes the arguments and the `=` after it
    /// (strace pads with spaces to align results).
    private static func result(of text: Substring) -> String? {
        var searchEnd = text.endIndex
        while let equals = text.range(of: " = ", options: .backwards, range: text.startIndex..<searchEnd) {
            let before = text[..<equals.lowerBound].reversed().first { $0 != " " }
            if before == ")" { return String(text[equals.upperBound...]) }
            searchEnd = equals.lowerBound
        }
        return nil
    }

    /// The thread that wrote the cache header, and where each step of the commit
    /// that happened falls in `calls`.
    func commitSteps() -> (thread: String, positions: [CommitStep: Int])? {
        guard let header = calls.firstIndex(where: { $0.name == "write" && $0.text.contains("\\211MCACHE") }) else { return nil }
        let thread = calls[header].thread
        func next(_ name: String, after position: Int?, where test: (Call) -> Bool = { _ in true }) -> Int? {
            guard let position else { return nil }
            return calls[(position + 1)...].firstIndex { $0.thread == thread && $0.name == name && test($0) }
        }
        var p: [CommitStep: Int] = [.headerWrite: header]
        p[.payloadWrite] = next("write", after: header)
        p[.tempFsync] = next("fsync", after: p[.payloadWrite])
        p[.rename] = next("rename", after: p[.tempFsync]) { $0.text.contains(".tmp-") }
        p[.directoryFsync] = next("fsync", after: p[.rename])
        p[.releaseTruncate] = next("ftruncate", after: p[.directoryFsync]) { $0.text.contains(", 0)") }
        return (thread, p)
    }

    /// Whether the process was killed on entry to `step` itself (the call never
    /// returned), on the committing thread.
    func killed(at step: CommitStep) -> Bool {
        guard let (_, positions) = commitSteps(), let position = positions[step] else { return false }
        return calls[position].result == "?" || calls[position].result == nil
    }

    /// Whether `step`'s call got an injected error.
    func failed(at step: CommitStep) -> Bool {
        guard let (_, positions) = commitSteps(), let position = positions[step] else { return false }
        return calls[position].result?.hasSuffix("(INJECTED)") == true
    }

    /// Injected interruptions, and whether all of them hit the committing thread.
    func interruptions() -> (count: Int, allOnCommitThread: Bool) {
        let injected = calls.filter { $0.result?.contains("EINTR") == true && $0.result?.hasSuffix("(INJECTED)") == true }
        let thread = commitSteps()?.thread
        return (injected.count, injected.allSatisfy { $0.thread == thread })
    }

    static func read(_ path: String) -> StraceTrace {
        StraceTrace((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}

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
        guard !seen.isEmpty else { throw CalibrationError(description: "no header write (\\211MCACHE) in any calibration trace") }
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

/// Repeats a strace strike until it lands where it was aimed (see
/// `CommitSyscallMap`); returns the landed attempt, or records an issue.
///
/// Why strikes can miss: `when=N` counts per thread, and a program on Swift
/// concurrency may commit on a different pool thread from one run to the next,
/// with a different number of earlier calls of that name (the CLI's runtime
/// sometimes writes to an eventfd from the thread that later commits). Only
/// write and ftruncate strikes can miss this way; no other thread fsyncs or renames.
enum StraceStrike {
    static let attempts = 5

    /// `attempt` is given the attempt number (0-based) to pick a candidate index.
    static func aim<T>(_ attempt: (Int) async throws -> (T, landed: Bool)) async throws -> T {
        var last: T?
        for number in 1...attempts {
            let (value, landed) = try await attempt(number - 1)
            if landed {
                if number > 1 { print("strace strike landed on attempt \(number) of \(attempts)") }
                return value
            }
            last = value
        }
        Issue.record("the injection never landed on the intended call in \(attempts) attempts (thread layout changed every time)")
        return last!
    }
}
