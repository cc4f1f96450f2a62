#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `startBackgroundRefresh` did.
public enum BackgroundRefreshStart: Sendable, Equatable {
    /// A detached process was started.
    case started(pid: Int32)
    /// One is already running (it holds the marker); it will refresh the cache.
    case alreadyRunning
    /// The last refresh failed and its backoff has not elapsed.
    case backingOff(until: Date, attempts: Int, lastError: String)
    /// The cache was replaced since it was read: a refresh just finished.
    case cacheChanged
    /// The marker or the process could not be set up (reason); nothing runs.
    case notStarted(String)

    /// For events and warnings.
    public var reason: String {
        switch self {
        case let .started(pid): "started (pid \(pid))"
        case .alreadyRunning: "a background refresh is already running"
        case let .backingOff(until, attempts, lastError):
            "backing off after \(attempts) failed refresh\(attempts == 1 ? "" : "es") until "
                + ISO8601Timestamp.format(millisecondsSinceEpoch: EpochMilliseconds.milliseconds(until)) + " (last error: \(lastError))"
        case .cacheChanged: "the cache was refreshed meanwhile"
        case let .notStarted(reason): "could not start one: \(reason)"
        }
    }
}

extension CacheStore {
    /// Starts `command` as a detached background refresh of this store, unless one
    /// is running, the backoff after a failure has not elapsed, or the cache is no
    /// longer the version `snapshot` (just refreshed by someone else). Never
    /// waits: one non-blocking `flock`, one `stat`, one small read and a
    /// `posix_spawn`.
    ///
    /// At most one runs per store, across all processes: the marker
    /// (`BackgroundRefreshMarker`) is taken *before* the checks, so of N concurrent
    /// stale readers exactly one gets past it while a refresh is due; and because
    /// the background process holds the marker until it exits, after committing (or
    /// recording its failure), a reader that gets the marker later sees the new
    /// cache (`cacheChanged`) or the failure's backoff (`backingOff`).
    ///
    /// The process: its own session and process group (`setsid`), no controlling
    /// terminal, stdin/stdout/stderr on `/dev/null`, the marker as descriptor 3. It
    /// survives this process. This process reaps it on a thread of its own if it
    /// lives that long; if it exits first, the process is reparented (to init or
    /// the nearest subreaper), which reaps it.
    public func startBackgroundRefresh(_ command: BackgroundRefreshCommand, ifUnchangedSince snapshot: CacheSnapshot)
        -> BackgroundRefreshStart
    {
        let outcome = startBackgroundRefreshUnobserved(command, ifUnchangedSince: snapshot)
        if case let .started(pid) = outcome {
            options.observer?.observe(.backgroundRefreshStarted(path: cachePath, pid: pid))
        } else {
            options.observer?.observe(.backgroundRefreshSkipped(path: cachePath, reason: outcome.reason))
        }
        return outcome
    }

    private func startBackgroundRefreshUnobserved(_ command: BackgroundRefreshCommand, ifUnchangedSince snapshot: CacheSnapshot)
        -> BackgroundRefreshStart
    {
        let marker: BackgroundRefreshMarker
        do {
            switch try BackgroundRefreshMarker.claim(self) {
            case .busy: return .alreadyRunning
            case let .claimed(claimed): marker = claimed
            }
        } catch {
            return .notStarted(error.description)
        }
        if (try? hasChanged(since: snapshot)) ?? true { return .cacheChanged }
        if let failure = refreshFailure(), failure.isBackingOff(now: EpochMilliseconds.now) {
            return .backingOff(until: failure.nextAttemptAt, attempts: failure.attempts, lastError: failure.lastError)
        }
        let pid: pid_t
        do throws(ProcessSpawn.Failure) {
            pid = try ProcessSpawn.spawn(
                [command.executable] + command.arguments,
                descriptors: [
                    (0, .devNull(flags: O_RDONLY)), (1, .devNull(flags: O_WRONLY)), (2, .devNull(flags: O_WRONLY)),
                    (BackgroundRefreshCommand.markerDescriptor, .duplicate(marker.fd)),
                ],
                newSession: true, environment: command.environment)
        } catch {
            return .notStarted("cannot start \(command.executable): \(Errno(rawValue: error.errno))")
        }
        marker.publish(pid: pid)
        // Reap it if this process outlives it, without blocking anyone: a thread
        // of its own waits for exactly this pid. (If the thread cannot start, the
        // child stays a zombie only until this process exits.)
        OSThread.detach {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        return .started(pid: pid)
    }
}
