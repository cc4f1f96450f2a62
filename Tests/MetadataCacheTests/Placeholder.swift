import Testing
import Foundation
@testable import MetadataCache

@Test func smoke() throws {
    let dir = NSTemporaryDirectory() + "mc-smoke-\(UUID().uuidString)"
    let store = try CacheStore(directory: dir)
    #expect(try store.read() == nil)
    let g = try store.acquireWriterLock(timeout: .immediate)
    let r = try g.commit(Data("{\"a\":1}".utf8), source: "test")
    #expect(r.generation == 1)
    // second acquire in same process refused
    #expect(throws: MetadataCacheError.self) { _ = try store.acquireWriterLock(timeout: .immediate) }
    g.release()
    let snap = try #require(try store.read())
    #expect(String(decoding: snap.payload, as: UTF8.self) == "{\"a\":1}")
    #expect(snap.generation == 1)
    let r2 = try store.update { _ in Data("[1,2]".utf8) }
    #expect(r2.generation == 2)
    #expect(try store.hasChanged(since: snap))
    let st = try store.status()
    #expect(st.integrity == .ok)
    #expect(st.lock.held == false)
    // contention with holder
    let g2 = try store.acquireWriterLock()
    let fd = open(store.lockPath, O_RDONLY)
    #expect(flock(fd, LOCK_EX | LOCK_NB) == -1)
    close(fd)
    let st2 = try store.status()
    #expect(st2.lock.held)
    #expect(st2.lock.holder?.pid == getpid())
    _ = consume g2
    // corrupt
    var bytes = try Data(contentsOf: URL(fileURLWithPath: store.cachePath))
    bytes[bytes.count - 1] ^= 1
    try bytes.write(to: URL(fileURLWithPath: store.cachePath))
    #expect(throws: MetadataCacheError.self) { _ = try store.read() }
    let moved = try store.moveCorruptCacheAside()
    #expect(moved != nil)
    print(try FileManager.default.contentsOfDirectory(atPath: dir))
}
