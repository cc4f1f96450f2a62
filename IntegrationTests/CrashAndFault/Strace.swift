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
    /// injection, writing the trace to `output`.
    static func injecting(_ injection: String, output: String) -> [String] {
        [path ?? "strace", "-f", "-o", output, "-e", "inject=\(injection)"]
    }

    /// The command prefix that only records the commit-related calls.
    static func recording(output: String) -> [String] {
        [path ?? "strace", "-f", "-o", output, "-e", "trace=write,fsync,rename,renameat,renameat2,ftruncate"]
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

/// Where the commit's system calls fall in a real process's sequence of calls,
/// learned by tracing one clean commit (no injection) of the same program.
///
/// strace counts `when=N` per thread: the injection fires at the Nth call *of
/// each thread*. So a step's index is its position among the calls of that name
/// made by the thread that committed, and a step is refused as ambiguous when
/// another thread reaches that count first (then it, not the step, would be hit):
/// calibration fails rather than guesses.
struct CommitSyscallMap: Sendable {
    private var indices: [CommitStep: Int] = [:]
    private var problems: [CommitStep: String] = [:]

    struct CalibrationError: Error, CustomStringConvertible { let description: String }

    /// The `when=` index of a step, or why there is none.
    func index(_ step: CommitStep) throws -> Int {
        if let index = indices[step] { return index }
        throw CalibrationError(description: "\(step): \(problems[step] ?? "not calibrated")")
    }

    init(trace: String) throws {
        struct Call { let thread: String; let name: String; let text: Substring }
        var calls: [Call] = []
        for line in trace.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let rest = parts[1].drop { $0 == " " }
            guard !rest.hasPrefix("<..."), !rest.hasPrefix("+++"), !rest.hasPrefix("---"),
                let paren = rest.firstIndex(of: "(")
            else { continue }
            var name = String(rest[..<paren])
            if name.hasPrefix("rename") { name = "rename" }
            calls.append(Call(thread: String(parts[0]), name: name, text: rest))
        }
        guard let header = calls.firstIndex(where: { $0.name == "write" && $0.text.contains("\\211MCACHE") }) else {
            throw CalibrationError(description: "no header write (\\211MCACHE) in the trace")
        }
        let thread = calls[header].thread
        func next(_ name: String, after position: Int?, where test: (Call) -> Bool = { _ in true }) -> Int? {
            guard let position else { return nil }
            return calls[(position + 1)...].firstIndex { $0.thread == thread && $0.name == name && test($0) }
        }
        let positions: [CommitStep: Int?] = {
            var p: [CommitStep: Int?] = [.headerWrite: header]
            p[.payloadWrite] = next("write", after: header)
            p[.tempFsync] = next("fsync", after: p[.payloadWrite] ?? nil)
            p[.rename] = next("rename", after: p[.tempFsync] ?? nil) { $0.text.contains(".tmp-") }
            p[.directoryFsync] = next("fsync", after: p[.rename] ?? nil)
            p[.releaseTruncate] = next("ftruncate", after: p[.directoryFsync] ?? nil) { $0.text.contains(", 0)") }
            return p
        }()
        for step in CommitStep.allCases {
            guard let found = positions[step], let position = found else {
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
            indices[step] = index
        }
    }
}
