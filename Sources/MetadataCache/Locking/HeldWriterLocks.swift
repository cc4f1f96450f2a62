import Synchronization

/// The writer locks this process holds, by lock path.
///
/// Kernel locks cannot answer "does *this process* hold it?" (a second `flock` on a
/// new descriptor simply blocks), so the process keeps its own table. It backs the
/// self-deadlock guard: a second acquisition in a process that already holds the
/// lock fails at once instead of waiting for itself.
package enum HeldWriterLocks {
    private static let table = Mutex<[String: HolderRecord]>([:])

    package static func holder(of lockPath: String) -> HolderRecord? {
        table.withLock { $0[lockPath] }
    }

    package static func register(_ lockPath: String, _ record: HolderRecord) {
        table.withLock { $0[lockPath] = record }
    }

    package static func unregister(_ lockPath: String) {
        _ = table.withLock { $0.removeValue(forKey: lockPath) }
    }
}
