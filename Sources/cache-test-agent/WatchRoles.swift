// Watch roles of cache-test-agent (see main.swift for the protocol: one line per
// fact on stdout; the test synchronises by reading lines):
//
//   watch --dir D [--polling-ms N] [--fallback-ms N]
//       CacheStore.changes(); prints WATCHING, then per element
//       VERSION generation=G commit=HEX digest=FNV bytes=N; FALLBACK reason=…
//       when the watch falls back to polling; stops when stdin closes (ENDED) or
//       the watch fails (ENDED error=…, exit 1).
//   commit-many --dir D --count N --tag T
//       N commits of distinct payloads; per commit
//       COMMITTED generation=G commit=HEX digest=FNV; then DONE.
//   watch-churn --dir D --count N [--lanes K] [--keep K]
//       opens and stops N watches (K at a time; each stopped in turn by task
//       cancellation, a cancelled token, a `break`, or before its first element),
//       then prints BASELINE and AFTER fds=… threads=… (/proc/self). --keep K
//       leaves K watches running (the control: AFTER must then show them).

import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#endif

enum WatchRoles {
    static let commands: Set<String> = ["watch", "commit-many", "watch-churn"]

    static func run(_ command: String, values: [String: String], store: CacheStore) async throws {
        switch command {
        case "watch": try await watch(values, store: store)
        case "commit-many": try commitMany(values, store: store)
        case "watch-churn": try await churn(values, store: store)
        default: break
        }
    }

    /// FNV-1a 64: a digest independent of the library's XXH64, so a test can check
    /// that what a watcher was given is byte for byte what a refresher committed.
    static func digest(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// 16 hex digits, as `read --meta` and `watch --json` print commit ids.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    // MARK: watch

    static func watch(_ values: [String: String], store: CacheStore) async throws {
        let detection: CacheChangeDetection
        if let ms = values["polling-ms"].flatMap(Int64.init) {
            detection = .polling(interval: .milliseconds(ms))
        } else {
            detection = .automatic(fallbackInterval: .milliseconds(values["fallback-ms"].flatMap(Int64.init) ?? 1000))
        }
        let stop = CancellationToken()
        // The test closes stdin to stop the watch.
        Thread.detachNewThread {
            waitForStdinToClose()
            stop.cancel()
        }
        var options = store.options
        options.observer = CacheEventHandler { event in
            if case let .watchFallbackToPolling(_, reason, interval) = event {
                say("FALLBACK intervalMs=\(Int(interval.milliseconds)) reason=\(reason)")
            }
        }
        let watched = try CacheStore(directory: store.directory, name: store.name, options: options)
        say("WATCHING pid=\(getpid())")
        do throws(MetadataCacheError) {
            for try await snapshot in watched.changes(detection: detection, cancellation: stop) {
                say("VERSION generation=\(snapshot.generation) commit=\(hex(snapshot.commitID)) "
                    + "digest=\(snapshot.payload.withUnsafeBytes { digest($0) }) bytes=\(snapshot.payload.count)")
            }
            say("ENDED")
        } catch {
            say("ENDED error=\(error)")
            exit(1)
        }
    }

    // MARK: commit-many

    static func commitMany(_ values: [String: String], store: CacheStore) throws {
        let count = Int(values["count"] ?? "1") ?? 1
        let tag = values["tag"] ?? "w\(getpid())"
        for seq in 0..<count {
            // Distinct payloads of varying size, so that equal sizes cannot hide a
            // mix-up and inode reuse is likely.
            let pad = String(repeating: "x", count: (seq * 37) % 300)
            let payload = Array(#"{"writer":"\#(tag)","seq":\#(seq),"pad":"\#(pad)"}"#.utf8)
            let writer = try store.acquireWriterLock(timeout: .after(.seconds(60)))
            let receipt = try writer.commit(payload, source: "agent \(tag)")
            writer.release()
            say("COMMITTED generation=\(receipt.generation) commit=\(hex(receipt.commitID)) digest=\(digest(payload))")
        }
        say("DONE")
    }

    // MARK: watch-churn

    static func descriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// One watch, started and stopped in the given way.
    static func churnOne(_ store: CacheStore, style: Int) async throws {
        switch style % 4 {
        case 0:
            // Task cancellation while waiting for the next commit.
            let task = Task {
                var iterator = store.changes().makeAsyncIterator()
                _ = try await iterator.next()
                let started = Task { try await iterator.next() }
                started.cancel()
                _ = try await started.value
            }
            try await task.value
        case 1:
            // A cancellation token, after the first element.
            let token = CancellationToken()
            var iterator = store.changes(cancellation: token).makeAsyncIterator()
            _ = try await iterator.next()
            token.cancel()
            _ = try await iterator.next()
        case 2:
            // `break` out of a for-await loop: the iterator is released.
            for try await _ in store.changes() { break }
        default:
            // Cancelled before the watch's thread could even look.
            let task = Task {
                var iterator = store.changes().makeAsyncIterator()
                return try await iterator.next()
            }
            task.cancel()
            _ = try await task.value
        }
    }

    static func churn(_ values: [String: String], store: CacheStore) async throws {
        let count = Int(values["count"] ?? "100") ?? 100
        let lanes = max(1, Int(values["lanes"] ?? "4") ?? 4)
        let keep = Int(values["keep"] ?? "0") ?? 0
        // Warm up at full concurrency: the concurrency pool has grown to the width
        // it will have, and Foundation's own descriptors exist, before the baseline.
        try await churnInLanes(store, count: lanes * 8, lanes: lanes)
        try await settle(watchThreads: 0)
        let baseFDs = descriptorCount()
        let baseThreads = threadCount()
        say("BASELINE fds=\(baseFDs) threads=\(baseThreads) watchThreads=\(threadCount(named: watchThreadName))")
        let started = ContinuousClock.now
        try await churnInLanes(store, count: count, lanes: lanes)
        var kept: [CacheChanges.Iterator] = []
        for _ in 0..<keep {
            var iterator = store.changes().makeAsyncIterator()
            _ = try await iterator.next()
            kept.append(iterator)
        }
        try await settle(watchThreads: keep)
        say("AFTER fds=\(descriptorCount()) threads=\(threadCount()) watchThreads=\(threadCount(named: watchThreadName)) watches=\(count) seconds=\((ContinuousClock.now - started).components.seconds)")
        withExtendedLifetime(kept) {}
    }

    /// `count` watches, `lanes` at a time, cycling through the ways to stop one.
    static func churnInLanes(_ store: CacheStore, count: Int, lanes: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var n = lane
                    while n < count {
                        try await churnOne(store, style: n)
                        n += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The name the library gives each watch's thread (CacheWatchSession).
    static let watchThreadName = "metacache-watch"

    /// Waits (bounded, 30 s) until at most `watchThreads` watch threads are left:
    /// a finished watch's thread exits just after its last step. Always sleeps
    /// once first, so the sleep's own one-time set-up (the runtime's timer
    /// descriptor) exists before any baseline is taken.
    static func settle(watchThreads: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            try await Task.sleep(for: .milliseconds(10))
            if threadCount(named: watchThreadName) <= watchThreads { return }
        } while ContinuousClock.now < deadline
    }
}
