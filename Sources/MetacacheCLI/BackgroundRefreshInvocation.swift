#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// The detached refresh `cache read --refresh-after` starts: this very binary's
/// `cache refresh`, on the same cache, with the same locating and lock options,
/// quiet (its stdio is /dev/null anyway), and the same `--events` file, so the
/// background process's own events (lock, fetch, commit) land next to the
/// reader's `backgroundRefreshStarted`.
///
/// The source and relative paths resolve as they did for the reader: the child
/// inherits the working directory and the environment (`METACACHE_LOCK_TIMEOUT`,
/// proxies).
enum BackgroundRefreshInvocation {
    static func command(
        directory: String, common: CommonSettings, source: String?, executablePath: String?
    ) -> BackgroundRefreshCommand {
        var arguments = ["cache", "refresh", "--dir", directory, "--name", common.name, "--quiet"]
        arguments += ["--lock-backend", common.lockBackend.rawValue]
        if common.allowSharedDirectory { arguments.append("--allow-shared-dir") }
        if let source { arguments += ["--source", source] }
        if let events = common.eventsPath { arguments += ["--events", events] }
        return BackgroundRefreshCommand(executable: runningExecutable(executablePath), arguments: arguments)
    }

    /// The running binary: /proc/self/exe where there is one (argv[0] may be a
    /// bare name found through $PATH), else the path given, else argv[0].
    static func runningExecutable(_ given: String?) -> String {
        var path = given ?? CommandLine.arguments.first ?? "metacache"
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return path
    }
}
