import Foundation
import Testing
import TestSupport
@testable import MetadataCache
import SystemCallFaults

/// The writer lock across real processes (advisory backend).
@Suite(.serialized, .dedicatedThread) struct WriterLockTests {
    /// Starts an agent holding the lock of `directory`; returns it once it holds.
    func holder(_ directory: String, backend: String = "auto") throws -> (ChildProcess, pid_t) {
        let agent = try Agent.start(["hold", "--dir", directory, "--backend", backend])
        let line = try agent.readLine(until: { $0.hasPrefix("ACQUIRED") })
        return (agent, pid_t(line.field("pid") ?? "") ?? -1)
    }

    @Test func theGuardReleasesOnDeinitAndTheLockIsReacquirable() throws {
        let t = try TestStore("deinit")
        do {
            let writer = try t.store.acquireWriterLock(timeout: .immediate)
            #expect(writer.backend == .advisory)
            #expect(writer.waited == .zero)
            #expect(writer.holder.pid == getpid())
            #expect(HeldWriterLocks.holder(of: t.store.layout) != nil)
        }
        #expect(HeldWriterLocks.holder(of: t.store.layout) == nil)
        // Another process can now take it without waiting.
        let result = try Agent.run(["acquire", "--dir", t.directory.path, "--timeout", "0"])
        #expect(result.exitCode == 0, "\(result.stdoutText)")
        #expect(result.stdoutText.contains("ACQUIRED"))
        #expect(t.events.names().contains("lockReleased"))
    }

    @Test func theHolderRecordIsPublishedAndClearedOnRelease() throws {
        let t = try TestStore("record")
        let writer = try t.store.acquireWriterLock()
        let lockBytes = try #require(t.directory.contents("metadata.lock"))
        let published = try #require(HolderRecord(parsing: Array(lockBytes)))
        #expect(published.pid == getpid())
        #expect(published.host == ProcessIdentity.hostName)
        #expect(published.processStartTime == ProcessIdentity.currentStartTime)
        #expect(published.backend == .advisory)
        #expect(lockBytes.count == HolderRecordSlot.size)
        writer.release()
        // Blanked in place, not truncated: same length, no record.
        let after = try #require(t.directory.contents("metadata.lock"))
        #expect(after.count == HolderRecordSlot.size)
        #expect(HolderRecordSlot.parse(Array(after)) == nil)
        #expect(Array(after) == HolderRecordSlot.cleared)
    }

    @Test func aSecondWriterTimesOutWithinItsBudgetNamingTheHolder() throws {
        let t = try TestStore("timeout")
        let (agent, holderPID) = try holder(t.directory.path)
        let started = ContinuousClock.now
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .after(.milliseconds(300))) }
        let elapsed = ContinuousClock.now - started
        guard case let .lockTimeout(lockPath, timeout, waited, holder) = outcome else {
            Issue.record("expected a timeout, got \(outcome)")
            return
        }
        #expect(lockPath == t.store.lockPath)
        #expect(timeout == .after(.milliseconds(300)))
        #expect(holder?.pid == holderPID)
        #expect(holder?.command.contains("cache-test-agent") == true)
        #expect(waited >= .milliseconds(300))
        #expect(elapsed < .seconds(5), "a 300 ms timeout took \(elapsed)")
        let message = MetadataCacheError.lockTimeout(lockPath: lockPath, timeout: timeout, waited: waited, holder: holder).description
        #expect(message.contains("pid \(holderPID)"))
        // What to do, as data and in neutral words (a host's tool has no `metacache`).
        #expect(MetadataCacheError.lockTimeout(lockPath: lockPath, timeout: timeout, waited: waited, holder: holder).remedy == .waitLongerForLock)
        #expect(message.hasSuffix("Retry with a longer lock timeout, or check whether the process holding the lock is stuck."))
        agent.closeStdin()
        #expect(try agent.wait() == .exited(0))
        // Once released, the same store acquires at once.
        #expect(try t.store.acquireWriterLock(timeout: .immediate).waited == .zero)
    }

    // Waiters below are agents, and the holder is a *sibling* agent: were the test
    // process itself the holder, the agents (its children) would rightly refuse to
    // wait for their own ancestor (see the self-deadlock tests).

    @Test func anotherProcessTimesOutAndReportsTheHolder() throws {
        let t = try TestStore("child-timeout")
        let (agent, holderPID) = try holder(t.directory.path)
        let result = try Agent.run(["acquire", "--dir", t.directory.path, "--timeout", "0.3"])
        #expect(result.exitCode == 75)
        #expect(result.stdoutText.contains("TIMEOUT holderPid=\(holderPID)"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("WAITING holderPid=\(holderPID)"))
        agent.closeStdin()
        try agent.wait()
    }

    @Test func immediateMeansOneAttempt() throws {
        let t = try TestStore("immediate")
        let (agent, holderPID) = try holder(t.directory.path)
        let started = ContinuousClock.now
        #expect(throws: MetadataCacheError.self) { _ = try t.store.acquireWriterLock(timeout: .immediate) }
        #expect(ContinuousClock.now - started < .seconds(2))
        // No wait was announced for a single attempt; the timeout names the holder.
        #expect(!t.events.names().contains("lockWaitStarted"))
        let timedOut = t.events.events.contains {
            if case let .lockTimedOut(_, _, holder) = $0 { return holder?.pid == holderPID }
            return false
        }
        #expect(timedOut)
        agent.closeStdin()
        try agent.wait()
    }

    @Test func anInfiniteWaitEndsWhenTheHolderReleases() throws {
        let t = try TestStore("infinite")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "infinite"])
        let waiting = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        #expect(waiting.contains("timeout=none"))
        agent.closeStdin()
        let acquired = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(acquired.contains("backend=advisory"))
        #expect(try waiter.wait() == .exited(0))
    }

    /// A wait with a cancellation token (the agent always passes one) is timed by
    /// the process's one watchdog thread: started by the first such wait, left
    /// asleep when the lock is granted (waking it would slow the handover), and
    /// kept for the next wait rather than created and destroyed per wait.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/task")))
    func aWaitWithATokenUsesTheOneWatchdogThreadWhichOutlivesTheLock() throws {
        let t = try TestStore("watchdog")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "infinite"])
        let started = try waiter.readLine(until: { $0.hasPrefix("STARTED") })
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        agent.closeStdin()
        let acquired = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let released = try waiter.readLine(until: { $0.hasPrefix("RELEASED") })
        let before = try #require(Int(started.field("threads") ?? ""))
        let held = try #require(Int(acquired.field("threads") ?? ""))
        let after = try #require(Int(released.field("threads") ?? ""))
        #expect(held == before + 1, "one watchdog thread while the lock is held")
        #expect(after == held, "the watchdog stays asleep for the next wait; none exits or is added at the release")
        #expect(try waiter.wait() == .exited(0))
        try agent.wait()
    }

    /// A wait without a cancellation token starts no thread at all: the waiting
    /// thread keeps its own time with a timer. (The kernel numbers a process's
    /// first timer 0, which Swift reads as a nil `timer_t`; taken for a failure,
    /// it sent the first wait of every process to the watchdog thread.)
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/task")))
    func aWaitWithoutATokenStartsNoThread() throws {
        let t = try TestStore("no-thread")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "infinite", "--token", "no"])
        let started = try waiter.readLine(until: { $0.hasPrefix("STARTED") })
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        agent.closeStdin()
        let acquired = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        let before = try #require(Int(started.field("threads") ?? ""))
        let held = try #require(Int(acquired.field("threads") ?? ""))
        #if os(Linux)
        #expect(held == before, "a tokenless wait started a thread")
        #endif
        _ = try waiter.readLine(until: { $0.hasPrefix("RELEASED") })
        #expect(try waiter.wait() == .exited(0))
        try agent.wait()
    }

    /// A wait without a token keeps its own time with a timer that interrupts
    /// `flock` (every 2 ms once due, in case a signal lands outside it). When the
    /// wait ends, no such signal may reach the caller's next system calls: an
    /// interrupted `poll` here would return -1 (EINTR) instead of timing out.
    @Test func aTimedOutWaitLeavesNoInterruptForTheCallersNextSystemCalls() throws {
        let t = try TestStore("no-stray-signal")
        let (agent, _) = try holder(t.directory.path)
        for _ in 0..<3 {
            let outcome = acquisitionError { () throws(MetadataCacheError) in
                try t.store.acquireWriterLock(timeout: .after(.milliseconds(50)))
            }
            guard case .lockTimeout = outcome else {
                Issue.record("expected a timeout, got \(outcome)")
                return
            }
            // Nothing queued for this thread, and nothing still firing: with the
            // signal unblocked (this thread may block it), a 20 ms poll — ten
            // times the timer's repeat interval — is not interrupted.
            let number = try #require(LockWaitInterruptSignal.number)
            var pending = sigset_t()
            sigpending(&pending)
            #expect(sigismember(&pending, number) == 0, "a lock-wait signal is pending after the wait")
            var set = sigset_t()
            var previous = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, number)
            pthread_sigmask(SIG_UNBLOCK, &set, &previous)
            let result = poll(nil, 0, 20)
            let error = errno
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            #expect(result == 0, "poll returned \(result), errno \(error): a lock-wait signal outlived the wait")
        }
        agent.closeStdin()
        try agent.wait()
    }

    @Test func theKernelReleasesTheLockOfAKilledHolder() throws {
        let t = try TestStore("killed")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "30"])
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        agent.signal(SIGKILL)
        _ = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(try waiter.wait() == .exited(0))
        #expect(try agent.wait() == .signaled(SIGKILL))
    }

    @Test func waitersAreToldAtOnceAndThenAtLeastEverySecond() throws {
        let t = try TestStore("progress")
        let (agent, holderPID) = try holder(t.directory.path)
        let started = ContinuousClock.now
        _ = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .after(.milliseconds(2300))) }
        let timed = t.events.timed
        let first = try #require(timed.first { $0.1.name == "lockWaitStarted" })
        if case let .lockWaitStarted(_, holder, timeout) = first.1 {
            #expect(holder?.pid == holderPID)
            #expect(timeout == .after(.milliseconds(2300)))
        }
        // Generous bound: the goal is 100 ms; the event is sent before waiting.
        #expect(first.0 - started < .seconds(1))
        let progress = timed.filter { $0.1.name == "lockWaitProgress" }
        #expect(progress.count >= 2, "only \(progress.count) progress events in 2.3 s")
        var elapsedValues: [Duration] = []
        for (_, event) in progress {
            if case let .lockWaitProgress(_, elapsed, remaining, holder) = event {
                elapsedValues.append(elapsed)
                #expect(remaining != nil)
                #expect(holder?.pid == holderPID)
            }
        }
        #expect(elapsedValues == elapsedValues.sorted())
        #expect(t.events.names().last == "lockTimedOut")
        agent.closeStdin()
        try agent.wait()
    }

    /// The progress callback runs on the waiting thread, inside the wait; a grant
    /// that arrives while it runs is taken as soon as it returns, and no progress
    /// event follows the acquisition.
    @Test func aGrantDuringAProgressCallbackIsTakenAndNoProgressFollowsIt() throws {
        let dir = TemporaryDirectory("grant-in-progress")
        let (agent, _) = try holder(dir.path)
        let log = LockedValue<[String]>([])
        let released = LockedValue(false)
        var options = CacheStoreOptions()
        options.observer = CacheEventHandler { event in
            log.withLock { $0.append(event.name) }
            guard case .lockWaitProgress = event, !released.withLock({ $0 }) else { return }
            // Inside the first progress callback: make the holder let go and wait
            // until it has, so the grant arrives while this callback still runs.
            released.withLock { $0 = true }
            agent.closeStdin()
            _ = try? agent.readLine(until: { $0.hasPrefix("RELEASED") })
            log.withLock { $0.append("callbackReturned") }
        }
        let store = try CacheStore(directory: dir.path, options: options)
        let writer = try store.acquireWriterLock(timeout: .after(.seconds(30)))
        writer.release()
        let names = log.withLock { $0 }
        let acquired = try #require(names.firstIndex(of: "lockAcquired"))
        #expect(names.firstIndex(of: "callbackReturned").map { $0 < acquired } == true, "\(names)")
        #expect(!names[acquired...].contains("lockWaitProgress"), "\(names)")
        try agent.wait()
    }

    @Test func aCancelTokenEndsTheWaitPromptly() async throws {
        let t = try TestStore("token")
        let (agent, _) = try holder(t.directory.path)
        let token = CancellationToken()
        let store = t.store
        let attempt = Task { _ = try await store.acquireWriterLock(timeout: .infinite, cancellation: token) }
        await t.events.waitFor("lockWaitStarted")
        let cancelled = ContinuousClock.now
        token.cancel()
        await #expect(throws: MetadataCacheError.self) { try await attempt.value }
        // Measured from the cancel: it wakes the watchdog through the token's pipe
        // at once (milliseconds); the bound is generous for a loaded machine, and
        // far below the infinite wait a broken cancellation would give.
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(t.events.names().contains("lockWaitCancelled"))
        agent.closeStdin()
        try agent.wait()
    }

    @Test func cancellingTheTaskEndsTheWait() async throws {
        let t = try TestStore("task")
        let (agent, _) = try holder(t.directory.path)
        let store = t.store
        let task = Task { () async throws -> Duration in
            let writer = try await store.acquireWriterLock(timeout: .infinite)
            return writer.waited
        }
        await t.events.waitFor("lockWaitStarted")
        task.cancel()
        let result = await task.result
        guard case let .failure(error) = result, case .cancelled? = error as? MetadataCacheError else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
        agent.closeStdin()
        try agent.wait()
        // The cancelled waiter holds nothing: the lock is free again.
        #expect(try await store.acquireWriterLock(timeout: .immediate).backend == .advisory)
    }

    @Test func sigintToAWaitingProcessCancelsIt() throws {
        let t = try TestStore("sigint")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "infinite"])
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        waiter.signal(SIGINT)
        _ = try waiter.readLine(until: { $0.hasPrefix("CANCELLED") })
        #expect(try waiter.wait() == .exited(130))
        agent.closeStdin()
        try agent.wait()
    }

    /// A host that installs its own handler for the library's interrupt signal
    /// after the library did (with SA_RESTART, or SIG_IGN) would make a blocking
    /// flock impossible to interrupt: the wait must notice and poll instead, so
    /// its timeout and cancellation still end it.
    @Test(arguments: ["restart", "ignore"])
    func aWaitStillTimesOutAfterTheHostTookTheInterruptSignal(mode: String) throws {
        let t = try TestStore("stolen-\(mode)")
        let (agent, holderPID) = try holder(t.directory.path)
        let waiter = try Agent.start([
            "acquire", "--dir", t.directory.path, "--timeout", "0.5", "--steal-interrupt-signal", mode,
        ])
        _ = try waiter.readLine(until: { $0.hasPrefix("STOLE") })
        // Generous: a 0.5 s timeout; a wait the watchdog cannot interrupt would
        // last until the holder lets go, which it does only after this line.
        let line = try waiter.readLine(until: { $0.hasPrefix("TIMEOUT") || $0.hasPrefix("ACQUIRED") }, timeout: .seconds(20))
        #expect(line.hasPrefix("TIMEOUT holderPid=\(holderPID)"), "\(line)")
        #expect(try waiter.wait() == .exited(75))
        agent.closeStdin()
        try agent.wait()
    }

    @Test func aWaitIsStillCancellableAfterTheHostTookTheInterruptSignal() throws {
        let t = try TestStore("stolen-cancel")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start([
            "acquire", "--dir", t.directory.path, "--timeout", "infinite", "--steal-interrupt-signal", "restart",
        ])
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        waiter.signal(SIGINT)
        _ = try waiter.readLine(until: { $0.hasPrefix("CANCELLED") }, timeout: .seconds(20))
        #expect(try waiter.wait() == .exited(130))
        agent.closeStdin()
        try agent.wait()
    }

    @Test func theAsyncPathAlsoHandsOverOnRelease() throws {
        let t = try TestStore("async")
        let (agent, _) = try holder(t.directory.path)
        let waiter = try Agent.start(["acquire", "--dir", t.directory.path, "--timeout", "30", "--async", "1"])
        _ = try waiter.readLine(until: { $0.hasPrefix("WAITING") })
        agent.closeStdin()
        _ = try waiter.readLine(until: { $0.hasPrefix("ACQUIRED") })
        #expect(try waiter.wait() == .exited(0))
    }

    @Test func aSecondGuardInTheSameProcessFailsAtOnce() throws {
        let t = try TestStore("reentrant")
        let writer = try t.store.acquireWriterLock()
        let started = ContinuousClock.now
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .infinite) }
        guard case let .selfDeadlock(_, holder, ancestor) = outcome else {
            Issue.record("expected selfDeadlock, got \(outcome)")
            return
        }
        #expect(holder.pid == getpid())
        #expect(!ancestor)
        #expect(ContinuousClock.now - started < .seconds(2))
        writer.release()
    }

    /// A nested `update` on the thread that already holds the lock would wait for
    /// itself (forever with `.infinite`); it must fail at once instead.
    @Test func aNestedUpdateOnTheHoldingThreadFailsAtOnce() throws {
        let t = try TestStore("nested-update")
        let store = t.store
        let started = ContinuousClock.now
        var inner: MetadataCacheError?
        // A finite timeout only so that a regression fails instead of hanging.
        try store.update(timeout: .after(.seconds(20))) { _ in
            do {
                try store.update(timeout: .after(.seconds(20))) { _ in Data("[0]".utf8) }
            } catch {
                inner = error as? MetadataCacheError
            }
            return Data("[1]".utf8)
        }
        guard case let .selfDeadlock(_, holder, ancestor) = inner else {
            Issue.record("expected selfDeadlock, got \(String(describing: inner))")
            return
        }
        #expect(holder.pid == getpid())
        #expect(!ancestor)
        // Generous (other tests share the two pool threads): a regression waits out
        // the 20 s timeout, and would end in lockTimeout, not selfDeadlock.
        #expect(ContinuousClock.now - started < .seconds(15))
        // The outer update committed.
        #expect(try store.read()?.payload == Data("[1]".utf8))
    }

    /// The same outside any Swift task, where the holder is the thread itself.
    @Test func aNestedUpdateOnAPlainThreadFailsAtOnce() throws {
        let t = try TestStore("nested-thread")
        let store = t.store
        let done = DispatchSemaphore(value: 0)
        let result = LockedValue<MetadataCacheError?>(nil)
        Thread.detachNewThread {
            _ = try? store.update(timeout: .after(.seconds(20))) { _ in
                do {
                    try store.update(timeout: .after(.seconds(20))) { _ in Data("[0]".utf8) }
                } catch {
                    result.withLock { $0 = error as? MetadataCacheError }
                }
                return Data("[1]".utf8)
            }
            done.signal()
        }
        // Generous: the nested update fails at once; a regression waits 20 s.
        #expect(done.wait(timeout: .now() + 15) == .success)
        guard case .selfDeadlock? = result.withLock({ $0 }) else {
            Issue.record("expected selfDeadlock, got \(String(describing: result.withLock { $0 }))")
            return
        }
    }

    /// And for async code: an update awaited inside a refresh's fetch runs in the
    /// task that holds the lock.
    @Test func aNestedAsyncUpdateInsideARefreshFailsAtOnce() async throws {
        let t = try TestStore("nested-async")
        let store = t.store
        let started = ContinuousClock.now
        do {
            _ = try await store.refresh(timeout: .after(.seconds(20))) { _ in
                // An async transform: the async overload of update.
                try await store.update(timeout: .after(.seconds(20))) { _ async in Data("[0]".utf8) }
                return .payload(Data("[1]".utf8), source: "test")
            }
            Issue.record("the nested update should have failed")
        } catch {
            guard case .selfDeadlock = error else {
                Issue.record("expected selfDeadlock, got \(error)")
                return
            }
        }
        // Generous (other tests share the two pool threads): a regression waits out
        // the 20 s timeout, and would end in lockTimeout, not selfDeadlock.
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    /// Same for a nested update inside a raw guard of the same thread.
    @Test func aNestedUpdateInsideTheThreadsOwnGuardFailsAtOnce() throws {
        let t = try TestStore("nested-guard")
        let writer = try t.store.acquireWriterLock()
        let outcome = Result { try t.store.update(timeout: .after(.seconds(20))) { _ in Data("[0]".utf8) } }
        guard case let .failure(error) = outcome, case .selfDeadlock? = error as? MetadataCacheError else {
            Issue.record("expected selfDeadlock, got \(outcome)")
            return
        }
        writer.release()
    }

    /// Other threads and tasks of the holding process still queue: a blocking
    /// update in another task waits for the holder and then succeeds — even when
    /// the holder's guard came from the blocking API and is held across an
    /// `await` (the holder is the task, not the thread it happened to run on).
    @Test func anUpdateOnAnotherThreadQueuesBehindTheHolder() async throws {
        let t = try TestStore("other-thread")
        let writer = try acquireOnThisThread(t.store)
        let store = t.store
        // On a thread of its own: blocked in the lock wait on a pool thread, it
        // could leave none to resume this test, which must release the lock.
        let other = Task { try await BlockingWork.run { try BlockingUpdate.run(store) } }
        await t.events.waitFor("lockWaitStarted")
        writer.release()
        #expect(try await other.value.generation == 1)
    }

    /// The blocking overload, from an async test.
    func acquireOnThisThread(_ store: CacheStore) throws -> CacheWriterLockGuard {
        try store.acquireWriterLock()
    }

    /// `.refuse` must recognise its own lock however the directory is spelled.
    @Test func aSecondGuardIsRefusedWhenTheSameDirectoryIsSpelledDifferently() throws {
        let root = TemporaryDirectory("spelling")
        try FileManager.default.createDirectory(
            atPath: root.file("real/cache"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: root.file("real"))
        let store = try CacheStore(directory: root.file("real/cache"))
        let writer = try store.acquireWriterLock()
        for spelling in [root.file("real/../real/cache"), root.file("link/cache"), root.file("real/cache/")] {
            let other = try CacheStore(directory: spelling)
            let started = ContinuousClock.now
            let outcome = acquisitionError { () throws(MetadataCacheError) in try other.acquireWriterLock(timeout: .after(.seconds(10))) }
            guard case let .selfDeadlock(_, holder, _) = outcome else {
                Issue.record("\(spelling): expected selfDeadlock, got \(String(describing: outcome))")
                continue
            }
            #expect(holder.pid == getpid())
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        writer.release()
    }

    @Test func aChildOfTheHolderFailsAtOnceInsteadOfWaitingForItsParent() throws {
        let t = try TestStore("ancestor")
        let result = try Agent.run([
            "hold-then-spawn", "--dir", t.directory.path, "--",
            "acquire", "--dir", t.directory.path, "--timeout", "30",
        ])
        let out = result.stdoutText
        #expect(result.exitCode == 0, "\(out)")
        #expect(out.contains("CHILD SELFDEADLOCK"), "\(out)")
        #expect(out.contains("ancestor=1"))
        #expect(out.contains("CHILD-EXIT status=76"))
        // It failed fast, not after its 30 s timeout.
        let elapsed = out.split(separator: "\n").first { $0.hasPrefix("CHILD-EXIT") }.flatMap { String($0).field("elapsedMs") }.flatMap(Int.init)
        #expect((elapsed ?? 99_999) < 10_000)
    }

    /// Every errno that means "this filesystem has no flock" (NFS without lockd,
    /// some FUSE and 9p mounts), on every flock call as such a filesystem would.
    @Test(arguments: [Errno.noLocks, .notSupported, .notImplemented])
    func advisoryFallsBackToOwnerFilesWhenTheFilesystemRefusesLocks(errno: Errno) throws {
        let t = try TestStore("fallback", faults: [InjectedFault(.flock, occurrence: nil, action: .fail(errno))])
        let writer = try t.store.acquireWriterLock()
        #expect(writer.backend == .lockFile)
        let reason = t.events.events.compactMap { event -> String? in
            if case let .backendFallback(_, reason) = event { return reason }
            return nil
        }.first
        #expect(reason?.contains(errno.name) == true, "\(String(describing: reason))")
        #expect(t.directory.listing().contains("metadata.lock.owner"))
        writer.release()
        #expect(!t.directory.listing().contains("metadata.lock.owner"))
    }

    /// `auto` on a known network filesystem goes straight to owner files (a
    /// statfs answer is simulated), saying why.
    @Test func autoUsesOwnerFilesOnANetworkFilesystem() throws {
        let nfs = FaultInjectingSystemCalls(
            faults: [], reportedFileSystem: FileSystemType(name: "nfs", isNetworkFileSystem: true))
        let t = try TestStore("network-fs") { $0.systemCalls = SystemCalls(provider: nfs) }
        #expect(t.store.acquisition(in: try t.store.openDirectoryForWriting()).plannedBackend == .lockFile)
        let writer = try t.store.acquireWriterLock()
        #expect(writer.backend == .lockFile)
        let reason = t.events.events.compactMap { event -> String? in
            if case let .backendFallback(_, reason) = event { return reason }
            return nil
        }.first
        #expect(reason?.contains("nfs") == true, "\(String(describing: reason))")
        writer.release()
        // A local filesystem type keeps the advisory backend.
        let local = FaultInjectingSystemCalls(
            faults: [], reportedFileSystem: FileSystemType(name: "ext4", isNetworkFileSystem: false))
        let l = try TestStore("local-fs") { $0.systemCalls = SystemCalls(provider: local) }
        #expect(try l.store.acquireWriterLock().backend == .advisory)
    }

    /// A symlink planted at the lock path or the owner path is refused
    /// (O_NOFOLLOW) with an error that says so, and nothing is written through it.
    @Test(arguments: [("metadata.lock", LockBackendSelection.auto), ("metadata.lock", .lockFile), ("metadata.lock.owner", .lockFile)])
    func aSymlinkPlantedAtTheLockOrOwnerPathIsRefused(name: String, backend: LockBackendSelection) throws {
        let t = try TestStore("symlink-lock", backend: backend)
        let elsewhere = TemporaryDirectory("symlink-victim")
        let victim = elsewhere.file("victim")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: t.directory.file(name), withDestinationPath: victim)
        let outcome = acquisitionError { () throws(MetadataCacheError) in try t.store.acquireWriterLock(timeout: .immediate) }
        guard case let .io(operation, path, errno) = outcome else {
            Issue.record("expected an I/O error naming the symlink, got \(String(describing: outcome))")
            return
        }
        #expect(path == t.directory.file(name))
        #expect(errno == .tooManySymlinks)
        #expect(operation.contains(name == "metadata.lock" ? "lock file" : "owner file"), "\(operation)")
        #expect(outcome?.description.contains("symbolic link") == true, "\(String(describing: outcome))")
        #expect(FileManager.default.contents(atPath: victim) == Data("precious".utf8), "written through the symlink")
        #expect(elsewhere.listing() == ["victim"])
        // Nothing is held after the refusal.
        #expect(HeldWriterLocks.holder(of: t.store.layout) == nil)
        if name == "metadata.lock.owner" {
            var options = CacheStoreOptions()
            options.lockBackend = .advisory
            let advisory = try CacheStore(directory: t.directory.path, options: options)
            #expect(throws: Never.self) { try advisory.acquireWriterLock(timeout: .immediate).release() }
        }
    }

    @Test func forcedAdvisoryOnAFilesystemWithoutLocksFailsClearly() throws {
        let t = try TestStore("forced", backend: .advisory, faults: [InjectedFault(.flock, occurrence: 1, action: .fail(.noLocks))])
        #expect(throws: MetadataCacheError.lockingUnsupported(lockPath: t.store.lockPath, errno: .noLocks)) {
            _ = try t.store.acquireWriterLock()
        }
    }
}

/// A blocking `update` run from a detached task (on a thread of its own choosing).
enum BlockingUpdate {
    static func run(_ store: CacheStore) throws -> CommitReceipt {
        try store.update(timeout: .after(.seconds(30))) { _ in Data("[2]".utf8) }
    }
}
