import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--sabotage lock-outlives-holder`, the control of the re-acquire check: while
/// a refresher holds the lock, a forked child of it keeps the lock file's
/// descriptors open — what a helper process spawned without close-on-exec does
/// to a real host. An `flock` belongs to the open file description, so it is
/// released when the *last* descriptor on it closes: if the holder is SIGKILLed,
/// the lock stays held until the child lets go, `outlivesBy` later.
///
/// Guarantee: at most one keeper per process. A hold that ends normally stops
/// its keeper before the release (`stop`, from the `exit` hook), so only a
/// holder killed mid-hold leaves the lock held after its death; the keeper then
/// exits by itself, so nothing outlives the run by more than `outlivesBy`.
/// Linux only (it finds the descriptors in /proc/self/fd).
final class LockKeeper: Sendable {
    static let outlivesBy = timespec(tv_sec: 1, tv_nsec: 500_000_000)
    private let keeper = AtomicCell<Int32>(0)

    init() {}

    /// Forks the keeper for the hold of `lockPath` that just began (the event's
    /// lock path: `NAME.lock`, or for the lock-file backend `NAME.lock.owner`,
    /// whose holder also holds the `flock` on `NAME.lock`).
    func start(lockPath: String) {
        #if canImport(Glibc)
        stop()
        let flockPath = lockPath.hasSuffix(".owner") ? String(lockPath.dropLast(".owner".count)) : lockPath
        let keep = Self.descriptors(openOn: flockPath)
        guard !keep.isEmpty else { return }
        let parent = getpid()
        let pid = fork()
        if pid == 0 {
            // The child of a multithreaded process: async-signal-safe calls only
            // (close, getppid, nanosleep, _exit), no allocation.
            for fd in Int32(0)..<1024 where !keep.contains(fd) { close(fd) }
            var tick = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            while getppid() == parent { nanosleep(&tick, nil) }
            // The holder died holding: keep its lock a while longer.
            var rest = Self.outlivesBy
            var left = timespec()
            while nanosleep(&rest, &left) != 0 { rest = left }
            _exit(0)
        }
        if pid > 0 { keeper.store(pid) }
        #endif
    }

    /// Ends the keeper of a hold that is ending normally (before the release).
    func stop() {
        let pid = keeper.exchange(0)
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// This process's descriptors whose file is `path`.
    static func descriptors(openOn path: String) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var result: [Int32] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        for name in names {
            guard let fd = Int32(name) else { continue }
            let n = readlink("/proc/self/fd/" + name, &buffer, buffer.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target == path { result.append(fd) }
        }
        return result
    }
}
