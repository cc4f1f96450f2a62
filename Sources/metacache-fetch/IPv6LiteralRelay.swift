#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An `http://` URL whose host is an IPv6 address literal (`http://[::1]:8080/x`,
/// `http://[fe80::1%25eth0]/x`), taken apart.
///
/// Why it exists: FoundationNetworking on Linux refuses every such URL with
/// `URLError.badURL` before connecting — it compares `URL.host` (`::1`) with the
/// host libcurl parses from the same URL (`[::1]`), and they never agree
/// (swift-corelibs-foundation, `_EasyHandle.set(url:)`). `IPv6LiteralRelay` is
/// how the helper fetches them anyway.
struct IPv6LiteralURL: Equatable {
    var scheme: String
    /// `user:password` before the `@`, percent-encoded as in the URL.
    var userinfo: String?
    /// The address inside the brackets, without the zone: `::1`.
    var address: String
    /// The zone (interface) after `%25`, decoded: `eth0`.
    var zone: String?
    var port: UInt16?
    /// Everything after the authority: `/path?query#fragment` (may be empty).
    var rest: Substring

    init?(_ text: String) {
        guard let separator = text.range(of: "://") else { return nil }
        scheme = text[..<separator.lowerBound].lowercased()
        let afterScheme = text[separator.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        rest = afterScheme[authority.endIndex...]
        var hostAndPort = authority
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[..<at])
            hostAndPort = authority[authority.index(after: at)...]
        }
        guard hostAndPort.hasPrefix("["), let close = hostAndPort.firstIndex(of: "]") else { return nil }
        var inside = hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close]
        if let zoneStart = inside.range(of: "%25") {
            zone = String(inside[zoneStart.upperBound...])
            inside = inside[..<zoneStart.lowerBound]
        }
        address = String(inside)
        let afterHost = hostAndPort[hostAndPort.index(after: close)...]
        if afterHost.hasPrefix(":"), !afterHost.dropFirst().isEmpty {
            guard let number = UInt16(afterHost.dropFirst()), number > 0 else { return nil }
            port = number
        } else if !afterHost.isEmpty && afterHost != ":" {
            return nil
        }
        var storage = in6_addr()
        guard inet_pton(AF_INET6, address, &storage) == 1 else { return nil }
    }

    /// `[::1]:8080` (the zone is never sent: RFC 6874, section 2).
    var hostHeader: String { "[\(address)]" + (port.map { ":\($0)" } ?? "") }

    /// The same URL with its authority replaced by `127.0.0.1:localPort`.
    func relayed(toLocalPort localPort: UInt16) -> String {
        "\(scheme)://" + (userinfo.map { $0 + "@" } ?? "") + "127.0.0.1:\(localPort)" + rest
    }

    /// The address to connect to (port 80 when the URL names none).
    func socketAddress() -> sockaddr_in6? {
        var address6 = sockaddr_in6()
        address6.sin6_family = sa_family_t(AF_INET6)
        address6.sin6_port = (port ?? 80).bigEndian
        guard inet_pton(AF_INET6, address, &address6.sin6_addr) == 1 else { return nil }
        if let zone {
            let index = UInt32(zone) ?? if_nametoindex(zone)
            guard index != 0 else { return nil }
            address6.sin6_scope_id = index
        }
        return address6
    }
}

#if os(Linux)
/// Forwards the connections URLSession makes to `127.0.0.1:localPort` to one
/// IPv6 address and port, byte for byte, so that an `http://[v6]/…` URL is
/// fetched as `http://127.0.0.1:localPort/…` with `Host: [v6]:port`.
///
/// Guarantee: every byte is relayed unchanged in both directions until each side
/// has closed its half; a connection that cannot reach the target is closed at
/// once and the reason kept (`connectFailure`) for the report. Only plain
/// `http://` can be relayed: TLS would verify the certificate against
/// `127.0.0.1`. The listener accepts only on the loopback interface and lives as
/// long as the helper process (one fetch).
final class IPv6LiteralRelay: @unchecked Sendable {
    let target: IPv6LiteralURL
    let localPort: UInt16
    private let listener: Int32
    private let destination: sockaddr_in6
    private let lock = NSLock()
    private var failure: String?

    struct SetupError: Error { let detail: String }

    init(_ target: IPv6LiteralURL) throws(SetupError) {
        self.target = target
        guard let destination = target.socketAddress() else {
            throw SetupError(detail: "the IPv6 address [\(target.address)] or its zone '\(target.zone ?? "")' is not usable here")
        }
        self.destination = destination
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(detail: "socket: \(String(cString: strerror(errno)))") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SetupError(detail: "listening on 127.0.0.1: \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        localPort = UInt16(bigEndian: local.sin_port)
        let acceptor = Thread { [self] in acceptLoop() }
        acceptor.start()
    }

    /// Why the last connection to the target failed, if one did.
    var connectFailure: String? { lock.withLock { failure } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let connection = Thread { [self] in relay(client) }
            connection.start()
        }
    }

    private func relay(_ client: Int32) {
        defer { close(client) }
        let upstream = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else {
            record("socket: \(String(cString: strerror(errno)))")
            return
        }
        defer { close(upstream) }
        var address = destination
        var connected: Int32
        repeat {
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } while connected != 0 && errno == EINTR
        guard connected == 0 else {
            record("connecting to \(target.hostHeader): \(String(cString: strerror(errno)))")
            return
        }
        // Both directions in one loop; a side that reaches end of file has its
        // half closed on the other socket, and the loop ends when both have.
        var open = [client: true, upstream: true]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while open.values.contains(true) {
            var entries = open.filter(\.value).map { pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0) }
            if poll(&entries, nfds_t(entries.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            for entry in entries where entry.revents != 0 {
                let peer = entry.fd == client ? upstream : client
                let n = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    open[entry.fd] = false
                    shutdown(peer, Int32(SHUT_WR))
                    if n < 0 { return }
                    continue
                }
                guard buffer.withUnsafeBytes({ sendAll(peer, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) else { return }
            }
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    private func record(_ detail: String) {
        lock.withLock { failure = detail }
    }
}
#endif
