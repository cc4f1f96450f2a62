import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--sabotage in-place-write`: a refresh that holds the writer lock but rewrites
/// the cache file in place — truncate, then the new bytes in two writes with a
/// pause between them — instead of writing a temp file and renaming it. This is
/// what many tools do, and why their readers see empty or half-written caches.
///
/// Guarantee: the file it leaves is a complete, valid cache once the second write
/// returns, but for `window` in between it is empty or half written, so
/// readers running meanwhile see it truncated; the harness must report those
/// reads as corrupt. Used by library refreshers and by `SabotagedCLI` alike.
enum InPlaceWriter {
    /// Takes the lock, builds the payload for the next generation from what is
    /// there, rewrites the file in place and releases. `finished` is called
    /// inside the hold with the generation written (nil if nothing was), as the
    /// library's own commit would report it.
    static func refresh(
        store: CacheStore, timeout: LockTimeout, window: Duration = Sabotage.window,
        payload: (_ current: CacheSnapshot?, _ generation: UInt64) throws -> [UInt8],
        finished: (_ generation: UInt64?, _ bytes: Int, _ duration: Duration) -> Void
    ) throws {
        let writer = try store.acquireWriterLock(timeout: timeout)
        let snapshot = try? writer.read()
        let generation = (snapshot?.generation ?? 0) + 1
        let body: [UInt8]
        do {
            body = try payload(snapshot, generation)
        } catch {
            finished(nil, 0, .zero)
            throw error
        }
        let started = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let header = CacheHeader(
            payloadLength: UInt64(body.count), payloadChecksum: body.withUnsafeBytes { XXH64.hash($0) },
            generation: generation, commitID: UInt64.random(in: 1...UInt64.max),
            fetchedAtMilliseconds: now, committedAtMilliseconds: now, writerPID: getpid(),
            source: "metacache-stress in-place sabotage", etag: nil, lastModified: nil, writerHost: nil
        ).encoded()
        let bytes = header + body
        let fd = open(store.cachePath, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            finished(nil, 0, .zero)
            throw WorkerFailure("in-place open of \(store.cachePath) failed: \(String(cString: strerror(errno)))")
        }
        let half = bytes.count / 2
        bytes.withUnsafeBytes { raw in
            _ = write(fd, raw.baseAddress, half)
            Sabotage.holdTheWindowOpen(window)
            _ = write(fd, raw.baseAddress! + half, raw.count - half)
        }
        close(fd)
        finished(generation, body.count, ContinuousClock.now - started)
        writer.release()
    }
}
