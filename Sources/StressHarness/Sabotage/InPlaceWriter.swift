import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--sabotage in-place-write`: a refresh that holds the writer lock but rewrites
/// the cache file in place — truncate, then the new bytes in two writes — instead
/// of writing a temp file and renaming it. This is what many tools do, and why
/// their readers see empty or half-written caches.
///
/// Guarantee: the file it leaves is a complete, valid cache once the second write
/// returns, but readers running meanwhile can see it empty or truncated; the
/// harness must report those reads as corrupt.
enum InPlaceWriter {
    static func refresh(
        store: CacheStore, hooks: WriterLogHooks, succession: PayloadSuccession, sequence: UInt64, timeout: LockTimeout
    ) throws {
        let writer = try store.acquireWriterLock(timeout: timeout)
        let snapshot = try? writer.read()
        let generation = (snapshot?.generation ?? 0) + 1
        let payload = try succession.next(after: PayloadSuccession.inspect(snapshot), sequence: sequence, generation: generation)
        hooks.payloadReady()
        let header = CacheHeader(
            payloadLength: UInt64(payload.count), payloadChecksum: payload.withUnsafeBytes { XXH64.hash($0) },
            generation: generation, commitID: UInt64.random(in: 1...UInt64.max),
            fetchedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
            committedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000), writerPID: getpid(),
            source: "metacache-stress in-place sabotage", etag: nil, lastModified: nil, writerHost: nil
        ).encoded()
        let bytes = header + payload
        let fd = open(store.cachePath, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            hooks.exit(committed: false, generation: 0)
            throw WorkerFailure("in-place open failed: \(String(cString: strerror(errno)))")
        }
        let half = bytes.count / 2
        bytes.withUnsafeBytes { raw in
            _ = write(fd, raw.baseAddress, half)
            _ = write(fd, raw.baseAddress! + half, raw.count - half)
        }
        close(fd)
        hooks.exit(committed: true, generation: generation)
        writer.release()
    }
}
