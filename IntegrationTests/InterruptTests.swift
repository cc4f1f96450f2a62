#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// SIGINT/SIGTERM: while waiting for the lock and during a slow fetch, exit 130,
/// nothing written, no temp file left. (During the commit itself:
/// SignalDuringCommitTests.)
@Suite struct InterruptTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func signalWhileWaitingForTheLockExits130(signal: Int32) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let holder = try LockHolder(cacheDir: cache.cacheDir, scratch: cache.directory)
        let waiter = try Metacache.start(
            ["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "infinite"])
        let first = try #require(try waiter.readErrorLine())
        #expect(first.hasPrefix("Waiting for lock on cache"))
        waiter.signal(signal)
        #expect(try waiter.wait(timeout: .seconds(20)) == .exited(130))
        #expect(waiter.standardError.contains("Cancelled while waiting for lock"), "\(waiter.standardError)")
        #expect(cache.cacheBytes() == before)
        #expect(try holder.release() == .exited(0), "the holder is unaffected")
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func signalDuringASlowFetchExits130AndWritesNothing(signal: Int32) throws {
        let cache = try PopulatedCache()
        let before = cache.cacheBytes()
        let fifo = try FIFOWriter(path: cache.directory.file("slow.fifo"))
        let refresh = try Metacache.start(["cache", "refresh", "--dir", cache.cacheDir, "--source", fifo.path], stderr: .captured)
        try fifo.openWhenReaderArrives()
        fifo.write("{\"vendor\":\"temurin\",\"versions\":[")  // half a document, then the source stalls
        refresh.signal(signal)
        #expect(try refresh.wait(timeout: .seconds(20)) == .exited(130))
        #expect(refresh.standardError.contains("Cancelled while fetching \(fifo.path)"), "\(refresh.standardError)")
        #expect(refresh.standardError.contains("nothing was written"))
        #expect(cache.cacheBytes() == before)
        #expect(cache.tempFiles().isEmpty)
        // The lock was released: a new refresh succeeds at once.
        let next = try Metacache.run(["cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json"), "--lock-timeout", "0"])
        #expect(next.exitCode == 0, "\(next.summary)")
    }
}
}
