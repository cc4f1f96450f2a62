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

    /// Where the source files are written (`source-N.json`, once: several caches
    /// may share them); the cache is `cacheDirectory`.
    let root: String
    let cacheDirectory: String
    let payloadBytes: Int
    /// `--lock-backend` for every command (nil: the default, auto).
    let backend: String?

    init(root: String, cacheDirectory: String? = nil, payloadBytes: Int = 64 << 10, backend: String? = nil) {
        self.root = root
        self.cacheDirectory = cacheDirectory ?? root + "/cache"
        self.payloadBytes = payloadBytes
        self.backend = backend
    }

    init(_ dir: TemporaryDirectory, payloadBytes: Int = 64 << 10, backend: String? = nil) {
        self.init(root: dir.path, payloadBytes: payloadBytes, backend: backend)
    }

    /// The payload of refresh number `sequence` (also its source file's content).
    func payload(sequence: UInt64) -> [UInt8] { Self.payloads.payload(sequence: sequence, length: payloadBytes) }

    /// Payloads are built once per (sequence, length): the sweeps compare them
    /// hundreds of times, and building megabytes in a debug build is slow.
    private static let payloads = PayloadCache()
    private final class PayloadCache: @unchecked Sendable {
        private let lock = NSLock()
        private var built: [String: [UInt8]] = [:]
        func payload(sequence: UInt64, length: Int) -> [UInt8] {
            lock.lock()
            defer { lock.unlock() }
            let key = "\(sequence) \(length)"
            if let payload = built[key] { return payload }
            let payload = (try? StressPayload(writer: 1, sequence: sequence, generation: 0, length: length).build(fillSeed: 99)) ?? []
            built[key] = payload
            return payload
        }
    }

    private var commonArguments: [String] {
        ["--dir", cacheDirectory] + (backend.map { ["--lock-backend", $0] } ?? [])
    }

    /// `metacache cache refresh` of payload `sequence`, forced and quiet, as a
    /// command line (its source file written now).
    func refreshCommand(sequence: UInt64) throws -> [String] {
        let source = root + "/source-\(sequence).json"
        if !FileManager.default.fileExists(atPath: source) {
            try Data(payload(sequence: sequence)).write(to: URL(fileURLWithPath: source), options: .atomic)
        }
        return [Self.path, "cache", "refresh", "--source", source, "--force", "--quiet"] + commonArguments
    }

    func refresh(sequence: UInt64) async throws -> ChildProcess.Result {
        let command = try refreshCommand(sequence: sequence)
        return try await BlockingWork.run { try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment()) }
    }

    func refreshBlocking(sequence: UInt64) throws -> ChildProcess.Result {
        let command = try refreshCommand(sequence: sequence)
        return try ChildProcess.run(command[0], Array(command.dropFirst()), environment: Metacache.environment())
    }

    /// `metacache ARGS --dir <cache>` (and the backend), blocking.
    func runBlocking(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(Self.path, arguments + commonArguments, environment: Metacache.environment())
    }

    /// `metacache ARGS --dir <cache>` (and the backend).
    func run(_ arguments: [String]) async throws -> ChildProcess.Result {
        let cli = self
        return try await BlockingWork.run { try cli.runBlocking(arguments) }
    }
}
