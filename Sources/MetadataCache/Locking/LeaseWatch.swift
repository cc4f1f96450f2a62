/// How long a file has stayed unchanged, as seen by this process and measured on
/// this process's own clock: the only evidence a lock-file waiter has that a
/// holder whose pid it cannot check (another host, another container, another
/// boot) has stopped renewing its lease.
///
/// Guarantee: `unchangedFor` reports at least `d` only if this process has
/// observed the file, with the very same fingerprint, at two instants at least
/// `d` apart on `ContinuousClock` (which keeps counting while the machine
/// sleeps). No timestamp written by another machine is ever compared with a
/// local clock: an owner file's mtime on NFS comes from the server's clock, and
/// a holder's host may be minutes off; here the mtime only has to *change* when
/// the holder renews, which it does at least every third of its lease.
///
/// A waiter that has only just started watching (including any one-shot attempt,
/// `--lock-timeout 0`, `cache sweep`) therefore never presumes such a holder dead:
/// it has not watched for a lease.
package struct LeaseWatch: Sendable {
    private var firstSeen: [String: (fingerprint: FileFingerprint, at: ContinuousClock.Instant)] = [:]

    package init() {}

    /// Records an observation of `path` and returns for how long it has had this
    /// fingerprint, by this process's clock (zero when new or changed).
    package mutating func unchangedFor(
        _ path: String, _ fingerprint: FileFingerprint, now: ContinuousClock.Instant = .now
    ) -> Duration {
        if let seen = firstSeen[path], seen.fingerprint == fingerprint {
            return now - seen.at
        }
        firstSeen[path] = (fingerprint, now)
        return .zero
    }
}

/// What changes when a lock file's holder touches or rewrites it, or when another
/// file takes its place: identity, size, both timestamps, and the lease id it
/// carries. Compared only for equality, never with a clock.
package struct FileFingerprint: Sendable, Equatable, Hashable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var modificationNanoseconds: Int64
    package var changeNanoseconds: Int64
    package var leaseID: String?

    /// The same file in the same state, once renamed: `rename` itself changes the
    /// moved inode's ctime (ext4, xfs, NFS), so a file moved aside is compared
    /// without it.
    package func isSameFile(as other: FileFingerprint) -> Bool {
        device == other.device && inode == other.inode && size == other.size
            && modificationNanoseconds == other.modificationNanoseconds && leaseID == other.leaseID
    }

    package init(_ status: FileStatus, leaseID: String?) {
        device = status.device
        inode = status.inode
        size = status.size
        modificationNanoseconds = status.modificationNanoseconds
        changeNanoseconds = status.changeNanoseconds
        self.leaseID = leaseID
    }
}
