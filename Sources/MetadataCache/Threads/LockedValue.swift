#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value that threads share, reached only while holding its mutex: what the
/// package used Swift's `Mutex` (module Synchronization) for.
///
/// Why not `Mutex`: it needs macOS 15, and the library must link into host tools
/// that support macOS 13. A pthread mutex is available everywhere the package
/// runs and costs the same uncontended (a futex on Linux; on Darwin the default
/// pthread mutex is as cheap as `os_unfair_lock` without contention, and one
/// implementation keeps the Darwin branch from being code nobody runs).
///
/// The same shape as `Mutex.withLock`, so call sites read the same: the body gets
/// the value `inout` and must not call `withLock` on the same instance again (the
/// default mutex type does not detect that; it deadlocks).
package final class LockedValue<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched between lock and unlock of `mutex`, and
    // values go in and out as `sending`, as with `Mutex`, so no reference to a
    // non-Sendable value stays behind with another thread.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    package init(_ initialValue: sending Value) {
        value = initialValue
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value and returns its result.
    package func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
