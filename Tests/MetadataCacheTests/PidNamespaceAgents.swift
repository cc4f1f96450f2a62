import Foundation
import TestSupport

/// Test agents run in pid (and uts) namespaces of their own, as containers sharing
/// a cache volume are: `unshare --pid --fork --mount-proc [--uts]`, so the agent
/// is pid 1 there, reads its own `/proc`, and (with `--uts`) has its own host name.
enum PidNamespaceAgents {
    static let unshare = "/usr/bin/unshare"

    /// Why agents cannot be put in namespaces here (printed as the skip reason), or
    /// nil when they can. Creating pid and uts namespaces needs root or a user
    /// namespace; CI runs as root, containers without CAP_SYS_ADMIN refuse.
    static let unavailableReason: String? = {
        guard FileManager.default.isExecutableFile(atPath: unshare) else {
            return "needs \(unshare) (apt-get install util-linux)"
        }
        guard let result = try? ChildProcess.run(unshare, ["--pid", "--fork", "--mount-proc", "--uts", "/bin/true"]) else {
            return "could not run \(unshare)"
        }
        guard result.exitCode == 0 else {
            return "unshare --pid --fork --mount-proc --uts was refused: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
        return nil
    }()

    static var available: Bool { unavailableReason == nil }

    /// Starts the test agent as pid 1 of a new pid namespace, with `hostName` in a
    /// new uts namespace when given (else sharing ours: two namespaces, one name).
    static func start(_ arguments: [String], hostName: String? = nil) throws -> ChildProcess {
        var command = ["--pid", "--fork", "--mount-proc"]
        if let hostName {
            command += ["--uts", "/bin/sh", "-c", "hostname \"$1\" && shift && exec \"$@\"", "sh", hostName, Agent.path]
        } else {
            command.append(Agent.path)
        }
        return try ChildProcess(unshare, command + arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
    }

    /// The pid, in our namespace, of the process `unshare` (pid `parent`) forked:
    /// the agent, to stop it with SIGSTOP as a paused container or VM would be.
    static func innerPID(ofUnshare parent: Int32) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == parent { return pid }
        }
        return nil
    }
}

extension ChildProcess {
    /// Every line the child writes until it closes stdout (or `timeout` passes).
    func remainingLines(timeout: Duration = .seconds(60)) throws -> [String] {
        var lines: [String] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, let line = try readLine(timeout: deadline - ContinuousClock.now) {
            lines.append(line)
        }
        return lines
    }
}
