#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Who holds (or held) the writer lock, as published by the holder.
///
/// The advisory backend writes it into `NAME.lock` after acquiring and clears it
/// before releasing; the lock-file backend writes it into the owner file, and also
/// into `NAME.lock` where it holds that file's `flock` too. Waiters and
/// `status` read it to say who they are waiting for. A record is advisory
/// information only: it may be stale (holder crashed), empty (holder just acquired)
/// or torn (read mid-write); a malformed record is ignored, never fatal.
public struct HolderRecord: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    /// Platform start time of the holder process (see `ProcessIdentity.startTime(of:)`),
    /// which distinguishes it from a later process that reuses the pid.
    public var processStartTime: UInt64?
    public var command: String
    public var acquiredAt: Date
    public var backend: LockBackendKind
    /// Random id of this acquisition; a lock-file holder removes the owner file on
    /// release only if it still carries this id.
    public var leaseID: String
    /// Lock-file backend: how often the holder promises to renew its owner file
    /// (at least every third of this). A holder whose pid cannot be checked here
    /// is presumed dead once its owner file has stayed unchanged for this long,
    /// measured on the waiter's own clock.
    public var leaseSeconds: Double?
    /// The holder's kernel boot id (see `ProcessIdentity.bootID`); nil if unknown
    /// or written by a version that did not record it.
    public var bootID: String?
    /// The holder's machine id (`/etc/machine-id`); nil if unknown.
    public var machineID: String?
    /// The holder's pid namespace (inode of `/proc/self/ns/pid`); nil if unknown.
    public var pidNamespace: UInt64?

    public init(
        pid: Int32, host: String, processStartTime: UInt64?, command: String, acquiredAt: Date,
        backend: LockBackendKind, leaseID: String, leaseSeconds: Double? = nil, bootID: String? = nil,
        machineID: String? = nil, pidNamespace: UInt64? = nil
    ) {
        self.pid = pid
        self.host = host
        self.processStartTime = processStartTime
        self.command = command
        self.acquiredAt = acquiredAt
        self.backend = backend
        self.leaseID = leaseID
        self.leaseSeconds = leaseSeconds
        self.bootID = bootID
        self.machineID = machineID
        self.pidNamespace = pidNamespace
    }

    /// A record describing this process, now.
    static func forCurrentProcess(backend: LockBackendKind, leaseSeconds: Double? = nil) -> HolderRecord {
        HolderRecord(
            pid: ProcessIdentity.currentPID, host: ProcessIdentity.hostName,
            processStartTime: ProcessIdentity.currentStartTime, command: ProcessIdentity.commandLine,
            acquiredAt: Date(), backend: backend, leaseID: Hex.format(UInt64.random(in: 1...UInt64.max)),
            leaseSeconds: leaseSeconds, bootID: ProcessIdentity.bootID, machineID: ProcessIdentity.machineID,
            pidNamespace: ProcessIdentity.pidNamespace)
    }

    /// `pid 4242 (metacache cache refresh) on build-host`, or with where the pid
    /// belongs when that is not here: `pid 1 (...) on ci-2, in another pid namespace`.
    /// The command and host are another process's words: escaped for a terminal
    /// (`TerminalText`).
    public var summary: String { "pid \(pid) (\(TerminalText.escaped(command))) on \(location)" }

    public var description: String { summary }

    /// The holder's host name, followed by where its pid belongs when that is not
    /// this process's pid namespace and the record says so: `ci-2, in another pid
    /// namespace` (same running kernel, another container), `ci-2, another
    /// machine or boot` (another kernel under our own host name, where the bare
    /// name would read as local). Just the host name otherwise, or for records
    /// without the identity fields.
    /// The host name is escaped for a terminal (`TerminalText`).
    public var location: String {
        let shown = TerminalText.escaped(host)
        guard bootID != nil, ProcessIdentity.bootID != nil else { return shown }
        if isOnThisHost {
            if let pidNamespace, let ours = ProcessIdentity.pidNamespace, pidNamespace != ours {
                return shown + ", in another pid namespace"
            }
            return shown
        }
        return host == ProcessIdentity.hostName ? shown + ", another machine or boot" : shown
    }

    /// Whether the holder runs on this very kernel (same boot id, and same machine
    /// id where both are known). A host *name* proves nothing: containers and
    /// cloned machines share names. False when the record lacks a boot id.
    public var isOnThisHost: Bool {
        guard let bootID, bootID == ProcessIdentity.bootID else { return false }
        if let machineID, let ours = ProcessIdentity.machineID, machineID != ours { return false }
        return true
    }

    /// Whether the holder's pid names a process of this process's pid namespace on
    /// this kernel, so that its liveness can be checked here. Only then may a
    /// holder be judged dead by its pid; otherwise only an expired lease counts.
    public var sharesPidNamespaceWithThisProcess: Bool {
        isOnThisHost && ProcessIdentity.sharesPidNamespace(bootID: bootID, pidNamespace: pidNamespace)
    }

    var acquiredAtMilliseconds: Int64 { Int64((acquiredAt.timeIntervalSince1970 * 1000).rounded()) }

    /// One line of JSON. Written by hand: this runs on every acquisition, and a
    /// fixed field order keeps `cat NAME.lock` readable.
    public func encodedJSON() -> String {
        var fields: [(String, String)] = [
            ("pid", String(pid)),
            ("host", JSONText.quoted(host)),
            ("processStartTime", processStartTime.map(String.init) ?? "null"),
            ("command", JSONText.quoted(command)),
            ("acquiredAt", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: acquiredAtMilliseconds))),
            ("backend", JSONText.quoted(backend.rawValue)),
            ("leaseId", JSONText.quoted(leaseID)),
        ]
        if let leaseSeconds { fields.append(("leaseSeconds", String(leaseSeconds))) }
        if let bootID { fields.append(("bootId", JSONText.quoted(bootID))) }
        if let machineID { fields.append(("machineId", JSONText.quoted(machineID))) }
        if let pidNamespace { fields.append(("pidNamespace", String(pidNamespace))) }
        return JSONText.object(fields) + "\n"
    }

    /// Parses a record; nil for anything malformed (empty, torn, garbage, missing
    /// fields), because a bad record must never turn into a failure to lock.
    ///
    /// Every waiter parses the holder's record before it blocks, so this is on a
    /// wait's CPU budget: records of the library's own shape are read directly,
    /// anything else by `CacheJSONDecoder`, which validates as strictly and
    /// decodes the same values as Foundation's `JSONDecoder` did (~40 µs of a
    /// wait's CPU; see `HolderRecordWire`). Trailing whitespace (a lock-file slot
    /// pads its record with ~700 spaces) is insignificant in JSON and dropped
    /// first rather than scanned.
    public init?(parsing bytes: some Collection<UInt8>) {
        let padded = Data(bytes)
        let end = padded.lastIndex { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }.map { $0 + 1 } ?? 0
        let data = padded.prefix(end)
        guard !data.isEmpty, data.count < 64 * 1024,
            let wire = HolderRecordWire.read(data),
            wire.pid > 0,
            let millis = ISO8601Timestamp.parse(wire.acquiredAt)
        else { return nil }
        self.init(
            pid: wire.pid, host: wire.host, processStartTime: wire.processStartTime,
            command: wire.command ?? "?", acquiredAt: Date(timeIntervalSince1970: Double(millis) / 1000),
            backend: wire.backend.flatMap(LockBackendKind.init(rawValue:)) ?? .advisory,
            leaseID: wire.leaseId, leaseSeconds: wire.leaseSeconds, bootID: wire.bootId, machineID: wire.machineId,
            pidNamespace: wire.pidNamespace)
    }
}
