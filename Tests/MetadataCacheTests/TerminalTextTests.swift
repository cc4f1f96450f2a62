import Foundation
@testable import MetadataCache
import Testing

/// The one escaping function for everything printed that came from a file, a
/// lock record or a server (issue 19 item 3).
@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("plain https://api.example/catalogue.json?x=1", "plain https://api.example/catalogue.json?x=1"),
        ("tab\there", #"tab\x09here"#),
        ("line\nforged", #"line\x0aforged"#),
        ("cr\roverwrite", #"cr\x0doverwrite"#),
        ("\u{1B}[2J\u{1B}]0;title\u{07}", #"\x1b[2J\x1b]0;title\x07"#),
        ("del\u{7F}", #"del\x7f"#),
        ("c1 csi \u{9B}31m and \u{80} \u{9F}", #"c1 csi \x9b31m and \x80 \x9f"#),
        ("nul\u{0}", #"nul\x00"#),
        ("bidi \u{202E}gnp.exe\u{202C} \u{2066}x\u{2069} \u{200F}\u{061C}", #"bidi \u202egnp.exe\u202c \u2066x\u2069 \u200f\u061c"#),
        // Not controls: printed as they are (backslashes too).
        (#"C:\path\x1b é ✓ \u{A0}nbsp"#, #"C:\path\x1b é ✓ \u{A0}nbsp"#),
        ("\u{1F}\u{20}\u{7E}\u{7F}\u{9F}\u{A0}\u{200D}", "\\x1f\u{20}\u{7E}\\x7f\\x9f\u{A0}\u{200D}"),
    ])
    func everyControlAndBidiCharacterIsEscapedAndNothingElse(input: String, expected: String) {
        #expect(TerminalText.escaped(input) == expected)
        #expect(!TerminalText.escaped(input).unicodeScalars.contains(where: TerminalText.isUnsafe))
    }

    @Test func everyScalarBelowU3000IsEitherKeptOrEscapedVisibly() {
        for value in UInt32(0)..<0x3000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "a" + String(Character(scalar)) + "b"
            let escaped = TerminalText.escaped(text)
            #expect(!escaped.unicodeScalars.contains(where: TerminalText.isUnsafe), "U+\(String(value, radix: 16))")
            #expect((escaped == text) != TerminalText.isUnsafe(scalar), "U+\(String(value, radix: 16))")
        }
    }

    @Test func aLaidOutMessageKeepsItsLinesButNotAForeignEscape() {
        let message = "line one\n\tindented \u{1B}]0;pwned\u{07} \u{9B}2J"
        #expect(TerminalText.escapedKeepingLayout(message) == "line one\n\tindented \\x1b]0;pwned\\x07 \\x9b2J")
    }

    @Test func jsonLinesKeepTheirValueAndLoseRawC1DELAndBidi() throws {
        let value = "src\u{1B}[1m\u{9B}2J\u{7F}\u{202E}\n"
        let line = JSONText.object([("source", JSONText.quoted(value))])
        let safe = TerminalText.escapedJSON(line)
        #expect(!safe.unicodeScalars.contains(where: TerminalText.isUnsafe))
        #expect(safe.contains(#"\u009b"#) && safe.contains(#"\u007f"#) && safe.contains(#"\u202e"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(safe.utf8)) as? [String: String])
        #expect(object["source"] == value)
    }

    @Test func aHolderRecordIsSummarisedSafely() {
        let record = HolderRecord(
            pid: 42, host: "evil\u{1B}]0;x\u{07}", processStartTime: nil, command: "cmd\n\u{9B}2J", acquiredAt: Date(),
            backend: .advisory, leaseID: "1")
        #expect(record.summary == #"pid 42 (cmd\x0a\x9b2J) on evil\x1b]0;x\x07"#)
    }
}
