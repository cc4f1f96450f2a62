#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks the authority of an `http(s)://` source — `[userinfo@]host[:port]` —
/// before anything is locked or fetched (RFC 3986, section 3.2).
///
/// Guarantee: a URL this accepts has a non-empty host that is a registered name
/// (letters, digits, `-._~`, sub-delimiters, well-formed `%HH`), an IPv4 address,
/// or a bracketed IPv6 address that `inet_pton` accepts (an optional `%25` zone
/// after it); and, when a port is given, decimal digits in 1...65535. Without
/// this check a typo such as `http://host:abc/x` took the lock, started the
/// helper and ended as "check the network" (69) instead of a usage error (64).
enum HTTPSourceAuthority {
    /// The problem with `authority` (the text between `://` and the first `/`,
    /// `?` or `#`), or nil when it is well-formed.
    static func problem(in authority: Substring) -> String? {
        guard !authority.isEmpty else { return "the URL has no host" }
        var hostAndPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostAndPort = authority[authority.index(after: at)...]
            if userinfo.isEmpty { return "the URL has an empty user name before '@'" }
            if let bad = userinfo.first(where: { !isUnreserved($0) && !isSubDelimiter($0) && $0 != ":" && $0 != "%" }) {
                return "the user name part '\(userinfo)' contains '\(bad)'; percent-encode it"
            }
            if !hasWellFormedEscapes(userinfo) { return "the user name part '\(userinfo)' has a malformed percent-escape" }
        }
        let host: Substring
        var port: Substring?
        if hostAndPort.hasPrefix("[") {
            guard let close = hostAndPort.firstIndex(of: "]") else {
                return "the IPv6 address '\(hostAndPort)' has no closing ']'"
            }
            host = hostAndPort[...close]
            let after = hostAndPort[hostAndPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "unexpected '\(after)' after the IPv6 address \(host); expected ':PORT' or '/'" }
                port = after.dropFirst()
            }
            if let problem = ipv6Problem(host) { return problem }
        } else {
            if let colon = hostAndPort.firstIndex(of: ":") {
                host = hostAndPort[..<colon]
                port = hostAndPort[hostAndPort.index(after: colon)...]
            } else {
                host = hostAndPort
            }
            guard !host.isEmpty else { return "the URL has no host" }
            if let bad = host.first(where: { !isUnreserved($0) && !isSubDelimiter($0) && $0 != "%" }) {
                let hint = bad == "[" || bad == "]" ? " (an IPv6 address goes in brackets: http://[::1]:8080/)" : ""
                return "the host '\(host)' contains '\(bad)', which a host name cannot contain\(hint)"
            }
            if !hasWellFormedEscapes(host) { return "the host '\(host)' has a malformed percent-escape" }
        }
        if let port, !port.isEmpty {
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return "the port '\(port)' is not a number (expected 1-65535)"
            }
            guard port.count <= 5, let number = Int(port), (1...65535).contains(number) else {
                return "the port \(port) is out of range (expected 1-65535)"
            }
        }
        return nil
    }

    /// `[::1]`, `[fe80::1%25eth0]`: the address must parse as IPv6.
    private static func ipv6Problem(_ bracketed: Substring) -> String? {
        let inside = bracketed.dropFirst().dropLast()
        if inside.hasPrefix("v") || inside.hasPrefix("V") { return "IPvFuture address \(bracketed) is not supported" }
        var address = inside
        if let zone = inside.firstRange(of: "%25") {
            address = inside[..<zone.lowerBound]
            let name = inside[zone.upperBound...]
            guard !name.isEmpty, name.allSatisfy({ isUnreserved($0) }) else { return "the IPv6 zone in \(bracketed) is malformed" }
        }
        var storage = in6_addr()
        guard !address.isEmpty, inet_pton(AF_INET6, String(address), &storage) == 1 else {
            return "\(bracketed) is not a valid IPv6 address"
        }
        return nil
    }

    private static func isUnreserved(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return (a >= 0x30 && a <= 0x39) || (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A) || "-._~".contains(c)
    }

    private static func isSubDelimiter(_ c: Character) -> Bool { "!$&'()*+,;=".contains(c) }

    /// Every `%` is followed by two hex digits.
    private static func hasWellFormedEscapes(_ text: Substring) -> Bool {
        var rest = text[...]
        while let percent = rest.firstIndex(of: "%") {
            let digits = rest[rest.index(after: percent)...].prefix(2)
            guard digits.count == 2, digits.allSatisfy(\.isHexDigit) else { return false }
            rest = rest[rest.index(percent, offsetBy: 3)...]
        }
        return true
    }
}
