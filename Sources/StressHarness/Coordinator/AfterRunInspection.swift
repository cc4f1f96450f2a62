import CSystemShims
import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state of the cache directory once every worker has exited.
///
/// Guarantee: observed in this order, after all workers are reaped: the directory
/// is listed for temp files the run left (`tempsBeforeSweep`: the harness's own
/// evidence of a leak, before the library gets a chance to tidy it away), the
/// sweeper runs (`CacheStore.sweep`), then the directory is listed again, the
/// lock is probed with the harness's own non-blocking `flock` and a look for an
/// owner file, and the final cache is read, verified by the library and then by
/// the harness (`StressPayload.parse`, header generation = payload generation).
package struct AfterRunInspection: Sendable {
    /// Temp files present when the run ended, before the sweep.
    package var tempsBeforeSweep: [String] = []
    package var swept: [String] = []
    /// Set when the sweeper found the lock held and removed nothing.
    package var sweepSkippedBecauseHeldBy: String?
    package var sweepError: String?
    /// Temp files still present after the sweep.
    package var orphanTemps: [String] = []
    package var advisoryLockFree = true
    package var ownerFilePresent = false
    package var libraryReportsLockHeld = false
    package var finalPayload: StressPayload?
    package var finalGeneration: UInt64?
    package var finalCacheProblem: String?

    package init() {}

    package var lockFree: Bool { advisoryLockFree && !ownerFilePresent && !libraryReportsLockHeld }

    package static func inspect(directory: String, backend: LockBackendSelection) -> AfterRunInspection {
        var result = AfterRunInspection()
        var options = CacheStoreOptions()
        options.lockBackend = backend
        options.sweepOnOpen = false
        guard let store = try? CacheStore(directory: directory, options: options) else {
            result.finalCacheProblem = "cannot open the store at \(directory)"
            return result
        }
        let layout = StoreLayout(directory: store.directory, name: store.name)
        func temps() -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: store.directory)) ?? []
            return names.filter { $0.hasPrefix(layout.tempPrefix) }.sorted()
        }
        result.tempsBeforeSweep = temps()
        do {
            let report = try store.sweep()
            result.swept = report.removed
            if report.skipped { result.sweepSkippedBecauseHeldBy = report.skippedBecauseHeldBy?.summary ?? "unknown holder" }
        } catch {
            result.sweepError = error.description
        }

        result.orphanTemps = temps()
        result.ownerFilePresent = FileManager.default.fileExists(atPath: layout.ownerPath)
        result.advisoryLockFree = advisoryLockIsFree(store.lockPath)
        result.libraryReportsLockHeld = store.lockState().held

        do {
            guard let snapshot = try store.verify() else {
                result.finalCacheProblem = "no cache file at the end of the run"
                return result
            }
            result.finalGeneration = snapshot.generation
            let parsed = snapshot.payload.withUnsafeBytes { raw in
                Result { () throws(StressPayload.Defect) in try StressPayload.parse(raw) }
            }
            switch parsed {
            case let .success(payload):
                // The counters are readable even if the generation check below fails,
                // so the lost-update check still runs.
                result.finalPayload = payload
                if payload.generation != 0, payload.generation != snapshot.generation {
                    result.finalCacheProblem =
                        "the final cache's header says generation \(snapshot.generation) but its payload was written for generation \(payload.generation)"
                }
            case let .failure(defect):
                result.finalCacheProblem = "the final cache verifies for the library but not for the harness: \(defect)"
            }
        } catch {
            result.finalCacheProblem = "the final cache does not verify: \(error)"
        }
        return result
    }

    /// Tries an exclusive `flock` without waiting; a missing lock file is free.
    package static func advisoryLockIsFree(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        guard csystem_flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        _ = csystem_flock(fd, LOCK_UN)
        return true
    }
}
