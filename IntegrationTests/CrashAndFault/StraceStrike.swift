import Testing

/// Repeats a strace strike until it lands where it was aimed (see
/// `CommitSyscallMap`); returns the landed attempt, or records an issue.
///
/// Why strikes can miss: `when=N` counts per thread, and a program on Swift
/// concurrency may commit on a different pool thread from one run to the next,
/// with a different number of earlier calls of that name (the CLI's runtime
/// sometimes writes to an eventfd from the thread that later commits). Only
/// write and pwrite strikes can miss this way; no other thread fsyncs or renames.
enum StraceStrike {
    static let attempts = 5

    /// `attempt` is given the attempt number (0-based) to pick a candidate index.
    static func aim<T>(_ attempt: (Int) async throws -> (T, landed: Bool)) async throws -> T {
        var last: T?
        for number in 1...attempts {
            let (value, landed) = try await attempt(number - 1)
            if landed {
                if number > 1 { print("strace strike landed on attempt \(number) of \(attempts)") }
                return value
            }
            last = value
        }
        Issue.record("the injection never landed on the intended call in \(attempts) attempts (thread layout changed every time)")
        return last!
    }
}
