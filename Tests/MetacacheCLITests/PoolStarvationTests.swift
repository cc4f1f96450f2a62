import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// The synchronous commands bridge into async library code (`refresh`). Called
/// from threads of the concurrency pool — a host's task, a test — that bridge
/// must not need another pool thread to finish, or callers on every pool thread
/// at once wait for each other (issue 17: CLI tests "all ending together").
@Suite struct PoolStarvationTests {
    /// A synchronous caller, as a host's synchronous code would be.
    static func refresh(_ directory: String, source: String) -> ExitCode {
        let context = CommandContext(
            environment: EnvironmentVariables([:]), standardOutput: CapturedOutput(), standardError: CapturedOutput(),
            interrupts: InterruptSignals())
        return MetacacheCommand.run(["cache", "refresh", "--dir", directory, "--source", source, "--force"], context: context)
    }

    @Test(.timeLimit(.minutes(1)))
    func refreshesCalledFromEveryPoolThreadAtOnceAllFinish() async throws {
        let dir = TemporaryDirectory("pool")
        try dir.write("src.json", Data(#"{"a":[1,2,3]}"#.utf8))
        // More callers than the pool has threads: each blocks the pool thread it
        // runs on until its refresh finishes.
        let callers = ProcessInfo.processInfo.activeProcessorCount * 2 + 1
        let source = dir.file("src.json")
        let codes = await withTaskGroup(of: ExitCode.self) { group in
            for index in 0..<callers {
                group.addTask { Self.refresh(dir.file("c\(index)"), source: source) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes.count == callers)
        #expect(codes.allSatisfy { $0 == .success }, "\(codes)")
    }

    /// The bridge runs the task's jobs on the waiting thread itself.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    @Test func theWaitingThreadRunsTheTask() throws {
        let caller = pthread_self()
        let ranOnCaller = try CallerThreadExecutor.run { () async -> Bool in
            await Task.yield()
            return pthread_equal(pthread_self(), caller) != 0
        }
        #expect(ranOnCaller)
    }
}
