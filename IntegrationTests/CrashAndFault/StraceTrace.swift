import Foundation

/// A trace written by `strace -f -o FILE`, as calls with their results
/// (`<unfinished ...>` and `<... resumed>` halves joined).
struct StraceTrace: Sendable {
    struct Call: Sendable {
        let thread: String
        /// `rename`, `renameat` and `renameat2` are all `rename`.
        let name: String
        /// The call as printed up to its result.
        let text: String
        /// What follows `= ` (`0`, `-1 ENOSPC ... (INJECTED)`, `?` when the thread
        /// died inside the call), or nil if never completed in the trace.
        var result: String?
    }

    private(set) var calls: [Call] = []

    init(_ text: String) {
        var pending: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let thread = String(parts[0])
            let rest = parts[1].drop { $0 == " " }
            if rest.hasPrefix("<...") {
                if let index = pending.removeValue(forKey: thread) { calls[index].result = Self.result(of: rest) }
                continue
            }
            guard !rest.hasPrefix("+++"), !rest.hasPrefix("---"), let paren = rest.firstIndex(of: "(") else { continue }
            var name = String(rest[..<paren])
            if name.hasPrefix("rename") { name = "rename" }
            if rest.hasSuffix("<unfinished ...>") {
                pending[thread] = calls.count
                calls.append(Call(thread: thread, name: name, text: String(rest.dropLast("<unfinished ...>".count)), result: nil))
            } else {
                calls.append(Call(thread: thread, name: name, text: String(rest), result: Self.result(of: rest)))
            }
        }
    }

    /// What follows the `)` that closes the arguments and the `=` after it
    /// (strace pads with spaces to align results).
    private static func result(of text: Substring) -> String? {
        var searchEnd = text.endIndex
        while let equals = text.range(of: " = ", options: .backwards, range: text.startIndex..<searchEnd) {
            let before = text[..<equals.lowerBound].reversed().first { $0 != " " }
            if before == ")" { return String(text[equals.upperBound...]) }
            searchEnd = equals.lowerBound
        }
        return nil
    }

    /// The thread that wrote the cache header, and where each step of the commit
    /// that happened falls in `calls`.
    func commitSteps() -> (thread: String, positions: [CommitStep: Int])? {
        guard let write = calls.firstIndex(where: { $0.name == "writev" && $0.text.contains("\\211MCACHE") }) else { return nil }
        let thread = calls[write].thread
        func next(_ name: String, after position: Int?, where test: (Call) -> Bool = { _ in true }) -> Int? {
            guard let position else { return nil }
            return calls[(position + 1)...].firstIndex { $0.thread == thread && $0.name == name && test($0) }
        }
        var p: [CommitStep: Int] = [.write: write]
        p[.tempFsync] = next("fsync", after: write)
        p[.rename] = next("rename", after: p[.tempFsync]) { $0.text.contains(".tmp-") }
        p[.directoryFsync] = next("fsync", after: p[.rename])
        p[.releaseBlank] = next("pwrite64", after: p[.directoryFsync]) { $0.text.contains(", 1024, 0)") }
        return (thread, p)
    }

    /// Whether the process was killed on entry to `step` itself (the call never
    /// returned), on the committing thread.
    func killed(at step: CommitStep) -> Bool {
        guard let (_, positions) = commitSteps(), let position = positions[step] else { return false }
        return calls[position].result == "?" || calls[position].result == nil
    }

    /// Whether `step`'s call got an injected error.
    func failed(at step: CommitStep) -> Bool {
        guard let (_, positions) = commitSteps(), let position = positions[step] else { return false }
        return calls[position].result?.hasSuffix("(INJECTED)") == true
    }

    /// Injected interruptions, and whether all of them hit the committing thread.
    func interruptions() -> (count: Int, allOnCommitThread: Bool) {
        let injected = calls.filter { $0.result?.contains("EINTR") == true && $0.result?.hasSuffix("(INJECTED)") == true }
        let thread = commitSteps()?.thread
        return (injected.count, injected.allSatisfy { $0.thread == thread })
    }

    static func read(_ path: String) -> StraceTrace {
        StraceTrace((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}
