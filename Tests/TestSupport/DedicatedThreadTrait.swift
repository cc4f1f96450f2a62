import MetadataCache
import Testing

/// `@Suite(.serialized, .dedicatedThread)`: every test of the suite (and of
/// suites nested in it) runs on an operating-system thread of its own, not on a
/// thread of Swift's cooperative pool.
///
/// Why: the pool has one thread per core (two on the CI machine) and Swift
/// Testing runs tests in parallel on it. A test that blocks — waiting for a child
/// process, a lock holder, a rename retry's backoff, an fsync of 64 MiB — or
/// computes for seconds holds its pool thread all that time. Two of them and
/// every other test of the process waits: trivial tests "took" 19 s, and a test
/// asserting that something fails "at once" took 25 s under load (issue 17). On
/// a thread of its own such a test delays nobody (the kernel time-slices it with
/// the rest); its async code (continuations, child tasks) runs on that same
/// thread (`CallerThreadExecutor`), so it needs no pool thread either.
///
/// Apply it to suites whose tests block or run long, together with
/// `.serialized`: Swift Testing starts every test that does not hold a pool
/// thread at once, so without it all the suite's tests (and their child
/// processes) would run together. With it, one test of each such suite runs at a
/// time, and the duration Swift Testing reports is the test's own, not time spent
/// queueing for a thread.
///
/// A test in such a suite must not make one of its own tasks block while another
/// of its tasks must run to unblock it (they share the one thread): hand such
/// blocking work to `BlockingWork.run`.
public struct DedicatedThreadTrait: TestTrait, SuiteTrait, TestScoping {
    /// A bound for suites that forget `.serialized`: blocking tests mostly sleep
    /// in the kernel, but hundreds at once would swamp the machine.
    public static let limit = 16

    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Suites and test functions as a whole pass through; each case runs alone.
        guard testCase != nil else {
            try await function()
            return
        }
        // Before macOS 15 there are no task executors: tests run on the pool there.
        guard #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *) else {
            try await function()
            return
        }
        await Self.slots.acquire()
        defer { Self.slots.release() }
        let executor = CallerThreadExecutor()
        // 8 MiB: what a main thread gets, for tests that recurse deeply.
        guard OSThread.detach(stackSize: 8 << 20, { executor.drive() }) else {
            try await function()
            return
        }
        defer { executor.finish() }
        try await withTaskExecutorPreference(executor) { try await function() }
    }

    private static let slots = Slots(limit)

    /// A counting semaphore whose waiters suspend (they never block a thread).
    private final class Slots: Sendable {
        private struct State {
            var free: Int
            var waiting: [CheckedContinuation<Void, Never>] = []
        }
        private let state: LockedValue<State>

        init(_ count: Int) { state = LockedValue(State(free: count)) }

        func acquire() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let granted = state.withLock { s -> Bool in
                    guard s.free > 0 else {
                        s.waiting.append(continuation)
                        return false
                    }
                    s.free -= 1
                    return true
                }
                if granted { continuation.resume() }
            }
        }

        func release() {
            let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if s.waiting.isEmpty {
                    s.free += 1
                    return nil
                }
                return s.waiting.removeFirst()
            }
            next?.resume()
        }
    }
}

extension Trait where Self == DedicatedThreadTrait {
    /// Runs each test on a thread of its own instead of the concurrency pool (see
    /// `DedicatedThreadTrait`).
    public static var dedicatedThread: DedicatedThreadTrait { DedicatedThreadTrait() }
}
