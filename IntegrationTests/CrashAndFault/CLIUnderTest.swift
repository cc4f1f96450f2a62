import Foundation
import StressHarness
import Testing
import TestSupport

/// The built `metacache` CLI on one cache directory, refreshed from stress payloads.
struct CLIUnderTest: Sendable {
    static var path: String { BuiltProducts.path(of: "metacache") }
    static let status = HarnessExecutables.probeCLI(at: path)

    /// Fails the calling test unless the built CLI answers `--version`.
    /// `swift test` builds `metacache` with everything else, so a CLI that is
    /// missing, the placeholder or crashing is a broken build under test — a
    /// failure, never a reason to skip.
    static func requireUsable() throws(Unusable) {
        switch status {
        case .usable: return
        case let .missing(why), let .placeholder(why), let .broken(why):
            throw Unusable(description: "the metacache CLI under test is not usable: \(why)")
        }
    }

    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    let root: String
    var cacheDirectory: String { root + "/cache" }

    init(_ dir: TemporaryDirectory) { root = dir.path }

    /// The payload of refresh number `sequence` (also its source file's content).
    func payload(sequence: UInt64) -> [UInt8] {
        (try? StressPayload(writer: 1, sequence: sequence, generation: 0, length: 64 << 10).build(fillSeed: 99)) ?? []
    }

    private func refreshArguments(sequence: UInt64) throws -> [String] {
        let source = root + "/source-\(sequence).json"
        try Data(payload(sequence: sequence)).write(to: URL(fileURLWithPath: source))
        return ["cache", "refresh", "--dir", cacheDirectory, "--source", source, "--force", "--quiet"]
    }

    func refresh(sequence: UInt64, under wrapper: [String] = []) async throws -> ChildProcess.Result {
        let command = wrapper + [Self.path] + (try refreshArguments(sequence: sequence))
        return try await BlockingWork.run { try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment()) }
    }

    func refreshBlocking(sequence: UInt64, under wrapper: [String] = []) throws -> ChildProcess.Result {
        let command = wrapper + [Self.path] + (try refreshArguments(sequence: sequence))
        return try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment())
    }

    /// `metacache ARGS --dir <cache>`.
    func run(_ arguments: [String]) async throws -> ChildProcess.Result {
        let command = [Self.path] + arguments + ["--dir", cacheDirectory]
        return try await BlockingWork.run { try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment()) }
    }
}
