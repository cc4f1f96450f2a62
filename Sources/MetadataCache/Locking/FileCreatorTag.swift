/// Who created a transient file of a store — a commit's temp file, an owner file
/// moved aside during its removal, a breaker's replacement owner file — written
/// into the file's name, so that a sweeper can tell whether its creator is
/// provably dead without trusting clocks or lock state.
///
/// Guarantee: `creatorIsProvablyDead` is true only when the creator ran on this
/// very kernel boot, in this very pid namespace, and its pid is gone or now names
/// a process with another start time. A creator on another host, in another
/// container, of another boot, or of a name without the identity fields (written
/// by version 1 of this library) is never provably dead.
///
/// Text form, appended after a file's prefix (docs/format.md, "Files in a store"):
///
///     PID-RANDOM16                                   version 1 (no identity)
///     PID-RANDOM16-BOOTID32-PIDNS-START              with identity
///
/// PID decimal; RANDOM16 16 hex digits (so that concurrent attempts and a pid
/// reused after a crash never collide); BOOTID32 the boot id's 32 hex digits
/// without dashes; PIDNS the pid namespace's inode number, decimal; START the
/// creator's start time in clock ticks since boot, decimal.
package struct FileCreatorTag: Sendable, Equatable {
    package var pid: Int32
    package var random: UInt64
    /// Boot id without dashes (32 hex digits), pid namespace and start time: all
    /// three, or none (an old-format name, or a process that could not read them).
    package var identity: Identity?

    package struct Identity: Sendable, Equatable {
        package var bootID: String
        package var pidNamespace: UInt64
        package var startTime: UInt64
    }

    package init(pid: Int32, random: UInt64, identity: Identity?) {
        self.pid = pid
        self.random = random
        self.identity = identity
    }

    /// A fresh tag for this process.
    package static func current() -> FileCreatorTag {
        var identity: Identity?
        if let boot = ProcessIdentity.bootID, let namespace = ProcessIdentity.pidNamespace,
            let start = ProcessIdentity.currentStartTime
        {
            identity = Identity(bootID: boot.filter { $0 != "-" }, pidNamespace: namespace, startTime: start)
        }
        return FileCreatorTag(
            pid: ProcessIdentity.currentPID, random: UInt64.random(in: 0...UInt64.max), identity: identity)
    }

    package var text: String {
        var text = "\(pid)-" + Hex.format(random)
        if let identity { text += "-\(identity.bootID)-\(identity.pidNamespace)-\(identity.startTime)" }
        return text
    }

    /// Parses the text after a file's prefix; nil for anything else (a name this
    /// library did not write is never treated as one it did).
    package init?(parsing text: Substring) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 5, let pid = Int32(parts[0]), pid > 0,
            parts[1].utf8.count == 16, let random = UInt64(parts[1], radix: 16)
        else { return nil }
        self.pid = pid
        self.random = random
        guard parts.count == 5 else {
            identity = nil
            return
        }
        guard parts[2].utf8.count == 32, parts[2].allSatisfy(\.isHexDigit), let namespace = UInt64(parts[3]),
            let start = UInt64(parts[4])
        else { return nil }
        identity = Identity(bootID: String(parts[2]), pidNamespace: namespace, startTime: start)
    }

    /// Whether the creator is certainly dead: same boot and pid namespace as this
    /// process, and its pid gone or reused (see the type's guarantee).
    package var creatorIsProvablyDead: Bool {
        guard let identity, let ourBoot = ProcessIdentity.bootID?.filter({ $0 != "-" }),
            identity.bootID == ourBoot, identity.pidNamespace == ProcessIdentity.pidNamespace
        else { return false }
        return !ProcessIdentity.isAlive(pid: pid, startTime: identity.startTime)
    }
}
