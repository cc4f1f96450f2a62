import Foundation

/// Runs blocking work — waiting for a child process, a long `ChildProcess.run` —
/// on a thread of its own, so that the awaiting test does not occupy one of the
/// few threads of Swift's cooperative pool while it waits.
///
/// Why it matters: the pool has one thread per core (two on the CI machine), and
/// Swift Testing runs tests in parallel on it. A test that blocks a pool thread
/// for 20 s (a stress run) leaves every other test one thread; a test that then
/// blocks too while its own `Task` needs a thread stalls until the first ends.
public enum BlockingWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
