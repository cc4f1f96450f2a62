#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces the cache file with new contents, atomically and durably.
///
/// Guarantee: readers observe either the old or the new file, complete — never a
/// mix, never a prefix. If this throws, the old file is untouched and no temp file
/// is left behind. If the process dies at any instant, the directory holds the old
/// or the new file, complete, plus at most one orphaned temp file that the next
/// writer sweeps. Once this returns, the new file survives a power failure
/// (given a disk that honours flushes).
///
/// Must be called while holding the writer lock (it is reachable only through
/// `CacheWriterLockGuard`): the lock is what makes "at most one temp file" and the
/// sweeper's proof of orphanhood true.
///
/// The steps, and what breaks without each:
/// 1. Free space check (`statvfs`). Without it a full disk is discovered half-way
///    through writing; the commit would still fail safely, but the user learns
///    "ENOSPC" instead of "needs 16.0 MiB, 3.2 MiB available", and other tools that
///    write in place truncate their cache at exactly this point. Skipped where the
///    filesystem reports no size (statfs all zeros): there only step 3's ENOSPC
///    can tell, and it fails just as safely.
/// 2. Create a temp file in the *same directory* with `O_CREAT|O_EXCL|O_NOFOLLOW`.
///    Same directory: `rename` is only atomic within one filesystem. `O_EXCL`: never
///    reuse or follow an existing file (a symlink planted at the temp path cannot
///    redirect the write). Mode 0600: the cache may hold private data.
///    Every step names files relative to the open, checked directory
///    (`CacheDirectoryHandle`: `openat`, `renameat`, `fsync` of that descriptor),
///    never by path: a path is resolved again at each call, and whoever can write
///    an ancestor could swap the directory between two of them — the temp file
///    and the new cache would then land in a directory we never named.
/// 3. Write header and payload completely, gathered into one `writev` (short
///    writes and `EINTR` handled by `SystemCalls.writeAll`). One call, not two:
///    each write that extends a new file costs the filesystem an inode update
///    (measured on ext4 here: ~50-80 µs per extra write of a 1 MiB refresh, about 5 %
///    of the bare-syscall floor), and copying the payload behind the header in
///    memory would cost more than that. The header carries the payload's XXH64;
///    for payloads of `ConcurrentChecksum.minimumBytes` and more on a machine with
///    a second core, the hash runs on another thread during the write: the header
///    goes out with a zero checksum, then is rewritten in place with one `pwrite`
///    once the hash is known — still before the fsync, so the file made durable
///    and renamed is always the final one. No reader can see a temp file, and a
///    crash in between leaves an orphan for the sweeper.
/// 4. `fsync` the temp file (F_FULLFSYNC on Darwin). Without it, the rename can reach
///    the disk before the data: after a power failure the cache file exists with the
///    new name but zero length or stale blocks — the classic ext4 "zero-length file
///    after crash" with delayed allocation.
/// 5. `rename` over the cache file. POSIX makes the replacement atomic for
///    readers: the name points at the old inode or the new one, never neither.
///    Transient failures (`EBUSY`, `EAGAIN`, `ETXTBSY`, and — except on the local
///    filesystems where they can only mean a permanent permission problem —
///    `EACCES`/`EPERM`, which network and Windows-backed filesystems report while
///    another process has the file open) are retried with exponential backoff —
///    50 ms doubling, each sleep at most 1 s — but never beyond what the lock wait
///    left of the lock-timeout budget (a 10 s timeout after a 3 s wait leaves 7 s
///    of retries). Anything else fails at once.
/// 6. `fsync` the directory. The rename is a change to the directory; until the
///    directory is flushed, a power failure can bring back the old name (or, on
///    some filesystems, lose both). Without this step a "successful" refresh can
///    silently roll back.
package struct DurableCommit: Sendable {
    package let layout: StoreLayout
    package let directory: CacheDirectoryHandle
    package var sys: SystemCalls { directory.sys }
    package let fileMode: mode_t
    package let freeSpaceMargin: UInt64
    /// Whether `EACCES`/`EPERM` from rename may be momentary here (see step 5).
    package let permissionErrorsMayBeTransient: Bool
    /// Told when the free-space check cannot be made (step 1).
    package let observer: (any CacheObserver)?

    package init(
        layout: StoreLayout, directory: CacheDirectoryHandle, fileMode: mode_t, freeSpaceMargin: UInt64,
        permissionErrorsMayBeTransient: Bool = true, observer: (any CacheObserver)? = nil
    ) {
        self.layout = layout
        self.directory = directory
        self.fileMode = fileMode
        self.freeSpaceMargin = freeSpaceMargin
        self.permissionErrorsMayBeTransient = permissionErrorsMayBeTransient
        self.observer = observer
    }

    package struct Result: Sendable {
        package var renameRetries: Int
        package var duration: Duration
    }

    /// Rename attempts that failed transiently and were retried, reported even when
    /// the commit fails in the end.
    package final class RetryCounter: @unchecked Sendable {
        package var count = 0
        package init() {}
    }

    /// Errors of `rename` worth retrying: they describe a momentary condition.
    /// `EACCES`/`EPERM` only where `permissionErrorsMayBeTransient` (a sticky
    /// directory on ext4 refusing to replace another user's file will refuse
    /// forever; retrying would only make the user wait out the budget).
    package static func isTransientRenameError(_ errno: Errno, permissionErrorsMayBeTransient: Bool = true) -> Bool {
        switch errno.rawValue {
        case EBUSY, EAGAIN, ETXTBSY: true
        case EACCES, EPERM: permissionErrorsMayBeTransient
        default: false
        }
    }

    /// Local filesystems whose `rename` reports `EACCES`/`EPERM` only for lasting
    /// permission problems. Any other (network, FUSE, 9p/drvfs, unknown) may report
    /// them while another client or Windows process has the file open.
    package static func permissionErrorsMayBeTransient(on fileSystem: FileSystemType?) -> Bool {
        guard let fileSystem else { return true }
        return !fileSystem.isKnownLocal
    }

    /// The backoff sleep before retry number `attempt` (1-based): 50 ms doubling,
    /// each sleep capped at 1 s.
    package static func backoff(beforeRetry attempt: Int) -> Duration {
        let milliseconds = 50 << min(max(attempt - 1, 0), 10)
        return .milliseconds(min(milliseconds, 1000))
    }

    /// Writes `header(checksum) ++ payload` as the new cache file, where checksum is
    /// the payload's XXH64. `header` must encode to the same length whatever the
    /// checksum (the format's checksum field has a fixed width).
    /// - Parameters:
    ///   - renameBudget: how long rename retries may take, counted from the first
    ///     rename attempt (nil: no limit other than `maximumUnboundedRetryTime`).
    ///   - beforeRename: last check before the point of no return (the lock-file
    ///     backend verifies it still owns the lock).
    ///   - target: the file replaced and the temp file written first: the cache
    ///     file and a `NAME.json.tmp-TAG`, unless another of the store's small
    ///     files (the refresh failure record) is written with the same guarantees.
    ///     Its temp name must be one the sweeper knows (a `StoreLayout` prefix with
    ///     a creator tag).
    package func commit(
        header encodeHeader: (_ payloadChecksum: UInt64) -> [UInt8], payload: UnsafeRawBufferPointer,
        renameBudget: Duration?, retries: RetryCounter = RetryCounter(), target: (name: String, tempName: String)? = nil,
        beforeRename: () throws(MetadataCacheError) -> Void
    ) throws(MetadataCacheError) -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        // The thread reads the caller's payload: whatever happens below, wait for it
        // before returning (a deferred join runs after every other cleanup).
        let concurrentChecksum = ConcurrentChecksum.start(payload)
        defer { _ = concurrentChecksum?.value() }
        let header = encodeHeader(concurrentChecksum == nil ? XXH64.hash(payload) : 0)
        let total = UInt64(header.count + payload.count)

        // 1. Enough room for the whole new file (both files coexist until the rename).
        // A filesystem that reports no size at all (statfs all zeros: LazyFS and
        // other FUSE mounts) is not full, it is silent: refusing there would refuse
        // every commit. The check is skipped (and said, for --verbose); a disk that
        // really is full then fails the write in step 3 with ENOSPC, and that path
        // removes the temp file and leaves the old cache intact.
        if let available = try directory.availableBytes() {
            let (sum, overflow) = total.addingReportingOverflow(freeSpaceMargin)
            let needed = overflow ? UInt64.max : sum
            guard available >= needed else {
                throw .insufficientSpace(directory: layout.directory, needed: needed, available: available)
            }
        } else {
            observer?.observe(.freeSpaceUnknown(directory: layout.directory))
        }

        // 2. The temp file, exclusively ours.
        let tempName = target?.tempName ?? layout.newTempName()
        let tempPath = directory.path(of: tempName)
        let (fd, _) = try directory.openFile(
            tempName, flags: O_WRONLY | O_CREAT | O_EXCL, mode: fileMode, operation: "create temp file")
        var tempExists = true
        var fdOpen = true
        defer {
            // Any failure before the rename: the old cache was never touched; remove
            // our temp so nothing is left behind.
            if fdOpen { sys.closeIgnoringErrors(fd) }
            if tempExists { directory.unlinkIgnoringErrors(tempName) }
        }

        // 3. Every byte, header first, in one gathered write; with a concurrent
        // checksum, then the final header over the provisional one.
        try withBytes(of: header) { (bytes) throws(MetadataCacheError) in
            try sys.writeAll(fd, [bytes, payload], path: tempPath)
        }
        if let concurrentChecksum {
            let final = encodeHeader(concurrentChecksum.value())
            precondition(final.count == header.count, "the header's length must not depend on the checksum")
            try withBytes(of: final) { (bytes) throws(MetadataCacheError) in
                try sys.pwriteAll(fd, bytes, at: 0, path: tempPath)
            }
        }

        // 4. Data on stable storage before the name can point at it.
        try sys.fsync(fd, path: tempPath)
        fdOpen = false
        // A close error after a successful fsync cannot lose data that fsync
        // reported as written, but on NFS it is where deferred write errors appear.
        try sys.close(fd, path: tempPath)

        // 5. The atomic switch, retried only while the budget allows.
        try beforeRename()
        let firstAttempt = clock.now
        while true {
            do throws(MetadataCacheError) {
                try directory.rename(tempName, to: target?.name ?? layout.cacheName)
                tempExists = false
                break
            } catch let error {
                guard case let .io(_, _, errno) = error,
                    Self.isTransientRenameError(errno, permissionErrorsMayBeTransient: permissionErrorsMayBeTransient)
                else { throw error }
                let elapsed = clock.now - firstAttempt
                let limit = renameBudget ?? Self.maximumUnboundedRetryTime
                guard elapsed < limit else { throw error }
                retries.count += 1
                let pause = min(Self.backoff(beforeRetry: retries.count), limit - elapsed)
                Self.sleep(pause)
            }
        }

        // 6. Make the rename itself durable: the very directory it happened in.
        do throws(MetadataCacheError) {
            try directory.fsync()
        } catch let .io(operation, path, errno) {
            // The new file is already visible to readers; only its survival across a
            // power failure is in doubt. Say exactly that.
            throw .io(
                operation: "\(operation) (the new cache is in place, but may not survive a power failure)",
                path: path, errno: errno)
        }
        return Result(renameRetries: retries.count, duration: clock.now - started)
    }

    /// Rename retries with an infinite lock timeout still stop after this long: a
    /// rename that fails for a minute is not transient.
    package static let maximumUnboundedRetryTime: Duration = .seconds(60)

    private static func sleep(_ duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
