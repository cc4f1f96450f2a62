import Foundation
import Testing
import TestSupport
@testable import MetadataCache

/// Parsing Linux's /proc/locks, and matching its entries to a file's stat.
@Suite(.serialized, .dedicatedThread) struct KernelLockTableTests {
    static let sample = """
        1: FLOCK  ADVISORY  WRITE 31367 fe:00:16220235 0 EOF
        1: -> FLOCK  ADVISORY  WRITE 31372 fe:00:16220235 0 EOF
        2: FLOCK  ADVISORY  READ 31370 fe:00:777 0 EOF
        3: POSIX  ADVISORY  WRITE 900 fe:00:888 0 EOF
        4: OFDLCK ADVISORY  WRITE -1 fe:00:999 0 EOF
        5: FLOCK  ADVISORY  WRITE 42 103:1a:5678 0 EOF
        6: LEASE  ACTIVE    READ 77 00:2d:1 0 EOF
        garbage line
        """

    @Test func onlyGrantedExclusiveFlocksAreListed() {
        let table = KernelLockTable(parsing: Self.sample)
        #expect(table.exclusiveFlocks == [
            .init(pid: 31367, major: 0xFE, minor: 0x00, inode: 16_220_235),
            .init(pid: 42, major: 0x103, minor: 0x1A, inode: 5678),
        ])
        #expect(table.exclusiveFlocks(onInode: 16_220_235).map(\.pid) == [31367])
        #expect(table.exclusiveFlocks(onInode: 777).isEmpty, "a shared lock is not a holder")
        #expect(table.exclusiveFlocks(onInode: 888).isEmpty, "POSIX locks are not the writer lock")
    }

    @Test func devicesAreMatchedInHexAsTheKernelPrintsThem() {
        // stat's st_dev 65024 is 0xfe00: major 0xfe, minor 0 ("fe:00").
        let lock = KernelLockTable.ExclusiveFlock(pid: 1, major: 0xFE, minor: 0, inode: 1)
        #expect(lock.isOnDevice(65024))
        #expect(!lock.isOnDevice(65025))
        // Large numbers use the split encoding (glibc's makedev): major 0x103, minor 0x1a.
        let big = KernelLockTable.ExclusiveFlock(pid: 1, major: 0x103, minor: 0x1A, inode: 1)
        let device: UInt64 = ((0x103 & 0xFFF) << 8) | (0x1A & 0xFF)
        #expect(big.isOnDevice(device))
        let huge = KernelLockTable.ExclusiveFlock(pid: 1, major: 0x1234, minor: 0x56789, inode: 1)
        let split: UInt64 = ((0x1234 & 0xFFF) << 8) | ((0x1234 & ~0xFFF) << 32) | (0x56789 & 0xFF) | ((0x56789 & ~0xFF) << 12)
        #expect(huge.isOnDevice(split))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/locks")))
    func aLockThisProcessHoldsIsInTheRealTable() throws {
        let t = try TestStore("proc-locks")
        let writer = try t.store.acquireWriterLock()
        let status = try #require(try SystemCalls.live.lstatIfExists(t.store.lockPath))
        let table = try #require(KernelLockTable.current())
        let mine = table.exclusiveFlocks(onInode: status.inode)
        #expect(mine.contains { $0.isOnDevice(status.device) && $0.pid == getpid() }, "\(table.exclusiveFlocks)")
        writer.release()
        #expect(try #require(KernelLockTable.current()).exclusiveFlocks(onInode: status.inode).isEmpty)
    }
}
