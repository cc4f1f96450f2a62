#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A task executor whose jobs run on the one thread that drives it (`drive`):
/// a thread that has to block until some async work finishes lends itself to
/// that work instead of waiting for a thread of the shared concurrency pool.
///
/// Guarantee: `run(_:)` returns once `body` has finished, having executed every
/// job of it (and of the child tasks that inherit the preference) on the calling
/// thread; it needs no other thread to make progress.
///
/// Why: synchronous code that blocks on async work (the `metacache` command's
/// synchronous commands calling `CacheStore.refresh`; a synchronous test calling
/// such a command) usually starts a task and waits for it. If the waiting thread
/// is itself one of the pool's threads (the pool has one per core: two on the CI
/// machine), the task may need exactly the thread that is waiting: with both
/// blocked that way, nothing runs until something else times out (a suite of
/// such tests "all ending together at 30 s"). Here the waiting thread runs the
/// task itself.
///
/// Needs macOS 15 (task executors); on older Darwin systems its callers fall back
/// to waiting for a pool thread (`BlockingAsync` in MetacacheCLI).
@available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
package final class CallerThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `finished` are only touched under `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [UnownedJob] = []
    private var finished = false

    package init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Runs jobs on the calling thread, sleeping while there are none, until
    /// `finish()` has been called and no job is left.
    package func drive() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !finished { pthread_cond_wait(condition, mutex) }
            if jobs.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(mutex)
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    /// Lets `drive` return once the jobs already queued have run.
    package func finish() {
        pthread_mutex_lock(mutex)
        finished = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` as a task whose jobs all run on the calling thread, and
    /// returns its result: a blocking wait for async work that does not depend on
    /// any other thread being free.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = CallerThreadExecutor()
        let outcome = LockedValue<Result<T, any Error>?>(nil)
        Task.detached(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            executor.finish()
        }
        executor.drive()
        guard let result = outcome.withLock({ $0 }) else { fatalError("the task finished without a result") }
        return try result.get()
    }
}
