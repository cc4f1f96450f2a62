#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache
import Synchronization

/// Runs async library code (`CacheStore.refresh`) from the synchronous `main`.
///
/// The body runs as a detached task on the global executor; the calling thread
/// blocks in `read(2)` on a pipe until the task posts its result. The main thread
/// is not one of the executor's threads, so blocking it cannot starve the task.
/// Kept out of the `read` path: only commands that need async code pay for it.
enum BlockingAsync {
    private final class Outcome<T: Sendable>: Sendable {
        let value = Mutex<Result<T, any Error>?>(nil)
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        var fds: [Int32] = [-1, -1]
        // Out of descriptors (EMFILE/ENFILE) is the only realistic failure: an I/O
        // error (exit 74) that names it, not a crash.
        guard pipe(&fds) == 0 else {
            throw MetadataCacheError.io(operation: "pipe", path: "(wake-up pipe of the refresh)", errno: Errno(rawValue: errno))
        }
        defer { fds.forEach { close($0) } }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let outcome = Outcome<T>()
        let writeEnd = fds[1]
        Task.detached {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.value.withLock { $0 = result }
            // One byte into an empty blocking pipe whose read end is open: only an
            // interruption can make it fail.
            var byte: UInt8 = 1
            while write(writeEnd, &byte, 1) == -1 && errno == EINTR {}
        }
        var byte: UInt8 = 0
        while read(fds[0], &byte, 1) == -1 && errno == EINTR {}
        guard let result = outcome.value.withLock({ $0 }) else { fatalError("task finished without a result") }
        return try result.get()
    }
}
