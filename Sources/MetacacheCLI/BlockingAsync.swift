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
enum BlockingAsync {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        try CallerThreadExecutor.run(body)
    }
}
