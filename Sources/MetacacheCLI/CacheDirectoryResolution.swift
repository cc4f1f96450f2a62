/// Finds the cache directory: `--dir` > `METACACHE_DIR` > `$XDG_CACHE_HOME/metacache`
/// > `~/.cache/metacache`.
///
/// Per the XDG base directory specification, a relative `XDG_CACHE_HOME` is invalid
/// and ignored. The directory is not created here; writers create it (mode 0700).
public enum CacheDirectoryResolution {
    public static func resolve(flag: String?, environment: EnvironmentVariables) throws(UsageError) -> Resolved<String> {
        if let flag {
            guard !flag.isEmpty else { throw UsageError("option '--dir' needs a non-empty path") }
            return Resolved(flag, from: .flag("dir"))
        }
        if let dir = environment["METACACHE_DIR"] { return Resolved(dir, from: .environment("METACACHE_DIR")) }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return Resolved(join(xdg, "metacache"), from: .environment("XDG_CACHE_HOME"))
        }
        if let home = environment.homeDirectory {
            return Resolved(join(home, ".cache/metacache"), from: .defaultValue)
        }
        throw UsageError(
            "cannot find a cache directory: HOME is not set and the user has no home directory; pass --dir PATH or set METACACHE_DIR")
    }

    static func join(_ base: String, _ tail: String) -> String {
        base.hasSuffix("/") ? base + tail : base + "/" + tail
    }
}
