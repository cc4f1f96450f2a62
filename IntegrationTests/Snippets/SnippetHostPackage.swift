import Foundation
import TestSupport

/// A host package built the way a tool author builds one: the README's own
/// `Package.swift` block (with its `.package(url:from:)` pointed at this checkout)
/// and one executable target per snippet, each snippet its only source file.
///
/// Why a package and not `swiftc` against the modules in `.build`: that layout is
/// SwiftPM's private business (it moved in 6.0) and a debug build leaves no
/// library to link, while a package is exactly what a host writes, so it also
/// checks the dependency line, the product name and the platforms. It lives in
/// `.build/snippet-host` so that later runs rebuild only the snippets; on a clean
/// clone the first build also compiles the library once (measured 2026-12-07, 2
/// shared vCPUs at load 11: 72 s cold, 6 s with nothing changed, 10-35 s after a
/// docs edit). It needs `swift` on PATH and no network (a path dependency).
struct SnippetHostPackage {
    /// What became of one snippet.
    enum Outcome: Sendable, Equatable {
        case built
        case ran(stdout: String)
        case buildFailed(String)
        case runFailed(String)

        var failed: Bool {
            switch self {
            case .built, .ran: false
            case .buildFailed, .runFailed: true
            }
        }
    }

    let directory: String
    let manifest: DocumentationSnippet
    let packageRoot: String

    init(manifest: DocumentationSnippet, packageRoot: String) {
        self.manifest = manifest
        self.packageRoot = packageRoot
        directory = packageRoot + "/.build/snippet-host"
    }

    /// The README's manifest with its URL dependency replaced by this checkout,
    /// reached through a link named like the URL's last component: SwiftPM names
    /// a path dependency after its directory, and the README's
    /// `.product(name:package:)` must find it by the name a URL gives it.
    func hostManifest(targets: [String]) throws -> String {
        let pattern = #/\.package\(\s*url:\s*"([^"]+)",\s*from:\s*"[0-9]+\.[0-9]+\.[0-9]+"\s*\)/#
        let matches = manifest.code.matches(of: pattern)
        guard matches.count == 1, let url = matches.first?.output.1 else {
            throw SnippetError("\(manifest): expected exactly one .package(url: \"...\", from: \"X.Y.Z\"), found \(matches.count)")
        }
        guard manifest.code.contains(#".product(name: "MetadataCache", package: "#) else {
            throw SnippetError("\(manifest): the target must depend on .product(name: \"MetadataCache\", package: ...)")
        }
        var identity = String(url.split(separator: "/").last ?? "")
        if identity.hasSuffix(".git") { identity.removeLast(4) }
        let link = directory + "/checkout/" + identity
        try? FileManager.default.createDirectory(atPath: directory + "/checkout", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: packageRoot)

        var text = manifest.code.replacing(pattern) { _ in ".package(path: \(Self.literal(link)))" }
        // The README's one target stands for each snippet: same dependencies.
        text += """

            // Added by the snippet check: one executable per snippet, with the dependencies
            // of the README's target; a warning in a snippet fails its build (a host
            // pasting it should not inherit one).
            let snippetDependencies = package.targets[0].dependencies
            package.targets = [\(targets.map(Self.literal).joined(separator: ", "))].map { name in
                .executableTarget(
                    name: name, dependencies: snippetDependencies, path: "Sources/" + name,
                    swiftSettings: [.unsafeFlags(["-warnings-as-errors"])])
            }

            """
        return text
    }

    /// Writes the package with `snippets` as targets `snippet1`…, builds each on its
    /// own (so one failure names its snippet and leaves the others built), and runs
    /// those that are to run through `run`. Blocks for minutes on a
    /// clean clone: call it from a dedicated thread.
    func check(
        _ snippets: [DocumentationSnippet], rewrite: (String) -> String,
        run: (_ executable: String, _ snippet: DocumentationSnippet) throws -> Outcome
    ) throws -> [Outcome] {
        let names = snippets.indices.map { "snippet\($0 + 1)" }
        try? FileManager.default.removeItem(atPath: directory + "/Sources")
        for (name, snippet) in zip(names, snippets) {
            try FileManager.default.createDirectory(atPath: directory + "/Sources/" + name, withIntermediateDirectories: true)
            // A file with `@main` must not be called main.swift; any other name is top-level code's.
            let file = snippet.code.contains("@main") ? "Tool.swift" : "main.swift"
            try Data(rewrite(snippet.code).utf8).write(to: URL(fileURLWithPath: directory + "/Sources/\(name)/" + file))
        }
        try Data(hostManifest(targets: names).utf8).write(to: URL(fileURLWithPath: directory + "/Package.swift"))
        return try zip(names, snippets).map { name, snippet in
            let build = try ChildProcess.run(
                "/usr/bin/env", ["swift", "build", "--package-path", directory, "--product", name],
                timeout: .seconds(1800))
            guard build.exitCode == 0 else {
                return .buildFailed("\(build.termination)\n\(build.stdoutText.suffix(4000))\n\(build.stderr.suffix(2000))")
            }
            guard snippet.kind == .run else { return .built }
            return try run(directory + "/.build/debug/" + name, snippet)
        }
    }

    /// `text` as a Swift string literal.
    static func literal(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}
