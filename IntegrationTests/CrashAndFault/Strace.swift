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

/// Where the commit's system calls fall in a real process's sequence of calls,
/// learned by tracing one clean commit (no injection) of the same program.
///
/// Guarantee: each number is the 1-based index, among the calls of that name made
/// by the thread that committed, of the call that is the protocol step — which is
/// what strace's `when=N` counts — and calibration fails rather than guesses if
/// another thread made such calls first or a step is missing.
struct CommitSyscallMap: Sendable {
    var headerWrite = 0
    var payloadWrite = 0
    var tempFsync = 0
    var rename = 0
    var directoryFsync = 0
    var releaseTruncate = 0

    struct CalibrationError: Error, CustomStringConvertible { let description: String }

    static let renameCalls = "rename,renameat,renameat2"

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
        func index(of position: Int) throws -> Int {
            let name = calls[position].name
            let earlier = calls[..<position].filter { $0.name == name }
            if earlier.contains(where: { $0.thread != thread }) {
                throw CalibrationError(description: "another thread made \(name) calls before the commit's; when=N would be ambiguous")
            }
            return earlier.count + 1
        }
        func next(_ name: String, after position: Int, where test: (Call) -> Bool = { _ in true }) throws -> Int {
            guard let found = calls[(position + 1)...].firstIndex(where: { $0.thread == thread && $0.name == name && test($0) }) else {
                throw CalibrationError(description: "no \(name) after call \(position) on thread \(thread)")
            }
            return found
        }
        headerWrite = try index(of: header)
        let payload = try next("write", after: header)
        payloadWrite = try index(of: payload)
        let fsync1 = try next("fsync", after: payload)
        tempFsync = try index(of: fsync1)
        let renamePosition = try next("rename", after: fsync1) { $0.text.contains(".tmp-") }
        rename = try index(of: renamePosition)
        let fsync2 = try next("fsync", after: renamePosition)
        directoryFsync = try index(of: fsync2)
        let truncate = try next("ftruncate", after: fsync2) { $0.text.contains(", 0)") }
        releaseTruncate = try index(of: truncate)
    }
}
