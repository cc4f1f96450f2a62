import Foundation
import MetadataCache

/// Writes an ordinary (non-stress) cache, as a host tool would.
enum MetadataCacheFixture {
    @discardableResult
    static func commit(_ json: String, in directory: String) throws -> CacheStore {
        let store = try CacheStore(directory: directory)
        let writer = try store.acquireWriterLock(timeout: .immediate)
        try writer.commit(Data(json.utf8), source: "fixture")
        writer.release()
        return store
    }
}
