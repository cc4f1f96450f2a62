import Foundation
import MetadataCache
import SystemCallFaults
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The crash sweep where ptrace is not permitted: the harness's commit-once
/// worker, struck through the library's own fault injector (the syscall seam).
/// The injector counts each kind of call across all threads of the process under
/// one lock — the same one global order — so `kind#N` is the Nth such call
/// whichever thread makes it.
///
/// Which calls a commit makes is learned, not listed: for each kind the seam
/// knows, occurrences 1, 2, ... are struck by `crash-before` until one never
/// happens (the worker then commits and reports that no fault fired). Each
/// occurrence found is also failed with each errno its family can meet. After
/// each strike `CrashRecovery.check` holds the directory to the same standard
/// as the tracer sweep: old or new cache, lock free, orphans swept by the next
/// writer, which succeeds.
enum SeamCrashSweep {
    static func family(_ kind: SystemCallKind) -> SweptCall.Family {
        switch kind {
        case .open: .open
        case .read, .pread, .listDirectory: .read
        case .write, .pwrite, .ftruncate: .write
        case .fsync, .fsyncDirectory: .sync
        case .rename, .link: .rename
        case .unlink: .unlink
        case .mkdir: .mkdir
        case .close: .close
        case .flock: .flock
        case .availableBytes, .fileSystemType: .statfs
        case .lstat, .readlink: .pathStat
        case .fstat: .descriptorStat
        case .touch, .inotifyInit, .inotifyAddWatch: .other
        }
    }

    static func run(backend: LockBackendSelection, payloadBytes: Int, errnos: Bool) async throws {
        var points = 0
        var found: [String] = []
        for kind in SystemCallKind.allCases {
            var occurrence = 1
            while occurrence <= 64 {
                let dir = TemporaryDirectory("seam-sweep")
                let old = CommitOnceChild(directory: dir.path, sequence: 1, payloadBytes: payloadBytes, backend: backend)
                let seeded = try await old.run()
                let oldFile = try #require(CacheDirectoryState(dir.path).cacheFile, "seeding: \(seeded.stdoutText)")
                let spec = "\(kind.rawValue)#\(occurrence)"
                let crashing = CommitOnceChild(
                    directory: dir.path, sequence: 2, payloadBytes: payloadBytes, backend: backend, faults: [spec + "=crash-before"])
                let crash = try await crashing.run()
                if crash.termination == .exited(0) { break }  // no such call: this kind is done
                points += 1
                found.append(spec)
                #expect(crash.termination == .signaled(SIGKILL), "\(spec): \(crash.termination) \(crash.stdoutText)")
                let recovery = { () async throws in
                    try await CrashRecovery.check(
                        directory: dir.path, backend: backend, oldFile: oldFile, oldPayload: old.expectedPayload,
                        newPayload: crashing.expectedPayload, expectNew: nil, context: "seam crash before \(spec)")
                }
                try await recovery()

                // EINTR from close is the kernel's "closed anyway" (the live provider
                // absorbs it); injected above the provider it would be a fault no
                // kernel makes.
                let applicable = family(kind).applicableErrnos(creating: kind == .mkdir || kind == .open)
                    .filter { !(kind == .close && $0 == "EINTR") }
                for name in errnos ? applicable : [] {
                    let fdir = TemporaryDirectory("seam-sweep")
                    let seed = CommitOnceChild(directory: fdir.path, sequence: 1, payloadBytes: payloadBytes, backend: backend)
                    _ = try await seed.run()
                    let before = try #require(CacheDirectoryState(fdir.path).cacheFile)
                    let failing = CommitOnceChild(
                        directory: fdir.path, sequence: 2, payloadBytes: payloadBytes, backend: backend, faults: ["\(spec)=\(name)"])
                    let result = try await failing.run()
                    points += 1
                    let after = CacheDirectoryState(fdir.path)
                    let payload = try? after.verifiedPayload()
                    let isNew = payload == failing.expectedPayload
                    #expect(after.cacheFile == before || isNew, "\(spec)=\(name): neither the old file nor the new payload")
                    if result.exitCode == 0 {
                        #expect(isNew, "\(spec)=\(name): committed, but the cache is not the new payload")
                    } else {
                        #expect(result.stdoutText.contains(name) || name == "EINTR", "\(spec)=\(name): the error does not name \(name): \(result.stdoutText)")
                    }
                    if name == "EINTR" { #expect(result.exitCode == 0, "\(spec)=EINTR must be retried: \(result.stdoutText)") }
                    #expect(after.temps.isEmpty, "\(spec)=\(name): temps left: \(after.temps)")
                }
                occurrence += 1
            }
        }
        print("seam crash sweep [\(backend), \(payloadBytes >> 10) KiB]: \(found.count) calls found (\(found.joined(separator: " "))), \(points) points struck")
        #expect(found.contains { $0.hasPrefix("rename#") } && found.contains { $0.hasPrefix("fsyncDirectory#") }, "the seam saw no commit: \(found)")
    }
}
