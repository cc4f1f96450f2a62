import Foundation
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the harness finds itself (to start workers) and the `metacache` CLI.
///
/// Guarantee: workers are this very binary (`/proc/self/exe`, whatever `argv[0]`
/// says), and the CLI is the `metacache` built next to it unless
/// `METACACHE_STRESS_CLI` names another; a CLI that does not implement the
/// contract (the placeholder that exits 0 without printing a version) is refused
/// with that reason instead of producing a run of empty reads.
public enum HarnessExecutables {
    /// The running harness binary.
    public static var current: String {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }

    /// The `metacache` binary to use with `--use-cli`.
    public static var cli: String {
        if let override = ProcessInfo.processInfo.environment["METACACHE_STRESS_CLI"], !override.isEmpty {
            return override
        }
        return URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent("metacache").path
    }

    public enum CLIStatus: Equatable, Sendable {
        case usable(version: String)
        case missing(String)
        /// Exits 0 but prints no version: the stub that stands in until the CLI lands.
        case placeholder(String)
        case broken(String)
    }

    /// Asks `metacache --version`.
    public static func probeCLI(at path: String) -> CLIStatus {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .missing("\(path) does not exist or is not executable")
        }
        guard let result = try? ChildProcess.run(path, ["--version"], timeout: .seconds(30)) else {
            return .broken("\(path) --version could not be run")
        }
        let version = (result.stdoutText + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.termination {
        case .exited(0) where version.isEmpty:
            return .placeholder("\(path) --version exits 0 and prints nothing: it is the placeholder, not the CLI of issue 3")
        case .exited(0):
            return .usable(version: version)
        default:
            return .broken("\(path) --version ended with \(result.termination): \(version.prefix(200))")
        }
    }
}
