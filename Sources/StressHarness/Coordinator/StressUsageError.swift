/// A command-line mistake; the harness prints it with the usage and exits 64.
public struct StressUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
