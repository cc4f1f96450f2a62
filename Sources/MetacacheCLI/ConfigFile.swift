#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// The optional per-cache config file `<dir>/config.json`: one JSON object with the
/// keys `source` (string; a relative path is relative to the directory holding the
/// config file) and `lockTimeout` (seconds as a number, or a string such as
/// `"2.5"` or `"infinite"`).
///
/// Guarantee: a file that exists but cannot be used — unreadable, not a regular
/// file, not JSON, not an object, a key of the wrong type — is an error naming the
/// file and the problem (exit 78), never silently ignored. Unknown keys are kept
/// for a warning (a typo such as `lockTimout` must not pass unnoticed), not fatal,
/// so that newer config files still work with older binaries. The *value* of
/// `lockTimeout` is checked where it is used, as a usage error naming this file
/// and key (exit 64, like every invalid lock timeout, wherever it came from).
public struct ConfigFile: Sendable, Equatable {
    public let path: String
    public let source: String?
    /// The `lockTimeout` value as written: a JSON number stays a number (0.00001
    /// and 1e3 are valid JSON numbers, never re-spelled as text for a parser that
    /// knows no exponents).
    public let lockTimeout: LockTimeoutValue?
    public let unknownKeys: [String]

    public enum LockTimeoutValue: Sendable, Equatable {
        /// A JSON string: `"2.5"`, `"infinite"`.
        case text(String)
        /// A JSON number, in seconds.
        case seconds(Double)
        /// A JSON number too large or too small for a `Double` (`1e400`).
        case unrepresentableNumber
        /// Any other JSON type (`true`, `{}`), named for the message.
        case wrongType(String)
    }

    public static let knownKeys = ["source", "lockTimeout"]
    static let maximumBytes = 1 << 20

    public init(path: String, source: String?, lockTimeout: LockTimeoutValue?, unknownKeys: [String]) {
        self.path = path
        self.source = source
        self.lockTimeout = lockTimeout
        self.unknownKeys = unknownKeys
    }

    /// `<directory>/config.json`, or nil when there is no such file (or no
    /// directory yet).
    ///
    /// The directory is opened and checked first, exactly as the store checks
    /// it (`DirectorySafety.open`: an unsafe directory is refused with its
    /// remedy before a byte of its config is read), and the file is opened
    /// relative to that descriptor with `O_NOFOLLOW` and `O_NONBLOCK` and must be
    /// a regular file: a config planted through a symlink, or a FIFO that would
    /// hang the open, is refused.
    public static func load(directory: String, allowSharedDirectory: Bool) throws(CommandFailure) -> ConfigFile? {
        let path = CacheDirectoryResolution.join(directory, "config.json")
        let opened: CacheDirectoryHandle?
        do {
            opened = try DirectorySafety.open(
                CacheStore.absolute(directory), sys: .live, allowShared: allowSharedDirectory, create: false)
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        guard let opened, let bytes = try readIfExists("config.json", in: opened, path: path) else { return nil }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(CommandFailure) -> ConfigFile {
        func bad(_ problem: String) -> CommandFailure {
            CommandFailure(.badConfig, "config file \(path) \(problem); fix or remove it (see 'metacache cache refresh --help')")
        }
        // The strict validator first: it names the byte and the reason
        // ("unexpected end of input at byte 44"), which JSONDecoder does not.
        do throws(JSONValidationError) {
            try StrictJSONValidator(maxDepth: 64, requiresContainerAtTopLevel: false).validate(bytes)
        } catch {
            throw bad("is not valid JSON (\(error))")
        }
        let object: [String: ConfigValue]
        do {
            object = try JSONDecoder().decode([String: ConfigValue].self, from: Data(bytes))
        } catch DecodingError.typeMismatch {
            throw bad("is not a JSON object (expected {\"source\": \"...\", \"lockTimeout\": 10})")
        } catch {
            throw bad("is not valid JSON (\(Self.describe(error)))")
        }
        var source: String?
        switch object["source"] {
        case nil, .null?: source = nil
        case let .string(text)?:
            guard !text.isEmpty else { throw bad("has an empty \"source\"") }
            source = text
        case let other?: throw bad("has \"source\" of type \(other.typeName); expected a string (path or URL)")
        }
        var lockTimeout: LockTimeoutValue?
        switch object["lockTimeout"] {
        case nil, .null?: lockTimeout = nil
        case let .string(text)?: lockTimeout = .text(text)
        case let .number(seconds)?: lockTimeout = .seconds(seconds)
        case .unrepresentableNumber?: lockTimeout = .unrepresentableNumber
        case let other?: lockTimeout = .wrongType(other.typeName)  // reported as an invalid value where used
        }
        let unknown = object.keys.filter { !knownKeys.contains($0) }.sorted()
        return ConfigFile(path: path, source: source, lockTimeout: lockTimeout, unknownKeys: unknown)
    }

    private static func describe(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
            return detail.isEmpty ? "data corrupted" : detail
        }
        return "\(error)"
    }

    private static func readIfExists(_ name: String, in directory: CacheDirectoryHandle, path: String)
        throws(CommandFailure) -> [UInt8]?
    {
        let fd: Int32
        let status: FileStatus
        do throws(MetadataCacheError) {
            (fd, status) = try directory.openFile(name, flags: O_RDONLY, operation: "open config file")
        } catch .io(_, _, let errno) where errno == .noSuchFile {
            return nil
        } catch .io(_, _, let errno) where errno == .tooManySymlinks {
            throw CommandFailure(.badConfig, "config file \(path) is a symbolic link, which is never followed; replace it with the file itself")
        } catch .unsafeStoreFile {
            throw CommandFailure(.badConfig, "config file \(path) is not a regular file; remove it or replace it with a JSON object")
        } catch .io(_, _, let errno) {
            throw CommandFailure(.badConfig, "cannot open config file \(path): \(errno); fix its permissions or remove it")
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        defer { close(fd) }
        guard status.size <= Int64(maximumBytes) else {
            throw CommandFailure(.badConfig, "config file \(path) is larger than 1 MiB; it should be a small JSON object")
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.size))
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CommandFailure(.badConfig, "cannot read config file \(path): \(Errno(rawValue: errno))")
            }
            if n == 0 { break }
            total += n
        }
        return Array(bytes.prefix(total))
    }
}

/// A JSON value of a config key (the file passed the strict validator first, so
/// it is well-formed JSON).
enum ConfigValue: Decodable, Equatable {
    case string(String)
    case number(Double)
    /// A number outside `Double`'s range (`1e400`, `1e-400`): valid JSON that
    /// the decoder cannot represent.
    case unrepresentableNumber
    case bool(Bool)
    case null
    case container

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if (try? decoder.container(keyedBy: AnyKey.self)) != nil || (try? decoder.unkeyedContainer()) != nil {
            self = .container
        } else {
            // Not null, boolean, string, object or array: a number that does not fit.
            self = .unrepresentableNumber
        }
    }

    var typeName: String {
        switch self {
        case .string: "string"
        case .number, .unrepresentableNumber: "number"
        case .bool: "boolean"
        case .null: "null"
        case .container: "object or array"
        }
    }
}
