#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// SIGINT/SIGTERM while a real `metacache cache refresh` is inside its commit.
///
/// strace freezes the refresh on entry to the commit's temp-file `fsync` or its
/// `rename` (`delay_enter`: the call waits two seconds before it runs); the test
/// sees the call entered in strace's output and signals the refresh while it is
/// frozen. The documented outcome: the commit completes (it is atomic), the result
/// line is printed, then "Interrupted (…) after the refresh had finished" and exit
/// 130 — the cache is exactly the new document and verifies, no temp file is
/// left, and the lock is free. Uses `Strace` (CrashAndFault) read-only.
@Suite(.enabled(if: Strace.isAvailable, Strace.skipReason))
struct SignalDuringCommitTests {
    /// Where the refresh is frozen: the strace call set, and how its entry reads
    /// in the trace.
    enum FreezePoint: String, CaseIterable, CustomStringConvertible, Sendable {
        case tempFsync, rename
        var calls: String { self == .tempFsync ? "fsync" : "rename,renameat,renameat2" }
        var description: String { self == .tempFsync ? "the temp file's fsync" : "the rename over the cache" }
    }

    static let freeze = Duration.seconds(2)

    @Test(arguments: [SIGINT, SIGTERM], FreezePoint.allCases)
    func aSignalDuringTheCommitLetsItFinishThenExits130(signal: Int32, point: FreezePoint) throws {
        let cache = try PopulatedCache()
        let newPayload = sampleCatalogue(entries: 9, seed: 6)
        try cache.directory.write("new.json", Data(newPayload))
        let trace = cache.directory.file("refresh.trace")
        let microseconds = freezeMicroseconds
        let strace = try ChildProcess(
            Strace.path ?? "strace",
            ["-f", "-o", trace, "-e", "trace=openat,fsync,rename,renameat,renameat2",
             "-e", "inject=\(point.calls):delay_enter=\(microseconds):when=1",
             Metacache.path, "cache", "refresh", "--dir", cache.cacheDir, "--source", cache.directory.file("new.json")],
            environment: Metacache.environment(), stdout: .captured, stderr: .captured)

        let frozen = try Self.waitForFrozenCall(point, trace: trace, timeout: .seconds(30))
        let refresh = try #require(Self.tracedChild(of: strace.pid), "no child of strace \(strace.pid)")
        kill(refresh, signal)
        let stillFrozen = !Self.callFinished(frozen, in: (try? String(contentsOfFile: trace, encoding: .utf8)) ?? "")

        let termination = try strace.wait(timeout: .seconds(60))
        let stderr = strace.standardError
        let traced = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        #expect(stillFrozen, "the signal must arrive while \(point) is frozen; trace:\n\(traced.suffix(2000))")
        #expect(traced.contains("(DELAYED)"), "the freeze landed on \(point)")
        #expect(termination == .exited(130), "\(termination); stderr: \(stderr)")
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(strace.standardOutputText.contains("Refreshed 'metadata': generation 2, "), "the commit completed: \(strace.standardOutputText) \(stderr)")
        #expect(stderr.contains("Interrupted (\(name)) after the refresh had finished; the cache is complete and consistent"), "\(stderr)")

        #expect(try Metacache.run(["cache", "verify", "--dir", cache.cacheDir]).exitCode == 0, "the cache verifies")
        #expect(try Metacache.run(["cache", "read", "--dir", cache.cacheDir]).stdout == newPayload, "exactly the new document")
        #expect(cache.tempFiles().isEmpty, "no temp file left: \(cache.tempFiles())")
        let next = try Metacache.run(
            ["cache", "refresh", "--force", "--lock-timeout", "0", "--dir", cache.cacheDir, "--source", cache.directory.file("good.json")])
        #expect(next.exitCode == 0, "the lock was released: \(next.summary)")
    }

    private var freezeMicroseconds: Int64 { Self.freeze.components.seconds * 1_000_000 }

    struct NeverFrozen: Error, CustomStringConvertible { let description: String }

    /// A call the commit thread entered: its thread and the text up to its arguments.
    struct TracedCall {
        let thread: Substring
        let name: String
    }

    /// Waits until the trace shows the commit's frozen call entered and not yet
    /// returned: the fsync of the descriptor the `.tmp-` file was opened as, or
    /// the rename of a `.tmp-` file. Polls the trace file (strace writes each
    /// call's entry before it delays it), up to `timeout`.
    static func waitForFrozenCall(_ point: FreezePoint, trace: String, timeout: Duration) throws -> TracedCall {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
            if let call = enteredCall(point, in: text) { return call }
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
        throw NeverFrozen(description: "strace never showed \(point) entered within \(timeout); trace: \(String((try? String(contentsOfFile: trace, encoding: .utf8))?.suffix(2000) ?? ""))")
    }

    private static func enteredCall(_ point: FreezePoint, in text: String) -> TracedCall? {
        var tempDescriptors: [Substring: String] = [:]  // thread → fd of its .tmp- file
        var pendingTempOpen: Set<Substring> = []  // threads whose .tmp- openat is unfinished
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let (thread, call) = (parts[0], parts[1].drop { $0 == " " })
            // strace pads before " = RESULT"; paths here never contain " = ".
            let result = call.range(of: " = ", options: .backwards).map { call[$0.upperBound...].prefix { !$0.isWhitespace } }
            if call.hasPrefix("openat("), call.contains(".tmp-") {
                if let result { tempDescriptors[thread] = String(result) } else { pendingTempOpen.insert(thread) }
            } else if call.hasPrefix("<... openat resumed>"), pendingTempOpen.remove(thread) != nil, let result {
                tempDescriptors[thread] = String(result)
            }
            guard result == nil else { continue }  // this call has returned
            switch point {
            case .tempFsync:
                guard let fd = tempDescriptors[thread], call.hasPrefix("fsync(\(fd)") else { continue }
                let next = call.dropFirst("fsync(\(fd)".count).first
                if next == nil || next == ")" || next == " " { return TracedCall(thread: thread, name: "fsync") }
            case .rename:
                if call.hasPrefix("rename"), call.contains(".tmp-") { return TracedCall(thread: thread, name: "rename") }
            }
        }
        return nil
    }

    /// Whether the frozen call has returned: strace marks a delayed call's result
    /// `(DELAYED)`, and only the one injection delays anything.
    static func callFinished(_ call: TracedCall, in text: String) -> Bool {
        text.contains("(DELAYED)")
    }

    /// The process strace started (its only child).
    static func tracedChild(of pid: pid_t) -> pid_t? {
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) }
    }
}
}
