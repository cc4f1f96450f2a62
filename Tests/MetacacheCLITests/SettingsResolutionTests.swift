#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache
import Testing
@testable import MetacacheCLI

@Suite struct SettingsResolutionTests {
    @Test func directoryPrecedence() throws {
        let everything = EnvironmentVariables(["METACACHE_DIR": "/env", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"])
        #expect(try CacheDirectoryResolution.resolve(flag: "/flag", environment: everything).value == "/flag")
        let env = try CacheDirectoryResolution.resolve(flag: nil, environment: everything)
        #expect(env.value == "/env" && env.origin == .environment("METACACHE_DIR"))
        let xdg = try CacheDirectoryResolution.resolve(flag: nil, environment: EnvironmentVariables(["XDG_CACHE_HOME": "/xdg/", "HOME": "/h"]))
        #expect(xdg.value == "/xdg/metacache" && xdg.origin == .environment("XDG_CACHE_HOME"))
        let home = try CacheDirectoryResolution.resolve(flag: nil, environment: EnvironmentVariables(["XDG_CACHE_HOME": "rel", "HOME": "/h"]))
        #expect(home.value == "/h/.cache/metacache" && home.origin == .defaultValue)
        let empty = try CacheDirectoryResolution.resolve(flag: nil, environment: EnvironmentVariables(["METACACHE_DIR": "", "HOME": "/h"]))
        #expect(empty.value == "/h/.cache/metacache", "an empty variable counts as unset")
        #expect(throws: UsageError.self) { try CacheDirectoryResolution.resolve(flag: "", environment: everything) }
    }

    @Test func homeDirectoryFallsBackToThePasswordDatabaseWithoutHOME() throws {
        #expect(EnvironmentVariables(["HOME": "/h"]).homeDirectory == "/h")
        let entry = try #require(getpwuid(getuid()), "this user has a password database entry")
        let expected = String(cString: try #require(entry.pointee.pw_dir))
        try #require(!expected.isEmpty)
        #expect(EnvironmentVariables(["HOME": ""]).homeDirectory == expected, "an empty HOME counts as unset")
        #expect(EnvironmentVariables([:]).homeDirectory == expected)
    }

    @Test func lockTimeoutPrecedence() throws {
        let config = ConfigFile(path: "/c/config.json", source: nil, lockTimeout: .seconds(7), unknownKeys: [])
        let env = EnvironmentVariables(["METACACHE_LOCK_TIMEOUT": "2.5"])
        let none = EnvironmentVariables([:])
        #expect(try LockTimeoutResolution.resolve(flag: "infinite", environment: env, config: config).value == .infinite)
        let fromEnv = try LockTimeoutResolution.resolve(flag: nil, environment: env, config: config)
        #expect(fromEnv.value == .after(.milliseconds(2500)) && fromEnv.origin == .environment("METACACHE_LOCK_TIMEOUT"))
        let fromConfig = try LockTimeoutResolution.resolve(flag: nil, environment: none, config: config)
        #expect(fromConfig.value == .after(.seconds(7)) && fromConfig.origin == .configFile(path: "/c/config.json", key: "lockTimeout"))
        let fallback = try LockTimeoutResolution.resolve(flag: nil, environment: none, config: nil)
        #expect(fallback.value == .after(.seconds(10)) && fallback.origin == .defaultValue)
        #expect(try LockTimeoutResolution.resolve(flag: "0", environment: none, config: nil).value == .immediate)
    }

    @Test(arguments: [
        ("abc", nil, nil, "from --lock-timeout"),
        (nil, "-1", nil, "from environment variable METACACHE_LOCK_TIMEOUT"),
        (nil, nil, .wrongType("boolean"), "from key lockTimeout in /c/config.json"),
        (nil, nil, .text("soon"), "from key lockTimeout in /c/config.json"),
        (nil, nil, .seconds(-3), "from key lockTimeout in /c/config.json"),
        (nil, nil, .unrepresentableNumber, "from key lockTimeout in /c/config.json"),
    ] as [(String?, String?, ConfigFile.LockTimeoutValue?, String)])
    func invalidTimeoutsNameTheirOrigin(flag: String?, environment: String?, config: ConfigFile.LockTimeoutValue?, origin: String) {
        let file = config.map { ConfigFile(path: "/c/config.json", source: nil, lockTimeout: $0, unknownKeys: []) }
        let env = EnvironmentVariables(environment.map { ["METACACHE_LOCK_TIMEOUT": $0] } ?? [:])
        #expect {
            _ = try LockTimeoutResolution.resolve(flag: flag, environment: env, config: file)
        } throws: { error in
            (error as? UsageError)?.message.contains(origin) == true
        }
    }

    @Test func configFileParsing() throws {
        let parsed = try ConfigFile.parse(Array("{\"source\":\"up.json\",\"lockTimeout\":2.5,\"colour\":true}".utf8), path: "/c/config.json")
        #expect(parsed.source == "up.json")
        #expect(parsed.lockTimeout == .seconds(2.5))
        #expect(parsed.unknownKeys == ["colour"])
        #expect(try ConfigFile.parse(Array("{\"lockTimeout\":\"infinite\"}".utf8), path: "/c").lockTimeout == .text("infinite"))
        #expect(try ConfigFile.parse(Array("{\"lockTimeout\":10}".utf8), path: "/c").lockTimeout == .seconds(10))
        #expect(try ConfigFile.parse(Array("{\"lockTimeout\":false}".utf8), path: "/c").lockTimeout == .wrongType("boolean"))
        #expect(try ConfigFile.parse(Array("{\"lockTimeout\":[1]}".utf8), path: "/c").lockTimeout == .wrongType("object or array"))
        #expect(try ConfigFile.parse(Array("{\"lockTimeout\":1e400}".utf8), path: "/c").lockTimeout == .unrepresentableNumber)
    }

    /// JSON numbers are numbers: exponents and tiny fractions are valid lock
    /// timeouts in the config file, not text that the flag parser rejects.
    @Test(arguments: [
        ("0.00001", LockTimeout.after(.microseconds(10))), ("1e3", .after(.seconds(1000))), ("2.5E1", .after(.seconds(25))),
        ("0", .immediate), ("1e9", .after(.seconds(1_000_000_000))),
    ])
    func configNumbersAreParsedAsNumbers(json: String, expected: LockTimeout) throws {
        let config = try ConfigFile.parse(Array("{\"lockTimeout\": \(json)}".utf8), path: "/c/config.json")
        let resolved = try LockTimeoutResolution.resolve(flag: nil, environment: EnvironmentVariables([:]), config: config)
        #expect(resolved.value == expected, "\(json)")
    }

    /// Too large for a finite timeout, from each origin: a usage error naming the
    /// origin and the limit, never a trap or a silent fallback.
    @Test(arguments: [
        ("10000000000", nil, nil, "invalid lock timeout \"10000000000\" from --lock-timeout: at most 1000000000 s"),
        ("1e10", nil, nil, "invalid lock timeout \"1e10\" from --lock-timeout: at most 1000000000 s"),
        (nil, "10000000000", nil, "invalid lock timeout \"10000000000\" from environment variable METACACHE_LOCK_TIMEOUT: at most"),
        (nil, nil, "1e12", "invalid lock timeout \"1000000000000\" from key lockTimeout in /c/config.json: at most 1000000000 s"),
        (nil, nil, "\"99999999999\"", "invalid lock timeout \"99999999999\" from key lockTimeout in /c/config.json: at most"),
        (nil, nil, "1e400", "invalid lock timeout from key lockTimeout in /c/config.json: the number is out of range"),
    ] as [(String?, String?, String?, String)])
    func hugeTimeoutsAreUsageErrorsNamingTheirOrigin(flag: String?, environment: String?, configJSON: String?, message: String) throws {
        let config = try configJSON.map { try ConfigFile.parse(Array("{\"lockTimeout\": \($0)}".utf8), path: "/c/config.json") }
        let env = EnvironmentVariables(environment.map { ["METACACHE_LOCK_TIMEOUT": $0] } ?? [:])
        #expect {
            _ = try LockTimeoutResolution.resolve(flag: flag, environment: env, config: config)
        } throws: { error in
            (error as? UsageError)?.message.hasPrefix(message) == true
        }
    }

    @Test(arguments: ["", "{", "[]", "\"x\"", "{\"source\": 1}", "{\"source\": \"\"}", "{\"source\": [\"a\"]}"])
    func malformedConfigFilesAreConfigErrors(text: String) {
        #expect {
            _ = try ConfigFile.parse(Array(text.utf8), path: "/c/config.json")
        } throws: { error in
            guard let failure = error as? CommandFailure else { return false }
            return failure.exitCode == .badConfig && failure.message.hasPrefix("config file /c/config.json ")
        }
    }
}
