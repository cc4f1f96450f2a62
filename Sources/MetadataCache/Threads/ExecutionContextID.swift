/// What is running the current code: the Swift task, when there is one, otherwise
/// the operating-system thread.
///
/// Guarantee: code that cannot make progress until the current context returns
/// (a blocking call, or an `await` in the same task) has the same id as that
/// context. Two contexts that run concurrently have different ids.
///
/// Why a task rather than its thread when inside one: a task may resume on a
/// different thread after every `await`, and its old thread then runs other
/// tasks. Something held by a task across an `await` would be misattributed to a
/// thread that no longer has anything to do with it.
package enum ExecutionContextID: Equatable, Sendable {
    /// The current task (its identity, for as long as the task exists).
    case task(Int)
    /// The current thread, outside any task.
    case thread(OSThreadID)

    package static var current: ExecutionContextID {
        if let task = withUnsafeCurrentTask(body: { $0?.hashValue }) { return .task(task) }
        return .thread(.current)
    }
}
