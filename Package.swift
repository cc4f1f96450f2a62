// swift-tools-version:6.0
import PackageDescription

// MetadataCache: one JSON metadata document on local disk, shared safely by many
// processes. Toolchain only: this manifest declares no package dependencies, ever.
let package = Package(
    name: "MetadataCache",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MetadataCache", targets: ["MetadataCache"]),
        .executable(name: "metacache", targets: ["metacache"]),
        .executable(name: "metacache-fetch", targets: ["metacache-fetch"]),
        // Not a product: metacache-stress (this package's own stress harness; it
        // links the test-only SystemCallFaults). `swift build` still builds it.
    ],
    targets: [
        // One-call C shims for statfs, flock and SIGRTMAX (see the header).
        .target(name: "CSystemShims"),
        .target(
            name: "MetadataCache",
            dependencies: ["CSystemShims"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Test-only machinery behind the library's system-call seam
        // (SystemCallProvider): planned faults, crashes and pauses at any system
        // call. Kept out of MetadataCache so that no host links it; the tests, the
        // test agent and the stress harness do.
        .target(
            name: "SystemCallFaults",
            dependencies: ["MetadataCache"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The `metacache` command: its logic lives in MetacacheCLI (testable); the
        // executable is a thin main with only FoundationEssentials: `cache read`
        // runs on every invocation of a host tool, and dynamic loading costs more
        // than the read itself. The release build links it fully static
        // (Scripts/build-release): no unsafeFlags here, because SwiftPM refuses
        // them in a versioned dependency and hosts depend on these products by
        // version (.ci/versioned-client).
        .target(
            name: "MetacacheCLI",
            dependencies: ["MetadataCache"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "metacache",
            dependencies: ["MetacacheCLI", "metacache-fetch"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // HTTP(S) fetching in its own process: FoundationNetworking (libcurl and full
        // Foundation) adds ~9 ms to every start, so only http(s) refreshes pay it.
        .executableTarget(
            name: "metacache-fetch",
            dependencies: ["MetadataCache"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // ChildProcess: spawning a program and talking to it through pipes, for
        // the stress harness and the tests alike (one process spawner for the
        // whole package; TestSupport re-exports it).
        .target(
            name: "ProcessSpawning",
            dependencies: ["CSystemShims"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The stress harness: many concurrent refreshers, readers and updaters as
        // real processes, checking the invariants independently of the library.
        // Spawns its workers and the CLI through ProcessSpawning, probes flock via
        // CSystemShims, and exits its commit-once worker with the CLI's own
        // exit-code mapping. Built by `swift build` (not a product: hosts have no use
        // for it), it links nothing from Tests/: its fault injection is SystemCallFaults.
        .target(
            name: "StressHarness",
            dependencies: ["MetadataCache", "MetacacheCLI", "ProcessSpawning", "CSystemShims", "SystemCallFaults"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "metacache-stress",
            dependencies: ["StressHarness"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Real-process helper for the library's unit tests: takes the writer lock,
        // commits with injected faults or crashes, and reports over stdout.
        .executableTarget(
            name: "cache-test-agent",
            dependencies: ["MetadataCache", "SystemCallFaults"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Test-only ptrace tracer for IntegrationTests/CrashAndFault: numbers the file
        // system calls of all threads of a process in one global order and strikes
        // one (SIGKILL, an errno, or skipping it), or pauses after each. Not a
        // product: no host builds it.
        .executableTarget(
            name: "syscall-strike",
            path: "Tests/SyscallStrike"
        ),
        // Side-by-side benchmark worker (Benchmarks/run, docs/benchmarks.md): the
        // library in-process. Built with everything else so it keeps compiling; not
        // run by `swift test` or CI.
        .executableTarget(
            name: "metacache-bench",
            dependencies: ["MetadataCache"],
            path: "Benchmarks/metacache-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Test-only helpers shared by the test targets: temp dirs, built products,
        // a loopback HTTP server, pseudo-terminals, FIFOs, crafted cache files, the
        // trait that runs blocking tests off the concurrency pool (and ChildProcess,
        // re-exported from ProcessSpawning).
        .target(
            name: "TestSupport",
            dependencies: ["ProcessSpawning", "MetadataCache"],
            path: "Tests/TestSupport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MetadataCacheTests",
            dependencies: ["MetadataCache", "TestSupport", "SystemCallFaults"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MetacacheCLITests",
            dependencies: ["MetacacheCLI", "TestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Whole-program tests: launch the built executables as real processes.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["MetadataCache", "TestSupport", "StressHarness", "SystemCallFaults"],
            path: "IntegrationTests",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
