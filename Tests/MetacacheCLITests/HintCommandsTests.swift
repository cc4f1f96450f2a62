import Foundation
import MetadataCache
import Testing
import TestSupport
@testable import MetacacheCLI

/// Hints carry the options that located the cache, quoted so that a POSIX shell
/// gives back exactly the words (checked against /bin/sh itself).
@Suite struct HintCommandsTests {
    static let awkward = [
        "plain", "/tmp/with space", "it's", "dollar $HOME", "back`tick`", #"back\slash"#, #"quote"d"#, "bang!", "~tilde",
        "semi;colon", "star*", "", "=lead", "tab\there", "ünïcode dir",
    ]

    @Test func quotedWordsComeBackFromTheShellUnchanged() throws {
        // printf '[%s]' WORD… in one shell: every word must arrive as exactly one argument, unchanged.
        let script = "printf '[%s]' " + Self.awkward.map(HintCommands.shellQuoted).joined(separator: " ")
        let result = try ChildProcess.run("/bin/sh", ["-c", script])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdoutText == Self.awkward.map { "[\($0)]" }.joined(), "\(script)")
        #expect(HintCommands.shellQuoted("/tmp/tour/cache") == "/tmp/tour/cache", "plain paths stay readable")
    }

    /// A hint sits between the single quotes of a message: what is between them,
    /// pasted into a shell, is the command.
    @Test func aQuotedHintStillReadsAsOneCommandBetweenTheMessagesQuotes() throws {
        let hints = HintCommands(program: "metacache", locating: ["--dir", "/tmp/cache dir $X", "--name", "jdk"])
        let message = "run '\(hints.verifyRepair)', then refresh"
        let inside = try #require(message.split(separator: "'", maxSplits: 1).last?.split(separator: "'").first)
        #expect(inside == #"metacache cache verify --repair --dir "/tmp/cache dir \$X" --name jdk"#)
    }

    private func common(_ arguments: [String], environment: [String: String] = ["HOME": "/home/u"]) throws -> CommonSettings {
        try CommonSettings(ParsedCommandLine.parse(["cache", "status"] + arguments), environment: EnvironmentVariables(environment))
    }

    @Test func theOptionsThatLocatedTheCacheAreCarried() throws {
        #expect(HintCommands(program: "metacache", common: try common([])).status == "metacache cache status", "the default needs none")
        #expect(HintCommands(program: "metacache", common: try common(["--dir", "/c"])).status == "metacache cache status --dir /c")
        #expect(HintCommands(program: "metacache", common: try common([], environment: ["METACACHE_DIR": "/e"])).status
                == "metacache cache status --dir /e", "an environment variable may be gone in the shell the hint is pasted into")
        let all = try common(["--dir", "/c", "--name", "jdk", "--allow-shared-dir", "--lock-backend", "lockfile"])
        #expect(HintCommands(program: "./.build/release/metacache", common: all).verifyRepair
                == "./.build/release/metacache cache verify --repair --dir /c --name jdk --allow-shared-dir --lock-backend lockfile")
        let hints = HintCommands(program: "metacache", common: try common(["--dir", "/c"]))
        #expect(hints.refresh(.known("https://h/c.json?a=1&b=2")) == #"metacache cache refresh --source "https://h/c.json?a=1&b=2" --dir /c"#)
        #expect(hints.refresh(.configured) == "metacache cache refresh --dir /c")
        #expect(hints.refresh(.unknown) == "metacache cache refresh --dir /c --source SRC")
    }

    @Test func theRefreshSourceIsTheConfigsElseTheRecordedOneElseUnknown() throws {
        let dir = TemporaryDirectory("hint-source")
        #expect(HintCommands.refreshSource(directory: dir.path, recorded: "/data/c.json") == .known("/data/c.json"))
        #expect(HintCommands.refreshSource(directory: dir.path, recorded: "stdin") == .unknown, "a piped document exists nowhere else")
        #expect(HintCommands.refreshSource(directory: dir.path, recorded: nil) == .unknown)
        try dir.write("config.json", Data(#"{"source": "upstream.json"}"#.utf8))
        #expect(HintCommands.refreshSource(directory: dir.path, recorded: "/data/c.json") == .configured)
    }
}
