#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every access to the two files that serve stale-while-revalidate lives in this
// file: the failure record `NAME.refresh-failure.json` and the background
// refresh marker `NAME.refresh.lock` (names from `StoreLayout`). Like every store
// file, both are reached through the checked directory descriptor
// (`CacheDirectoryHandle`): opened non-blocking, without following links, and
// refused unless they are regular files.

extension CacheStore {
    /// The failure memory (nil: none, unreadable or malformed). Lock-free: the
    /// record is replaced by rename, so a reader sees a whole record or none.
    public func refreshFailure() -> RefreshFailureRecord? {
        guard let directory = (try? openDirectoryIfPresent()) ?? nil,
            let (fd, _) = try? directory.openFile(layout.refreshFailureName, flags: O_RDONLY, operation: "open refresh failure record")
        else { return nil }
        let sys = directory.sys
        let path = directory.path(of: layout.refreshFailureName)
        defer { sys.closeIgnoringErrors(fd) }
        // A record is a few hundred bytes; more is not one of ours.
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        guard let n = try? buffer.withUnsafeMutableBytes({ (b) throws(MetadataCacheError) in try sys.readFully(fd, into: b, path: path) }),
            n < buffer.count
        else { return nil }
        return RefreshFailureRecord.parse(Array(buffer[0..<n]))
    }

    /// The pid of the running background refresh, or nil when none runs.
    ///
    /// Like `lockState`, this never takes the marker's lock where the kernel's lock
    /// table can be read (a probe would make a reader's claim in that instant fail
    /// and skip a refresh); without the table, one shared non-blocking attempt.
    public func backgroundRefreshPID() -> Int32? {
        guard let directory = (try? openDirectoryIfPresent()) ?? nil,
            let (fd, file) = try? directory.openFile(
                layout.backgroundRefreshMarkerName, flags: O_RDONLY, operation: "open background refresh marker")
        else { return nil }
        let sys = directory.sys
        let path = directory.path(of: layout.backgroundRefreshMarkerName)
        defer { sys.closeIgnoringErrors(fd) }
        if let table = KernelLockTable.current() {
            guard table.exclusiveFlocks(onInode: file.inode).contains(where: { $0.isOnDevice(file.device) }) else { return nil }
        } else {
            guard let free = try? sys.tryFlock(fd, exclusive: false, path: path) else { return nil }
            if free {
                try? sys.unlock(fd, path: path)
                return nil
            }
        }
        var buffer = [UInt8](repeating: 0, count: BackgroundRefreshMarker.recordBytes)
        let n = (try? buffer.withUnsafeMutableBytes { (b) throws(MetadataCacheError) in try sys.readFully(fd, into: b, path: path) }) ?? 0
        // Held but no pid yet: the starter is between spawn and writing it.
        return BackgroundRefreshMarker.parsePID(buffer[0..<n]) ?? 0
    }
}

/// The marker that makes "a background refresh is running" a fact the kernel
/// keeps: an exclusive `flock` on `NAME.refresh.lock`, taken by the starter before
/// it spawns and inherited by the background process (descriptor 3; an inherited
/// descriptor shares the open file description, and with it the lock). The lock is
/// released when the last descriptor closes: when the background process exits,
/// however it exits (SIGKILL included). So the marker cannot go stale, and no pid
/// is ever trusted to decide anything; the pid written into the file is only for
/// `status`.
package struct BackgroundRefreshMarker: ~Copyable {
    package let fd: Int32
    private let path: String
    private let sys: SystemCalls

    /// Fixed width, so rewriting never needs a truncate: 11 characters of pid,
    /// space padded, and a newline.
    package static let recordBytes = 12

    package enum Claim: ~Copyable {
        case claimed(BackgroundRefreshMarker)
        /// Another process holds it: a background refresh is running.
        case busy
    }

    private init(fd: Int32, path: String, sys: SystemCalls) {
        self.fd = fd
        self.path = path
        self.sys = sys
    }

    /// Takes the marker without waiting. Throws when the file cannot be created or
    /// the filesystem refuses `flock` (some network filesystems): the caller then
    /// starts no background refresh at all rather than risk one per invocation.
    package static func claim(_ store: CacheStore) throws(MetadataCacheError) -> Claim {
        let directory = try store.openDirectoryForWriting()
        let name = store.layout.backgroundRefreshMarkerName
        let path = directory.path(of: name)
        let sys = directory.sys
        // 0600 whatever the store's file mode, and ours with one link, like the
        // lock file: whoever can open it can flock it and so stop every background
        // refresh, and the pid is written into it.
        let (fd, _) = try directory.openFile(
            name, flags: O_RDWR | O_CREAT, mode: 0o600, operation: "open background refresh marker",
            requirement: .ownedSingleLink(sharedDirectory: store.options.allowSharedDirectory))
        do throws(MetadataCacheError) {
            guard try sys.tryFlock(fd, exclusive: true, path: path) else {
                sys.closeIgnoringErrors(fd)
                return .busy
            }
        } catch {
            sys.closeIgnoringErrors(fd)
            throw error
        }
        return .claimed(BackgroundRefreshMarker(fd: fd, path: path, sys: sys))
    }

    /// Records the background process's pid for `status` (best effort).
    package func publish(pid: Int32) {
        var text = String(pid)
        text += String(repeating: " ", count: max(0, Self.recordBytes - 1 - text.utf8.count)) + "\n"
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { b in _ = try? sys.pwriteAll(fd, UnsafeRawBufferPointer(b), at: 0, path: path) }
    }

    static func parsePID(_ bytes: ArraySlice<UInt8>) -> Int32? {
        let digits = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        return Int32(String(decoding: digits, as: UTF8.self))
    }

    /// Closes the starter's descriptor. If the background process was started, it
    /// holds the lock through its inherited copy; otherwise this releases it.
    deinit { sys.closeIgnoringErrors(fd) }
}

extension CacheWriterLockGuard {
    /// Records one more failed refresh (the writer lock makes the read-increment-
    /// write of `attempts` safe across processes), durably and atomically with
    /// `DurableCommit`'s machinery. Best effort: the refresh is failing already,
    /// and its own error is the one to report.
    package func recordRefreshFailure(_ message: String) -> RefreshFailureRecord? {
        let options = store.options
        let record = RefreshFailureRecord.after(
            store.refreshFailure(), error: message, now: EpochMilliseconds.now, backoff: options.refreshBackoff,
            pid: ProcessIdentity.currentPID)
        let lock = self.lock
        let durable = DurableCommit(
            layout: store.layout, directory: lock.directory, fileMode: mode_t(options.fileMode), freeSpaceMargin: 0,
            permissionErrorsMayBeTransient: DurableCommit.permissionErrorsMayBeTransient(on: store.fileSystem(of: lock.directory)),
            observer: nil)
        let bytes = record.encoded()
        let written: Bool = [UInt8]().withUnsafeBytes { empty in
            (try? durable.commit(
                header: { _ in bytes }, payload: empty, renameBudget: lock.remainingBudget,
                target: (store.layout.refreshFailureName, store.layout.newRefreshFailureTempName()),
                beforeRename: { () throws(MetadataCacheError) in try lock.verifyStillHeld() })) != nil
        }
        return written ? record : nil
    }

    /// A successful refresh forgets past failures. Not fsynced: should a power
    /// failure bring the record back, the next background attempt merely waits
    /// out a backoff it no longer needed.
    package func clearRefreshFailure() {
        lock.directory.unlinkIgnoringErrors(store.layout.refreshFailureName)
    }
}
