#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension CacheEvent {
    /// The event as one line of JSON (no trailing newline):
    /// `{"event":"lockAcquired","time":"2026-11-25T09:31:02.123Z","pid":4242,...}`.
    /// Durations are in milliseconds (`waitedMs`), sizes in bytes.
    public func jsonLine(at time: Date = Date(), pid: Int32? = nil) -> String {
        var fields: [(String, String)] = [
            ("event", JSONText.quoted(name)),
            ("time", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: Int64((time.timeIntervalSince1970 * 1000).rounded())))),
            ("pid", String(pid ?? ProcessIdentity.currentPID)),
        ]
        func ms(_ d: Duration) -> String { String((d.milliseconds * 1000).rounded() / 1000) }
        func holder(_ h: HolderRecord?) -> String {
            guard let h else { return "null" }
            return JSONText.object([
                ("pid", String(h.pid)), ("host", JSONText.quoted(h.host)), ("command", JSONText.quoted(h.command)),
                ("since", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: h.acquiredAtMilliseconds))),
            ])
        }
        switch self {
        case let .lockWaitStarted(path, h, timeout):
            fields += [("lockPath", JSONText.quoted(path)), ("holder", holder(h)), ("timeout", JSONText.quoted(timeout.description))]
        case let .lockWaitProgress(path, elapsed, remaining, h):
            fields += [
                ("lockPath", JSONText.quoted(path)), ("elapsedMs", ms(elapsed)),
                ("remainingMs", remaining.map(ms) ?? "null"), ("holder", holder(h)),
            ]
        case let .lockAcquired(path, backend, waited):
            fields += [("lockPath", JSONText.quoted(path)), ("backend", JSONText.quoted(backend.rawValue)), ("waitedMs", ms(waited))]
        case let .lockTimedOut(path, waited, h):
            fields += [("lockPath", JSONText.quoted(path)), ("waitedMs", ms(waited)), ("holder", holder(h))]
        case let .lockWaitCancelled(path, waited):
            fields += [("lockPath", JSONText.quoted(path)), ("waitedMs", ms(waited))]
        case let .lockReleased(path, heldFor):
            fields += [("lockPath", JSONText.quoted(path)), ("heldMs", ms(heldFor))]
        case let .backendFallback(path, reason):
            fields += [("lockPath", JSONText.quoted(path)), ("reason", JSONText.quoted(reason))]
        case let .staleLockBroken(path, h, reason):
            fields += [("lockPath", JSONText.quoted(path)), ("holder", holder(h)), ("reason", JSONText.quoted(reason))]
        case let .commitSucceeded(path, generation, bytes, duration, retries):
            fields += [
                ("path", JSONText.quoted(path)), ("generation", String(generation)), ("bytes", String(bytes)),
                ("durationMs", ms(duration)), ("renameRetries", String(retries)),
            ]
        case let .commitFailed(path, error, retries):
            fields += [("path", JSONText.quoted(path)), ("error", JSONText.quoted(error.description)), ("renameRetries", String(retries))]
        case let .readHit(path, generation, bytes):
            fields += [("path", JSONText.quoted(path)), ("generation", String(generation)), ("bytes", String(bytes))]
        case let .readMiss(path):
            fields += [("path", JSONText.quoted(path))]
        case let .readCorrupt(path, problem):
            fields += [("path", JSONText.quoted(path)), ("problem", JSONText.quoted(problem.description))]
        case let .corruptCacheMovedAside(path, movedTo):
            fields += [("path", JSONText.quoted(path)), ("movedTo", JSONText.quoted(movedTo))]
        case let .sweepRemoved(path, reason):
            fields += [("path", JSONText.quoted(path)), ("reason", JSONText.quoted(reason))]
        case let .fetchStarted(path):
            fields += [("path", JSONText.quoted(path))]
        case let .fetchProgress(path, received, expected, elapsed):
            fields += [
                ("path", JSONText.quoted(path)), ("receivedBytes", String(received)),
                ("expectedBytes", expected.map { String($0) } ?? "null"), ("elapsedMs", ms(elapsed)),
            ]
        case let .fetchFinished(path, completion, elapsed):
            fields.append(("path", JSONText.quoted(path)))
            switch completion {
            case let .payload(bytes): fields += [("outcome", JSONText.quoted("payload")), ("bytes", String(bytes))]
            case .notModified: fields += [("outcome", JSONText.quoted("notModified"))]
            case let .failed(error): fields += [("outcome", JSONText.quoted("failed")), ("error", JSONText.quoted(error))]
            }
            fields.append(("durationMs", ms(elapsed)))
        case let .leaseRenewalFailed(path, reason):
            fields += [("lockPath", JSONText.quoted(path)), ("reason", JSONText.quoted(reason))]
        case let .freeSpaceUnknown(directory):
            fields += [("directory", JSONText.quoted(directory))]
        case let .watchFallbackToPolling(path, reason, interval):
            fields += [("path", JSONText.quoted(path)), ("reason", JSONText.quoted(reason)), ("intervalMs", ms(interval))]
        case let .lockFileModeTooWide(path, permissions):
            fields += [("lockPath", JSONText.quoted(path)), ("mode", JSONText.quoted(String(permissions, radix: 8)))]
        case let .sweepIncomplete(directory, left):
            fields += [("directory", JSONText.quoted(directory)), ("left", String(left))]
        case let .backgroundRefreshStarted(path, pid):
            fields += [("path", JSONText.quoted(path)), ("backgroundPid", String(pid))]
        case let .backgroundRefreshSkipped(path, reason):
            fields += [("path", JSONText.quoted(path)), ("reason", JSONText.quoted(reason))]
        }
        return JSONText.object(fields)
    }
}
