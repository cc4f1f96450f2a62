#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// Where a refresh gets its payload: `SRC` of `--source` or the config key `source`.
///
/// - `-`: standard input;
/// - `http://…`, `https://…`: fetched by the `metacache-fetch` helper; the host
///   and port are checked here (`HTTPSourceAuthority`), so a malformed URL is a
///   usage error before any lock is taken;
/// - `file:///absolute/path` (percent-encoding decoded; host empty or `localhost`);
/// - anything else without a `scheme://`: a path. Relative paths are relative to
///   the current directory for `--source`, and to the config file's directory for
///   the config key, so a config file means the same thing from any directory.
public enum SourceSpecifier: Sendable, Equatable, CustomStringConvertible {
    case standardInput
    case file(path: String)
    case http(url: String)

    /// The description stored in the cache header (`status` shows it).
    public var description: String {
        switch self {
        case .standardInput: "stdin"
        case let .file(path): path
        case let .http(url): url
        }
    }

    /// Which concurrent commits satisfy a refresh from this source that waited for
    /// the lock: only one recorded with this same source (`description`, as the
    /// commit stores it), so `--source other.json` is never "coalesced" with a
    /// daemon's refresh of the usual URL; and never for stdin, whose document
    /// exists nowhere else.
    public var coalescing: RefreshCoalescing {
        switch self {
        case .standardInput: .never
        case .file, .http: .sameSource(description)
        }
    }

    /// - Parameter relativeTo: directory that relative paths are resolved against;
    ///   nil for the current directory.
    public static func parse(_ text: String, relativeTo base: String? = nil, origin: SettingOrigin) throws(UsageError) -> SourceSpecifier {
        func bad(_ problem: String) -> UsageError {
            UsageError("invalid source \(quoted(text)) from \(origin): \(problem)", command: .subcommand(.refresh))
        }
        guard !text.isEmpty else { throw bad("it is empty; expected a path, a file:// or http(s):// URL, or - for stdin") }
        if text == "-" { return .standardInput }
        if let separator = text.firstRange(of: "://") {
            let scheme = text[..<separator.lowerBound].lowercased()
            let rest = text[separator.upperBound...]
            switch scheme {
            case "http", "https":
                guard !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) else {
                    throw bad("the URL contains spaces or control characters; percent-encode them")
                }
                let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
                if let problem = HTTPSourceAuthority.problem(in: authority) { throw bad(problem) }
                #if os(Linux)
                // metacache-fetch relays plain http:// to an IPv6 literal (FoundationNetworking
                // refuses such URLs); TLS cannot be relayed, as the certificate would be
                // checked against the relay's 127.0.0.1.
                if scheme == "https", authority.split(separator: "@").last?.hasPrefix("[") == true {
                    throw bad("an https:// URL whose host is an IPv6 address cannot be fetched on Linux (FoundationNetworking "
                        + "refuses it); use a host name that resolves to the address (for ::1, localhost)")
                }
                #endif
                return .http(url: scheme + "://" + rest)
            case "file":
                let host = rest.prefix { $0 != "/" }
                guard host.isEmpty || host.lowercased() == "localhost" else {
                    throw bad("file:// URLs must name a local absolute path (file:///path), not host '\(host)'")
                }
                let encodedPath = rest.dropFirst(host.count)
                guard encodedPath.hasPrefix("/") else { throw bad("file:// URLs need an absolute path (file:///path)") }
                guard let path = percentDecoded(String(encodedPath)) else {
                    throw bad("the file:// URL has a malformed percent-escape")
                }
                return .file(path: path)
            default:
                throw bad("unsupported scheme '\(scheme)://'; use a path, file://, http:// or https://, or - for stdin")
            }
        }
        return .file(path: absolute(text, relativeTo: base))
    }

    static func absolute(_ path: String, relativeTo base: String?) -> String {
        if path.hasPrefix("/") { return path }
        let directory = base ?? currentDirectory()
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func quoted(_ text: String) -> String { "'" + text + "'" }
}
