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
        if let config, let value = config.lockTimeout {
            let origin = SettingOrigin.configFile(path: config.path, key: "lockTimeout")
            return Resolved(try timeout(value, origin: origin), from: origin)
        }
        return Resolved(defaultTimeout, from: .defaultValue)
    }

    static func parse(_ text: String, origin: SettingOrigin) throws(UsageError) -> LockTimeout {
        guard let timeout = LockTimeout(parsing: text) else {
            throw invalid(JSONText.quoted(text), seconds: Double(text.trimmingWhitespace()), origin: origin)
        }
        return timeout
    }

    /// A config file's value: a JSON number is taken as seconds directly (no text
    /// round trip: `0.00001` stays ten microseconds, `1e3` is 1000 s).
    static func timeout(_ value: ConfigFile.LockTimeoutValue, origin: SettingOrigin) throws(UsageError) -> LockTimeout {
        switch value {
        case let .text(text):
            return try parse(text, origin: origin)
        case let .seconds(seconds):
            guard let timeout = LockTimeout.seconds(seconds) else {
                throw invalid(JSONText.quoted(plainNumber(seconds)), seconds: seconds, origin: origin)
            }
            return timeout
        case .unrepresentableNumber:
            throw UsageError(
                "invalid lock timeout from \(origin): the number is out of range; expected seconds "
                    + "(0 = do not wait, 2.5, 10, at most \(maximumSecondsText)) or \"infinite\"")
        case let .wrongType(type):
            throw UsageError(
                "invalid lock timeout from \(origin): it is a JSON \(type); expected a number of seconds (0 = do not wait, 2.5, 10) "
                    + "or a string such as \"2.5\" or \"infinite\"")
        }
    }

    /// A number for a message, without an exponent where it has an integer value
    /// (`1000000000000`, not `1e+12`).
    static func plainNumber(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e18 { return String(Int64(value)) }
        return String(value)
    }

    /// `1000000000 s (about 31 years)`: the largest finite timeout, for messages.
    static let maximumSecondsText = "\(Int64(LockTimeout.maximumSeconds)) s (about 31 years)"

    /// The usage error for a bad value, spelled as `shown`: a number too large for
    /// a finite timeout says so (and what to write instead), anything else gets
    /// the examples.
    static func invalid(_ shown: String, seconds: Double?, origin: SettingOrigin) -> UsageError {
        if let seconds, seconds.isFinite, seconds > LockTimeout.maximumSeconds {
            return UsageError(
                "invalid lock timeout \(shown) from \(origin): at most \(maximumSecondsText); "
                    + "write 'infinite' to wait until the lock is free")
        }
        return UsageError("invalid lock timeout \(shown) from \(origin): expected seconds (0 = do not wait, 2.5, 10) or 'infinite'")
    }
}
