/// The writer locks this process holds, keyed by which store they lock (not by how
/// its path was spelled), with the thread or task that holds each.
///
/// Guarantee: while a lock of this process is held, an acquisition of the same
/// store in this process finds its entry, however the directory was written
/// (`a/../cache`, a symlinked parent, a trailing slash); and an acquisition by
/// the very thread or task that holds it is recognised as such.
///
/// Kernel locks cannot answer "does *this process* hold it?" (a second `flock` on a
/// new descriptor simply blocks), so the process keeps its own table. It backs the
/// self-deadlock guard: a raw second guard in a process that already holds the
/// lock fails at once, and so does a nested `update`/`refresh` in the thread or
/// task that holds the lock (it would wait for itself), while other threads and
/// tasks of the process queue normally. Not detected: a *child* task of the
/// holder waiting for the lock while the holder awaits that child.
package enum HeldWriterLocks {
    /// One store's lock: the identity of its directory and the lock file's name.
    /// Directories cannot be hard-linked, so (device, inode) names exactly one
    /// directory, whatever path led to it.
    package struct Key: Hashable, Sendable {
        package let directoryDevice: UInt64
        package let directoryInode: UInt64
        package let lockName: String
    }

    package struct Entry: Sendable {
        package let record: HolderRecord
        /// Who holds it: the task that acquired (async acquisitions, and blocking
        /// ones made from inside a task), or the thread (blocking acquisitions
        /// outside any task).
        package let holder: ExecutionContextID
    }

    private static let table = LockedValue<[Key: Entry]>([:])

    /// The key of `layout`'s lock: the identity of the open, checked directory
    /// (`CacheDirectoryHandle.status`), whatever path named it.
    package static func key(for layout: StoreLayout, directory: CacheDirectoryHandle) -> Key {
        Key(directoryDevice: directory.status.device, directoryInode: directory.status.inode, lockName: layout.lockName)
    }

    /// The key by path (`lstat`), for a question asked without a store's handle:
    /// tests asking whether this process holds a lock.
    package static func key(for layout: StoreLayout, sys: SystemCalls) throws(MetadataCacheError) -> Key {
        guard let status = try sys.lstatIfExists(layout.directory) else {
            throw .io(operation: "open cache directory", path: layout.directory, errno: .noSuchFile)
        }
        return Key(directoryDevice: status.device, directoryInode: status.inode, lockName: layout.lockName)
    }

    package static func entry(_ key: Key) -> Entry? {
        table.withLock { $0[key] }
    }

    /// The holder record this process published for `layout`'s lock, if it holds it.
    package static func holder(of layout: StoreLayout, sys: SystemCalls = .live) -> HolderRecord? {
        guard let key = try? key(for: layout, sys: sys) else { return nil }
        return entry(key)?.record
    }

    package static func register(_ key: Key, _ record: HolderRecord, holder: ExecutionContextID) {
        table.withLock { $0[key] = Entry(record: record, holder: holder) }
    }

    package static func unregister(_ key: Key) {
        _ = table.withLock { $0.removeValue(forKey: key) }
    }
}
