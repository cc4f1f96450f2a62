/// One look at the cache after a notification or a polling tick: is there a
/// verified commit the host has not been given yet?
///
/// Guarantees (the watch's, see `CacheStore.changes`): only a snapshot that
/// verified is returned; never the commit returned last; a corrupt file is reported
/// once (a `readCorrupt` event) and skipped until something else is at the path.
///
/// A cheap look decides whether the full read (open, read, XXH64) is needed: the
/// header alone (one `pread` of at most 4 KiB), whose commit id changes with every
/// commit, compared together with the file's `stat` identity. `stat` alone could
/// miss a commit: ext4 and xfs hand a freed inode number straight to the next file
/// created, so two commits of equal size within one timestamp tick (a few
/// milliseconds; far less on tmpfs) can leave the same device, inode, size and
/// times.
struct CacheChangeCheck {
    let layout: StoreLayout
    let sys: SystemCalls
    let observer: (any CacheObserver)?
    let allowSharedDirectory: Bool

    /// The commit id of the last snapshot returned.
    private(set) var lastYieldedCommitID: UInt64?
    /// What the last full read found at the path (nil: nothing, or not read yet).
    private var lastRead: FileAtPath?

    private struct FileAtPath: Equatable {
        var identity: CacheFileIdentity
        /// nil when the header did not decode.
        var commitID: UInt64?
    }

    init(layout: StoreLayout, sys: SystemCalls, observer: (any CacheObserver)?, allowSharedDirectory: Bool) {
        self.layout = layout
        self.sys = sys
        self.observer = observer
        self.allowSharedDirectory = allowSharedDirectory
    }

    /// The snapshot to hand to the host, if any.
    /// - Parameter reread: read in full even if the cheap look says unchanged.
    mutating func run(reread: Bool) throws(MetadataCacheError) -> CacheSnapshot? {
        guard let directory = try usableDirectory() else {
            lastRead = nil
            return nil
        }
        let reader = CacheFileReader(directory: directory)
        if !reread {
            guard let current = try look(reader) else {
                lastRead = nil
                return nil
            }
            if current == lastRead { return nil }
        }
        do {
            guard let snapshot = try reader.read(layout.cacheName) else {
                lastRead = nil
                return nil
            }
            lastRead = FileAtPath(identity: snapshot.fileIdentity, commitID: snapshot.commitID)
            guard snapshot.commitID != lastYieldedCommitID else { return nil }
            lastYieldedCommitID = snapshot.commitID
            return snapshot
        } catch let .corruptCache(corruptPath, problem) {
            let found = try look(reader)
            if found == nil || found != lastRead {
                observer?.observe(.readCorrupt(path: corruptPath, problem: problem))
            }
            lastRead = found
            return nil
        }
    }

    /// The file at the path, from its header and `stat`; nil when there is none.
    private func look(_ reader: CacheFileReader) throws(MetadataCacheError) -> FileAtPath? {
        do {
            return try reader.readHeader(layout.cacheName).map { FileAtPath(identity: $0.identity, commitID: $0.header.commitID) }
        } catch .corruptCache {
            return try reader.identity(layout.cacheName).map { FileAtPath(identity: $0, commitID: nil) }
        }
    }

    /// The directory to read through, opened and checked for this check alone;
    /// nil when it does not exist (yet). A symbolic link, another owner, writable
    /// by others: the watch ends with `unsafeDirectory`. Not kept open between
    /// checks: a held descriptor keeps a removed directory alive, and inotify
    /// then withholds its `IN_DELETE_SELF`, which is how the watch learns to
    /// follow a directory deleted and recreated.
    private func usableDirectory() throws(MetadataCacheError) -> CacheDirectoryHandle? {
        try DirectorySafety.open(layout.directory, sys: sys, allowShared: allowSharedDirectory, create: false)
    }
}
