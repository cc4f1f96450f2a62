#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a held owner file's lease alive, and tells its holder when the lease can
/// no longer be trusted.
///
/// Guarantee: while the holder lives and is scheduled, the owner file's mtime
/// changes every quarter of the lease (a dedicated thread touches it, so a slow
/// fetch is not mistaken for death; records promise "at least every third",
/// and the quarter leaves a quarter lease of scheduling slack before the holder's
/// own half-lease limit below); signals do not end the renewal (`EINTR` is
/// retried), stopping it never raises `SIGPIPE`, and the thread's descriptors
/// are close-on-exec. `leaseProblem` is non-nil as soon as the last successful
/// renewal is more than half a lease old — a stopped process, a renewal that
/// keeps failing (`leaseRenewalFailed` is reported once), a thread that could not
/// start — because from then on a waiter that cannot check our pid may be about
/// to presume us dead (it needs the file unchanged for a whole lease on its own
/// clock, see `LeaseWatch`), and a commit must not be made on that lease.
package final class LeaseRenewal: Sendable {
    private let lease: Duration
    private let origin: ContinuousClock.Instant
    /// Nanoseconds after `origin` of the last successful renewal (creating the
    /// file counts as one).
    private let lastRenewed = AtomicCell<Int64>(0)
    private let lastFailure = LockedValue<String?>(nil)
    private let stopped = AtomicCell<Bool>(false)
    private let channel: StopChannel?
    private let holderFD: Int32
    private let sys: SystemCalls
    private let path: String

    /// The stop pipe, closed only once both the holder and the thread are done with
    /// it: a write to a pipe whose read end is closed raises `SIGPIPE`, which kills
    /// a host that has not ignored it (the release of version 1 did exactly that
    /// after a signal had ended the thread early).
    private final class StopChannel: Sendable {
        let read: Int32
        let write: Int32
        init?() {
            guard let pipe = WakeupPipe.make() else { return nil }
            read = pipe.read
            write = pipe.write
        }
        deinit {
            close(read)
            close(write)
        }
    }

    init(
        fd: Int32, sys: SystemCalls, path: String, lease: Duration, lockPath: String, observer: (any CacheObserver)?
    ) {
        self.lease = lease
        self.origin = .now
        self.holderFD = fd
        self.sys = sys
        self.path = path
        channel = StopChannel()
        guard let channel else {
            noteFailure("no descriptor for the renewal thread's stop pipe", lockPath: lockPath, observer: observer)
            return
        }
        // The thread renews through its own descriptor and closes it itself, so
        // releasing the lock never waits for the thread. F_DUPFD_CLOEXEC, not dup:
        // a plain dup is inherited by every child the host spawns while holding
        // the lock, which then keeps the owner file open after we are gone.
        let own = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard own >= 0 else {
            noteFailure("could not duplicate the owner file's descriptor (errno \(errno))", lockPath: lockPath, observer: observer)
            return
        }
        let interval = lease / 4
        let started = OSThread.detach(stackSize: OSThread.hostCodeStackSize) { [self] in
            renew(through: own, every: interval, until: channel, lockPath: lockPath, observer: observer)
            close(own)
        }
        if !started {
            close(own)
            noteFailure("could not start the renewal thread", lockPath: lockPath, observer: observer)
        }
    }

    /// The thread's loop: touch, then sleep until the next renewal or the stop byte.
    /// Ends only on the stop byte (or the write end closing): an interrupted `poll`
    /// is retried, and a failing one degrades to a plain sleep.
    private func renew(
        through fd: Int32, every interval: Duration, until channel: StopChannel, lockPath: String,
        observer: (any CacheObserver)?
    ) {
        let clock = ContinuousClock()
        var next = clock.now + interval
        while true {
            let now = clock.now
            if now >= next {
                do throws(MetadataCacheError) {
                    try sys.touch(fd, path: path)
                    noteRenewed(at: clock.now)
                } catch {
                    noteFailure("\(error)", lockPath: lockPath, observer: observer)
                }
                next = clock.now + interval
                continue
            }
            let milliseconds = max(1, Int32(clamping: Int64((next - now).milliseconds.rounded(.up))))
            var entry = pollfd(fd: channel.read, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                // poll itself failed (ENOMEM): keep renewing on a plain sleep.
                var pause = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
                var rest = timespec()
                while nanosleep(&pause, &rest) == -1 && errno == EINTR { pause = rest }
            }
        }
    }

    private func noteRenewed(at instant: ContinuousClock.Instant) {
        let elapsed = instant - origin
        let nanoseconds = elapsed.components.seconds &* 1_000_000_000 &+ elapsed.components.attoseconds / 1_000_000_000
        lastRenewed.store(nanoseconds)
        lastFailure.withLock { $0 = nil }
    }

    private func noteFailure(_ reason: String, lockPath: String, observer: (any CacheObserver)?) {
        let first = lastFailure.withLock { failure -> Bool in
            defer { failure = reason }
            return failure == nil
        }
        if first { observer?.observe(.leaseRenewalFailed(lockPath: lockPath, reason: reason)) }
    }

    /// Renews now, from the holder's thread (the last check before a commit's
    /// rename): a waiter that saw the file before must then watch it for another
    /// whole lease before presuming us dead.
    package func renewNow() throws(MetadataCacheError) {
        try sys.touch(holderFD, path: path)
        noteRenewed(at: .now)
    }

    /// Why the lease can no longer be trusted, or nil while it can (see the type's
    /// guarantee).
    package func leaseProblem(now: ContinuousClock.Instant = .now) -> String? {
        let age = now - (origin + .nanoseconds(lastRenewed.load()))
        guard age > lease / 2 else { return nil }
        var reason = "its lease was last renewed \(DurationText.format(age)) ago, more than half of the "
            + "\(DurationText.format(lease)) lease, so another process may have presumed it dead"
        if let failure = lastFailure.withLock({ $0 }) { reason += " (renewal failed: \(failure))" }
        return reason
    }

    /// Stops renewing (idempotent). Never blocks on the thread, never raises SIGPIPE:
    /// the pipe's read end stays open until the thread has seen this byte.
    func stop() {
        guard !stopped.exchange(true), let channel else { return }
        WakeupPipe.post(channel.write)
    }
}
