// cache-test-agent: a separate process for the library's unit tests.
//
// Tests need real processes for cross-process behaviour (locks, crashes, lost
// updates). This agent performs one role per invocation and reports over stdout, one
// line per fact, so tests synchronise by reading lines — never by sleeping:
//
//   hold     --dir D [--backend B] [--timeout T]     take the lock, print ACQUIRED,
//                                                     hold until stdin closes
//   acquire  --dir D [--backend B] [--timeout T]     print WAITING/PROGRESS events, then
//                                                     ACQUIRED | TIMEOUT | CANCELLED |
//                                                     SELFDEADLOCK (SIGINT cancels);
//                                                     after ACQUIRED, release and print
//                                                     RELEASED (with thread counts)
//   commit   --dir D --payload TEXT [--fault SPEC]... acquire and commit (faults may
//                                                     crash the agent at any step);
//                                                     with a `pause` fault, prints PAUSED
//                                                     and waits for stdin to close
//   update   --dir D --counter NAME --times N        N read-modify-write increments
//   refresh  --dir D --fetch-log F                   CacheStore.refresh; the fetch
//                                                     appends to F, prints FETCHING and
//                                                     waits for stdin to close
//   hold-then-spawn --dir D -- ARGS...               take the lock, run a child agent
//                                                     with ARGS, relay its output
//   watch, commit-many, watch-churn                   see WatchRoles.swift
//   status-loop --dir D [--max N]                    CacheStore.status() in a tight loop;
//                                                     prints LOOPING after the first,
//                                                     stops when stdin closes (or after
//                                                     N), prints DONE statuses=… held=…
//
// `acquire --steal-interrupt-signal restart|ignore` first installs a host handler
// (with SA_RESTART) or SIG_IGN for the signal the library's lock waits use to end
// a blocking flock, as a host that claims the signal after the library would.
//
// Exit codes: 0 done, 75 timeout, 130 cancelled, 76 self-deadlock, 1 other error.

import Foundation
import MetadataCache

#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}

/// Threads of this process (Linux: entries of /proc/self/task; -1 elsewhere).
func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

/// Blocks until stdin reaches end of file (the test's "let go now").
func waitForStdinToClose() {
    var byte: UInt8 = 0
    while true {
        let n = read(0, &byte, 1)
        if n == 0 || (n < 0 && errno != EINTR) { return }
    }
}

struct Arguments {
    var command = ""
    var values: [String: String] = [:]
    var faults: [String] = []
    var rest: [String] = []

    init(_ argv: [String]) {
        var i = 1
        if argv.count > 1 {
            command = argv[1]
            i = 2
        }
        while i < argv.count {
            let arg = argv[i]
            if arg == "--" {
                rest = Array(argv[(i + 1)...])
                break
            }
            if arg == "--fault", i + 1 < argv.count {
                faults.append(argv[i + 1])
                i += 2
                continue
            }
            if arg.hasPrefix("--"), i + 1 < argv.count {
                values[String(arg.dropFirst(2))] = argv[i + 1]
                i += 2
                continue
            }
            i += 1
        }
    }

    func value(_ name: String) -> String? { values[name] }
}

let args = Arguments(CommandLine.arguments)
let cancellation = CancellationToken()

func installInterruptHandler() {
    _ = cancellation.isCancelled  // initialise before the handler can run
    signal(SIGINT) { _ in agentCancellation?.cancel() }
}
nonisolated(unsafe) var agentCancellation: CancellationToken? = cancellation

func makeStore() throws -> CacheStore {
    guard let dir = args.value("dir") else {
        say("ERROR usage missing --dir")
        exit(1)
    }
    var options = CacheStoreOptions()
    if let backend = args.value("backend"), let selection = LockBackendSelection(rawValue: backend) {
        options.lockBackend = selection
    }
    if let lease = args.value("lease-ms"), let ms = Int64(lease) {
        options.leaseDuration = .milliseconds(ms)
    }
    let faults = args.faults.compactMap(InjectedFault.parse)
    if faults.count != args.faults.count {
        say("ERROR usage bad --fault")
        exit(1)
    }
    if !faults.isEmpty {
        options.systemCalls = SystemCalls(provider: FaultInjectingSystemCalls(faults: faults) { kind, path in
            let temps = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".tmp-") } ?? []
            say("PAUSED at=\(kind.rawValue) temp=\(temps.first ?? "-")")
            waitForStdinToClose()
        })
    }
    options.observer = CacheEventHandler { event in
        switch event {
        case let .lockWaitStarted(_, holder, timeout):
            say("WAITING holderPid=\(holder.map { String($0.pid) } ?? "-") timeout=\(timeout)")
        case let .lockWaitProgress(_, elapsed, remaining, _):
            say("PROGRESS elapsedMs=\(Int(elapsed.milliseconds)) remainingMs=\(remaining.map { String(Int($0.milliseconds)) } ?? "-")")
        case let .backendFallback(_, reason):
            say("FALLBACK \(reason)")
        case let .staleLockBroken(_, holder, reason):
            say("BROKE holderPid=\(holder.map { String($0.pid) } ?? "-") reason=\(reason)")
        default:
            break
        }
    }
    return try CacheStore(directory: dir, name: args.value("name") ?? "metadata", options: options)
}

func timeout() -> LockTimeout {
    args.value("timeout").flatMap(LockTimeout.init(parsing:)) ?? .after(.seconds(30))
}

func report(_ error: Error) -> Never {
    switch error {
    case let MetadataCacheError.lockTimeout(_, _, waited, holder):
        say("TIMEOUT holderPid=\(holder.map { String($0.pid) } ?? "-") waitedMs=\(Int(waited.milliseconds))")
        exit(75)
    case let MetadataCacheError.cancelled(_, waited):
        say("CANCELLED waitedMs=\(Int(waited.milliseconds))")
        exit(130)
    case let MetadataCacheError.selfDeadlock(_, holder, ancestor):
        say("SELFDEADLOCK holderPid=\(holder.pid) ancestor=\(ancestor ? 1 : 0)")
        exit(76)
    default:
        say("ERROR \(error)")
        exit(1)
    }
}

/// A host handler that does nothing, installed over the library's.
func hostHandler(_: Int32) {}

func stealInterruptSignalIfAsked() {
    guard let mode = args.value("steal-interrupt-signal") else { return }
    guard let number = LockWaitInterruptSignal.number else {
        say("ERROR no interrupt signal installed")
        exit(1)
    }
    var action = sigaction()
    #if canImport(Glibc)
    action.__sigaction_handler.sa_handler = mode == "ignore" ? SIG_IGN : hostHandler
    #else
    action.__sigaction_u.__sa_handler = mode == "ignore" ? SIG_IGN : hostHandler
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = Int32(SA_RESTART)
    guard sigaction(number, &action, nil) == 0 else {
        say("ERROR sigaction \(errno)")
        exit(1)
    }
    say("STOLE signal=\(number) mode=\(mode)")
}

/// Roles using the blocking API (the async overloads are exercised by `--async`
/// and by `refresh`).
func runBlocking(_ store: CacheStore) throws {
    switch args.command {
    case "hold":
        let writer = try store.acquireWriterLock(timeout: timeout())
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds))")
        waitForStdinToClose()
        writer.release()
        say("RELEASED")

    case "acquire":
        installInterruptHandler()
        stealInterruptSignalIfAsked()
        let threadsBefore = threadCount()
        say("STARTED pid=\(getpid()) threads=\(threadsBefore)")
        let writer = try store.acquireWriterLock(timeout: timeout(), cancellation: cancellation)
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds)) threads=\(threadCount())")
        writer.release()
        // A wait's watchdog thread exits after the release; report when the
        // process is back to its thread count from before the wait (or what it is
        // after 10 s).
        let deadline = ContinuousClock.now + .seconds(10)
        while threadCount() > threadsBefore && ContinuousClock.now < deadline { _ = poll(nil, 0, 1) }
        say("RELEASED threads=\(threadCount())")

    case "commit":
        let writer = try store.acquireWriterLock(timeout: timeout())
        say("ACQUIRED pid=\(getpid())")
        let receipt = try writer.commit(Data((args.value("payload") ?? "{}").utf8), source: "agent")
        say("COMMITTED generation=\(receipt.generation)")

    case "update":
        let counter = args.value("counter") ?? "c\(getpid())"
        let times = Int(args.value("times") ?? "1") ?? 1
        for _ in 0..<times {
            try store.update(timeout: timeout()) { snapshot in
                var counters: [String: Int] = [:]
                if let snapshot,
                    let object = try JSONSerialization.jsonObject(with: snapshot.payload) as? [String: Any],
                    let existing = object["counters"] as? [String: Int]
                {
                    counters = existing
                }
                counters[counter, default: 0] += 1
                return try JSONSerialization.data(withJSONObject: ["counters": counters], options: [.sortedKeys])
            }
        }
        say("DONE updates=\(times)")

    case "hold-then-spawn":
        let writer = try store.acquireWriterLock(timeout: timeout())
        say("ACQUIRED pid=\(getpid())")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = args.rest
        let pipe = Pipe()
        child.standardOutput = pipe
        let started = ContinuousClock.now
        try child.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") { say("CHILD \(line)") }
        say("CHILD-EXIT status=\(child.terminationStatus) elapsedMs=\(Int((ContinuousClock.now - started).milliseconds))")
        writer.release()

    case "status-loop":
        let cap = Int(args.value("max") ?? "") ?? 1_000_000
        var count = 0
        var held = 0
        var stdin = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        while count < cap {
            if try store.status().lock.held { held += 1 }
            count += 1
            if count == 1 { say("LOOPING") }
            // stdin becomes readable (end of file) when the test is done.
            stdin.revents = 0
            if poll(&stdin, 1, 0) > 0 { break }
        }
        say("DONE statuses=\(count) held=\(held) capped=\(count >= cap ? 1 : 0)")

    default:
        say("ERROR usage unknown command '\(args.command)'")
        exit(1)
    }
}

/// Roles that need async: `refresh`, and `acquire --async` (task cancellation path).
func runAsync(_ store: CacheStore) async throws {
    switch args.command {
    case "acquire":
        installInterruptHandler()
        say("STARTED pid=\(getpid())")
        let writer = try await store.acquireWriterLock(timeout: timeout(), cancellation: cancellation)
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds))")
        writer.release()

    case "refresh":
        guard let log = args.value("fetch-log") else {
            say("ERROR usage missing --fetch-log")
            exit(1)
        }
        let maximumAge = args.value("if-older-than").flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
        say("READY pid=\(getpid())")
        let outcome = try await store.refresh(ifOlderThan: maximumAge, timeout: timeout()) { _ in
            let fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0o600)
            var line = "fetch \(getpid())\n"
            line.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
            say("FETCHING")
            waitForStdinToClose()
            return .payload(Data("{\"fetchedBy\":\(getpid())}".utf8), source: "agent")
        }
        switch outcome {
        case let .fetched(receipt): say("FETCHED generation=\(receipt.generation)")
        case .revalidated: say("REVALIDATED")
        case .skippedFresh: say("SKIPPED")
        case let .coalesced(version, _): say("COALESCED by=\(version.writerPID) generation=\(version.generation)")
        }

    default:
        try runBlocking(store)
    }
}

do {
    let store = try makeStore()
    if WatchRoles.commands.contains(args.command) {
        try await WatchRoles.run(args.command, values: args.values, store: store)
    } else if args.command == "refresh" || args.values["async"] != nil {
        try await runAsync(store)
    } else {
        try runBlocking(store)
    }
} catch {
    report(error)
}
exit(0)
