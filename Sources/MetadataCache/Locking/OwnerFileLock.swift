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

/// The lock-file backend: mutual exclusion by exclusive creation of `NAME.lock.owner`.
///
/// Guarantee: among processes using this backend on one store, at most one holds a
/// live owner file at a time, and a holder's file is taken from it only
/// - by itself (release, recognised by its lease id), or
/// - when it is *proven* dead: its record names this kernel boot and this pid
///   namespace, and its pid is gone or now names another process; or
/// - when it is *presumed* dead: its owner file has stayed unchanged for a whole
///   lease as measured on the breaker's own clock (`LeaseWatch`) — never by
///   comparing a timestamp with a clock, and never by a pid that means nothing
///   here (another host, another container, another boot).
/// Never a newer holder's file, even one that got the same inode number. The one
/// exception no lock file can rule out: a holder that stops for longer than a
/// lease *after* its last check (`HeldWriterLock.verifyStillHeld`) and before
/// its commit's rename (docs/design.md, "What is not guaranteed").
///
/// This type is the owner file alone; the acquisition (`WriterLockAcquisition`)
/// pairs it with an exclusive `flock` on `NAME.lock` where that works, so that
/// advisory-backend writers are excluded as well.
///
/// Used where kernel locks are absent or not coherent across machines. Unlike an
/// advisory lock, an owner file outlives a crashed holder, so the hard parts are
/// stale detection and never taking someone else's file:
/// - Creation uses `O_CREAT|O_EXCL`, atomic on local filesystems and on NFSv3+.
/// - A stale file is *replaced*, not removed: the breaker writes its own owner
///   file under a private name (`NAME.lock.owner.next-TAG`), fsyncs it, and
///   renames it over the stale one. The owner path never stands empty during a
///   break, so no third waiter can create a file of its own in between (version 1
///   renamed the stale file aside and re-created the path; a waiter creating the
///   path in that instant, while the breaker moved a *live* file aside and could
///   not link it back, left two holders).
/// - Breakers serialise: only the creator of `NAME.lock.owner.claim-KEY-N`
///   (`O_EXCL`; KEY names the stale file by its lease id) may replace the file,
///   and it checks, holding the claim, that the file is still exactly the one it
///   judged (same inode, size, timestamps and lease id). Claims are never removed
///   by other breakers while they may be in use: a claim whose creator is proven
///   or presumed dead is passed over to claim N+1. After a break the winner
///   removes the claims on KEY (the stale file is gone for good, so no claim on
///   it can matter again).
/// - Removal (release, the sweeper's removal of a proven-dead holder's file,
///   cleaning up a failed creation) *renames* the owner file aside to a unique
///   name, reads what it moved and unlinks it only if it is the file it meant;
///   otherwise links it back. A plain "read, compare, unlink" would delete a file
///   created in the gap.
/// - "The file it meant" is decided by content and status, not by inode number
///   alone: inode numbers are reused (ext4 and xfs hand a freed inode to the next
///   file; on NFS another client's unlink frees it even while we hold it open).
/// - The holder renews its lease (`LeaseRenewal`) every quarter of the lease, so a
///   slow fetch is not mistaken for death, and gives up a commit when it could
///   not renew for half a lease.
package struct OwnerFileLock: Sendable {
    package let layout: StoreLayout
    /// The open, checked cache directory: owner files, claims and asides are
    /// reached only through it.
    package let directory: CacheDirectoryHandle
    package var sys: SystemCalls { directory.sys }
    package let fileMode: mode_t
    package let leaseDuration: Duration
    /// Test-only defects (see `LockFileSabotage`); empty in every host.
    package let sabotage: LockFileSabotage
    /// Whether a new owner file's record is fsynced before it counts (see
    /// `publish`): everywhere but on filesystems known to be local.
    package let syncsRecords: Bool

    package init(
        layout: StoreLayout, directory: CacheDirectoryHandle, fileMode: mode_t, leaseDuration: Duration,
        sabotage: LockFileSabotage = [], syncsRecords: Bool = true
    ) {
        self.layout = layout
        self.directory = directory
        self.fileMode = fileMode
        self.leaseDuration = leaseDuration
        self.sabotage = sabotage
        self.syncsRecords = syncsRecords
    }

    /// An owner file (or a claim) as seen at one instant.
    package struct Observation: Sendable {
        /// Nil when the content is empty, torn or garbage.
        package var record: HolderRecord?
        package var status: FileStatus

        package var fingerprint: FileFingerprint { FileFingerprint(status, leaseID: record?.leaseID) }

        /// Names this very file in claim names, whatever it is renamed to: a hash
        /// of its lease id (unique per acquisition), or, for a malformed file, of
        /// its device, inode and mtime. 16 hex digits, whatever the record holds.
        var breakKey: String {
            let identity = record.map { "lease:" + $0.leaseID }
                ?? "file:\(status.device):\(status.inode):\(status.modificationNanoseconds)"
            return Hex.format(XXH64.hash(Array(identity.utf8)))
        }
    }

    /// What makes a held owner file ours: the descriptor we created it with, its
    /// identity then, and the lease id we wrote into it.
    package struct Ownership: Sendable {
        package let fd: Int32
        package let device: UInt64
        package let inode: UInt64
        package let leaseID: String
    }

    package enum Attempt {
        case acquired(Ownership)
        case held(HolderRecord?)
    }

    /// Whether an owner file's holder may still be alive.
    package enum Verdict: Sendable, Equatable {
        case live
        case stale(reason: String)
    }

    /// One attempt: create the owner file, or replace it if it is stale (reported
    /// through `onBreak`), or report who holds it. `watch` carries this waiter's
    /// observations from one attempt to the next: pass the same one to every
    /// attempt of a wait.
    /// - Parameter noHolderCanLive: the caller holds the `flock` on `NAME.lock` on a
    ///   filesystem known to be local, where every live lock-file holder (and
    ///   breaker) holds it too while it holds its owner file (claim): then any
    ///   file found is a leftover, whoever wrote it, and is replaced at once
    ///   instead of after a lease (a holder killed between creating its owner file
    ///   and writing its record no longer blocks everyone for a lease).
    package func attempt(
        record: HolderRecord, watch: inout LeaseWatch, noHolderCanLive: Bool = false,
        onBreak: (HolderRecord?, String) -> Void
    ) throws(MetadataCacheError) -> Attempt {
        for _ in 0..<8 {
            do throws(MetadataCacheError) {
                return .acquired(try create(record))
            } catch .io(_, _, .fileExists) {
                guard let current = try readOwner() else { continue }  // vanished: retry
                guard
                    case let .stale(reason) = verdict(
                        of: current, at: layout.ownerPath, watch: &watch, noHolderCanLive: noHolderCanLive)
                else {
                    return .held(current.record)
                }
                switch try replace(current, with: record, watch: &watch, noHolderCanLive: noHolderCanLive) {
                case let .acquired(ownership):
                    onBreak(current.record, reason)
                    return .acquired(ownership)
                case .claimedByAnother:
                    return .held(current.record)
                case .changed:
                    continue
                }
            }
        }
        return .held(nil)
    }

    /// Creates the owner file with `O_EXCL` and publishes `record` in it.
    private func create(_ record: HolderRecord) throws(MetadataCacheError) -> Ownership {
        let (fd, _) = try directory.openFile(
            layout.ownerName, flags: O_WRONLY | O_CREAT | O_EXCL, mode: fileMode, operation: "create lock owner file")
        do throws(MetadataCacheError) {
            return try publish(record, fd: fd, path: layout.ownerPath)
        } catch {
            // The record may be missing or half written, so the lease id cannot
            // identify the file: remove it only if what is at the path is still
            // the very file our descriptor has (same inode, size and mtime).
            _ = try? removeIfStillTheOne { moved in isTheFile(of: fd, moved) }
            sys.closeIgnoringErrors(fd)
            throw error
        }
    }

    /// Writes `record` into a new owner file and makes it durable; returns what
    /// identifies it (inode and device do not change when it is renamed).
    private func publish(_ record: HolderRecord, fd: Int32, path: String) throws(MetadataCacheError) -> Ownership {
        try withBytes(of: Array(record.encodedJSON().utf8)) { (raw) throws(MetadataCacheError) in
            try sys.pwriteAll(fd, raw, at: 0, path: path)
        }
        // Make the record visible to other NFS clients now rather than at close:
        // waiters on other hosts read it to decide staleness. Not on a filesystem
        // known to be local, where every reader sees it at once and a record lost
        // to a power cut only leaves an empty file (presumed dead after a lease):
        // there the fsync was most of a lock-file handover (4–8 ms median under
        // the stress mix of issue 15, against 0.3–0.6 ms for the advisory backend).
        if syncsRecords { try sys.fsync(fd, path: path) }
        let status = try sys.fstat(fd, path: path)
        return Ownership(fd: fd, device: status.device, inode: status.inode, leaseID: record.leaseID)
    }

    /// The current owner file (record nil if malformed) and its status; nil if absent.
    package func readOwner() throws(MetadataCacheError) -> Observation? {
        try read(layout.ownerName)
    }

    /// A claim file as it is now (its record names the claimant); nil if absent.
    package func readClaim(_ name: String) throws(MetadataCacheError) -> Observation? {
        try read(name)
    }

    /// Reads the owner file or claim `name`. `open` then `fstat`, never `stat`:
    /// on NFS, `open` revalidates the attributes with the server (close-to-open
    /// consistency), where a `stat` may answer from a cache up to a minute old,
    /// and a lease watch needs to see every renewal.
    /// Through the checked directory: `O_NONBLOCK` and the regular-file check
    /// mean a FIFO planted at the owner path is refused at once, where a
    /// blocking open hung every writer's post-lock sweep forever (issue 19).
    private func read(_ name: String) throws(MetadataCacheError) -> Observation? {
        let path = directory.path(of: name)
        let fd: Int32
        let status: FileStatus
        do throws(MetadataCacheError) {
            (fd, status) = try directory.openFile(name, flags: O_RDONLY, operation: "open lock owner file")
        } catch .io(_, _, .noSuchFile) {
            return nil
        }
        defer { sys.closeIgnoringErrors(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = try withMutableBytes(of: &buffer) { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: path)
        }
        return Observation(record: HolderRecord(parsing: buffer[0..<n]), status: status)
    }

    // MARK: Staleness

    /// Whether the holder of the file seen at `path` may be alive. Proven dead
    /// (pid gone or reused, where the pid means something here), or presumed dead
    /// (unchanged for a whole lease on this process's clock, by `watch`).
    package func verdict(
        of observation: Observation, at path: String, watch: inout LeaseWatch, noHolderCanLive: Bool = false
    ) -> Verdict {
        if sabotage.contains(.hostNameIdentity) { return versionOneVerdict(of: observation) }
        if let reason = provableStaleness(of: observation) { return .stale(reason: reason) }
        if noHolderCanLive { return .stale(reason: Self.withoutTheFlock) }
        if let record = observation.record, record.sharesPidNamespaceWithThisProcess { return .live }
        let lease = observation.record.flatMap { Self.lease(fromSeconds: $0.leaseSeconds) } ?? leaseDuration
        let silent = watch.unchangedFor(path, observation.fingerprint)
        guard silent >= lease else { return .live }
        let clock = "has not changed for \(DurationText.format(silent)) by this host's clock"
        guard let record = observation.record else { return .stale(reason: "owner file is malformed and \(clock)") }
        return .stale(reason: "lease of holder \(record.summary) expired: its owner file \(clock) (lease \(DurationText.format(lease)))")
    }

    /// Why the holder is certainly dead, or nil: only a holder whose record names
    /// this boot and this pid namespace can be checked by pid (a start time from
    /// another boot, or a pid from another namespace, may match a live process
    /// here by accident — or not match the live holder it really names).
    package func provableStaleness(of observation: Observation) -> String? {
        guard let record = observation.record, record.sharesPidNamespaceWithThisProcess else { return nil }
        return ProcessIdentity.isAlive(pid: record.pid, startTime: record.processStartTime)
            ? nil : "holder pid \(record.pid) is no longer running"
    }

    /// Why a file found while holding the `flock` on a local filesystem is stale.
    static let withoutTheFlock =
        "its holder does not hold NAME.lock's flock, which every live holder on this local filesystem holds"

    /// A lease read from disk as a duration; nil for anything unusable (negative,
    /// zero, not finite, absurdly long): then the waiter's own lease applies.
    static func lease(fromSeconds seconds: Double?) -> Duration? {
        guard let seconds, seconds.isFinite, seconds > 0, seconds <= 86_400 * 366 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// `LockFileSabotage.hostNameIdentity`: how version 1 judged, kept only so that
    /// tests can show they catch it.
    private func versionOneVerdict(of observation: Observation) -> Verdict {
        let now = Int64((Date().timeIntervalSince1970 * 1e9).rounded())
        let silentFor = Duration.nanoseconds(max(0, now &- observation.status.modificationNanoseconds))
        guard let record = observation.record else {
            return silentFor > leaseDuration ? .stale(reason: "owner file is malformed (version 1 rule)") : .live
        }
        if record.host == ProcessIdentity.hostName {
            return ProcessIdentity.isAlive(pid: record.pid, startTime: record.processStartTime)
                ? .live : .stale(reason: "holder pid \(record.pid) is no longer running (version 1 rule)")
        }
        let lease = Self.lease(fromSeconds: record.leaseSeconds) ?? leaseDuration
        return silentFor > lease ? .stale(reason: "lease of holder expired (version 1 rule)") : .live
    }

    // MARK: Breaking

    private enum Replacement {
        case acquired(Ownership)
        /// Another breaker holds the claim on this stale file.
        case claimedByAnother
        /// The file is no longer the one judged stale: judge again.
        case changed
    }

    /// Replaces the stale owner file seen in `stale` with our own, atomically.
    private func replace(
        _ stale: Observation, with record: HolderRecord, watch: inout LeaseWatch, noHolderCanLive: Bool
    ) throws(MetadataCacheError) -> Replacement {
        // Our owner file, complete and durable before anything is decided, so that
        // what happens under the claim is one read and one rename.
        let next = layout.newOwnerReplacementName()
        let (fd, _) = try directory.openFile(
            next, flags: O_WRONLY | O_CREAT | O_EXCL, mode: fileMode, operation: "create replacement lock owner file")
        var placed = false
        defer {
            if !placed {
                sys.closeIgnoringErrors(fd)
                directory.unlinkIgnoringErrors(next)
            }
        }
        let ownership = try publish(record, fd: fd, path: directory.path(of: next))
        guard let claim = try claim(stale, as: record, watch: &watch, noHolderCanLive: noHolderCanLive) else {
            return .claimedByAnother
        }
        // Holding the claim, the file must still be exactly the one judged stale:
        // a holder that renewed, released, or was replaced meanwhile is not ours
        // to take. Between this read and the rename only its own holder could
        // change it (creators cannot while it exists; other breakers need the
        // claim) — and a holder judged stale is dead, or was stopped for a lease.
        guard let current = try readOwner(), current.fingerprint == stale.fingerprint else {
            abandon(claim)
            return .changed
        }
        do throws(MetadataCacheError) {
            // The break itself: one rename, so the owner path is never empty.
            try directory.rename(next, to: layout.ownerName)
        } catch {
            abandon(claim)
            throw error
        }
        placed = true
        complete(claim)
        return .acquired(ownership)
    }

    /// The right to act on one stale owner file: the claim file this process
    /// created (nil path with `unserialisedBreaks`), and its number.
    private struct Claim {
        let key: String
        let number: Int
        /// The claim's entry name (nil: sabotaged, no claim file).
        let name: String?
    }

    /// Creates the lowest claim on `stale` that no live breaker holds; nil when one
    /// does (or the stale file was dealt with meanwhile).
    private func claim(
        _ stale: Observation, as record: HolderRecord, watch: inout LeaseWatch, noHolderCanLive: Bool = false
    ) throws(MetadataCacheError) -> Claim? {
        let key = stale.breakKey
        if sabotage.contains(.unserialisedBreaks) { return Claim(key: key, number: 0, name: nil) }
        var number = 1
        while number <= 64 {
            let name = layout.ownerClaimName(key: key, number: number)
            let path = directory.path(of: name)
            do throws(MetadataCacheError) {
                let (fd, _) = try directory.openFile(
                    name, flags: O_WRONLY | O_CREAT | O_EXCL, mode: fileMode, operation: "claim stale lock owner file")
                // Who claims, for the next breaker to judge. Not fsynced: a claim
                // lives for microseconds, and one whose record a crash lost is
                // judged like a malformed owner file (presumed dead after a lease).
                _ = try? withBytes(of: Array(record.encodedJSON().utf8)) { (raw) throws(MetadataCacheError) in
                    try sys.pwriteAll(fd, raw, at: 0, path: path)
                }
                sys.closeIgnoringErrors(fd)
                return Claim(key: key, number: number, name: name)
            } catch .io(_, _, .fileExists) {
                // Gone already: its breaker finished, so the stale file is gone too.
                guard let other = try read(name) else { return nil }
                guard case .stale = verdict(of: other, at: path, watch: &watch, noHolderCanLive: noHolderCanLive)
                else { return nil }
                // Its breaker is dead or was stopped for a lease: pass it over
                // rather than remove it (removing would race with a third breaker
                // doing the same, exactly the hazard claims exist to avoid).
                number += 1
            }
        }
        return nil
    }

    /// After a successful break: the stale file is gone for good, so every claim
    /// on it up to ours is debris (a breaker still holding one will find the file
    /// changed when it checks).
    private func complete(_ claim: Claim) {
        guard claim.name != nil else { return }
        for number in 1...claim.number {
            directory.unlinkIgnoringErrors(layout.ownerClaimName(key: claim.key, number: number))
        }
    }

    /// After a break that did not happen: only our own claim goes (the file's
    /// holder lives on, and may be judged again later).
    private func abandon(_ claim: Claim) {
        if let name = claim.name { directory.unlinkIgnoringErrors(name) }
    }

    /// Removes the owner file seen in `observed` if its holder is proven dead
    /// (the sweeper's rule: it cannot watch a lease). Returns why, or nil if the
    /// file was kept: a live or unprovable holder, another breaker at work, or a
    /// file that changed since it was observed.
    /// - Parameter noHolderCanLive: the caller holds the `flock` on `NAME.lock` on a
    ///   filesystem known to be local, where every lock-file holder holds it too
    ///   while it holds its owner file (version 1 did as well): then whatever file
    ///   is there has no live holder, whoever wrote it.
    package func removeIfProvablyStale(
        _ observed: Observation, noHolderCanLive: Bool = false
    ) throws(MetadataCacheError) -> String? {
        guard let reason = provableStaleness(of: observed) ?? (noHolderCanLive ? Self.withoutTheFlock : nil) else {
            return nil
        }
        var watch = LeaseWatch()
        let claimant = HolderRecord.forCurrentProcess(backend: .lockFile, leaseSeconds: leaseDuration.seconds)
        guard let claim = try claim(observed, as: claimant, watch: &watch, noHolderCanLive: noHolderCanLive) else {
            return nil
        }
        let removed = (try? removeIfStillTheOne { $0.fingerprint.isSameFile(as: observed.fingerprint) }) ?? false
        if removed { complete(claim) } else { abandon(claim) }
        return removed ? reason : nil
    }

    // MARK: Release

    /// Removes our own owner file (release); returns whether it did. Only a file
    /// that still carries our lease id is removed — never a holder's that took
    /// over after our lease was judged expired.
    @discardableResult
    package func release(_ ownership: Ownership) throws(MetadataCacheError) -> Bool {
        try removeIfStillTheOne { carries(ownership, $0) }
    }

    /// Gives the file up without touching the owner *path*: empties our own inode,
    /// which then reads as a malformed owner file that waiters presume dead after
    /// a lease. For a holder whose lease may have been judged expired: a breaker
    /// may be replacing the file at this very moment, and renaming it aside could
    /// move the breaker's new file instead (see the removal protocol).
    package func relinquish(_ ownership: Ownership) {
        _ = try? sys.ftruncate(ownership.fd, length: 0, path: layout.ownerPath)
    }

    /// Whether the file at the owner path is still ours: our inode *and* our lease
    /// id (an inode number alone may have been reused by another holder's file).
    /// An I/O error reading it is thrown as such (it says nothing about who holds
    /// the lock, and the user should see its errno, not "lock lost").
    package func isStillOurs(_ ownership: Ownership) throws(MetadataCacheError) -> Bool {
        guard let current = try readOwner() else { return false }
        return carries(ownership, current)
    }

    private func carries(_ ownership: Ownership, _ observation: Observation) -> Bool {
        observation.status.device == ownership.device && observation.status.inode == ownership.inode
            && observation.record?.leaseID == ownership.leaseID
    }

    /// Whether `observation` describes the very file open as `fd`.
    private func isTheFile(of fd: Int32, _ observation: Observation) -> Bool {
        guard let mine = try? sys.fstat(fd, path: layout.ownerPath) else { return false }
        return mine.device == observation.status.device && mine.inode == observation.status.inode
            && mine.size == observation.status.size
            && mine.modificationNanoseconds == observation.status.modificationNanoseconds
    }

    /// The removal protocol: rename the owner file aside, read what was moved, and
    /// unlink it if `isTheOne`; otherwise put it back. Returns whether it removed.
    private func removeIfStillTheOne(_ isTheOne: (Observation) -> Bool) throws(MetadataCacheError) -> Bool {
        let aside = layout.newOwnerAsideName()
        // Rename aside first, then check what we moved: an unlink by name could
        // remove a file a new holder created a moment ago (the bug kopi's fallback
        // has). rename is atomic, so exactly one remover gets the file, and what it
        // reads afterwards can no longer change under it.
        do throws(MetadataCacheError) {
            try directory.rename(layout.ownerName, to: aside)
        } catch .io(_, _, .noSuchFile) {
            return false  // someone else removed it first
        }
        if let moved = try? read(aside), isTheOne(moved) {
            directory.unlinkIgnoringErrors(aside)
            return true
        }
        // We moved another holder's file: put it back with link (which, unlike
        // rename, never replaces a file), unless yet another holder has created
        // one meanwhile (then the moved holder finds its file gone at commit and
        // reports the lock lost rather than writing). Only reachable when a
        // holder's file was replaced while it was stopped for a lease, since
        // breakers replace rather than remove.
        do throws(MetadataCacheError) {
            try directory.link(aside, to: layout.ownerName)
        } catch .io(_, _, .fileExists) {}
        directory.unlinkIgnoringErrors(aside)
        return false
    }

    /// Starts renewing the lease of a held owner file.
    package func startRenewing(fd: Int32, lockPath: String, observer: (any CacheObserver)?) -> LeaseRenewal {
        LeaseRenewal(fd: fd, sys: sys, path: layout.ownerPath, lease: leaseDuration, lockPath: lockPath, observer: observer)
    }
}
