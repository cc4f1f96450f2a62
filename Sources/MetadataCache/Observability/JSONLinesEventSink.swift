#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends every event as one JSON line to a file.
///
/// The file is opened with `O_APPEND` and each line goes out in a single `write`, so
/// lines from several processes sharing one events file interleave whole, never torn
/// (for lines under the pipe/page size, which these are). Write errors are dropped:
/// observability must never make a cache operation fail.
package final class JSONLinesEventSink: CacheObserver {
    private let fd: Int32

    /// Opens (creating, mode 0600) `path` for appending.
    package init(path: String) throws(MetadataCacheError) {
        // O_NOFOLLOW: a symlink planted at the events path must not redirect our
        // appends into another file (issue 19); created 0600, as events name
        // paths and holders.
        fd = try SystemCalls.live.open(
            path, flags: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode: 0o600, operation: "open events file")
    }

    deinit { close(fd) }

    package func observe(_ event: CacheEvent) {
        var line = event.jsonLine()
        line += "\n"
        line.withUTF8 { bytes in
            _ = try? SystemCalls.live.writeAll(fd, UnsafeRawBufferPointer(bytes), path: "events")
        }
    }
}
