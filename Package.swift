// swift-tools-version:6.0
import PackageDescription

// MetadataCache: one JSON metadata document on local disk, shared safely by many
// processes. Toolchain only: this manifest must never declare a `.package(...)`.
let package = Package(
    name: "MetadataCache",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MetadataCache", targets: ["MetadataCache"]),
    ],
    targets: [
        // One-call C shims for statfs, flock and SIGRTMAX (see the header).
        .target(name: "CSystemShims"),
        .target(
            name: "MetadataCache",
            dependencies: ["CSystemShims"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Real-process helper for the library's unit tests: takes the writer lock,
        // commits with injected faults or crashes, and reports over stdout.
        .executableTarget(
            name: "cache-test-agent",
            dependencies: ["MetadataCache"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MetadataCacheTests",
            dependencies: ["MetadataCache"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
