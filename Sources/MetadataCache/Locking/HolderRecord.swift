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
    /// Lock-file backend: how long after the owner file's last renewal (its mtime) a
    /// holder on another host may be presumed dead.
    public var leaseSeconds: Double?

    public init(
        pid: Int32, host: String, processStartTime: UInt64?, command: String, acquiredAt: Date,
        backend: LockBackendKind, leaseID: String, leaseSeconds: Double? = nil
    ) {
        self.pid = pid
        self.host = host
        self.processStartTime = processStartTime
        self.command = command
        self.acquiredAt = acquiredAt
        self.backend = backend
        self.leaseID = leaseID
        self.leaseSeconds = leaseSeconds
    }

    /// A record describing this process, now.
    static func forCurrentProcess(backend: LockBackendKind, leaseSeconds: Double? = nil) -> HolderRecord {
        HolderRecord(
            pid: ProcessIdentity.currentPID, host: ProcessIdentity.hostName,
            processStartTime: ProcessIdentity.currentStartTime, command: ProcessIdentity.commandLine,
            acquiredAt: Date(), backend: backend, leaseID: Hex.format(UInt64.random(in: 1...UInt64.max)),
            leaseSeconds: leaseSeconds)
    }

    /// `pid 4242 (metacache cache refresh) on build-host`
    public var summary: String { "pid \(pid) (\(command)) on \(host)" }

    public var description: String { summary }

    public var isOnThisHost: Bool { host == ProcessIdentity.hostName }

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
        return JSONText.object(fields) + "\n"
    }

    private struct Wire: Decodable {
        var pid: Int32
        var host: String
        var processStartTime: UInt64?
        var command: String?
        var acquiredAt: String
        var backend: String?
        var leaseId: String
        var leaseSeconds: Double?
    }

    /// Parses a record; nil for anything malformed (empty, torn, garbage, missing
    /// fields), because a bad record must never turn into a failure to lock.
    public init?(parsing bytes: some Collection<UInt8>) {
        let data = Data(bytes)
        guard !data.isEmpty, data.count < 64 * 1024,
            let wire = try? JSONDecoder().decode(Wire.self, from: data),
            wire.pid > 0,
            let millis = ISO8601Timestamp.parse(wire.acquiredAt)
        else { return nil }
        self.init(
            pid: wire.pid, host: wire.host, processStartTime: wire.processStartTime,
            command: wire.command ?? "?", acquiredAt: Date(timeIntervalSince1970: Double(millis) / 1000),
            backend: wire.backend.flatMap(LockBackendKind.init(rawValue:)) ?? .advisory,
            leaseID: wire.leaseId, leaseSeconds: wire.leaseSeconds)
    }
}
