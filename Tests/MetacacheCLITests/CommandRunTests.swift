import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// `MetacacheCommand.run` in-process, with captured output: help, usage errors,
/// a refresh/read/status round trip, and the exact `status --json` shape.
@Suite(.serialized, .dedicatedThread) struct CommandRunTests {
    struct Run {
        let code: ExitCode
        let stdout: CapturedOutput
        let stderr: CapturedOutput
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) -> Run {
        let stdout = CapturedOutput()
        let stderr = CapturedOutput()
        let context = CommandContext(
            environment: EnvironmentVariables(environment), standardOutput: stdout, standardError: stderr,
            interrupts: InterruptSignals())
        return Run(code: MetacacheCommand.run(arguments, context: context), stdout: stdout, stderr: stderr)
    }

    @Test func helpGoesToStdoutAndUsageErrorsToStderr() {
        let help = run(["cache", "refresh", "--help"])
        #expect(help.code == .success)
        #expect(help.stdout.text.hasPrefix("Usage: metacache cache refresh [--source SRC]"))
        #expect(help.stdout.text.contains("--if-older-than DURATION"))
        #expect(help.stderr.text.isEmpty)

        let bad = run(["cache", "read", "--colour"])
        #expect(bad.code == .usage)
        #expect(bad.stdout.text.isEmpty)
        #expect(bad.stderr.text == """
            metacache: unknown option '--colour' for 'metacache cache read'
            Usage: metacache cache read [--meta] [--source SRC --refresh-after DURATION [--max-stale DURATION] [--stale-if-error DURATION]] [--offline] [common options]
            Try 'metacache cache read --help' for more information.

            """)
    }

    @Test func everyOptionInTheTableAppearsInHelp() {
        for sub in CacheSubcommand.allCases {
            let help = HelpText.text(for: .subcommand(sub))
            for option in OptionSpec.accepted(at: .subcommand(sub)) {
                #expect(help.contains("--" + option.name), "\(sub) help lacks --\(option.name)")
            }
        }
        #expect(HelpText.text(for: .root).contains("--version"))
    }

    @Test func refreshReadAndStatusRoundTrip() throws {
        let dir = TemporaryDirectory("unit")
        let payload = Data("{\"vendor\":\"zulu\",\"n\":[1,2]}".utf8)
        try dir.write("src.json", payload)
        let environment = ["METACACHE_DIR": dir.file("c")]
        let refresh = run(["cache", "refresh", "--source", dir.file("src.json")], environment: environment)
        #expect(refresh.code == .success, "\(refresh.stderr.text)")
        // Results on stdout, nothing on stderr for a quiet success.
        #expect(refresh.stdout.text.hasPrefix("Refreshed 'metadata': generation 1, \(payload.count) B in "))
        #expect(refresh.stderr.text.isEmpty, "\(refresh.stderr.text)")

        let read = run(["cache", "read"], environment: environment)
        #expect(read.code == .success)
        #expect(read.stdout.bytes == Array(payload))

        let status = run(["cache", "status", "--json"], environment: environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.bytes)) as? [String: Any])
        #expect(Set(object.keys) == Set(StatusReport.jsonFields))
        #expect(object["generation"] as? Int == 1)
        #expect(object["integrity"] as? String == "ok")

        let skipped = run(["cache", "refresh", "--source", dir.file("src.json"), "--if-older-than", "1h"], environment: environment)
        #expect(skipped.code == .success)
        #expect(skipped.stdout.text.hasPrefix("Skipped: cache is fresh (age "))
        #expect(skipped.stdout.text.hasSuffix(" < 1h)\n"))
        #expect(skipped.stderr.text.isEmpty)
    }

    @Test func statusJSONOfAMissingCacheHasNullsNotOmissions() throws {
        let dir = TemporaryDirectory("unit-missing")
        let store = try CacheStore(directory: dir.file("none"))
        let json = StatusReport.json(try store.status())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(StatusReport.jsonFields))
        #expect(object["exists"] as? Bool == false)
        for key in ["generation", "fetchedAt", "ageSeconds", "sizeBytes", "source"] {
            #expect(object[key] is NSNull, "\(key) should be null")
        }
        let lock = try #require(object["lock"] as? [String: Any])
        #expect(Set(lock.keys) == ["held", "backend", "holder"])
    }

    /// A payload created by a library `update` with nothing to edit was never
    /// fetched: status says so, and its JSON has null fetchedAt and age.
    @Test func statusOfANeverFetchedPayload() async throws {
        let dir = TemporaryDirectory("never-fetched")
        let store = try CacheStore(directory: dir.file("c"))
        try await store.update { _ in Data("[1]".utf8) }
        let status = try store.status()
        #expect(StatusReport.text(status, name: "metadata").contains("fetched:      never (created by a local update)"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StatusReport.json(status).utf8)) as? [String: Any])
        #expect(object["fetchedAt"] is NSNull)
        #expect(object["ageSeconds"] is NSNull)
        #expect(object["generation"] as? Int == 1)
    }

    @Test func resultLines() {
        #expect(RefreshCommand.resultLine(.skippedFresh(age: .seconds(180), maximumAge: .seconds(3600)), name: "metadata", elapsed: .zero)
                == "Skipped: cache is fresh (age 3m < 1h)")
        #expect(RefreshCommand.milliseconds(.microseconds(34_400)) == "34 ms")
    }
}
