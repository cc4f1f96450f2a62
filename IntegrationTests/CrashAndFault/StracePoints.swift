/// Where and how the strace-based tests strike a committing process.
struct StraceCrashPoint: CustomStringConvertible, Sendable {
    let name: String
    let step: CommitStep
    /// nil: the rename happened, no temp remains; otherwise what the orphan holds.
    let orphan: Orphan?
    enum Orphan: Sendable { case empty, complete }
    var renamed: Bool { orphan == nil }
    var description: String { name }

    /// SIGKILL on entry to the step's call: the call is never performed.
    /// `attempt` picks among the calibrated indices, likeliest first.
    func injection(_ map: CommitSyscallMap, attempt: Int = 0) throws -> String {
        "\(step.calls):signal=SIGKILL:when=\(try map.candidate(step, attempt: attempt))"
    }

    static let beforeWrite = StraceCrashPoint(name: "after creating the temp, before writing it", step: .write, orphan: .empty)
    static let beforeFsync = StraceCrashPoint(name: "after the writes, before fsync", step: .tempFsync, orphan: .complete)
    static let beforeRename = StraceCrashPoint(name: "after fsync and close, before rename", step: .rename, orphan: .complete)
    static let beforeDirectoryFsync = StraceCrashPoint(name: "after rename, before the directory fsync", step: .directoryFsync, orphan: nil)
    static let beforeRelease = StraceCrashPoint(name: "after the directory fsync, still holding the lock", step: .releaseBlank, orphan: nil)
}

struct StraceFaultPoint: CustomStringConvertible, Sendable {
    let name: String
    let step: CommitStep
    let errno: String
    /// 73: no space / read-only (cannot create); 74: other I/O (docs/cli.md).
    let exitCode: Int32
    var description: String { name }

    /// The call fails with `errno` without being performed.
    func injection(_ map: CommitSyscallMap, attempt: Int = 0) throws -> String {
        "\(step.calls):error=\(errno):when=\(try map.candidate(step, attempt: attempt))"
    }

    static let all: [StraceFaultPoint] = [
        StraceFaultPoint(name: "ENOSPC on the write", step: .write, errno: "ENOSPC", exitCode: 73),
        StraceFaultPoint(name: "EIO on the write", step: .write, errno: "EIO", exitCode: 74),
        StraceFaultPoint(name: "EIO on fsync", step: .tempFsync, errno: "EIO", exitCode: 74),
        StraceFaultPoint(name: "EXDEV on rename", step: .rename, errno: "EXDEV", exitCode: 74),
        StraceFaultPoint(name: "EROFS on rename", step: .rename, errno: "EROFS", exitCode: 73),
    ]
}

/// An EINTR storm: the step's call and the next 40 of its kind on that thread are
/// interrupted before the call goes through.
struct StraceInterruptStorm: CustomStringConvertible, Sendable {
    let step: CommitStep
    static let length = 41
    var description: String { "EINTR storm on \(step.calls)" }

    func injection(_ map: CommitSyscallMap, attempt: Int = 0) throws -> String {
        let first = try map.candidate(step, attempt: attempt)
        return "\(step.calls):error=EINTR:when=\(first)..\(first + Self.length - 1)"
    }

    static let all = [StraceInterruptStorm(step: .write), StraceInterruptStorm(step: .tempFsync), StraceInterruptStorm(step: .rename)]

    /// How many injected interruptions a trace shows.
    static func count(inTrace text: String) -> Int {
        text.components(separatedBy: "EINTR (Interrupted system call) (INJECTED)").count - 1
    }
}

extension CommitSyscallMap {
    /// Cycles through the calibrated indices of a step, likeliest first.
    func candidate(_ step: CommitStep, attempt: Int) throws -> Int {
        let all = try candidates(step)
        return all[attempt % all.count]
    }
}
