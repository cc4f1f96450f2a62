import Foundation

/// One ```swift block of the project's Markdown, as a host would paste it.
///
/// The fence's info string says what the block is for, so that nothing is skipped
/// silently: a plain ```swift block is a complete `main.swift` that is built and
/// run; ```swift no-run is built but not run (a daemon loop that never ends);
/// ```swift manifest is the `Package.swift` a host writes, used as the manifest of
/// the package the other blocks are built in. Any other word after `swift` is an
/// error, so a typo in a marker cannot turn a block into an unchecked one.
struct DocumentationSnippet: Sendable, CustomStringConvertible {
    enum Kind: String, Sendable {
        case run = ""
        case noRun = "no-run"
        case manifest
    }

    /// `README.md:123`, for failure messages.
    let location: String
    let kind: Kind
    let code: String

    var description: String { "\(location) (```swift\(kind == .run ? "" : " " + kind.rawValue))" }

    /// The blocks of one Markdown file, in order; an unknown marker or an
    /// unterminated fence throws.
    static func blocks(inMarkdown text: String, named file: String) throws -> [DocumentationSnippet] {
        var blocks: [DocumentationSnippet] = []
        var open: (line: Int, kind: Kind, lines: [Substring])?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = open {
                if trimmed == "```" {
                    blocks.append(DocumentationSnippet(
                        location: "\(file):\(block.line)", kind: block.kind, code: block.lines.joined(separator: "\n") + "\n"))
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if trimmed.hasPrefix("```swift") {
                let marker = trimmed.dropFirst("```swift".count).trimmingCharacters(in: .whitespaces)
                guard let kind = Kind(rawValue: marker) else {
                    throw SnippetError("\(file):\(index + 1): unknown marker '```swift \(marker)' (known: none, no-run, manifest)")
                }
                open = (index + 1, kind, [])
            }
        }
        if let open { throw SnippetError("\(file):\(open.line): ```swift block never closed") }
        return blocks
    }

    /// Every ```swift block of README.md and docs/*.md under `root`.
    static func all(inPackageAt root: String) throws -> [DocumentationSnippet] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root + "/docs").filter { $0.hasSuffix(".md") }.sorted()
        return try (["README.md"] + docs.map { "docs/" + $0 }).flatMap { file in
            try blocks(inMarkdown: String(contentsOfFile: root + "/" + file, encoding: .utf8), named: file)
        }
    }
}

struct SnippetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
