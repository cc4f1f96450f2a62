import Foundation

/// The JSON field lists of docs/stress.md, so tests hold the report to its
/// documentation: a field added, renamed or dropped on either side fails them.
enum StressDocs {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/stress.md").path
    }

    /// The backticked names in the first column of the table that follows the
    /// line `<!-- json: NAME -->`.
    static func fields(_ name: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let marker = text.range(of: "<!-- json: \(name) -->") else {
            throw Missing(description: "docs/stress.md has no '<!-- json: \(name) -->' table")
        }
        var names: [String] = []
        var inTable = false
        for line in text[marker.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.hasPrefix("|") {
                inTable = true
                let cell = line.dropFirst().split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                if cell.hasPrefix("`"), let end = cell.dropFirst().firstIndex(of: "`") {
                    names.append(String(cell[cell.index(after: cell.startIndex)..<end]))
                }
            } else if inTable || !line.trimmingCharacters(in: .whitespaces).isEmpty {
                break
            }
        }
        guard !names.isEmpty else { throw Missing(description: "the '\(name)' table in docs/stress.md lists no fields") }
        return names
    }
}
