import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// Commits of payloads large enough for the checksum to run on a second thread
/// during the write (`ConcurrentChecksum`): same file, same guarantees.
@Suite(.serialized, .dedicatedThread) struct LargePayloadCommitTests {
    /// Valid JSON just over the concurrent-checksum threshold.
    static let largePayload: Data = {
        let count = ConcurrentChecksum.minimumBytes / 2 + 1024
        return Data(("[" + String(repeating: "7,", count: count) + "7]").utf8)
    }()

    @Test func theConcurrentChecksumIsTheInlineOne() throws {
        try Self.largePayload.withUnsafeBytes { bytes in
            let concurrent = try #require(ConcurrentChecksum.start(bytes), "this machine has one core?")
            #expect(concurrent.value() == XXH64.hash(bytes))
            #expect(concurrent.value() == XXH64.hash(bytes), "a second call returns the same value")
        }
        samplePayload.withUnsafeBytes { bytes in
            #expect(ConcurrentChecksum.start(bytes) == nil, "small payloads are hashed inline")
        }
    }

    @Test func aLargeCommitWritesThenRewritesTheHeaderBeforeTheFsync() throws {
        let recorder = FaultInjectingSystemCalls(faults: [])
        let t = try TestStore("large") { $0.systemCalls = SystemCalls(provider: recorder) }
        let writer = try t.store.acquireWriterLock()
        let start = recorder.callLog.count
        let receipt = try writer.commit(Self.largePayload)
        writer.release()
        let calls = recorder.callLog[start...].map { $0.split(separator: " ").first.map(String.init) ?? $0 }
        let steps = calls.filter { ["availableBytes", "write", "pwrite", "fsync", "rename", "fsyncDirectory"].contains($0) }
        // The two "write"s are the header and payload buffers of one writev; the
        // pwrite puts the final checksum in place; then the usual fsync and rename.
        #expect(steps.prefix(7) == ["availableBytes", "write", "write", "pwrite", "fsync", "rename", "fsyncDirectory"])
        let snapshot = try #require(try t.plain().read())
        #expect(snapshot.payload == Self.largePayload)
        #expect(snapshot.generation == receipt.generation)
    }

    /// pwrite #1 is the holder record published when the lock was taken; #2 is the
    /// final header.
    @Test(arguments: ["pwrite#2=EIO", "pwrite#2=ENOSPC", "write#2=ENOSPC", "write#1=EIO", "fsync=EIO"])
    func aFailureWhileTheChecksumRunsLeavesThePreviousCacheIntactAndNoTemp(fault: String) throws {
        let t = try TestStore("large-fault", backend: .advisory, faults: [try #require(InjectedFault.parse(fault))])
        try t.seed()
        let before = try #require(t.cacheBytes)
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { () throws(MetadataCacheError) in try writer.commit(Self.largePayload) }
        guard case let .failure(error) = outcome else {
            Issue.record("commit succeeded despite \(fault)")
            return
        }
        #expect(error.errno != nil, "\(error)")
        #expect(t.cacheBytes == before, "previous cache changed")
        #expect(t.tempFiles.isEmpty, "temp left behind: \(t.tempFiles)")
        writer.release()
        #expect(try t.plain().read()?.payload == samplePayload)
    }
}
