/// One file system call as `syscall-strike` reports it (a line of its log, or of
/// its `PAUSE` / `STRUCK` output): where it falls in the global order, which
/// thread made it, its name, the paths it touched (descriptors and `*at`
/// directories already resolved by the tracer) and its result.
struct FileSyscall: Sendable, Equatable, CustomStringConvertible {
    /// Position among all file calls of the traced process tree (1-based).
    let sequence: Int
    /// Position among the in-focus calls (1-based), 0 when not in focus.
    let focus: Int
    let thread: Int32
    /// The decoded name: `openat`, `renameat2`, `fsync`, ...
    let name: String
    /// Up to two absolute paths (a rename's source and target); empty when unknown.
    let paths: [String]
    /// `flags=0x...` for opens, `op=N` for flock/fcntl, `atflags=0x...` for
    /// newfstatat/statx, `-` otherwise.
    let detail: String
    /// The return value, `-ENAME` for an error, with ` (struck)` when injected;
    /// `killed` when the process died inside the call.
    let result: String

    /// Parses the tab-separated fields `seq focus tid name path1 path2 detail result`
    /// (a `PAUSE` or `STRUCK` line's fields after its first word).
    init?<S: StringProtocol>(fields: [S]) {
        guard fields.count >= 8, let sequence = Int(fields[0]), let focus = Int(fields[1]), let thread = Int32(fields[2])
        else { return nil }
        self.sequence = sequence
        self.focus = focus
        self.thread = thread
        name = String(fields[3])
        paths = [String(fields[4]), String(fields[5])].filter { $0 != "-" }
        detail = String(fields[6])
        result = String(fields[7])
    }

    init?(line: String) {
        self.init(fields: line.split(separator: "\t", omittingEmptySubsequences: false))
    }

    var isError: Bool { result.hasPrefix("-") }
    var succeeded: Bool { !isError && result != "killed" && !result.hasPrefix("killed") }
    /// `ENOSPC` for `-ENOSPC (struck)`.
    var errnoName: String? {
        guard isError else { return nil }
        return String(result.dropFirst().prefix { $0 != " " })
    }

    /// The open flags, for opens.
    var openFlags: Int32? {
        guard detail.hasPrefix("flags=0x"), let value = UInt32(detail.dropFirst(8), radix: 16) else { return nil }
        return Int32(bitPattern: value)
    }

    /// A `newfstatat`/`statx` with `AT_EMPTY_PATH`: a stat of the descriptor.
    var statsDescriptor: Bool {
        guard detail.hasPrefix("atflags=0x"), let value = UInt32(detail.dropFirst(10), radix: 16) else { return false }
        return value & 0x1000 != 0
    }

    var description: String {
        "#\(focus) \(name)(\(paths.joined(separator: " -> "))\(detail == "-" ? "" : ", \(detail)")) = \(result) [thread \(thread)]"
    }
}
