#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about processes that lock holders publish and waiters check: our own
/// identity (pid, host, start time, command line), whether another pid is alive and
/// still the same process, and our chain of ancestors.
///
/// The start time is what makes a pid meaningful over time: pids are reused, so
/// "pid 4242 is alive" proves nothing about the holder that wrote 4242 an hour ago.
/// A holder is the same process only if pid *and* start time match.
package enum ProcessIdentity {
    /// Host name of this machine (cached; it does not change under a running process
    /// in any way that matters here).
    package static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    package static var currentPID: Int32 { getpid() }

    /// The running kernel's boot id (Linux: `/proc/sys/kernel/random/boot_id`,
    /// lowercase UUID; Darwin: `kern.bootsessionuuid`), random for every boot.
    /// Nil when unreadable (no `/proc`). Two processes with the same boot id run on
    /// one kernel: their pids can mean the same process, if their pid namespaces
    /// match too. A pid, or a start time counted from boot, from another boot id
    /// means nothing here, however well it matches a process that runs now.
    package static let bootID: String? = {
        #if os(Linux)
        return readIdentifier("/proc/sys/kernel/random/boot_id").flatMap { text in
            let lower = text.lowercased()
            return lower.count == 36 && lower.allSatisfy({ $0.isHexDigit || $0 == "-" }) ? lower : nil
        }
        #elseif canImport(Darwin)
        var buffer = [CChar](repeating: 0, count: 64)
        var size = buffer.count
        guard sysctlbyname("kern.bootsessionuuid", &buffer, &size, nil, 0) == 0 else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? nil : text.lowercased()
        #else
        return nil
        #endif
    }()

    /// The machine id (`/etc/machine-id`, 32 lowercase hex digits), or nil. It names
    /// the installation, not the running kernel: containers from one image and
    /// cloned VMs may share it, so it only ever *distinguishes* hosts (different
    /// machine ids: different machines); it never proves two processes share one.
    package static let machineID: String? = {
        #if os(Linux)
        for path in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
            if let text = readIdentifier(path)?.lowercased(), text.count == 32, text.allSatisfy(\.isHexDigit) {
                return text
            }
        }
        #endif
        return nil
    }()

    /// This process's pid namespace: the inode number of `/proc/self/ns/pid`
    /// (unique among the namespaces of one running kernel). Nil when unknown.
    /// Darwin has no pid namespaces: every process of a boot shares one, reported
    /// as 0.
    package static let pidNamespace: UInt64? = {
        #if os(Linux)
        var status = stat()
        guard stat("/proc/self/ns/pid", &status) == 0 else { return nil }
        return UInt64(truncatingIfNeeded: status.st_ino)
        #elseif canImport(Darwin)
        return 0
        #else
        return nil
        #endif
    }()

    /// Whether a pid recorded by a process of boot `bootID` in pid namespace
    /// `pidNamespace` names a process of *our* process table (and so may be checked
    /// with `isAlive`). Only when both are known and equal to ours: anything else
    /// (another host, another boot, another container, a record of an older
    /// version without them) makes the pid meaningless here.
    package static func sharesPidNamespace(bootID: String?, pidNamespace: UInt64?) -> Bool {
        guard let bootID, let pidNamespace, let ours = Self.bootID, let ourNamespace = Self.pidNamespace else {
            return false
        }
        return bootID == ours && pidNamespace == ourNamespace
    }

    #if os(Linux)
    /// The first line of a small identifier file, trimmed; nil if unreadable or empty.
    private static func readIdentifier(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        var n = -1
        repeat { n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } } while n < 0 && errno == EINTR
        guard n > 0 else { return nil }
        let line = buffer[0..<n].prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }
    #endif

    /// This process's command line, shortened for display ("metacache cache refresh").
    package static let commandLine: String = {
        let args = CommandLine.arguments
        guard let first = args.first else { return "?" }
        let program = first.split(separator: "/").last.map(String.init) ?? first
        var text = ([program] + args.dropFirst()).joined(separator: " ")
        if text.utf8.count > 200 { text = String(text.prefix(197)) + "..." }
        return text
    }()

    /// Start time of this process (see `startTime(of:)`), computed once per pid.
    package static var currentStartTime: UInt64? {
        let pid = getpid()
        return cachedOwnStartTime.withLock { cache in
            if let cache, cache.pid == pid { return cache.start }
            let start = startTime(of: pid)
            cache = (pid, start)
            return start
        }
    }
    private static let cachedOwnStartTime = LockedValue<(pid: Int32, start: UInt64?)?>(nil)

    /// When the process started, in a platform unit that is only ever compared for
    /// equality: clock ticks since boot on Linux (field 22 of `/proc/PID/stat`),
    /// microseconds since the epoch on Darwin. Nil when the process does not exist
    /// or the information is unavailable.
    package static func startTime(of pid: Int32) -> UInt64? {
        #if os(Linux)
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        // statFields starts at field 3 (state), so field 22 is index 19.
        return UInt64(fields[19])
        #elseif canImport(Darwin)
        var info = kinfo_proc()
        var size = MemoryLayout<kinfo_proc>.stride
        var mib: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, pid]
        guard sysctl(&mib, 4, &info, &size, nil, 0) == 0, size > 0 else { return nil }
        let tv = info.kp_proc.p_un.__p_starttime
        return UInt64(tv.tv_sec) * 1_000_000 + UInt64(tv.tv_usec)
        #else
        return nil
        #endif
    }

    /// The parent pid of `pid`, or nil when unknown.
    package static func parentPID(of pid: Int32) -> Int32? {
        #if os(Linux)
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
        #elseif canImport(Darwin)
        var info = kinfo_proc()
        var size = MemoryLayout<kinfo_proc>.stride
        var mib: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, pid]
        guard sysctl(&mib, 4, &info, &size, nil, 0) == 0, size > 0 else { return nil }
        return info.kp_eproc.e_ppid
        #else
        return nil
        #endif
    }

    /// Our ancestors, nearest first, each with its start time, up to and including
    /// pid 1.
    package static func ancestors() -> [(pid: Int32, startTime: UInt64?)] {
        ancestors(from: getppid(), parent: parentPID(of:), startTime: startTime(of:))
    }

    /// Whether `pid` is one of our ancestors: its start time is returned (nil when
    /// unknown), so the caller can compare it with the one it expects. Nil when it
    /// is not an ancestor.
    ///
    /// Why a cached walk. A waiter checks every holder it meets (self-deadlock
    /// detection), and walking the ancestors reads two `/proc/PID/stat` files per
    /// level: under a shell, a terminal and a session manager that was most of a
    /// wait's CPU (~20 reads, 150–300 µs, `perf record` of figure 4). The set of
    /// our ancestors can only shrink while we run: when an ancestor exits, its
    /// children are re-parented to the nearest subreaper or to the namespace's
    /// init, both ancestors already. So a chain walked once (completely, up to pid
    /// 1) is a superset of the ancestors at any later time, and a pid it does not
    /// contain is not an ancestor now. A pid it does contain is confirmed by a fresh
    /// walk, because that ancestor may have exited since and its pid been reused.
    /// The cache belongs to the process that walked it: a forked child walks afresh.
    package static func ancestorStartTime(of pid: Int32) -> UInt64?? {
        if let cached = cachedAncestors, cached.pid == getpid(),
            !cached.chain.contains(where: { $0.pid == pid })
        {
            return .none
        }
        guard let match = ancestors().first(where: { $0.pid == pid }) else { return .none }
        return .some(match.startTime)
    }

    /// Our ancestor chain as first walked, and the pid it was walked for; nil when
    /// that walk did not reach pid 1 (an ancestor vanished mid-walk, or no /proc):
    /// an incomplete chain is no superset, and every check then walks afresh.
    private static let cachedAncestors: (pid: Int32, chain: [(pid: Int32, startTime: UInt64?)])? = {
        let chain = ancestors()
        guard chain.last?.pid == 1 else { return nil }
        return (getpid(), chain)
    }()

    /// The ancestor walk, with the process table passed in (so it can be tested).
    ///
    /// Pid 1 is included: in a container the host tool is often pid 1 itself, and
    /// its child must recognise it as the holder it is waiting for. That costs
    /// nothing in the usual case, because an ancestor only counts as the holder if
    /// host, pid *and* start time match the holder record. The walk stops at pid 1
    /// (its parent is 0, "none"), at a pid whose parent is unknown, and after 64
    /// steps (a table that changes under the walk cannot loop it forever).
    package static func ancestors(
        from first: Int32, parent: (Int32) -> Int32?, startTime: (Int32) -> UInt64?
    ) -> [(pid: Int32, startTime: UInt64?)] {
        var result: [(Int32, UInt64?)] = []
        var pid = first
        while pid >= 1, result.count < 64 {
            result.append((pid, startTime(pid)))
            guard pid != 1, let next = parent(pid), next != pid else { break }
            pid = next
        }
        return result
    }

    /// Whether the process that wrote a holder record on this host is still running:
    /// the pid exists *and*, when both start times are known, it is the same process.
    /// A zombie (exited, not yet reaped by its parent) is dead: its descriptors are
    /// closed and it will never run again, even though `kill(pid, 0)` still finds it.
    package static func isAlive(pid: Int32, startTime: UInt64?) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        #if os(Linux)
        if let state = statFields(of: pid)?.first, state == "Z" || state == "X" { return false }
        #endif
        // EPERM means the pid exists but belongs to another user: alive.
        guard let recorded = startTime, let actual = Self.startTime(of: pid) else { return true }
        return recorded == actual
    }

    #if os(Linux)
    /// Fields of `/proc/PID/stat` after the command name, starting with field 3
    /// (state). The command name is skipped by finding the *last* ')', because the
    /// name itself may contain spaces and parentheses.
    private static func statFields(of pid: Int32) -> [Substring]? {
        let path = "/proc/\(pid)/stat"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
    #endif
}
