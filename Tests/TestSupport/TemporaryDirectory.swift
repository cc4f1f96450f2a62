import Foundation

/// A fresh private directory for one test, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    /// Created under `$TMPDIR` with mode 0700 (the cache refuses shared directories).
    public init(_ label: String = "test") {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        path = base + "metacache-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Names in the directory, sorted.
    public func listing() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    public func contents(_ name: String) -> Data? {
        FileManager.default.contents(atPath: file(name))
    }

    public func write(_ name: String, _ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: file(name)))
    }
}

/// Executables built by SwiftPM next to the test bundle (`swift test` builds every
/// executable product of the package).
public enum BuiltProducts {
    /// `.build/<triple>/<configuration>`, the directory holding the test bundle.
    public static let directory: String = {
        if let override = ProcessInfo.processInfo.environment["METACACHE_BUILD_DIR"] { return override }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().path
    }()

    public static func path(of product: String) -> String { directory + "/" + product }

    public static func exists(_ product: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: path(of: product))
    }
}
