// cache-test-agent: a separate process for the library's unit tests.
//
// Tests need real processes for cross-process behaviour (locks, crashes, lost
// updates). This agent performs one role per invocation and reports over stdout, one
// line per fact, so tests synchronise by reading lines — never by sleeping:
//
//   hold     --dir D [--backend B] [--timeout T]     take the lock, print ACQUIRED,
//                                                     hold until stdin closes
//   acquire  --dir D [--backend B] [--timeout T]     print WAITING/PROGRESS events, then
//            [--token no]                            ACQUIRED | TIMEOUT | CANCELLED |
//                                                     SELFDEADLOCK (SIGINT cancels, unless
//                                                     `--token no`: no cancellation token);
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
//   hold-commit --dir D --payload TEXT               take the lock, print ACQUIRED, wait
//                                                     for a line (or EOF) on stdin, commit,
//                                                     print COMMITTED | LOCKLOST, wait for
//                                                     stdin to close, release, RELEASED
//   hold-signalled --dir D                           take the lock, then (once the lease
//                                                     was renewed) interrupt every other
//                                                     thread's system calls with a signal
//                                                     (SIGUSR1, no SA_RESTART, 5 rounds)
//                                                     and print SIGNALLED; release at EOF
//   spawn-and-list-fds --dir D [--wait-for-line]     (wait for a line first, if asked, so
//                                                     a test can start a holder and have
//                                                     this one wait) take the lock,
//                                                     posix_spawn /bin/sleep inheriting
//                                                     everything, print CHILDFD N TARGET
//                                                     for each of its descriptors >= 3,
//                                                     then FDS-DONE; release
//   start-background --dir D -- ARGS...             a long-lived host: for each line on
//                                                     stdin, startBackgroundRefresh(ARGS);
//                                                     prints STARTED pid=N | SKIPPED reason=R
//   watch, commit-many, watch-churn                   see WatchRoles.swift
//   status-loop --dir D [--max N]                    CacheStore.status() in a tight loop;
//                                                     prints LOOPING after the first,
//                                                     stops when stdin closes (or after
//                                                     N), prints DONE statuses=… held=…
//
// Common options: --backend B, --lease-ms N, --fault SPEC (repeatable; a `pause`
// fault prints PAUSED and waits for one line on stdin, or its end), --sabotage
// NAME (repeatable; a past defect of the lock-file backend, see LockFileSabotage),
// --log FILE (append ACQUIRED/RELEASED lines with the pid, one write each, so a
// test can order the holds of several agents: ACQUIRED is logged before it is
// printed, RELEASED before the lock is released).
//
// `acquire --steal-interrupt-signal restart|ignore` first installs a host handler
// (with SA_RESTART) or SIG_IGN for the signal the library's lock waits use to end
// a blocking flock, as a host that claims the signal after the library would.
//
// Exit codes: 0 done, 75 timeout, 130 cancelled, 76 self-deadlock, 3 lock lost,
// 1 other error.

import Foundation
import MetadataCache
import SystemCallFaults

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

/// Threads of this process with the given name (Linux: /proc/self/task/TID/comm;
/// -1 elsewhere). A count by name is immune to the concurrency pool and the
/// runtime growing or shrinking their own threads while a test measures.
func threadCount(named name: String) -> Int {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return -1 }
    var count = 0
    for task in tasks {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8) else { continue }
        if comm.trimmingCharacters(in: .newlines) == name { count += 1 }
    }
    return count
}

/// Blocks until stdin reaches end of file (the test's "let go now").
func waitForStdinToClose() {
    var byte: UInt8 = 0
    while true {
        let n = read(0, &byte, 1)
        if n == 0 || (n < 0 && errno != EINTR) { return }
    }
}

/// Blocks until a whole line arrives on stdin, or its end (the test's "go on").
func waitForLineOnStdin() {
    var byte: UInt8 = 0
    while true {
        let n = read(0, &byte, 1)
        if n == 0 || (n < 0 && errno != EINTR) || (n == 1 && byte == UInt8(ascii: "\n")) { return }
    }
}

/// Appends `line` to the --log file in one O_APPEND write, so that the lines of
/// several agents interleave whole and in the order they happened.
func log(_ line: String) {
    guard let path = args.value("log") else { return }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    var text = line + "\n"
    text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

struct Arguments {
    var command = ""
    var values: [String: String] = [:]
    var faults: [String] = []
    var sabotage: [String] = []
    var flags: Set<String> = []
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
            if arg == "--sabotage", i + 1 < argv.count {
                sabotage.append(argv[i + 1])
                i += 2
                continue
            }
            if arg == "--wait-for-line" {
                flags.insert("wait-for-line")
                i += 1
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

/// Descriptors 3 and up this process was started with (inherited from the test),
/// listed before the library opens anything: `spawn-and-list-fds` reports only
/// the others.
/// (The listing's own directory descriptor, closed by now, is filtered out.)
let inheritedDescriptors = Set(
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap(Int.init)
        .filter { fcntl(Int32($0), F_GETFD) != -1 })
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
            say("PAUSED at=\(kind.rawValue) temp=\(temps.first ?? "-") path=\(path ?? "-")")
            waitForLineOnStdin()
        })
    }
    for name in args.sabotage {
        guard let sabotage = LockFileSabotage.byName[name] else {
            say("ERROR usage bad --sabotage \(name)")
            exit(1)
        }
        options.lockFileSabotage.insert(sabotage)
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
        case let .leaseRenewalFailed(_, reason):
            say("RENEWAL-FAILED reason=\(reason)")
        case let .sweepRemoved(path, _):
            say("SWEPT \(path.split(separator: "/").last.map(String.init) ?? path)")
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
    case let MetadataCacheError.lockLost(_, reason):
        say("LOCKLOST \(reason)")
        exit(3)
    default:
        say("ERROR \(error)")
        exit(1)
    }
}

/// Signals delivered to this process while the main thread blocks them.
nonisolated(unsafe) var signalsDelivered: Int32 = 0

/// Interrupts the system calls of every thread but the main one: blocks SIGUSR1
/// here, installs a handler without SA_RESTART (so a blocked `poll` returns
/// EINTR), and sends the signal to the process once per other thread, in five
/// rounds 20 ms apart; the kernel delivers each to a thread that does not block
/// it. First waits for `owner` (if given) to be renewed once, so that its
/// renewal thread is sleeping in its `poll` when the signals come. Returns
/// (threads, delivered).
func interruptOtherThreads(renewing owner: String?) -> (Int, Int) {
    if let owner {
        let modified = { (try? FileManager.default.attributesOfItem(atPath: owner))?[.modificationDate] as? Date }
        let first = modified()
        let deadline = ContinuousClock.now + .seconds(10)
        while modified() == first && ContinuousClock.now < deadline { _ = poll(nil, 0, 5) }
    }
    var action = sigaction()
    #if canImport(Glibc)
    action.__sigaction_handler.sa_handler = { _ in signalsDelivered += 1 }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGUSR1, &action, nil)
    var blocked = sigset_t()
    sigemptyset(&blocked)
    sigaddset(&blocked, SIGUSR1)
    pthread_sigmask(SIG_BLOCK, &blocked, nil)
    let threads = threadCount()
    let perRound = max(1, threads - 1)
    for round in 1...5 {
        for _ in 0..<perRound { kill(getpid(), SIGUSR1) }
        // Each delivery runs the handler on its thread; wait for this round to
        // land (bounded: the count is reported, and the test checks it).
        let deadline = ContinuousClock.now + .seconds(5)
        while signalsDelivered < Int32(perRound * round) && ContinuousClock.now < deadline { _ = poll(nil, 0, 1) }
        _ = poll(nil, 0, 20)
    }
    return (threads, Int(signalsDelivered))
}

/// Spawns `/bin/sleep 60` the way a careless host would (posix_spawn with no file
/// actions: it inherits every descriptor not marked close-on-exec), lists the
/// child's descriptors 3 and up from /proc/PID/fd, except those this agent
/// itself inherited, then kills and reaps it.
func childDescriptors() -> [String] {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("60"), nil]
    defer { argv.forEach { free($0) } }
    guard posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0 else { return ["ERROR spawn"] }
    // The child inherits at fork; once it sleeps (its wchan names the kernel's
    // nanosleep), it has exec'd — close-on-exec descriptors are gone — and its
    // dynamic loader has closed the libraries it opened, which would otherwise
    // be listed as descriptors of its own.
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
        if wchan.contains("nanosleep") { break }
        _ = poll(nil, 0, 1)
    }
    var lines: [String] = []
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    for entry in entries.compactMap(Int.init).sorted() where entry >= 3 && !inheritedDescriptors.contains(entry) {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)")) ?? "?"
        lines.append("CHILDFD \(entry) \(target)")
    }
    kill(pid, SIGKILL)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return lines
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
        log("ACQUIRED \(getpid())")
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds))")
        waitForStdinToClose()
        log("RELEASED \(getpid())")
        writer.release()
        say("RELEASED")

    case "acquire":
        installInterruptHandler()
        stealInterruptSignalIfAsked()
        let threadsBefore = threadCount()
        say("STARTED pid=\(getpid()) threads=\(threadsBefore)")
        let token = args.value("token") == "no" ? nil : cancellation
        let writer = try store.acquireWriterLock(timeout: timeout(), cancellation: token)
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds)) threads=\(threadCount())")
        writer.release()
        // The process's lock-wait watchdog (a wait with a cancellation token
        // starts it) stays asleep after the release, for the next wait.
        say("RELEASED threads=\(threadCount())")

    case "commit":
        let writer = try store.acquireWriterLock(timeout: timeout())
        log("ACQUIRED \(getpid())")
        say("ACQUIRED pid=\(getpid())")
        let receipt = try writer.commit(Data((args.value("payload") ?? "{}").utf8), source: "agent")
        say("COMMITTED generation=\(receipt.generation)")
        log("RELEASED \(getpid())")

    case "hold-commit":
        let writer = try store.acquireWriterLock(timeout: timeout())
        log("ACQUIRED \(getpid())")
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend)")
        waitForLineOnStdin()
        let outcome = Result { () throws(MetadataCacheError) in
            try writer.commit(Data((args.value("payload") ?? "{}").utf8), source: "agent")
        }
        switch outcome {
        case let .success(receipt): say("COMMITTED generation=\(receipt.generation)")
        case let .failure(.lockLost(_, reason)): say("LOCKLOST \(reason)")
        case let .failure(error): say("ERROR \(error)")
        }
        waitForStdinToClose()
        log("RELEASED \(getpid())")
        writer.release()
        say("RELEASED")

    case "hold-signalled":
        let writer = try store.acquireWriterLock(timeout: timeout())
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend)")
        let owner = writer.backend == .lockFile ? writer.lockPath : nil
        let (threads, delivered) = interruptOtherThreads(renewing: owner)
        say("SIGNALLED threads=\(threads) delivered=\(delivered)")
        waitForStdinToClose()
        writer.release()
        say("RELEASED")

    case "spawn-and-list-fds":
        if args.flags.contains("wait-for-line") {
            say("STARTED pid=\(getpid())")
            waitForLineOnStdin()
        }
        let writer = try store.acquireWriterLock(timeout: timeout(), cancellation: cancellation)
        say("ACQUIRED pid=\(getpid()) backend=\(writer.backend) waitedMs=\(Int(writer.waited.milliseconds))")
        for line in childDescriptors() { say(line) }
        say("FDS-DONE")
        writer.release()

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

    case "start-background":
        // A long-lived host: starts ARGS as the store's background refresh once per
        // line read on stdin, printing STARTED pid=N or SKIPPED reason=…, and stays
        // alive until stdin closes (its reaper threads do their work meanwhile).
        guard let snapshot = try store.read() else {
            say("ERROR no cache")
            exit(1)
        }
        let command = BackgroundRefreshCommand(executable: args.rest[0], arguments: Array(args.rest.dropFirst()))
        while readLine() != nil {
            switch store.startBackgroundRefresh(command, ifUnchangedSince: snapshot) {
            case let .started(pid): say("STARTED pid=\(pid)")
            case let other: say("SKIPPED reason=\(other.reason)")
            }
        }
        say("DONE")

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
