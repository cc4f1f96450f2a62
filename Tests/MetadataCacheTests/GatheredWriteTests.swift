import Foundation
import Testing
import TestSupport
@testable import MetadataCache

#if canImport(Glibc)
import Glibc
#endif

/// `SystemCalls.writeAll` over several buffers: whatever the kernel accepts per
/// call, every byte lands once, in order.
@Suite struct GatheredWriteTests {
    /// A real provider whose `writev` accepts at most `limit` bytes per call (cut
    /// anywhere, including inside a buffer or exactly at a boundary), and which
    /// interrupts every third call before it transfers anything.
    final class StingyProvider: SystemCallProvider, @unchecked Sendable {
        let live = LiveSystemCallProvider()
        let limit: Int
        let calls = AtomicCell<Int>(0)
        init(limit: Int) { self.limit = limit }

        func writev(_ fd: Int32, from buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
            let call = calls.wrappingAdd(1).newValue
            if call % 3 == 0 { throw .interrupted }
            var left = limit
            var cut: [UnsafeRawBufferPointer] = []
            for buffer in buffers where left > 0 {
                cut.append(UnsafeRawBufferPointer(rebasing: buffer.prefix(left)))
                left -= min(left, buffer.count)
            }
            return try live.writev(fd, from: cut)
        }

        func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 { try live.open(path, flags: flags, mode: mode) }
        func close(_ fd: Int32) throws(Errno) { try live.close(fd) }
        func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { try live.read(fd, into: buffer) }
        func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int { try live.pread(fd, into: buffer, at: offset) }
        func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int { try live.write(fd, from: buffer) }
        func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) -> Int { try live.pwrite(fd, from: buffer, at: offset) }
        func fsync(_ fd: Int32) throws(Errno) { try live.fsync(fd) }
        func fsyncDirectory(_ fd: Int32) throws(Errno) { try live.fsyncDirectory(fd) }
        func ftruncate(_ fd: Int32, length: Int64) throws(Errno) { try live.ftruncate(fd, length: length) }
        func fstat(_ fd: Int32) throws(Errno) -> FileStatus { try live.fstat(fd) }
        func lstat(_ path: String) throws(Errno) -> FileStatus { try live.lstat(path) }
        func rename(_ from: String, to: String) throws(Errno) { try live.rename(from, to: to) }
        func link(_ from: String, to: String) throws(Errno) { try live.link(from, to: to) }
        func unlink(_ path: String) throws(Errno) { try live.unlink(path) }
        func mkdir(_ path: String, mode: mode_t) throws(Errno) { try live.mkdir(path, mode: mode) }
        func flock(_ fd: Int32, operation: Int32) throws(Errno) { try live.flock(fd, operation: operation) }
        func touch(_ fd: Int32) throws(Errno) { try live.touch(fd) }
        func availableBytes(_ path: String) throws(Errno) -> UInt64? { try live.availableBytes(path) }
        func fileSystemType(_ path: String) throws(Errno) -> FileSystemType { try live.fileSystemType(path) }
        func listDirectory(_ path: String) throws(Errno) -> [String] { try live.listDirectory(path) }
    }

    @Test(arguments: [1, 7, 95, 96, 4096, 1 << 20])
    func everyByteLandsOnceInOrderWhateverEachCallAccepts(limit: Int) throws {
        let dir = TemporaryDirectory("gathered")
        let path = dir.file("out")
        let first = [UInt8]((0..<95).map { UInt8($0) })
        let second = [UInt8]((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let third: [UInt8] = []
        let provider = StingyProvider(limit: limit)
        let sys = SystemCalls(provider: provider)
        let fd = try sys.open(path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600, operation: "create")
        defer { sys.closeIgnoringErrors(fd) }
        try first.withUnsafeBytes { a in
            try second.withUnsafeBytes { b in
                try third.withUnsafeBytes { c in try sys.writeAll(fd, [a, c, b], path: path) }
            }
        }
        #expect(dir.contents("out") == Data(first + second))
        let expectedCalls = (first.count + second.count + limit - 1) / limit
        #expect(provider.calls.load() >= expectedCalls)
    }
}
