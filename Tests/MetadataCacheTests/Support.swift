import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// The library test agent (Sources/cache-test-agent), launched as a real process.
enum Agent {
    static var path: String { BuiltProducts.path(of: "cache-test-agent") }

    /// Starts the agent with stdin as a pipe (closing it tells the agent to let go)
    /// and stdout as a pipe (one line per fact).
    static func start(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(path, arguments, stdin: .pipe, stdout: .pipe, stderr: .captured)
    }

    static func run(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(path, arguments)
    }
}

/// A store in a fresh private directory, with an optional fault plan.
struct TestStore {
    let directory: TemporaryDirectory
    let store: CacheStore
    let events: EventRecorder

    init(
        _ label: String = "store", backend: LockBackendSelection = .auto, faults: [InjectedFault] = [],
        configure: (inout CacheStoreOptions) -> Void = { _ in }
    ) throws {
        directory = TemporaryDirectory(label)
        events = EventRecorder()
        var options = CacheStoreOptions()
        options.lockBackend = backend
        options.observer = events
        if !faults.isEmpty {
            options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(faults: faults))
        }
        configure(&options)
        store = try CacheStore(directory: directory.path, options: options)
    }

    /// Which occurrence of `kind` (1-based, as `InjectedFault` counts) is the
    /// first one after the first call matching `marker`, in a dry run of `body`
    /// on a store like this one recording its calls. For faults aimed at an
    /// fd-based call (close, fstat), which the log names by kind only: their
    /// number depends on how deep the test directory is (the directory walk
    /// makes some of each).
    static func occurrence(
        of kind: String, after marker: (String) -> Bool, backend: LockBackendSelection = .auto,
        dryRun body: (TestStore) throws -> Void
    ) throws -> Int {
        let recorder = FaultInjectingSystemCalls(faults: [])
        let t = try TestStore("dry-run", backend: backend) { $0.systemCalls = SystemCalls(provider: recorder) }
        try? body(t)
        let log = recorder.callLog.map { $0.split(separator: " ").first.map(String.init) ?? $0 }
        let full = recorder.callLog
        guard let start = full.firstIndex(where: marker),
            let target = log[(start + 1)...].firstIndex(of: kind)
        else { return 0 }
        return log[...target].filter { $0 == kind }.count
    }

    /// A second store on the same directory without faults (to set up or inspect).
    func plain() throws -> CacheStore {
        try CacheStore(directory: directory.path)
    }

    var cacheBytes: Data? { directory.contents("metadata.json") }

    /// Commits `payload` through a separate fault-free store (test set-up).
    func seed(_ payload: Data = samplePayload, fetchedAt: Date = Date()) throws {
        try plain().acquireWriterLock().commit(payload, fetchedAt: fetchedAt)
    }

    var tempFiles: [String] { directory.listing().filter { $0.contains(".tmp-") } }
}

/// Collects events, with the instant each arrived, and lets a test wait for one.
final class EventRecorder: CacheObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [(ContinuousClock.Instant, CacheEvent)] = []
    private var waiters: [(name: String, count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    func observe(_ event: CacheEvent) {
        lock.lock()
        recorded.append((.now, event))
        var ready: [CheckedContinuation<Void, Never>] = []
        waiters.removeAll { waiter in
            guard countLocked(waiter.name) >= waiter.count else { return false }
            ready.append(waiter.continuation)
            return true
        }
        lock.unlock()
        ready.forEach { $0.resume() }
    }

    private func countLocked(_ name: String) -> Int { recorded.filter { $0.1.name == name }.count }

    /// Suspends (without occupying a thread) until `count` events named `name`
    /// have been observed. The event itself resumes the wait: no polling.
    func waitFor(_ name: String, count: Int = 1) async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if countLocked(name) >= count {
                lock.unlock()
                continuation.resume()
                return
            }
            waiters.append((name, count, continuation))
            lock.unlock()
        }
    }

    var events: [CacheEvent] {
        lock.lock()
        defer { lock.unlock() }
        return recorded.map(\.1)
    }

    var timed: [(ContinuousClock.Instant, CacheEvent)] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func names() -> [String] { events.map(\.name) }
}

extension String {
    /// `key=value` field of an agent line.
    func field(_ key: String) -> String? {
        for part in split(separator: " ") where part.hasPrefix(key + "=") {
            return String(part.dropFirst(key.count + 1))
        }
        return nil
    }
}

let samplePayload = Data(#"{"packages":[{"vendor":"temurin","version":"21.0.5+11"}]}"#.utf8)

/// The error an acquisition throws, or nil if it succeeded (the guard is released).
func acquisitionError(_ body: () throws(MetadataCacheError) -> CacheWriterLockGuard) -> MetadataCacheError? {
    do {
        let writer = try body()
        writer.release()
        return nil
    } catch {
        return error
    }
}
