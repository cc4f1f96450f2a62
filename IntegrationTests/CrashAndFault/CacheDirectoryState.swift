import Foundation
import MetadataCache
import TestSupport

/// What a cache directory holds, as the crash and fault tests compare it: the
/// cache file's exact bytes, the verified payload, and leftover temp files.
struct CacheDirectoryState {
    let directory: String
    let cacheFile: Data?
    let temps: [String]

    init(_ directory: String) {
        self.directory = directory
        cacheFile = FileManager.default.contents(atPath: directory + "/metadata.json")
        temps = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("metadata.json.tmp-") }.sorted()
    }

    /// The payload as the library reads and verifies it (nil if missing; throws
    /// if corrupt).
    func verifiedPayload() throws -> [UInt8]? {
        try CacheStore(directory: directory, options: Self.inspectionOptions).read().map { Array($0.payload) }
    }

    /// A store that never sweeps by itself, so the tests see orphans as the crash
    /// left them and can check that the sweeper removes them.
    static var inspectionOptions: CacheStoreOptions {
        var o = CacheStoreOptions()
        o.sweepOnOpen = false
        return o
    }

    func tempSize(_ name: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? -1
    }
}
