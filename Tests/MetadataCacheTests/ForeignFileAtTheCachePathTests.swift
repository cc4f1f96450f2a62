import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// The reader never waits and never allocates for a file that is not a cache.
@Suite struct ForeignFileAtTheCachePathTests {
    @Test(.timeLimit(.minutes(1))) func aFIFOAtTheCachePathIsRefusedWithoutBlocking() throws {
        let t = try TestStore("fifo")
        #expect(mkfifo(t.directory.file("metadata.json"), 0o600) == 0)
        // Without O_NONBLOCK, opening a FIFO with no writer blocks forever.
        #expect {
            _ = try t.store.read()
        } throws: { error in
            guard case let MetadataCacheError.corruptCache(_, problem) = error else { return false }
            return problem == .notARegularFile
        }
    }

    @Test func aHugeForeignFileIsRejectedByItsHeaderBeforeTheWholeFileIsRead() throws {
        let recorder = FaultInjectingSystemCalls(faults: [])
        let t = try TestStore("huge") { $0.systemCalls = SystemCalls(provider: recorder) }
        let path = t.directory.file("metadata.json")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        // Sparse: 100 MiB of zeros costs no disk, but would cost 100 MiB of memory.
        #expect(ftruncate(fd, 100 << 20) == 0)
        close(fd)
        let start = recorder.callLog.count
        #expect(throws: MetadataCacheError.self) { _ = try t.store.read() }
        let calls = recorder.callLog[start...].compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(!calls.contains("read"), "the whole file was read: \(calls)")
        #expect(calls.contains("pread"))
    }
}
