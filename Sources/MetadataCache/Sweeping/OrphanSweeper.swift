#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Removes files that crashed writers left behind — and provably nothing else.
///
/// Guarantee: never removes a live writer's temp file. The proof is the lock, not
/// an age threshold (kopi deletes temps older than ten minutes, which is a guess: a
/// slow disk or a stopped process breaks it). Temp files are created only by the
/// writer-lock holder, inside `DurableCommit`, and are renamed or unlinked before the
/// holder releases. So while *we* hold the writer lock, no other process is inside a
/// commit, and every `NAME.json.tmp-*` file in the directory belongs to a writer that
/// died mid-commit. The sweeper therefore runs only while holding the lock (right
/// after a store's first acquisition, or via `CacheStore.sweep()`, which tries the
/// lock without waiting).
///
/// "No other process" includes writers of the *other* backend: a lock-file holder
/// also holds the advisory `flock` on `NAME.lock` wherever `flock` works, so
/// holding either backend's lock excludes both; where `flock` does not work, every
/// writer on that filesystem uses owner files. (Not covered: writers on different
/// hosts of a network filesystem whose `flock` is not coherent across clients,
/// using different backends — see docs/design.md, "What is not guaranteed".)
///
/// Also removed:
/// - a stale owner file `NAME.lock.owner` of the lock-file backend (its holder
///   crashed), by the same rules and the same safe removal as a lock-file
///   acquisition uses (`OwnerFileLock.breakStale`: same host, the pid is gone or
///   reused; other host, the lease expired; malformed, silent for a lease; then
///   rename aside and remove only if it still carries the lease id judged stale).
///   A live holder's owner file is never removed: holding the lock does not prove
///   an owner file stale (its holder may be on another host, or on a filesystem
///   without `flock`), only the stale rules do;
/// - leftovers of that removal protocol (`NAME.lock.owner.break-PID-*`) whose
///   creator pid is gone, and which are older than a lease.
///
/// Cost when there is nothing to sweep: one directory scan.
package struct OrphanSweeper: Sendable {
    package let layout: StoreLayout
    package let sys: SystemCalls
    package let observer: (any CacheObserver)?
    package let leaseDuration: Duration

    /// Must be called while holding the writer lock. Returns the removed paths.
    package func sweepWhileHoldingLock() -> [String] {
        guard let names = try? sys.listDirectory(layout.directory) else { return [] }
        var removed: [String] = []
        for name in names {
            let path = layout.path(of: name)
            if name.hasPrefix(layout.tempPrefix) {
                if (try? sys.unlink(path)) != nil {
                    removed.append(path)
                    observer?.observe(.sweepRemoved(path: path, reason: "temp file of a writer that died mid-commit"))
                }
            } else if name == ownerFileName {
                if let reason = breakStaleOwnerFile() {
                    removed.append(path)
                    observer?.observe(.sweepRemoved(path: path, reason: "stale lock owner file (\(reason))"))
                }
            } else if name.hasPrefix(layout.ownerBreakPrefix), isAbandonedBreakFile(name: name, path: path) {
                if (try? sys.unlink(path)) != nil {
                    removed.append(path)
                    observer?.observe(.sweepRemoved(path: path, reason: "leftover of an interrupted lock-file release"))
                }
            }
        }
        return removed
    }

    /// Temp files present right now (for `status`; does not need the lock).
    package func tempFiles() -> [String] {
        ((try? sys.listDirectory(layout.directory)) ?? []).filter { $0.hasPrefix(layout.tempPrefix) }.sorted()
            .map(layout.path(of:))
    }

    private var ownerFileName: String { layout.name + ".lock.owner" }

    /// Breaks the owner file if it is provably stale; returns why, or nil if it
    /// was kept (live or unprovable holder, or replaced before the break).
    private func breakStaleOwnerFile() -> String? {
        let owner = OwnerFileLock(layout: layout, sys: sys, fileMode: 0o600, leaseDuration: leaseDuration)
        guard let observed = try? owner.readOwner(), let reason = owner.staleness(of: observed) else { return nil }
        return (try? owner.breakStale(observed)) == true ? reason : nil
    }

    private func isAbandonedBreakFile(name: String, path: String) -> Bool {
        let rest = name.dropFirst(layout.ownerBreakPrefix.count)
        guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { return false }
        guard !ProcessIdentity.isAlive(pid: pid, startTime: nil) else { return false }
        guard let status = try? sys.lstatIfExists(path) else { return false }
        let now = Int64((Date().timeIntervalSince1970 * 1e9).rounded())
        return Duration.nanoseconds(now - status.modificationNanoseconds) > leaseDuration
    }
}
