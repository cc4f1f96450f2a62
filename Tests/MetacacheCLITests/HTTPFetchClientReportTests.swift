import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// How `HTTPFetchClient` turns the helper's report into a `SourceFailure`, with a
/// stand-in helper (a shell script that writes a fixed report to fd 3), so each
/// outcome can be produced without a network or a misbehaving libcurl.
@Suite struct HTTPFetchClientReportTests {
    /// A fake `metacache-fetch` that reports `report` and exits with `status`.
    /// Installed by `install(1)`, not written by this process: a write descriptor
    /// of ours could be inherited by a child another test spawns at that moment,
    /// and exec of the script would then fail with ETXTBSY.
    func fakeHelper(report: String, status: Int32, in dir: TemporaryDirectory) throws -> String {
        try dir.write("script.txt", Data("#!/bin/sh\nprintf '%s\\n' '\(report)' >&3\nexit \(status)\n".utf8))
        let path = dir.file("metacache-fetch")
        let installed = try ChildProcess.run("/usr/bin/install", ["-m", "755", dir.file("script.txt"), path])
        try #require(installed.exitCode == 0, "install: \(installed.stderr)")
        return path
    }

    @Test func aURLTheHelperFindsMalformedIsAUsageErrorNamingWhereItCameFrom() throws {
        let dir = TemporaryDirectory("fake-helper")
        let helper = try fakeHelper(
            report: #"{"outcome":"badURL","url":"http://h:1/x","detail":"the URL is malformed (URLError -1000)"}"#, status: 64, in: dir)
        let client = HTTPFetchClient(helperPath: helper, limit: 1 << 20, timeout: .seconds(10), interrupts: InterruptSignals())
        #expect(throws: SourceFailure.badURL(url: "http://h:1/x", detail: "the URL is malformed (URLError -1000)")) {
            _ = try client.fetch("http://h:1/x", validators: HTTPValidators())
        }
        let failure = SourceFailure.badURL(url: "http://h:1/x", detail: "the URL is malformed").failure(sourceOrigin: .flag("source"))
        #expect(failure.exitCode == .usage)
        #expect(failure.showsUsageHint)
        #expect(failure.message.hasPrefix("invalid source URL http://h:1/x from --source: the URL is malformed; fix the URL"), "\(failure.message)")
    }

    @Test func anUnreachableHostStaysUnavailable() throws {
        let dir = TemporaryDirectory("fake-helper")
        let helper = try fakeHelper(report: #"{"outcome":"unreachable","detail":"Could not connect"}"#, status: 69, in: dir)
        let client = HTTPFetchClient(helperPath: helper, limit: 1 << 20, timeout: .seconds(10), interrupts: InterruptSignals())
        #expect(throws: SourceFailure.unreachable(url: "http://h/x", detail: "Could not connect")) {
            _ = try client.fetch("http://h/x", validators: HTTPValidators())
        }
        #expect(SourceFailure.unreachable(url: "u", detail: "d").failure(sourceOrigin: .flag("source")).exitCode == .unavailable)
    }
}
