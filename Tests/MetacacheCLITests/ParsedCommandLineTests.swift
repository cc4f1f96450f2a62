import Testing
@testable import MetacacheCLI

@Suite struct ParsedCommandLineTests {
    @Test func flagsWithSeparateAndInlineValues() {
        let parsed = ParsedCommandLine.parse(["cache", "refresh", "--source", "a.json", "--lock-timeout=2.5", "--force"])
        #expect(parsed.error == nil)
        #expect(parsed.path == .subcommand(.refresh))
        #expect(parsed.value("source") == "a.json")
        #expect(parsed.value("lock-timeout") == "2.5")
        #expect(parsed.has("force"))
        #expect(!parsed.has("quiet"))
    }

    @Test func commonOptionsMayComeBeforeTheSubcommandAndTheLastOccurrenceWins() {
        let parsed = ParsedCommandLine.parse(["--dir", "/a", "cache", "-q", "read", "--dir=/b"])
        #expect(parsed.error == nil)
        #expect(parsed.path == .subcommand(.read))
        #expect(parsed.value("dir") == "/b")
        #expect(parsed.has("quiet"))
    }

    @Test func aSingleDashIsAValueButADoubleDashWordIsNot() {
        #expect(ParsedCommandLine.parse(["cache", "refresh", "--source", "-"]).value("source") == "-")
        let missing = ParsedCommandLine.parse(["cache", "refresh", "--source", "--force"])
        #expect(missing.error?.message == "option '--source' needs a value (SRC)")
        #expect(ParsedCommandLine.parse(["cache", "refresh", "--source=--odd"]).value("source") == "--odd")
        #expect(ParsedCommandLine.parse(["cache", "refresh", "--lock-timeout", "-1"]).value("lock-timeout") == "-1")
    }

    @Test(arguments: [
        (["cache", "refresh", "--frobnicate"], "unknown option '--frobnicate' for 'metacache cache refresh'"),
        (["cache", "refresh", "--sorce", "x"], "unknown option '--sorce' for 'metacache cache refresh'; did you mean '--source'?"),
        (["cache", "read", "--dir"], "option '--dir' needs a value (PATH)"),
        (["cache", "read", "--meta=yes"], "option '--meta' does not take a value (got 'yes')"),
        (["cache", "read", "--force"], "option '--force' does not apply to 'metacache cache read' (it is an option of 'metacache cache refresh')"),
        (["cache", "read", "--version"], "option '--version' does not apply to 'metacache cache read' (use 'metacache --version')"),
        (["cache", "reed"], "unknown command 'reed' for 'metacache cache'; expected one of: refresh, read, status, verify, sweep, watch"),
        (["refresh"], "unknown command 'refresh'; the commands are under 'metacache cache' (try 'metacache --help')"),
        (["cache", "read", "now"], "unexpected argument 'now' (metacache cache read takes no arguments)"),
        (["cache", "read", "--", "x"], "unexpected argument 'x' (metacache cache read takes no arguments)"),
        (["cache", "read", "-x"], "unknown option '-x' for 'metacache cache read'"),
        (["cache"], "missing subcommand: expected one of: refresh, read, status, verify, sweep, watch"),
        ([], "missing command: try 'metacache cache refresh --source SRC' or 'metacache --help'"),
    ])
    func errorsNameTheProblem(arguments: [String], message: String) {
        let parsed = ParsedCommandLine.parse(arguments)
        #expect(parsed.error?.message == message)
    }

    @Test func helpWinsAtTheDeepestLevelReachedEvenAfterAnError() {
        let parsed = ParsedCommandLine.parse(["cache", "refresh", "--bogus", "--help"])
        #expect(parsed.helpRequested)
        #expect(parsed.path == .subcommand(.refresh))
        #expect(ParsedCommandLine.parse(["cache", "-h"]).path == .cache)
        #expect(ParsedCommandLine.parse(["--help"]).path == .root)
        #expect(ParsedCommandLine.parse(["help"]).helpRequested)
    }

    @Test func editDistance() {
        #expect(EditDistance.between("sorce", "source") == 1)
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.between("lock-timout", "lock-timeout") == 1)
        #expect(EditDistance.between("kitten", "sitting") == 3)
    }
}
