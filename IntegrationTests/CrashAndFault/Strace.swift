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
        [path ?? "strace", "-f", "-o", output, "-e", "trace=write,writev,pwrite64,fsync,rename,renameat,renameat2"] + watchdog
    }

    static let watchdogSeconds = 20
    private static var watchdog: [String] {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") ? ["/usr/bin/timeout", "-s", "KILL", String(watchdogSeconds)] : []
    }
}
