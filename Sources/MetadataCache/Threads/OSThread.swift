#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain operating-system threads, for the few jobs that must block in the kernel
/// without occupying a Swift concurrency thread: watching the clock during a lock
/// wait, renewing an owner-file lease, running a blocking lock wait for an async
/// caller.
package enum OSThread {
    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Stack for threads that only make system calls (lease renewal).
    package static let systemCallStackSize = 256 * 1024
    /// Stack for threads that also run the host's code (a `CacheObserver` called
    /// from a lock wait's watchdog, or a whole acquisition for an async caller):
    /// the host's observer may format, log or encode JSON, and a stack overflow
    /// there would crash the host, so these get what a secondary thread gets by
    /// default on Darwin, rather than the bare minimum.
    package static let hostCodeStackSize = 1024 * 1024

    /// Starts a detached thread running `body` on a stack of `stackSize` bytes.
    /// Returns false if the system refused to create a thread (then `body` is not
    /// run).
    @discardableResult
    package static func detach(stackSize: Int = systemCallStackSize, _ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, stackSize)
        let result = pthread_create(&thread, &attributes, { raw in
            #if canImport(Glibc)
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            #else
            let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
            #endif
            box.body()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        return true
    }
}
