/// Text that came from a file or the network, made safe to print on a terminal.
///
/// A cache's `source`, a holder's command line, an ETag — anything another process
/// or a server wrote — may carry control characters that a terminal would obey:
/// escape sequences that move the cursor, rewrite earlier lines, change the
/// window title or answer back into the input, and newlines that forge a line of
/// output. So every C0 control (U+0000–U+001F, newline and tab included), DEL
/// (U+007F) and C1 control (U+0080–U+009F: in UTF-8 mode some terminals take
/// U+009B as CSI) is replaced by a visible escape, `\x` and two hex digits of the
/// code point (`\x1b`, `\x0a`, `\x9b`). Everything else — backslashes included —
/// prints exactly as it is, so ordinary text is never altered.
enum TerminalSafeText {
    /// `text` with its control characters escaped (unchanged when it has none).
    static func escaped(_ text: String) -> String {
        replacingControls(in: text) { "\\x" + hex($0) }
    }

    /// An encoded JSON line with every raw DEL or C1 control written as `\u00XX`.
    /// JSON allows them unescaped (and encoders leave them so), terminals do not
    /// take them safely; they can only occur inside strings, where the escape
    /// means the same character. (C0 controls are escaped by every JSON encoder.)
    static func escapedJSON(_ line: String) -> String {
        replacingControls(in: line) { "\\u00" + hex($0) }
    }

    private static func replacingControls(in text: String, with escape: (UInt32) -> String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out += escape(scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        return String(digits[Int(value >> 4) & 0xF]) + String(digits[Int(value) & 0xF])
    }
}
