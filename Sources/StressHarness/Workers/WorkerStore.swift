import MetadataCache
import SystemCallFaults

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the cache store a worker uses, configured exactly as its invocation says.
///
/// Guarantee: every worker of a run uses the same backend and lock timeout, and a
/// fault plan or sabotage applies only to the worker that was given it.
enum WorkerStore {
    static func make(_ w: WorkerInvocation, observer: (any CacheObserver)?) throws(WorkerFailure) -> CacheStore {
        try make(w, observer: observer, injector: try faultInjector(for: w))
    }

    /// The fault injector for the invocation's `--fault` plan, nil without one. A
    /// `pause` fault freezes the writer mid-commit, holding the lock, until its
    /// stdin closes: a live (or, once killed, dead) holder for tests.
    static func faultInjector(for w: WorkerInvocation) throws(WorkerFailure) -> FaultInjectingSystemCalls? {
        guard !w.faults.isEmpty else { return nil }
        var faults: [InjectedFault] = []
        for spec in w.faults {
            guard let fault = InjectedFault.parse(spec) else { throw WorkerFailure(usage: "bad --fault '\(spec)'") }
            faults.append(fault)
        }
        return FaultInjectingSystemCalls(faults: faults) { kind, _ in
            CoordinatorChannel.say("PAUSED at=\(kind.rawValue) pid=\(getpid())")
            CoordinatorChannel.waitForEndOfInput()
        }
    }

    /// The store, with `injector` (from `faultInjector(for:)`) as its system calls.
    static func make(
        _ w: WorkerInvocation, observer: (any CacheObserver)?, injector: FaultInjectingSystemCalls?
    ) throws(WorkerFailure) -> CacheStore {
        var options = CacheStoreOptions()
        options.lockBackend = w.lockBackend
        options.lockTimeout = w.lockTimeout
        options.observer = observer
        if w.sabotage == .lockBypass && w.role != .reader {
            options.systemCalls = SystemCalls(provider: LockBypassingSystemCalls())
            // "Holding" a bypassed lock proves nothing, so sweeping would delete
            // other writers' live temps; keep the sabotage to the one broken thing.
            options.sweepOnOpen = false
        }
        if let injector { options.systemCalls = SystemCalls(provider: injector) }
        do {
            return try CacheStore(directory: w.directory, options: options)
        } catch {
            throw WorkerFailure(error)
        }
    }
}
