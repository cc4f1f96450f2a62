#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The XXH64 of a payload, computed on a second thread while the caller does
/// something else with the same bytes (the commit writes them).
///
/// Guarantee: `value()` returns exactly `XXH64.hash(bytes)`, and once it has
/// returned the thread is finished with `bytes`. The caller must call `value()`
/// before the bytes may be freed, on every path (a commit that fails half-way
/// still waits): the thread reads the caller's buffer.
///
/// Why: a commit must know the payload's checksum (it is in the header) and copy
/// the payload into the page cache; done one after the other, the hash is ~7 % of
/// a 16 MiB refresh on top of the bare system calls. With a second core the hash
/// runs while the kernel copies, and the refresh costs what its syscalls cost.
/// Measured on the 2-core development VM (floor, inline and concurrent refreshes
/// interleaved, trusted payloads): at 16 MiB 1.08-1.22x the floor inline, 0.99-1.12x
/// concurrent; at 4 and 8 MiB no gain beyond the noise — the thread costs 20-140 µs
/// to start there, and both threads stream the same bytes through one memory bus.
/// So `start` declines below `minimumBytes`, and on a single core.
package final class ConcurrentChecksum: @unchecked Sendable {
    /// Payloads smaller than this are hashed inline.
    package static let minimumBytes = 8 << 20

    /// Whether a second thread can run at the same time as the caller.
    private static let hasSecondCore: Bool = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1

    // Written by the thread before it exits, read after `pthread_join`: the join
    // orders the two, no other synchronisation is needed.
    private let base: UnsafeRawPointer?
    private let count: Int
    private var result: UInt64 = 0
    #if canImport(Glibc)
    private var thread = pthread_t()
    #else
    private var thread: pthread_t?
    #endif
    private var joined = false

    private init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress
        count = bytes.count
    }

    /// Starts hashing `bytes` on a new thread; nil when the payload is small, the
    /// machine has one core, or no thread could be created (then hash inline).
    package static func start(_ bytes: UnsafeRawBufferPointer) -> ConcurrentChecksum? {
        guard bytes.count >= minimumBytes, hasSecondCore else { return nil }
        let job = ConcurrentChecksum(bytes)
        let context = Unmanaged.passRetained(job).toOpaque()
        let created = pthread_create(&job.thread, nil, { raw in
            #if canImport(Glibc)
            let job = Unmanaged<ConcurrentChecksum>.fromOpaque(raw!).takeRetainedValue()
            #else
            let job = Unmanaged<ConcurrentChecksum>.fromOpaque(raw).takeRetainedValue()
            #endif
            job.result = XXH64.hash(UnsafeRawBufferPointer(start: job.base, count: job.count))
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ConcurrentChecksum>.fromOpaque(context).release()
            return nil
        }
        return job
    }

    /// Waits for the thread and returns the checksum (at once on later calls).
    package func value() -> UInt64 {
        if !joined {
            #if canImport(Glibc)
            pthread_join(thread, nil)
            #else
            pthread_join(thread!, nil)
            #endif
            joined = true
        }
        return result
    }
}
