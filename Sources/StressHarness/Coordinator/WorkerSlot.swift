/// Identifies a worker position: its role and its index among workers of that role.
public struct WorkerSlot: Hashable, Sendable, CustomStringConvertible {
    public var role: WorkerInvocation.Role
    public var index: Int
    public var description: String { "\(role.rawValue) \(index)" }

    public init(role: WorkerInvocation.Role, index: Int) {
        self.role = role
        self.index = index
    }
}
