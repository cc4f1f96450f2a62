import Foundation
import TestSupport
import MetadataCache

#if canImport(Glibc)
import Glibc
#endif

/// Crash and fault at every step of a real `metacache cache refresh`: every
/// in-focus file call of the refresh (every call on the cache directory or a file
/// in it, on any thread), struck by SIGKILL and by each errno it can meet, each
/// strike in a fresh directory holding an old cache, then checked and recovered
/// with the CLI itself.
///
/// Guarantee of the checks, after each strike:
/// - the cache is exactly the old file or exactly the new payload, and verifies —
///   the old one if the process died or failed before its rename, the new one if
///   it got past it or exited 0;
/// - a refresh that failed (rather than died) left no temp file; one that died
///   left at most its own temp (empty if it died before writing, else holding at
///   least the payload), and none once past the rename;
/// - the exit is sensible: SIGKILL for a kill; 0 for an EINTR storm (retried);
///   for other errnos 0 (the call's failure is harmless, e.g. the holder record)
///   or docs/cli.md's status for that errno and operation, with a message on
///   stderr that names the errno;
/// - `status --json` shows the lock free and lists exactly the orphans; the next
///   writer's refresh succeeds and sweeps them; the cache verifies and reads back
///   exactly that refresh's payload.
struct CrashSweep: Sendable {
    /// What is refreshed: the CLI with one lock backend and payload size.
    struct Subject: Sendable, CustomStringConvertible {
        let backend: String
        let payloadBytes: Int
        /// Strike each applicable errno too, not only SIGKILL.
        let errnos: Bool

        var description: String {
            "\(backend), \(payloadBytes >= 1 << 20 ? "\(payloadBytes >> 20) MiB" : "\(payloadBytes >> 10) KiB") payload, "
                + (errnos ? "SIGKILL and errnos" : "SIGKILL")
        }
    }

    let subject: Subject
    /// The in-focus calls of a clean refresh, in the global order.
    let calls: [SweptCall]
    /// The first clean trace (all file calls), for the report.
    let cleanTrace: [FileSyscall]
    /// The source files (`source-1.json` ... `source-3.json`) and, in `template`,
    /// a cache holding refresh 1: every strike starts from a copy of it.
    private let sources: TemporaryDirectory
    private let template: CLIUnderTest
    /// Where the strikes' cache directories live: a private tmpfs where one can be
    /// mounted (a process crash sees the page cache, never the disk, so nothing is
    /// lost by not fsyncing to a real disk ~300 times), else the temp directory.
    private let scratch: Scratch


    struct CalibrationError: Error, CustomStringConvertible { let description: String }

    /// Traces `runs` clean refreshes, each over a copy of the old cache, and learns
    /// the in-focus calls. The runs must agree on which calls a refresh makes
    /// (each name, path and occurrence): a strike is aimed by them.
    init(_ subject: Subject, runs: Int = 3) throws {
        self.subject = subject
        sources = TemporaryDirectory("sweep-sources")
        template = CLIUnderTest(sources, payloadBytes: subject.payloadBytes, backend: subject.backend)
        for sequence: UInt64 in 1...3 { _ = try template.refreshCommand(sequence: sequence) }  // writes the sources once
        let seeded = try template.refreshBlocking(sequence: 1)
        guard seeded.exitCode == 0 else { throw CalibrationError(description: "seeding refresh: \(seeded.termination) \(seeded.stderr)") }
        scratch = Scratch(bytes: 64 * max(subject.payloadBytes, 1 << 20))

        var learned: [[SweptCall]] = []
        var first: [FileSyscall] = []
        for run in 0..<runs {
            let cli = try Self.freshCopy(of: template, in: scratch.path + "/calibrate-\(run)")
            let outcome = try SyscallStrike.run(
                try cli.refreshCommand(sequence: 2), focus: cli.cacheDirectory, environment: Metacache.environment(),
                work: cli.cacheDirectory + ".trace")
            guard outcome.exitCode == 0 else {
                throw CalibrationError(description: "clean traced refresh: \(String(describing: outcome.termination)) \(outcome.programStderr) \(outcome.tracerOutput)")
            }
            learned.append(SweptCall.calls(of: outcome.inFocus, directory: cli.cacheDirectory))
            if run == 0 { first = outcome.calls }
        }
        guard let firstCalls = learned.first, !firstCalls.isEmpty else { throw CalibrationError(description: "no in-focus call traced") }
        // A strike is aimed at a call every clean run makes. A call only some runs
        // make (a retry after EINTR, a sweep that found a leftover on a loaded
        // machine) cannot be aimed at reliably: it is left out, and said so.
        let common = learned.dropFirst().reduce(Set(firstCalls)) { $0.intersection(Set($1)) }
        let calls = firstCalls.filter { common.contains($0) }
        let occasional = learned.reduce(Set<SweptCall>()) { $0.union(Set($1)) }.subtracting(common)
        if !occasional.isEmpty {
            print("crash sweep \(subject): not struck, made by only some clean runs: \(occasional.map(\.description).sorted())")
        }
        guard calls.contains(where: { $0.family == .rename && $0.isTemp }) else {
            throw CalibrationError(description: "the clean refreshes share no rename of the temp file: \(learned.map { $0.map(\.description) })")
        }
        self.calls = calls
        cleanTrace = first
    }

    /// A new cache directory under `path` holding a copy of `template`'s cache
    /// (same bytes, mode 0700/0600), refreshed from the template's sources.
    private static func freshCopy(of template: CLIUnderTest, in path: String) throws -> CLIUnderTest {
        let cli = CLIUnderTest(
            root: template.root, cacheDirectory: path + "/cache", payloadBytes: template.payloadBytes, backend: template.backend)
        let files = FileManager.default
        try files.createDirectory(atPath: cli.cacheDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in try files.contentsOfDirectory(atPath: template.cacheDirectory) {
            let target = cli.cacheDirectory + "/" + name
            try files.copyItem(atPath: template.cacheDirectory + "/" + name, toPath: target)
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        }
        return cli
    }

    /// Every call struck by SIGKILL, and by each of its applicable errnos when the
    /// subject asks for them.
    var points: [CrashSweepPoint] {
        calls.enumerated().flatMap { index, call in
            let actions: [SyscallStrike.Strike.Action] = [.kill] + (subject.errnos ? call.applicableErrnos.map { .errno($0) } : [])
            return actions.map { CrashSweepPoint(index: index, call: call, action: $0) }
        }
    }

    var renameIndex: Int? { calls.firstIndex { $0.family == .rename && $0.isTemp } }
    var tempCreateIndex: Int? { calls.firstIndex { $0.family == .open && $0.isTemp && $0.isCreating } }

    /// Threads that made in-focus calls in the clean trace.
    var threads: Int { Set(cleanTrace.filter { $0.focus > 0 }.map(\.thread)).count }

    /// In-focus calls of the clean trace that strace's per-thread `when=N` cannot
    /// aim at: strace strikes the Nth call of that name *of each thread*, and
    /// another thread makes its Nth one first.
    var shadowedForPerThreadCounting: [SweptCall] {
        var counts: [Int32: [String: Int]] = [:]
        var shadowed: [SweptCall] = []
        var focusIndex = 0
        for call in cleanTrace {
            counts[call.thread, default: [:]][call.name, default: 0] += 1
            guard call.focus > 0 else { continue }
            let n = counts[call.thread]![call.name]!
            if counts.contains(where: { $0.key != call.thread && $0.value[call.name, default: 0] >= n }), focusIndex < calls.count {
                shadowed.append(calls[focusIndex])
            }
            focusIndex += 1
        }
        return shadowed
    }

    // MARK: One strike

    /// What one strike did, and every check it failed (empty: all held).
    struct Result: Sendable {
        let point: CrashSweepPoint
        let termination: ChildProcess.Termination?
        let struck: Int
        /// Runs it took for the strike to find its call.
        let attempts: Int
        let landed: Bool
        let violations: [String]
    }

    /// Strikes every point, two at a time (each in its own directory).
    func strikeAll() throws -> [Result] {
        let points = self.points
        let collected = LockedValue<(results: [Int: Result], failure: (any Error)?)>(([:], nil))
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for (n, point) in points.enumerated() where n % 2 == lane {
                do {
                    // A descriptor is named by the file's name when the call is
                    // made: a thread closing the lock-file owner while another
                    // renames it aside names it either way. A strike that found
                    // no such call is aimed again (the run says how often).
                    var result = try strike(point, number: n)
                    for attempt in 2...Self.attempts where !result.landed {
                        result = try strike(point, number: n, attempt: attempt)
                    }
                    collected.withLock { $0.results[n] = result }
                } catch {
                    collected.withLock { $0.failure = $0.failure ?? error }
                    return
                }
            }
        }
        return try collected.withLock { collected in
            if let failure = collected.failure { throw failure }
            return points.indices.map { collected.results[$0]! }
        }
    }

    static let attempts = 3

    /// - Parameter alongside: more strikes for the same run, given the cache
    ///   directory (a control writer that also leaves a step out).
    func strike(
        _ point: CrashSweepPoint, number: Int, attempt: Int = 1, alongside: (String) -> [SyscallStrike.Strike] = { _ in [] }
    ) throws -> Result {
        let path = scratch.path + "/point-\(number)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cli = try Self.freshCopy(of: template, in: path)
        guard let oldFile = CacheDirectoryState(cli.cacheDirectory).cacheFile else {
            throw CalibrationError(description: "the template's cache was not copied to \(cli.cacheDirectory)")
        }
        let outcome = try SyscallStrike.run(
            try cli.refreshCommand(sequence: 2), focus: cli.cacheDirectory,
            strikes: [point.strike(in: cli.cacheDirectory)] + alongside(cli.cacheDirectory),
            environment: Metacache.environment(), work: path + "/trace")
        var violations: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { violations.append(message()) }
        }

        // The strike landed on the call it was aimed at (a storm may end early:
        // a call that is not retried has no more occurrences to interrupt).
        let landed = outcome.struck.first.map { $0.name == point.call.name } == true
            && (point.action == .errno("EINTR") || !outcome.missed)
        guard landed else {
            return Result(
                point: point, termination: outcome.termination, struck: 0, attempts: attempt, landed: false,
                violations: ["the strike did not land in \(attempt) attempts: \(outcome.tracerOutput.suffix(400))"])
        }

        let state = CacheDirectoryState(cli.cacheDirectory)
        let payload: [UInt8]?
        do { payload = try state.verifiedPayload() } catch {
            payload = nil
            violations.append("the cache does not verify: \(error)")
        }
        let isOld = state.cacheFile == oldFile
        let isNew = payload == cli.payload(sequence: 2)
        check(isOld || isNew, "the cache is neither exactly the old file nor the new payload")
        // How far the commit got, from this run's own trace (threads may order
        // their calls differently from one run to the next).
        func happened(_ test: (SweptCall) -> Bool) -> Bool {
            outcome.calls.contains { call in
                call.focus > 0 && call.succeeded
                    && test(SweptCall.calls(of: [call], directory: cli.cacheDirectory)[0])
            }
        }
        let renamed = happened { $0.family == .rename && $0.isTemp }

        switch point.action {
        case .kill:
            check(outcome.termination == .signaled(SIGKILL), "expected death by SIGKILL, got \(String(describing: outcome.termination))")
            check(renamed ? isNew : isOld, "killed \(renamed ? "after" : "before") the rename: expected the \(renamed ? "new" : "old") version")
            let tempExpected = !renamed && happened { $0.family == .open && $0.isTemp && $0.isCreating }
            check(state.temps.count == (tempExpected ? 1 : 0), "temps after the kill: \(state.temps), expected \(tempExpected ? 1 : 0)")
            if tempExpected, let temp = state.temps.first {
                let written = happened { $0.family == .write && $0.isTemp }
                let size = state.tempSize(temp)
                check(written ? size >= subject.payloadBytes : size == 0,
                      "the orphan holds \(size) bytes; expected \(written ? "the whole file" : "nothing") (killed \(written ? "after" : "before") writing it)")
            }
        case let .errno(name):
            let code = outcome.exitCode
            if name == "EINTR" {
                check(code == 0, "an EINTR storm must be retried, got \(String(describing: outcome.termination)): \(outcome.programStderr)")
            }
            if code == 0 {
                check(isNew, "exited 0 but the cache is not the new payload")
            } else {
                let expected = Self.expectedExitCodes(errno: name, call: point.call)
                check(code.map(expected.contains) ?? false,
                      "exit \(String(describing: outcome.termination)), expected 0 or \(expected.sorted()): \(outcome.programStderr)")
                check(outcome.programStderr.contains(name), "the error does not name \(name): \(outcome.programStderr)")
                check(renamed ? isNew : isOld, "failed \(renamed ? "after" : "before") the rename: expected the \(renamed ? "new" : "old") version")
            }
            check(state.temps.isEmpty, "a refresh that ended by itself left temps: \(state.temps)")
        case .skip:
            break
        }

        // Recovery with the CLI itself.
        let status = try cli.runBlocking(["cache", "status", "--json"])
        let report = (try? JSONSerialization.jsonObject(with: Data(status.stdout))) as? [String: Any]
        check((report?["lock"] as? [String: Any])?["held"] as? Bool == false, "status does not show the lock free: \(status.stdoutText) \(status.stderr)")
        check((report?["orphanTemps"] as? [Any])?.count == state.temps.count, "status lists other orphans than \(state.temps): \(status.stdoutText)")
        let next = try cli.refreshBlocking(sequence: 3)
        check(next.exitCode == 0, "the next refresh failed: \(next.termination) \(next.stderr)")
        check(CacheDirectoryState(cli.cacheDirectory).temps.isEmpty, "the next writer did not sweep the orphans")
        // `read` verifies both checksums before it prints a byte.
        let read = try cli.runBlocking(["cache", "read"])
        check(read.exitCode == 0 && read.stdout == cli.payload(sequence: 3), "the next refresh does not verify and read back exactly: \(read.stderr)")
        return Result(
            point: point, termination: outcome.termination, struck: outcome.struck.count, attempts: attempt, landed: true,
            violations: violations)
    }

    /// docs/cli.md's exit status for a refresh failing with `errno` at `call`:
    /// the config file → 78 (an unreadable config exits 78 naming it); no space →
    /// 73; creating a file → 73 whatever the errno, but EACCES → 77; EACCES → 77;
    /// other I/O → 74.
    static func expectedExitCodes(errno: String, call: SweptCall) -> Set<Int32> {
        if call.isConfig { return [78] }
        switch errno {
        case "ENOSPC": return [73]
        case "EACCES": return [77]  // every permission failure, creating a file included (docs/cli.md)
        default: return call.isCreating ? [73] : [74]
        }
    }
}

/// A private tmpfs for the sweep's directories where one can be mounted, else a
/// temp directory on whatever holds $TMPDIR.
final class Scratch: @unchecked Sendable {  // immutable after init
    private let mount: TmpfsMount?
    private let fallback: TemporaryDirectory?
    /// Canonical (no `//`, no symbolic links): the tracer names files the way
    /// /proc does, and the sweep compares those names with paths under this one.
    let path: String

    init(bytes: Int) {
        mount = try? TmpfsMount(sizeBytes: bytes)
        fallback = mount == nil ? TemporaryDirectory("sweep-scratch") : nil
        path = Scratch.canonical(mount?.path ?? fallback!.path)
    }

    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
