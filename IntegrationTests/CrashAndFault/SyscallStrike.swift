import Foundation
import Testing
import TestSupport

/// The test-only ptrace tracer `syscall-strike` (Tests/SyscallStrike/main.c).
///
/// Guarantee: every file system call of every thread (and child process) of the
/// traced program is numbered in one global order, and a strike names its call
/// by name, path and occurrence in that order — so it lands on the call it was
/// aimed at whichever thread makes it, or reports that it never came (`missed`).
/// strace's `inject=...:when=N` counts per thread, and a refresh does its file
/// I/O on several threads; this is why the crash sweeps use their own tracer.
enum SyscallStrike {
    static var path: String { BuiltProducts.path(of: "syscall-strike") }

    /// Why the tracer cannot trace here, or nil if it can: checked once by tracing
    /// `/bin/true` (containers often forbid ptrace; the tracer then exits 69).
    static let unavailableReason: String? = {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return "syscall-strike is not built at \(path)"
        }
        guard let result = try? ChildProcess.run(path, ["--", "/bin/true"], timeout: .seconds(30)) else {
            return "syscall-strike could not be run"
        }
        guard result.exitCode == 0 else {
            return "syscall-strike cannot trace here: \(result.termination) \(result.stderr.prefix(300))"
        }
        return nil
    }()

    /// One strike: the `occurrence`-th in-focus call named `name` one of whose paths
    /// matches `pathGlob` (fnmatch), and the `times - 1` such calls after it.
    struct Strike: Sendable, CustomStringConvertible {
        var name: String
        var pathGlob: String
        var occurrence: Int
        /// nil: every matching call from `occurrence` on.
        var times: Int? = 1
        var action: Action

        enum Action: Sendable, Equatable, CustomStringConvertible {
            /// SIGKILL on entry: the call is never performed.
            case kill
            /// The call fails with this errno without being performed.
            case errno(String)
            /// The call is not performed and reports success (a writer that leaves
            /// the step out: the power-loss control).
            case skip

            var argument: String {
                switch self {
                case .kill: "kill"
                case .skip: "skip"
                case let .errno(name): name
                }
            }

            var description: String {
                switch self {
                case .kill: "SIGKILL"
                case .skip: "skipped"
                case let .errno(name): name
                }
            }
        }

        var arguments: [String] {
            var a = ["--strike", name, "--path", pathGlob, "--occurrence", String(occurrence), "--action", action.argument]
            a += ["--times", times.map(String.init) ?? "0"]
            return a
        }

        var description: String { "\(action) at \(name) #\(occurrence) of \(pathGlob)\((times ?? 2) > 1 ? " (x\(times.map(String.init) ?? "all"))" : "")" }
    }

    /// What a traced run did.
    struct Outcome: Sendable {
        /// How the program ended (the tracer's `END` line).
        let termination: ChildProcess.Termination?
        let programStdout: String
        let programStderr: String
        /// Every file call, in the global order.
        let calls: [FileSyscall]
        let struck: [FileSyscall]
        /// A strike asked for more calls than came.
        let missed: Bool
        /// The tracer's own stdout and stderr (for failure messages).
        let tracerOutput: String

        var inFocus: [FileSyscall] { calls.filter { $0.focus > 0 } }
        var exitCode: Int32? {
            if case let .exited(code) = termination { return code }
            return nil
        }
    }

    /// The tracer's command line for `command`, with its files in `work`.
    static func arguments(
        _ command: [String], focus: String, strikes: [Strike], pause: Bool = false, work: String
    ) -> [String] {
        var a = ["--focus", focus, "--log", work + "/calls.log", "--stdout", work + "/stdout", "--stderr", work + "/stderr"]
        if pause { a.append("--pause") }
        for strike in strikes { a += strike.arguments }
        return a + ["--"] + command
    }

    /// Runs `command` to completion under the tracer; its files go to `work`.
    static func run(
        _ command: [String], focus: String, strikes: [Strike] = [], environment: [String: String], work: String,
        timeout: Duration = .seconds(60)
    ) throws -> Outcome {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let result = try ChildProcess.run(
            path, arguments(command, focus: focus, strikes: strikes, work: work), environment: environment, timeout: timeout)
        return outcome(tracerStdout: result.stdoutText, tracerStderr: result.stderr, work: work)
    }

    /// Reads what a finished tracer left: its stdout lines and the files in `work`.
    static func outcome(tracerStdout: String, tracerStderr: String, work: String) -> Outcome {
        var termination: ChildProcess.Termination?
        var struck: [FileSyscall] = []
        var missed = false
        for line in tracerStdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            switch fields.first {
            case "STRUCK": if let call = FileSyscall(fields: Array(fields.dropFirst())) { struck.append(call) }
            case "MISSED": missed = true
            case "END" where fields.count == 3:
                if let n = Int32(fields[2]) { termination = fields[1] == "exit" ? .exited(n) : .signaled(n) }
            default: break
            }
        }
        func text(_ name: String) -> String { (try? String(contentsOfFile: work + "/" + name, encoding: .utf8)) ?? "" }
        // The log is written as calls return; the global order is that of entries.
        let calls = text("calls.log").split(separator: "\n").compactMap { FileSyscall(line: String($0)) }
            .sorted { $0.sequence < $1.sequence }
        return Outcome(
            termination: termination, programStdout: text("stdout"), programStderr: text("stderr"), calls: calls,
            struck: struck, missed: missed, tracerOutput: tracerStdout + tracerStderr)
    }

    static var isAvailable: Bool { unavailableReason == nil }

    /// Whether the tracer can run here, printing why `what` is skipped if not.
    static func available(for what: String) -> Bool {
        guard let reason = unavailableReason else { return true }
        print("\(what) skipped: \(reason)")
        return false
    }
}
