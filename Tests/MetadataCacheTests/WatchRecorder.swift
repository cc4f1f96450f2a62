import Foundation
import Testing
@testable import MetadataCache

/// Iterates a watch (`CacheStore.changes`) in its own task and records every
/// element and how the watch ended; a test waits for a condition on what was
/// recorded. Each arrival resumes the waiters — no polling — and the timeout only
/// bounds a test that would otherwise hang.
final class WatchRecorder: @unchecked Sendable {
    enum Ending: Equatable {
        case returnedNil
        case threw(MetadataCacheError)
    }

    struct Seen: Sendable {
        let generation: UInt64
        let commitID: UInt64
        let payload: Data
    }

    private let lock = NSLock()
    private var seen: [Seen] = []
    private var ending: Ending?
    private var waiters: [(id: UUID, ready: () -> Bool, continuation: CheckedContinuation<Void, Error>)] = []
    private var task: Task<Void, Never>?

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameter pause: awaited before each element is recorded (a slow consumer).
    init(_ changes: CacheChanges, pause: (@Sendable () async -> Void)? = nil) {
        // Weak: releasing the recorder cancels its task, which ends the watch.
        task = Task { [weak self] in
            do throws(MetadataCacheError) {
                for try await snapshot in changes {
                    if let pause { await pause() }
                    self?.record(snapshot)
                }
                self?.end(.returnedNil)
            } catch {
                self?.end(.threw(error))
            }
        }
    }

    private func record(_ snapshot: CacheSnapshot) {
        update { $0.seen.append(Seen(generation: snapshot.generation, commitID: snapshot.commitID, payload: snapshot.payload)) }
    }

    private func end(_ how: Ending) { update { $0.ending = how } }

    private func update(_ change: (WatchRecorder) -> Void) {
        lock.lock()
        change(self)
        var ready: [CheckedContinuation<Void, Error>] = []
        waiters.removeAll { waiter in
            guard waiter.ready() else { return false }
            ready.append(waiter.continuation)
            return true
        }
        lock.unlock()
        ready.forEach { $0.resume() }
    }

    var elements: [Seen] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    var generations: [UInt64] { elements.map(\.generation) }

    var ended: Ending? {
        lock.lock()
        defer { lock.unlock() }
        return ending
    }

    /// Suspends until `condition` holds for what was recorded (checked at each
    /// arrival), or throws after `timeout`.
    func wait(
        for what: String, timeout: Duration = .seconds(30), _ condition: @escaping (_ seen: [Seen], _ ended: Ending?) -> Bool
    ) async throws {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            lock.lock()
            let check = { [unowned self] in condition(self.seen, self.ending) }
            if check() {
                lock.unlock()
                continuation.resume()
                return
            }
            waiters.append((id, check, continuation))
            lock.unlock()
        }
    }

    private func expire(_ id: UUID) {
        lock.lock()
        let index = waiters.firstIndex { $0.id == id }
        let waiter = index.map { waiters.remove(at: $0) }
        let state = "generations so far \(seen.map(\.generation)), ended: \(String(describing: ending))"
        lock.unlock()
        waiter?.continuation.resume(throwing: Timeout(description: "timed out waiting; \(state)"))
    }

    func waitForGeneration(_ generation: UInt64, commitID: UInt64? = nil, timeout: Duration = .seconds(30)) async throws {
        try await wait(for: "generation \(generation)", timeout: timeout) { seen, _ in
            seen.contains { $0.generation == generation && (commitID == nil || $0.commitID == commitID) }
        }
    }

    func waitForCommit(_ commitID: UInt64, timeout: Duration = .seconds(30)) async throws {
        try await wait(for: "commit \(commitID)", timeout: timeout) { seen, _ in seen.contains { $0.commitID == commitID } }
    }

    func waitForEnd(timeout: Duration = .seconds(30)) async throws -> Ending {
        try await wait(for: "the end", timeout: timeout) { _, ended in ended != nil }
        return ended!
    }

    func cancel() { task?.cancel() }

    deinit { task?.cancel() }
}

/// Runs `body` (an await with no timeout of its own, such as
/// `EventRecorder.waitFor`) and throws if it has not returned after `timeout`, so
/// that a broken watch fails its test instead of hanging the run.
func bounded(
    _ what: String, timeout: Duration = .seconds(30), _ body: @escaping @Sendable () async -> Void
) async throws {
    final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Void, Error>?
        init(_ continuation: CheckedContinuation<Void, Error>) { self.continuation = continuation }
        func resume(_ result: Result<Void, Error>) {
            lock.lock()
            let c = continuation
            continuation = nil
            lock.unlock()
            c?.resume(with: result)
        }
    }
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        let once = Once(continuation)
        Task {
            await body()
            once.resume(.success(()))
        }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(.failure(WatchRecorder.Timeout(description: "timed out after \(timeout) waiting for \(what)")))
        }
    }
}
