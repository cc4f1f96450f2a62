import Dispatch
import MetadataCache

/// Runs async library code (`CacheStore.refresh`) from the synchronous commands.
///
/// The calling thread runs the task itself (`CallerThreadExecutor`) until it
/// finishes: nothing waits for a thread of the concurrency pool. In the
/// executable the caller is the main thread, which the pool never had; but a
/// host, a harness or a test that calls `MetacacheCommand.run` from a pool thread
/// would otherwise block that thread on a task that needs a free one (two such
/// callers on a two-core machine: nothing runs until something times out).
/// Kept out of the `read` path: only commands that need async code pay for it.
///
/// Before macOS 15 there are no task executors: the task runs on the pool and the
/// caller waits for it. That is the starvation above for a caller on a pool
/// thread, but not for the executable's main thread, the case that matters there.
enum BlockingAsync {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        if #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *) {
            return try CallerThreadExecutor.run(body)
        }
        let outcome = LockedValue<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { fatalError("the task finished without a result") }
        return try result.get()
    }
}
