import Foundation
import Testing
import TestSupport

/// Whether `strace` can trace here (SignalDuringCommitTests freezes a refresh with
/// its `delay_enter`). The crash sweeps do not use strace: its `when=N` counts
/// per thread (see `SyscallStrike`).
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
}
