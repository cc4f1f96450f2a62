import Foundation
import MetadataCache
import StressHarness
import TestSupport

/// The crash and fault tests' child process: `metacache-stress --worker
/// commit-once`, which takes the lock and commits one self-describing payload,
/// optionally under a fault plan or a tracer.
///
/// Guarantee: the payload a child commits is known to the test in advance
/// (`expectedPayload`), so "the cache holds exactly the new version" is checked
/// byte for byte; and the child's verdict line is parsed into `Verdict`.
struct CommitOnceChild {
    static var harness: String { BuiltProducts.path(of: "metacache-stress") }

    var invocation: WorkerInvocation

    init(
        directory: String, sequence: UInt64, payloadBytes: Int = 64 * 1024, backend: LockBackendSelection = .advisory,
        faults: [String] = [], lockTimeout: LockTimeout = .after(.seconds(10))
    ) {
        invocation = WorkerInvocation(role: .commitOnce, directory: directory)
        invocation.worker = 7
        invocation.sequence = sequence
        invocation.payloadBytes = payloadBytes
        invocation.lockBackend = backend
        invocation.faults = faults
        invocation.lockTimeout = lockTimeout
        invocation.seed = 4242
    }

    var expectedPayload: [UInt8] { (try? CommitOnceWorker.payload(for: invocation)) ?? [] }

    /// Runs the child to completion (waiting on a thread of its own, see
    /// `BlockingWork`); `wrapper` (e.g. strace and its options) is put in front
    /// of the harness on the command line.
    func run(under wrapper: [String] = []) async throws -> ChildProcess.Result {
        let command = wrapper.isEmpty ? [Self.harness] + invocation.arguments : wrapper + [Self.harness] + invocation.arguments
        return try await BlockingWork.run { try ChildProcess.run(command[0], Array(command.dropFirst())) }
    }

    /// The same, blocking the calling thread (for one-time set-up outside a test).
    func runBlocking(under wrapper: [String] = []) throws -> ChildProcess.Result {
        let command = wrapper.isEmpty ? [Self.harness] + invocation.arguments : wrapper + [Self.harness] + invocation.arguments
        return try ChildProcess.run(command[0], Array(command.dropFirst()))
    }

    /// How many planned faults fired in the child, as its verdict line reports
    /// (`faults=N`); nil when it printed no verdict.
    static func firedFaults(_ result: ChildProcess.Result) -> Int? {
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        return line.field("faults").flatMap(Int.init)
    }

    /// What the child printed last.
    enum Verdict: Equatable, CustomStringConvertible {
        case committed(generation: UInt64)
        case failed(kind: String, errno: String)
        case nothing(String)

        init(_ result: ChildProcess.Result) {
            let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
            if line.hasPrefix("COMMITTED"), let g = line.field("generation").flatMap(UInt64.init) {
                self = .committed(generation: g)
            } else if line.hasPrefix("FAILED") {
                self = .failed(kind: line.field("kind") ?? "?", errno: line.field("errno") ?? "?")
            } else {
                self = .nothing("stdout: \(result.stdoutText) stderr: \(result.stderr)")
            }
        }

        var description: String {
            switch self {
            case let .committed(g): "committed generation \(g)"
            case let .failed(kind, errno): "failed \(kind) \(errno)"
            case let .nothing(what): "no verdict (\(what))"
            }
        }
    }
}

extension String {
    /// The value of a `key=value` word in a line.
    func field(_ key: String) -> String? {
        for word in split(separator: " ") where word.hasPrefix(key + "=") {
            return String(word.dropFirst(key.count + 1))
        }
        return nil
    }
}
