/// Text that came from a file, a lock record or a server, made safe to print on
/// a terminal.
///
/// A cache's `source`, a holder's command line and host, an ETag or a
/// Last-Modified value, a temp file's name — anything another process or a
/// remote server wrote — may carry characters a terminal would obey: escape
/// sequences that move the cursor, rewrite earlier lines, set the window title
/// or answer back into the input (C0 controls such as ESC and BEL, DEL, and the
/// C1 controls U+0080–U+009F, of which some terminals take U+009B as CSI), and
/// newlines that forge a line of output. Bidirectional formatting characters
/// (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) are escaped too: they make a
/// line display in an order other than the one its bytes have ("Trojan Source").
///
/// Each such character becomes a visible escape: `\x` and two hex digits for
/// code points below U+0100 (`\x1b`, `\x0a`, `\x9b`), `\u` and four for the others
/// (`\u202e`). Everything else — backslashes included — prints exactly as it is,
/// so ordinary text is never altered, and an escaped value is never mistaken for
/// the bytes it stands for.
package enum TerminalText {
    /// `text` with every control and bidirectional formatting character escaped
    /// (the same string when it has none). For one value: newlines are escaped.
    package static func escaped(_ text: String) -> String {
        replacing(in: text, where: isUnsafe) { visibleEscape($0) }
    }

    /// `text` escaped like `escaped(_:)`, except newline and tab, which are kept:
    /// for whole messages the program itself laid out over several lines. Values
    /// interpolated into such a message are escaped on their own first, so a
    /// newline that came from outside is still shown as `\x0a`.
    package static func escapedKeepingLayout(_ text: String) -> String {
        replacing(in: text, where: { isUnsafe($0) && $0 != "\n" && $0 != "\t" }) { visibleEscape($0) }
    }

    /// An encoded JSON text with every raw DEL, C1 control and bidirectional
    /// formatting character written as a JSON `\uXXXX` escape. JSON allows them
    /// unescaped (and encoders leave them so), terminals do not take them safely;
    /// they can only occur inside strings, where the escape means the same
    /// character. (C0 controls are escaped by every JSON encoder.)
    package static func escapedJSON(_ text: String) -> String {
        replacing(in: text, where: isUnsafe) { "\\u" + hex($0.value, digits: 4) }
    }

    /// Whether a terminal could act on `scalar` rather than show it.
    package static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func visibleEscape(_ scalar: Unicode.Scalar) -> String {
        scalar.value < 0x100 ? "\\x" + hex(scalar.value, digits: 2) : "\\u" + hex(scalar.value, digits: 4)
    }

    private static func replacing(
        in text: String, where unsafe: (Unicode.Scalar) -> Bool, with escape: (Unicode.Scalar) -> String
    ) -> String {
        // The common case, a string with nothing to escape, is returned as is.
        guard text.unicodeScalars.contains(where: unsafe) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if unsafe(scalar) {
                out += escape(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let symbols = Array("0123456789abcdef")
        return String((0..<digits).reversed().map { symbols[Int((value >> (4 * UInt32($0))) & 0xF)] })
    }
}
