import Foundation
import Testing
import TestSupport

extension MetacacheIntegration {
/// A host names this package by version (`.package(url:, from:)`), and SwiftPM
/// refuses a versioned dependency whose products carry unsafe build flags — a
/// rule that `swift build` here, path and branch dependencies never apply, so
/// only a real versioned client notices. `.ci/versioned-client` tags a copy of
/// the package as 1.0.0 in a local git repository and has a client depend on
/// every exported product through a file:// URL (offline); here it resolves and
/// plans the build (~10 s each), CI also compiles it (`--build`, minutes).
@Suite struct VersionedClientTests {
    private static let script = Metacache.packageRoot + "/.ci/versioned-client"

    private static func run(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run("/bin/bash", [script] + arguments, timeout: .seconds(300))
    }

    @Test func everyExportedProductIsUsableAsAVersionedDependency() throws {
        let result = try Self.run([])
        #expect(result.exitCode == 0, "\(result.stdoutText)\n\(result.stderr)")
        #expect(result.stdoutText.contains("ok: every product resolves and plans"))
    }

    /// Control: the same check on a copy whose `metacache` target has unsafe flags
    /// (as Package.swift had for its static link) must see SwiftPM refuse it.
    @Test func controlUnsafeFlagsInAProductAreRefused() throws {
        let result = try Self.run(["--control"])
        #expect(result.exitCode == 0, "\(result.stdoutText)\n\(result.stderr)")
        #expect(result.stdoutText.contains("contains unsafe build flags"))
    }
}
}
