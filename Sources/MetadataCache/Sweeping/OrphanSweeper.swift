/// Removes files that crashed writers left behind — and provably nothing else.
///
/// Guarantee: never removes a file whose creator may still be using it: a live
/// writer's temp file, a live remover's owner file set aside, a live breaker's
/// replacement owner file or claim. The proof is never an age threshold (kopi
/// deletes temps older than ten minutes, which is a guess: a slow disk or a
/// stopped process breaks it). It is one of two:
///
/// 1. **The lock excludes every writer** (`Proof.lockExcludesEveryWriter`): we
///    hold the exclusive `flock` on `NAME.lock` on a local filesystem. Temp files
///    are created only by a lock holder, inside `DurableCommit`, and renamed or
///    unlinked before it releases; every writer of either backend holds that
///    `flock` while it holds the lock (a lock-file holder takes it too), and so
///    does every lock-file breaker or remover while it works. So while we hold
///    it, every temp file and every transient owner-file companion belongs to a
///    process that died mid-operation — even one with a name this version did
///    not write.
/// 2. **The creator is provably dead** (`Proof.creatorProvablyDead`): where only
///    owner files exclude (no `flock`, or a network filesystem where `flock` may
///    be local to one client), holding the lock proves nothing about a holder
///    that was stopped past its lease and had its owner file replaced: it may
///    still be inside its commit, and will check its lease before its rename.
///    Then a file is removed only when the creator named in it
///    (`FileCreatorTag`) ran on this kernel boot in this pid namespace and its
///    pid is gone or reused. Files of other hosts, containers or boots, and
///    untagged names, are kept (and listed by `status`).
///
/// The sweeper runs only while holding the lock: right after a store's first
/// acquisition, or via `CacheStore.sweep()`, which tries the lock without waiting.
///
/// Also removed:
/// - a stale owner file `NAME.lock.owner`: under proof 1 any (every live
///   lock-file holder on a local filesystem holds the `flock` we hold), under
///   proof 2 one whose holder is proven dead (same boot and pid namespace, pid
///   gone or reused), by the lock-file backend's own claimed removal
///   (`OwnerFileLock.removeIfProvablyStale`). Without proof 1 an owner file's
///   holder may be on another host or in another container, and a sweep cannot
///   watch a lease expire;
/// - leftover claims `NAME.lock.owner.claim-*` under proof 1, or whose claimant
///   (the record inside) is provably dead.
///
/// Cost when there is nothing to sweep: one directory scan.
package struct OrphanSweeper: Sendable {
    package let layout: StoreLayout
    /// The open, checked cache directory: listed (`fdopendir` of a dup) and
    /// changed (`unlinkat`) only through it.
    package let directory: CacheDirectoryHandle
    package let observer: (any CacheObserver)?
    package let leaseDuration: Duration
    package let proof: Proof
    /// The lease id of the owner file through which we hold the lock (lock-file
    /// backend), which is never swept; nil when holding through `flock` alone.
    package let ownLeaseID: String?

    /// What holding the lock proves (see the type's guarantee).
    package enum Proof: Sendable, Equatable {
        case lockExcludesEveryWriter
        case creatorProvablyDead
    }

    package init(
        layout: StoreLayout, directory: CacheDirectoryHandle, observer: (any CacheObserver)?, leaseDuration: Duration,
        proof: Proof, ownLeaseID: String? = nil
    ) {
        self.layout = layout
        self.directory = directory
        self.observer = observer
        self.leaseDuration = leaseDuration
        self.proof = proof
        self.ownLeaseID = ownLeaseID
    }

    /// The sweeper for a store whose lock `lock` is held.
    package init(holding lock: HeldWriterLock, store: CacheStore, directory: CacheDirectoryHandle) {
        let sweepAnything = store.options.lockFileSabotage.contains(.sweepEveryTemp)
        self.init(
            layout: store.layout, directory: directory, observer: store.options.observer,
            leaseDuration: store.options.leaseDuration,
            proof: lock.excludesEveryWriter || sweepAnything ? .lockExcludesEveryWriter : .creatorProvablyDead,
            ownLeaseID: lock.backend == .lockFile ? lock.record.leaseID : nil)
    }

    /// Must be called while holding the writer lock. Returns the removed paths.
    package func sweepWhileHoldingLock() -> [String] {
        sweepWhileHoldingLockCountingLeft().removed
    }

    /// At most this many leftover candidates are examined per sweep. Each costs a
    /// few system calls (proving its creator dead reads /proc, removing it is an
    /// unlink) and the sweep runs holding the lock: a directory flooded with
    /// planted temp names (100,000 made a refresh hold the lock 2.6 s, issue 19)
    /// must not make every writer pay for all of them. The rest wait for the next
    /// sweep (one per store instance, or `metacache cache sweep`); how many is
    /// reported (`sweepIncomplete`).
    package static let maximumExaminedPerSweep = 256

    /// The sweep: the paths removed, and how many candidates were left for a
    /// later sweep because of `maximumExaminedPerSweep`.
    package func sweepWhileHoldingLockCountingLeft() -> (removed: [String], left: Int) {
        guard let names = try? directory.entries() else { return ([], 0) }
        var removed: [String] = []
        func remove(_ name: String, because reason: String) {
            if (try? directory.unlink(name)) != nil {
                let path = directory.path(of: name)
                removed.append(path)
                observer?.observe(.sweepRemoved(path: path, reason: reason))
            }
        }
        var examined = 0
        var left = 0
        for name in names where isCandidate(name) {
            guard examined < Self.maximumExaminedPerSweep else {
                left += 1
                continue
            }
            examined += 1
            if name.hasPrefix(layout.tempPrefix) || name.hasPrefix(layout.refreshFailureTempPrefix) {
                if isOrphan(name) { remove(name, because: "temp file of a writer that died mid-commit") }
            } else if name == layout.ownerName {
                if let reason = removeStaleOwnerFile() {
                    let path = directory.path(of: name)
                    removed.append(path)
                    observer?.observe(.sweepRemoved(path: path, reason: "stale lock owner file (\(reason))"))
                }
            } else if name.hasPrefix(layout.ownerBreakPrefix) || name.hasPrefix(layout.ownerReplacementPrefix) {
                if isOrphan(name) { remove(name, because: "leftover of an interrupted lock-file release or break") }
            } else if name.hasPrefix(layout.ownerClaimPrefix) {
                if isAbandonedClaim(name) { remove(name, because: "claim of a lock-file breaker that died") }
            }
        }
        if left > 0 { observer?.observe(.sweepIncomplete(directory: directory.path, left: left)) }
        return (removed, left)
    }

    private func isCandidate(_ name: String) -> Bool {
        name.hasPrefix(layout.tempPrefix) || name.hasPrefix(layout.refreshFailureTempPrefix) || name == layout.ownerName
            || name.hasPrefix(layout.ownerBreakPrefix)
            || name.hasPrefix(layout.ownerReplacementPrefix) || name.hasPrefix(layout.ownerClaimPrefix)
    }

    package func isOrphan(_ name: String) -> Bool {
        switch proof {
        case .lockExcludesEveryWriter: return true
        case .creatorProvablyDead: return layout.creatorTag(ofTransient: name)?.creatorIsProvablyDead ?? false
        }
    }

    /// Temp files present right now (for `status`; does not need the lock).
    package func tempFiles() -> [String] {
        ((try? directory.entries()) ?? [])
            .filter { $0.hasPrefix(layout.tempPrefix) || $0.hasPrefix(layout.refreshFailureTempPrefix) }.sorted()
            .map(directory.path(of:))
    }

    /// Removes the owner file if its holder is proven dead; returns why, or nil if
    /// it was kept (live or unprovable holder, or changed before the removal).
    private func removeStaleOwnerFile() -> String? {
        let owner = OwnerFileLock(layout: layout, directory: directory, fileMode: 0o600, leaseDuration: leaseDuration)
        guard let observed = try? owner.readOwner(), observed.record?.leaseID != ownLeaseID || ownLeaseID == nil
        else { return nil }
        return (try? owner.removeIfProvablyStale(observed, noHolderCanLive: proof == .lockExcludesEveryWriter)) ?? nil
    }

    /// A claim is abandoned when its claimant is provably dead, or under proof 1
    /// (every breaker works holding the `flock` we hold).
    private func isAbandonedClaim(_ name: String) -> Bool {
        if proof == .lockExcludesEveryWriter { return true }
        let owner = OwnerFileLock(layout: layout, directory: directory, fileMode: 0o600, leaseDuration: leaseDuration)
        guard let claim = try? owner.readClaim(name) else { return false }
        return owner.provableStaleness(of: claim) != nil
    }
}
