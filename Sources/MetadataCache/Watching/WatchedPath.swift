/// The directories from the root down to a cache directory, for watching a path
/// whose directories may not exist yet, or may be deleted, moved and recreated.
///
/// For `/home/me/.cache/tool`: levels `/`, `/home`, `/home/me`, `/home/me/.cache`,
/// `/home/me/.cache/tool`, and the name each level has in the one above it.
struct WatchedPath: Equatable {
    /// Absolute paths, root first; the last one is the cache directory.
    let levels: [String]
    /// `names[i]` is the last component of `levels[i]` ("" for the root).
    let names: [String]

    /// - Parameter directory: an absolute, normalised path (as `CacheStore` keeps it).
    init(_ directory: String) {
        var levels = ["/"]
        var names = [""]
        var prefix = ""
        for part in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + part
            levels.append(prefix)
            names.append(String(part))
        }
        self.levels = levels
        self.names = names
    }

    /// Index of the cache directory itself.
    var cacheDirectoryLevel: Int { levels.count - 1 }
}
