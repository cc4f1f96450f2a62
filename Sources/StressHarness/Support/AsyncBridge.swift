import Dispatch
import MetadataCache

/// Runs async work to completion from synchronous code (a worker's main thread).
///
/// Guarantee: returns the work's result after it finished; the calling thread
/// blocks on a semaphore meanwhile, which is fine for a process whose main thread
/// has nothing else to do (it is never used from inside the cooperative pool).
enum AsyncBridge {
    private final class Box: Sendable {
        let value = LockedValue<Int32>(0)
    }

    static func wait(_ work: @escaping @Sendable () async -> Int32) -> Int32 {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            let result = await work()
            box.value.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return box.value.withLock { $0 }
    }
}
