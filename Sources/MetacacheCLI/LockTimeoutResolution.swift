import MetadataCache

/// Finds the lock timeout: `--lock-timeout` > `METACACHE_LOCK_TIMEOUT` > config
/// `lockTimeout` > 10 s.
///
/// Guarantee: an invalid value at the winning level is a usage error (exit 64)
/// that quotes the value and names where it came from; it never falls through to a
/// lower level (a typo must not silently become "wait 10 s").
public enum LockTimeoutResolution {
    public static let defaultTimeout = LockTimeout.after(.seconds(10))

    public static func resolve(
        flag: String?, environment: EnvironmentVariables, config: ConfigFile?
    ) throws(UsageError) -> Resolved<LockTimeout> {
        if let flag { return Resolved(try parse(flag, origin: .flag("lock-timeout")), from: .flag("lock-timeout")) }
        if let text = environment["METACACHE_LOCK_TIMEOUT"] {
            let origin = SettingOrigin.environment("METACACHE_LOCK_TIMEOUT")
            return Resolved(try parse(text, origin: origin), from: origin)
        }
        if let config, let text = config.lockTimeout {
            let origin = SettingOrigin.configFile(path: config.path, key: "lockTimeout")
            return Resolved(try parse(text, origin: origin), from: origin)
        }
        return Resolved(defaultTimeout, from: .defaultValue)
    }

    static func parse(_ text: String, origin: SettingOrigin) throws(UsageError) -> LockTimeout {
        guard let timeout = LockTimeout(parsing: text) else {
            throw UsageError(
                "invalid lock timeout \(JSONText.quoted(text)) from \(origin): expected seconds (0 = do not wait, 2.5, 10) or 'infinite'")
        }
        return timeout
    }
}
