#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A tiny HTTP/1.1 server on 127.0.0.1 (or ::1) for tests: one thread per
/// connection, `Connection: close`, answers decided by a closure per request. No
/// dependencies.
///
/// Besides plain responses it can stall (hold the connection without answering
/// until a `Gate` opens or the client goes away), which is how tests make a slow
/// source, hold a lock on it, and observe that a cancelled client really hung up.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Header names lowercased.
        public let headers: [String: String]
    }

    public enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
        /// Holds the connection without answering until `gate` opens, then sends `then`.
        indirect case stall(until: Gate, then: Reply)
        /// Closes the connection without answering.
        case hangUp
        /// Sends the head, then `body` in `chunks` pieces `interval` apart (a slow
        /// or trickling server), with a `Content-Length` only if `announceLength`
        /// (otherwise the body ends when the connection closes). Stops early if the
        /// client hangs up.
        case trickle(status: Int, headers: [(String, String)] = [], body: [UInt8], chunks: Int, interval: Duration, announceLength: Bool = true)
    }

    /// Where the server listens.
    public enum Address: Sendable {
        case ipv4Loopback
        case ipv6Loopback
    }

    /// Opens once; everyone waiting on it proceeds.
    public final class Gate: @unchecked Sendable {
        private let fds: [Int32]
        public init() {
            var fds: [Int32] = [-1, -1]
            _ = pipe(&fds)
            self.fds = fds
        }
        deinit { fds.forEach { close($0) } }
        public func open() {
            var byte: UInt8 = 1
            _ = write(fds[1], &byte, 1)
        }
        var readDescriptor: Int32 { fds[0] }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Request) -> Reply
    private let state = NSCondition()
    private var recorded: [Request] = []
    private var disconnectedWhileStalled = 0
    private var stopped = false
    private let stopGate = Gate()

    public let address: Address

    public init(address: Address = .ipv4Loopback, handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
        self.address = address
        let (fd, port) = try Self.listen(on: address)
        self.port = port
        listener = fd
        let acceptThread = Thread { [self] in acceptLoop() }
        acceptThread.start()
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT/path`, or `http://[::1]:PORT/path` for an IPv6 server.
    public func url(_ path: String) -> String {
        let host = address == .ipv6Loopback ? "[::1]" : "127.0.0.1"
        return "http://\(host):\(port)" + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// Whether this machine can listen on the IPv6 loopback address (a container
    /// without IPv6 cannot); nil when it can, else the reason.
    public static var ipv6LoopbackUnavailableReason: String? {
        do {
            let (fd, _) = try listen(on: .ipv6Loopback)
            close(fd)
            return nil
        } catch {
            return "no IPv6 loopback on this machine (\(error))"
        }
    }

    private static func listen(on address: Address) throws -> (Int32, UInt16) {
        let family = address == .ipv6Loopback ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildProcess.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        // Binds `socketAddress` (a sockaddr_in or sockaddr_in6) and reads back the
        // port the kernel chose (the `port` field sits at the same offset in both).
        func bindLoopback<Address>(_ socketAddress: inout Address) -> (bound: Int32, port: UInt16) {
            let size = socklen_t(MemoryLayout<Address>.size)
            let bound = withUnsafePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
            var length = size
            _ = withUnsafeMutablePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = withUnsafeBytes(of: &socketAddress) { $0.load(fromByteOffset: 2, as: UInt16.self) }
            return (bound, UInt16(bigEndian: port))
        }
        let (bound, port): (Int32, UInt16)
        switch address {
        case .ipv4Loopback:
            var inet = sockaddr_in()
            inet.sin_family = sa_family_t(AF_INET)
            inet.sin_addr.s_addr = inet_addr("127.0.0.1")
            (bound, port) = bindLoopback(&inet)
        case .ipv6Loopback:
            var inet6 = sockaddr_in6()
            inet6.sin6_family = sa_family_t(AF_INET6)
            inet6.sin6_addr = in6addr_loopback
            (bound, port) = bindLoopback(&inet6)
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ChildProcess.Failure(description: "bind/listen: \(reason)")
        }
        return (fd, port)
    }

    /// Stops accepting, releases every stalled connection.
    public func stop() {
        state.lock()
        let first = !stopped
        stopped = true
        state.unlock()
        guard first else { return }
        stopGate.open()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The requests received so far, in arrival order.
    public var requests: [Request] {
        state.lock()
        defer { state.unlock() }
        return recorded
    }

    /// Waits until `count` requests have arrived; false after `timeout`.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(30)) -> Bool {
        waitFor(timeout: timeout) { recorded.count >= count }
    }

    /// Waits until a client hung up on a stalled connection (it was cancelled or
    /// killed); false after `timeout`.
    public func waitForStalledClientToHangUp(timeout: Duration = .seconds(30)) -> Bool {
        waitFor(timeout: timeout) { disconnectedWhileStalled > 0 }
    }

    private func waitFor(timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        state.lock()
        defer { state.unlock() }
        while !condition() {
            if !state.wait(until: deadline) { return condition() }
        }
        return true
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let request = readRequest(client) else { return }
        state.lock()
        recorded.append(request)
        state.broadcast()
        state.unlock()
        var reply = handler(request)
        while case let .stall(gate, then) = reply {
            guard waitWhileStalled(client, gate: gate) else {
                state.lock()
                disconnectedWhileStalled += 1
                state.broadcast()
                state.unlock()
                return
            }
            reply = then
        }
        switch reply {
        case let .respond(status, headers, body):
            var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nConnection: close\r\n"
            if status != 304 && status != 204 { head += "Content-Length: \(body.count)\r\n" }
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            _ = sendAll(client, Array(head.utf8) + (status == 304 ? [] : body))
        case let .trickle(status, headers, body, chunks, interval, announceLength):
            var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nConnection: close\r\n"
            if announceLength { head += "Content-Length: \(body.count)\r\n" }
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            guard sendAll(client, Array(head.utf8)) else { return }
            let size = max(1, (body.count + max(1, chunks) - 1) / max(1, chunks))
            var offset = 0
            while offset < body.count {
                // The server's pace, not a synchronisation: the client sees a slow body.
                guard !waitForHangUpOrStop(client, for: interval) else { return }
                let end = min(body.count, offset + size)
                guard sendAll(client, Array(body[offset..<end])) else { return }
                offset = end
            }
        case .hangUp, .stall:
            return
        }
    }

    /// True when the gate opened; false when the client hung up (or the server stopped).
    private func waitWhileStalled(_ client: Int32, gate: Gate) -> Bool {
        while true {
            var entries = [
                pollfd(fd: gate.readDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopGate.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&entries, 3, -1) > 0 else { continue }
            if entries[0].revents != 0 { return true }
            if entries[1].revents != 0 {
                var byte: UInt8 = 0
                if recv(client, &byte, 1, Int32(MSG_PEEK)) <= 0 { return false }
            }
            if entries[2].revents != 0 { return false }
        }
    }

    /// Waits up to `interval`; true if the client hung up or the server stopped meanwhile.
    private func waitForHangUpOrStop(_ client: Int32, for interval: Duration) -> Bool {
        let deadline = ContinuousClock.now + interval
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var entries = [
                pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopGate.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ms = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            guard poll(&entries, 2, ms) > 0 else { continue }
            if entries[1].revents != 0 { return true }
            if entries[0].revents != 0 {
                var byte: UInt8 = 0
                if recv(client, &byte, 1, Int32(MSG_PEEK)) <= 0 { return true }
                // The client sent more (it should not): wait out the interval without spinning.
                var rest = [UInt8](repeating: 0, count: 4096)
                _ = recv(client, &rest, rest.count, 0)
            }
        }
    }

    private func readRequest(_ client: Int32) -> Request? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            data += chunk[0..<n]
            if let end = Self.headerEnd(data) {
                let text = String(decoding: data[..<end], as: UTF8.self)
                var lines = text.components(separatedBy: "\r\n")
                let first = lines.removeFirst().split(separator: " ")
                guard first.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return Request(method: String(first[0]), path: String(first[1]), headers: headers)
            }
        }
        return nil
    }

    private static func headerEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 404: "Not Found"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// A port on 127.0.0.1 that nobody listens on (bound, then closed), for
    /// "connection refused" tests.
    public static func unusedPort() -> UInt16 {
        guard let server = try? LoopbackHTTPServer(handler: { _ in .hangUp }) else { return 9 }
        let port = server.port
        server.stop()
        return port
    }
}
