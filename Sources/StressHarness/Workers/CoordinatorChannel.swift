import MetadataCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A worker's side of its conversation with the coordinator, over stdin/stdout.
///
/// Guarantee: a worker starts its work only after the coordinator's `go` line
/// (so every worker of a run starts together, after all are ready), and stops
/// starting new operations at the deadline given with it or as soon as its stdin
/// reaches end of file — which also happens when the coordinator dies, so a
/// worker never outlives its run by more than one operation.
///
///     worker → coordinator   READY pid=1234
///     coordinator → worker   go 123456789000      (monotonic deadline in ns; 0: none)
///     coordinator → worker   <end of file>        (stop now)
///     worker → coordinator   STATS {...json...}
final class CoordinatorChannel: Sendable {
    private let stopRequested = AtomicCell<Bool>(false)
    /// Monotonic deadline in nanoseconds, 0 for none.
    let deadline: UInt64

    private init(deadline: UInt64) { self.deadline = deadline }

    /// Announces readiness, waits for `go`, and starts watching stdin for the
    /// stop request. Nil if stdin closed before `go` (the run was abandoned).
    static func announceReadyAndAwaitGo() -> CoordinatorChannel? {
        say("READY pid=\(getpid())")
        guard let line = readStandardInputLine(), line.hasPrefix("go") else { return nil }
        let deadline = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0
        let channel = CoordinatorChannel(deadline: deadline)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(channel)
        let started = pthread_create(&thread, nil, { raw in
            let channel = Unmanaged<CoordinatorChannel>.fromOpaque(raw!).takeRetainedValue()
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            channel.stopRequested.store(true)
            return nil
        }, box.toOpaque())
        if started == 0 { pthread_detach(thread) } else { box.release() }
        return channel
    }

    /// Whether to stop starting new operations.
    var shouldStop: Bool {
        if stopRequested.load() { return true }
        return deadline != 0 && MonotonicClock.nanoseconds() >= deadline
    }

    /// Blocks until stdin reaches end of file.
    static func waitForEndOfInput() {
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n == 0 || (n < 0 && errno != EINTR) { return }
        }
    }

    /// Writes one line to stdout with a single `write(2)`.
    static func say(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// Writes one line to stderr (diagnostics the coordinator shows on failure).
    static func complain(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    private static func readStandardInputLine() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
