/// Minimal JSON writing for the few small records this library emits on hot paths
/// (holder records, event lines). Only strings need care: everything else written is
/// an integer, a boolean or null.
package enum JSONText {
    /// `text` as a JSON string literal, quotes included (RFC 8259 §7).
    package static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// A JSON object from already-encoded values, in the given key order.
    package static func object(_ fields: [(String, String)]) -> String {
        var out = "{"
        var first = true
        for (key, value) in fields {
            if !first { out += "," }
            first = false
            out += quoted(key) + ":" + value
        }
        return out + "}"
    }

    package static func optionalString(_ text: String?) -> String { text.map(quoted) ?? "null" }
}
