/// Which proxy the HTTP stack will use for a URL, read from the environment with
/// libcurl's rules, for `--verbose` and for the warning about `HTTP_PROXY`.
///
/// `metacache-fetch` does not choose a proxy itself: FoundationNetworking leaves
/// it to libcurl, which reads the environment of the process (the helper inherits
/// ours). libcurl's rules, checked against libcurl 7.88 by the proxy tests in
/// IntegrationTests/HTTPNetworkEdgeTests.swift:
///
/// - `http://` URLs: `http_proxy` — lowercase only; `HTTP_PROXY` is ignored (a CGI
///   program gets a request's `Proxy:` header as `HTTP_PROXY`: "httpoxy");
/// - `https://` URLs: `https_proxy`, then `HTTPS_PROXY`;
/// - then, for both: `all_proxy`, then `ALL_PROXY`;
/// - `no_proxy` (else `NO_PROXY`): comma-separated host names, domains (a leading
///   dot is optional) and IP addresses that go direct; `*` alone: everything.
///   Loopback is not exempt by itself.
///
/// An `http://` URL whose host is an IPv6 literal always goes direct on Linux
/// (`metacache-fetch` relays it through 127.0.0.1; see `IPv6LiteralRelay`).
public enum HTTPProxySelection: Sendable, Equatable, CustomStringConvertible {
    case direct(reason: String)
    case proxy(String, variable: String)

    public var description: String {
        switch self {
        case let .direct(reason): "none (\(reason))"
        case let .proxy(proxy, variable): "\(proxy) (from \(variable))"
        }
    }

    public static func choose(for url: String, environment: EnvironmentVariables) -> HTTPProxySelection {
        guard let separator = url.firstRange(of: "://") else { return .direct(reason: "not an http(s) URL") }
        let scheme = url[..<separator.lowerBound].lowercased()
        let host = hostName(in: url[separator.upperBound...])
        #if os(Linux)
        if scheme == "http", host.contains(":") {
            return .direct(reason: "an IPv6 address literal is fetched directly on Linux, never through a proxy")
        }
        #endif
        let candidates = scheme == "https" ? ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] : ["http_proxy", "all_proxy", "ALL_PROXY"]
        guard let variable = candidates.first(where: { environment[$0] != nil }), let proxy = environment[variable] else {
            if scheme == "http", environment["HTTP_PROXY"] != nil {
                return .direct(reason: "HTTP_PROXY is ignored for http:// URLs; only lowercase http_proxy is read")
            }
            return .direct(reason: "no proxy variable is set")
        }
        let exemptionVariable = environment["no_proxy"] != nil ? "no_proxy" : "NO_PROXY"
        if let exemptions = environment[exemptionVariable], let entry = matchingExemption(host, in: exemptions) {
            return .direct(reason: "\(exemptionVariable) lists \(entry)")
        }
        return .proxy(proxy, variable: variable)
    }

    /// Whether `http_proxy` is missing while `HTTP_PROXY` is set, for an http:// URL
    /// that would otherwise go direct: the user most likely meant a proxy.
    public static func ignoresUppercaseHTTPProxy(for url: String, environment: EnvironmentVariables) -> Bool {
        if case let .direct(reason) = choose(for: url, environment: environment) { return reason.hasPrefix("HTTP_PROXY is ignored") }
        return false
    }

    /// The host of an authority-first URL remainder, without brackets, user
    /// information or port, lowercased.
    static func hostName(in rest: Substring) -> String {
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            var inside = authority[authority.index(after: authority.startIndex)..<close]
            if let zone = inside.firstRange(of: "%25") { inside = inside[..<zone.lowerBound] }
            return inside.lowercased()
        }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }

    /// The `no_proxy` entry that exempts `host`, if any.
    static func matchingExemption(_ host: String, in list: String) -> String? {
        for raw in list.split(separator: ",") {
            var entry = String(raw).trimmingWhitespace().lowercased()
            if entry == "*" { return "*" }
            let shown = entry
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("["), entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return shown }
        }
        return nil
    }
}
