#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// The system calls `FaultInjectingSystemCalls` can intercept.
package enum SystemCallKind: String, Sendable, CaseIterable {
    case open, close, read, pread, write, pwrite, fsync, fsyncDirectory, ftruncate, fstat, lstat
    case rename, link, unlink, mkdir, flock, touch, availableBytes, fileSystemType, listDirectory
    case inotifyInit, inotifyAddWatch
    /// `readlinkat`, met only while resolving a cache directory's ancestors.
    case readlink
}

/// One planned fault: which call it hits and what happens.
package struct InjectedFault: Sendable, CustomStringConvertible {
    package enum Action: Sendable, Equatable {
        /// The call fails with this errno without being performed.
        case fail(Errno)
        /// The process dies by `SIGKILL` before the call is performed.
        case crashBefore
        /// The call is performed, then the process dies by `SIGKILL`.
        case crashAfter
        /// A `write`/`read` transfers at most this many bytes (a short transfer).
        case shortTransfer(maxBytes: Int)
        /// The call fails with `EINTR` this many times before being performed.
        case interrupt(times: Int)
        /// Instead of the call, `value` bytes are reported (only for
        /// `availableBytes`: simulate a nearly full disk).
        case report(UInt64)
        /// Instead of the call, "size unknown" is reported (only for
        /// `availableBytes`: a filesystem whose statfs returns all zeros).
        case reportUnknownSize
        /// Calls the provider's pause hook (which may block, e.g. until a test
        /// says go), then performs the call: a live writer frozen mid-commit.
        case pause
    }

    package var kind: SystemCallKind
    /// 1-based: the fault hits the Nth matching call (later calls are normal),
    /// or every matching call when nil.
    package var occurrence: Int?
    /// Only calls whose path contains this text match (fd-based calls match any).
    package var pathContains: String?
    package var action: Action

    package init(_ kind: SystemCallKind, occurrence: Int? = 1, pathContains: String? = nil, action: Action) {
        self.kind = kind
        self.occurrence = occurrence
        self.pathContains = pathContains
        self.action = action
    }

    package var description: String {
        "\(kind)#\(occurrence.map(String.init) ?? "*")\(pathContains.map { "[\($0)]" } ?? "") -> \(action)"
    }

    /// Parses the compact form used by test agents and `METACACHE_TEST_FAULTS`:
    /// `kind[#N|#*][@pathfragment]=action`, where action is `ENOSPC` (any errno name),
    /// `crash-before`, `crash-after`, `pause`, `short:BYTES`, `eintr:TIMES`, `report:BYTES` or `report:unknown`.
    package static func parse(_ text: String) -> InjectedFault? {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        var target = parts[0]
        var path: String?
        if let at = target.firstIndex(of: "@") {
            path = String(target[target.index(after: at)...])
            target = String(target[..<at])
        }
        var occurrence: Int? = 1
        if let hash = target.firstIndex(of: "#") {
            let n = target[target.index(after: hash)...]
            occurrence = n == "*" ? nil : Int(n)
            if n != "*" && occurrence == nil { return nil }
            target = String(target[..<hash])
        }
        guard let kind = SystemCallKind(rawValue: target) else { return nil }
        let actionText = parts[1]
        let action: Action
        switch actionText {
        case "crash-before": action = .crashBefore
        case "crash-after": action = .crashAfter
        case "pause": action = .pause
        case "report:unknown": action = .reportUnknownSize
        default:
            if actionText.hasPrefix("short:"), let n = Int(actionText.dropFirst(6)) {
                action = .shortTransfer(maxBytes: n)
            } else if actionText.hasPrefix("eintr:"), let n = Int(actionText.dropFirst(6)) {
                action = .interrupt(times: n)
            } else if actionText.hasPrefix("report:"), let n = UInt64(actionText.dropFirst(7)) {
                action = .report(n)
            } else if let errno = errnoByName[actionText] {
                action = .fail(Errno(rawValue: errno))
            } else {
                return nil
            }
        }
        return InjectedFault(kind, occurrence: occurrence, pathContains: path, action: action)
    }

    private static let errnoByName: [String: Int32] = [
        "EIO": EIO, "ENOSPC": ENOSPC, "EBUSY": EBUSY, "EACCES": EACCES, "EPERM": EPERM,
        "EINTR": EINTR, "ENOLCK": ENOLCK, "EOPNOTSUPP": EOPNOTSUPP, "ENOSYS": ENOSYS,
        "EROFS": EROFS, "EDQUOT": EDQUOT, "EXDEV": EXDEV, "ETXTBSY": ETXTBSY, "EAGAIN": EAGAIN,
        "ENOENT": ENOENT, "EEXIST": EEXIST, "EMFILE": EMFILE, "ENOMEM": ENOMEM,
    ]
}

/// A `SystemCallProvider` that performs real calls except where a planned fault
/// says otherwise. Used by unit tests (failures) and by the test agent process
/// (crashes: the agent dies by `SIGKILL` exactly at the chosen step, so the test
/// can check what a real crash at that instant leaves on disk).
package final class FaultInjectingSystemCalls: SystemCallProvider {
    private struct State {
        var faults: [InjectedFault]
        var counts: [Int: Int] = [:]  // fault index -> matching calls seen
        var interruptsLeft: [Int: Int] = [:]
        var log: [String] = []
        var fired = 0
    }

    private let base: any SystemCallProvider
    private let state: LockedValue<State>
    private let onPause: @Sendable (SystemCallKind, String?) -> Void
    /// When set, `fileSystemType` reports this instead of asking `statfs`
    /// (backend selection on a simulated network filesystem).
    private let reportedFileSystem: FileSystemType?

    package init(
        base: any SystemCallProvider = LiveSystemCallProvider(), faults: [InjectedFault],
        onPause: @escaping @Sendable (SystemCallKind, String?) -> Void = { _, _ in },
        reportedFileSystem: FileSystemType? = nil
    ) {
        self.base = base
        self.state = LockedValue(State(faults: faults))
        self.onPause = onPause
        self.reportedFileSystem = reportedFileSystem
    }

    /// Every intercepted call as `kind path`, in order (for asserting call order).
    package var callLog: [String] { state.withLock { $0.log } }

    /// How many times a planned fault fired: each injected failure, short
    /// transfer, report or pause, and each EINTR of an interrupt fault, counts one.
    package var firedFaults: Int { state.withLock { $0.fired } }

    private enum Decision { case proceed, fail(Errno), crashBefore, crashAfter, short(Int), report(UInt64?), pause }

    /// Counts this call against every matching fault (so each fault's occurrence
    /// number means "the Nth matching call", whatever other faults did), and returns
    /// the first fault that fires.
    private func decide(_ kind: SystemCallKind, _ path: String?) -> Decision {
        state.withLock { s in
            s.log.append(path.map { "\(kind.rawValue) \($0)" } ?? kind.rawValue)
            var decision = Decision.proceed
            var decided = false
            for (index, fault) in s.faults.enumerated() where fault.kind == kind {
                if let fragment = fault.pathContains, let path, !path.contains(fragment) { continue }
                if case let .interrupt(times) = fault.action {
                    // An interrupt fault fails the same call `times` times, then lets
                    // it through; the retries are not new occurrences.
                    let seen = s.counts[index, default: 0]
                    let targeted = fault.occurrence.map { seen + 1 == $0 } ?? true
                    let left = s.interruptsLeft[index] ?? times
                    if targeted, left > 0, !decided {
                        s.interruptsLeft[index] = left - 1
                        decision = .fail(.interrupted)
                        decided = true
                    } else {
                        s.counts[index] = seen + 1
                        if fault.occurrence == nil { s.interruptsLeft[index] = nil }
                    }
                    continue
                }
                let seen = s.counts[index, default: 0] + 1
                s.counts[index] = seen
                if decided { continue }
                if let occurrence = fault.occurrence, seen != occurrence { continue }
                decided = true
                switch fault.action {
                case let .fail(errno): decision = .fail(errno)
                case .crashBefore: decision = .crashBefore
                case .crashAfter: decision = .crashAfter
                case let .shortTransfer(n): decision = .short(n)
                case let .report(v): decision = .report(v)
                case .reportUnknownSize: decision = .report(nil)
                case .pause: decision = .pause
                case .interrupt: decided = false
                }
            }
            if decided { s.fired += 1 }
            return decision
        }
    }

    private func crash() -> Never {
        kill(getpid(), SIGKILL)
        // SIGKILL cannot be caught; this is never reached, but the compiler needs it.
        _exit(137)
    }

    @inline(__always)
    private func run<T>(_ kind: SystemCallKind, _ path: String?, _ body: () throws(Errno) -> T) throws(Errno) -> T {
        switch decide(kind, path) {
        case .proceed, .short, .report: return try body()
        case .pause:
            onPause(kind, path)
            return try body()
        case let .fail(errno): throw errno
        case .crashBefore: crash()
        case .crashAfter:
            _ = try? body()
            crash()
        }
    }

    package func open(_ path: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try run(.open, path) { () throws(Errno) in try base.open(path, flags: flags, mode: mode) }
    }
    package func close(_ fd: Int32) throws(Errno) {
        try run(.close, nil) { () throws(Errno) in try base.close(fd) }
    }
    package func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        switch decide(.read, nil) {
        case let .short(n):
            return try base.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(max(1, n))))
        case let .fail(e): throw e
        case .crashBefore: crash()
        case .crashAfter:
            _ = try? base.read(fd, into: buffer)
            crash()
        case .pause:
            onPause(.read, nil)
            return try base.read(fd, into: buffer)
        default: return try base.read(fd, into: buffer)
        }
    }
    package func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try run(.pread, nil) { () throws(Errno) in try base.pread(fd, into: buffer, at: offset) }
    }
    package func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        switch decide(.write, nil) {
        case let .short(n):
            return try base.write(fd, from: UnsafeRawBufferPointer(rebasing: buffer.prefix(max(1, n))))
        case let .fail(e): throw e
        case .crashBefore: crash()
        case .crashAfter:
            // "Mid-write": half the buffer reaches the file, then the process dies.
            _ = try? base.write(fd, from: UnsafeRawBufferPointer(rebasing: buffer.prefix(max(1, buffer.count / 2))))
            crash()
        case .pause:
            onPause(.write, nil)
            return try base.write(fd, from: buffer)
        default: return try base.write(fd, from: buffer)
        }
    }
    /// Each buffer of a `writev` counts as one `write` occurrence, so a plan such as
    /// `write#1` (the header) / `write#2` (the payload) names the same bytes whether
    /// the library gathers them into one call or not. Buffers whose decision is to
    /// proceed are written together by one real `writev`; at the first buffer with
    /// a fault, those before it are written, then the fault acts on that buffer the
    /// way it would on a `write` of it alone. An interruption after some bytes went
    /// out is reported as the short transfer a kernel would report.
    package func writev(_ fd: Int32, from buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        var pending: [UnsafeRawBufferPointer] = []
        func flush() throws(Errno) -> Int { pending.isEmpty ? 0 : try base.writev(fd, from: pending) }
        for buffer in buffers {
            let decision = decide(.write, nil)
            switch decision {
            case .proceed, .report:
                pending.append(buffer)
                continue
            case .pause:
                onPause(.write, nil)
                pending.append(buffer)
                continue
            default:
                break
            }
            let written = try flush()
            switch decision {
            case let .short(n):
                return written + (try base.write(fd, from: UnsafeRawBufferPointer(rebasing: buffer.prefix(max(1, n)))))
            case let .fail(e):
                if e == .interrupted, written > 0 { return written }
                throw e
            case .crashBefore:
                crash()
            case .crashAfter:
                // "Mid-write": half of this buffer reaches the file, then the process dies.
                _ = try? base.write(fd, from: UnsafeRawBufferPointer(rebasing: buffer.prefix(max(1, buffer.count / 2))))
                crash()
            case .proceed, .report, .pause:
                preconditionFailure("handled above")
            }
        }
        return try flush()
    }
    package func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try run(.pwrite, nil) { () throws(Errno) in try base.pwrite(fd, from: buffer, at: offset) }
    }
    package func fsync(_ fd: Int32) throws(Errno) {
        try run(.fsync, nil) { () throws(Errno) in try base.fsync(fd) }
    }
    package func fsyncDirectory(_ fd: Int32) throws(Errno) {
        try run(.fsyncDirectory, nil) { () throws(Errno) in try base.fsyncDirectory(fd) }
    }
    package func ftruncate(_ fd: Int32, length: Int64) throws(Errno) {
        try run(.ftruncate, nil) { () throws(Errno) in try base.ftruncate(fd, length: length) }
    }
    package func fstat(_ fd: Int32) throws(Errno) -> FileStatus {
        try run(.fstat, nil) { () throws(Errno) in try base.fstat(fd) }
    }
    package func lstat(_ path: String) throws(Errno) -> FileStatus {
        try run(.lstat, path) { () throws(Errno) in try base.lstat(path) }
    }
    package func rename(_ from: String, to: String) throws(Errno) {
        try run(.rename, from) { () throws(Errno) in try base.rename(from, to: to) }
    }
    package func link(_ from: String, to: String) throws(Errno) {
        try run(.link, from) { () throws(Errno) in try base.link(from, to: to) }
    }
    package func unlink(_ path: String) throws(Errno) {
        try run(.unlink, path) { () throws(Errno) in try base.unlink(path) }
    }
    package func mkdir(_ path: String, mode: mode_t) throws(Errno) {
        try run(.mkdir, path) { () throws(Errno) in try base.mkdir(path, mode: mode) }
    }
    package func flock(_ fd: Int32, operation: Int32) throws(Errno) {
        try run(.flock, nil) { () throws(Errno) in try base.flock(fd, operation: operation) }
    }
    package func touch(_ fd: Int32) throws(Errno) {
        try run(.touch, nil) { () throws(Errno) in try base.touch(fd) }
    }
    package func availableBytes(_ path: String) throws(Errno) -> UInt64? {
        switch decide(.availableBytes, path) {
        case let .report(v): return v
        case let .fail(e): throw e
        case .crashBefore, .crashAfter: crash()
        case .pause:
            onPause(.availableBytes, path)
            return try base.availableBytes(path)
        default: return try base.availableBytes(path)
        }
    }
    package func fileSystemType(_ path: String) throws(Errno) -> FileSystemType {
        try run(.fileSystemType, path) { () throws(Errno) in
            if let reportedFileSystem { return reportedFileSystem }
            return try base.fileSystemType(path)
        }
    }
    package func listDirectory(_ path: String) throws(Errno) -> [String] {
        try run(.listDirectory, path) { () throws(Errno) in try base.listDirectory(path) }
    }
    // Directory-relative calls count as their path-based twins, and match and log
    // by entry name (see SystemCallProvider).
    package func openat(_ dirfd: Int32, _ name: String, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        try run(.open, name) { () throws(Errno) in try base.openat(dirfd, name, flags: flags, mode: mode) }
    }
    package func fstatat(_ dirfd: Int32, _ name: String) throws(Errno) -> FileStatus {
        try run(.lstat, name) { () throws(Errno) in try base.fstatat(dirfd, name) }
    }
    package func renameat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try run(.rename, from) { () throws(Errno) in try base.renameat(dirfd, from, to: to) }
    }
    package func linkat(_ dirfd: Int32, _ from: String, to: String) throws(Errno) {
        try run(.link, from) { () throws(Errno) in try base.linkat(dirfd, from, to: to) }
    }
    package func unlinkat(_ dirfd: Int32, _ name: String) throws(Errno) {
        try run(.unlink, name) { () throws(Errno) in try base.unlinkat(dirfd, name) }
    }
    package func mkdirat(_ dirfd: Int32, _ name: String, mode: mode_t) throws(Errno) {
        try run(.mkdir, name) { () throws(Errno) in try base.mkdirat(dirfd, name, mode: mode) }
    }
    package func readlinkat(_ dirfd: Int32, _ name: String) throws(Errno) -> String {
        try run(.readlink, name) { () throws(Errno) in try base.readlinkat(dirfd, name) }
    }
    package func listDirectory(fd: Int32) throws(Errno) -> [String] {
        try run(.listDirectory, nil) { () throws(Errno) in try base.listDirectory(fd: fd) }
    }
    package func availableBytes(fd: Int32) throws(Errno) -> UInt64? {
        switch decide(.availableBytes, nil) {
        case let .report(v): return v
        case let .fail(e): throw e
        case .crashBefore, .crashAfter: crash()
        case .pause:
            onPause(.availableBytes, nil)
            return try base.availableBytes(fd: fd)
        default: return try base.availableBytes(fd: fd)
        }
    }
    package func fileSystemType(fd: Int32) throws(Errno) -> FileSystemType {
        try run(.fileSystemType, nil) { () throws(Errno) in
            if let reportedFileSystem { return reportedFileSystem }
            return try base.fileSystemType(fd: fd)
        }
    }

    #if os(Linux)
    package func inotifyInit() throws(Errno) -> Int32 {
        try run(.inotifyInit, nil) { () throws(Errno) in try base.inotifyInit() }
    }
    package func inotifyAddWatch(_ fd: Int32, path: String, mask: UInt32) throws(Errno) -> Int32 {
        try run(.inotifyAddWatch, path) { () throws(Errno) in try base.inotifyAddWatch(fd, path: path, mask: mask) }
    }
    #endif
}
