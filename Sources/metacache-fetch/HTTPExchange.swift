#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MetadataCache

/// One GET through URLSession with a delegate, so the body can be streamed to
/// stdout and cut off at the size limit, and redirects counted.
///
/// Guarantees:
/// - `run` returns exactly one report, and never later than `--timeout` after it
///   started (or, with `infinite`, when the exchange ends or is cancelled): the
///   deadline is this process's own, exact to the millisecond. URLSession's
///   timeouts cannot provide it on Linux — libcurl's whole-transfer timeout is
///   whole seconds (2.5 became 2) and its idle timer restarts with every chunk of
///   a trickling body — so they are set past the deadline and never fire first.
/// - Validators (`ETag`, `Last-Modified`) longer than the cache format stores
///   (8192 bytes) are dropped and noted, never put in the report.
/// - An `http://` URL whose host is an IPv6 literal is fetched through
///   `IPv6LiteralRelay` on Linux, where FoundationNetworking refuses it.
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let arguments: FetchArguments
    private let url: URL
    private let reportChannel: ReportChannel
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    // Delegate state: touched on the session's serial delegate queue, read by the
    // main thread only after `finished` is signalled (and under `lock`).
    private var response: HTTPURLResponse?
    private var received = 0
    private var redirects = 0
    private var verdict: FetchReport?
    #if os(Linux)
    /// Relays by local port, for IPv6-literal hosts (the source's, and any a redirect names).
    private var relays: [UInt16: IPv6LiteralRelay] = [:]
    #endif

    init(arguments: FetchArguments, url: URL, report: ReportChannel) {
        self.arguments = arguments
        self.url = url
        self.reportChannel = report
    }

    func run() -> FetchReport {
        let started = DispatchTime.now()
        // Past our own deadline (see the type's comment); a year when there is none.
        let backstop = (arguments.timeoutSeconds.map { $0.rounded(.up) + 5 }) ?? 365 * 86_400
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = backstop
        configuration.timeoutIntervalForResource = backstop
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: backstop)
        do {
            try route(&request, beforeSession: true)
        } catch {
            return error.report
        }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("metacache-fetch/0.1", forHTTPHeaderField: "User-Agent")
        if let etag = arguments.ifNoneMatch { request.setValue(etag, forHTTPHeaderField: "If-None-Match") }
        if let date = arguments.ifModifiedSince { request.setValue(date, forHTTPHeaderField: "If-Modified-Since") }
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
        let task = session.dataTask(with: request)
        task.resume()
        let deadline = arguments.timeoutSeconds.map { started + $0 } ?? .distantFuture
        if finished.wait(timeout: deadline) == .timedOut {
            task.cancel()
            let seconds = arguments.timeoutSeconds ?? 0
            settle(FetchReport(
                outcome: "timeout", url: url.absoluteString,
                detail: "no complete answer within \(DurationText.format(seconds: seconds)) (\(lock.withLock { received }) bytes received)"))
        }
        session.invalidateAndCancel()
        return lock.withLock { verdict! }
    }

    /// A URL this exchange cannot start on.
    struct RouteError: Error {
        let report: FetchReport
    }

    /// Points `request` at a relay when its host is an IPv6 literal (Linux).
    private func route(_ request: inout URLRequest, beforeSession: Bool) throws(RouteError) {
        #if os(Linux)
        guard let target = request.url.flatMap({ IPv6LiteralURL($0.absoluteString) }) else { return }
        guard target.scheme == "http" else {
            throw RouteError(report: FetchReport(
                outcome: "badURL", url: url.absoluteString,
                detail: "an https:// URL whose host is an IPv6 address cannot be fetched on Linux (FoundationNetworking refuses it); "
                    + "use a host name that resolves to the address (for ::1, localhost)"))
        }
        do {
            let relay = try relay(for: target, mayEditEnvironment: beforeSession)
            request.url = URL(string: target.relayed(toLocalPort: relay.localPort))
            request.setValue(target.hostHeader, forHTTPHeaderField: "Host")
        } catch {
            throw RouteError(report: FetchReport(outcome: "unreachable", url: url.absoluteString, detail: error.detail))
        }
        #endif
    }

    #if os(Linux)
    private func relay(
        for target: IPv6LiteralURL, mayEditEnvironment: Bool
    ) throws(IPv6LiteralRelay.SetupError) -> IPv6LiteralRelay {
        if let existing = lock.withLock({ relays.values.first { $0.target.socketAddressKey == target.socketAddressKey } }) {
            return existing
        }
        if mayEditEnvironment {
            // The relay's 127.0.0.1 must never be sent to a proxy (libcurl does not
            // exempt loopback by itself). Set only before the session exists, while
            // no other thread reads the environment (setenv is not thread-safe), so
            // a redirect from a host name to an IPv6 literal is relayed directly
            // only when no proxy variable applies to 127.0.0.1.
            let existing = getenv("no_proxy").map { String(cString: $0) } ?? getenv("NO_PROXY").map { String(cString: $0) } ?? ""
            setenv("no_proxy", existing.isEmpty ? "127.0.0.1" : existing + ",127.0.0.1", 1)
        }
        let relay = try IPv6LiteralRelay(target)
        lock.withLock { relays[relay.localPort] = relay }
        return relay
    }

    private func relay(at url: URL?) -> IPv6LiteralRelay? {
        guard let url, url.host == "127.0.0.1", let port = url.port.flatMap({ UInt16(exactly: $0) }) else { return nil }
        return lock.withLock { relays[port] }
    }
    #endif

    /// The URL as the user knows it: a relay's `127.0.0.1:port` mapped back to its IPv6 target.
    private func displayed(_ url: URL?) -> String {
        guard let url else { return self.url.absoluteString }
        #if os(Linux)
        if let relay = relay(at: url), let authority = url.absoluteString.range(of: "127.0.0.1:\(relay.localPort)") {
            return url.absoluteString.replacingCharacters(in: authority, with: relay.target.hostHeader)
        }
        #endif
        return url.absoluteString
    }

    /// Records the final report once; later calls are ignored.
    private func settle(_ report: FetchReport) {
        let first = lock.withLock { () -> Bool in
            guard verdict == nil else { return false }
            verdict = report
            return true
        }
        if first { finished.signal() }
    }

    private var isSettled: Bool { lock.withLock { verdict != nil } }

    private func header(_ name: String, of response: HTTPURLResponse) -> String? {
        if let value = response.value(forHTTPHeaderField: name) { return value }
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, key.lowercased() == name.lowercased() { return value as? String }
        }
        return nil
    }

    /// A validator the cache can store, or nil (noted) when it is longer than the
    /// format keeps: no server sends an 8 KiB validator in good faith, and a
    /// hostile one must not reach the report.
    private func validator(_ name: String, of response: HTTPURLResponse?) -> String? {
        guard let response, let value = header(name, of: response) else { return nil }
        let size = value.utf8.count
        guard size <= CacheHeader.maximumFieldBytes else {
            reportChannel.note("ignoredValidator", [("name", JSONText.quoted(name)), ("bytes", String(size))])
            return nil
        }
        return value
    }

    private func report(_ outcome: String, _ response: HTTPURLResponse?, bytes: Int? = nil, detail: String? = nil) -> FetchReport {
        FetchReport(
            outcome: outcome, status: response?.statusCode, url: displayed(response?.url ?? url),
            etag: validator("ETag", of: response), lastModified: validator("Last-Modified", of: response),
            bytes: bytes, detail: detail)
    }

    // MARK: URLSessionDataDelegate

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            settle(FetchReport(outcome: "unreachable", url: url.absoluteString, detail: "not an HTTP response"))
            completionHandler(.cancel)
            return
        }
        lock.withLock { self.response = http }
        // The total is a byte count of the payload only when the body is not
        // content-encoded (libcurl decompresses gzip/deflate/br as it arrives).
        let encoding = header("Content-Encoding", of: http).flatMap { $0.lowercased() == "identity" ? nil : $0 }
        var fields = [("status", String(http.statusCode)), ("url", JSONText.quoted(FetchReport.bounded(displayed(http.url))))]
        if let encoding {
            fields.append(("contentEncoding", JSONText.quoted(FetchReport.bounded(encoding))))
        } else if http.expectedContentLength >= 0 {
            fields.append(("expectedBytes", String(http.expectedContentLength)))
        }
        reportChannel.note("response", fields)
        switch http.statusCode {
        case 200..<300:
            if http.expectedContentLength > Int64(arguments.maximumBytes) {
                var refusal = report("tooLarge", http)
                refusal.contentLength = Int(http.expectedContentLength)
                settle(refusal)
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        case 304:
            settle(report("notModified", http))
            completionHandler(.cancel)
        case 300..<400 where lock.withLock({ redirects }) >= arguments.maximumRedirects:
            settle(report("tooManyRedirects", http))
            completionHandler(.cancel)
        default:
            // An error page is not worth downloading.
            settle(report("httpStatus", http))
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard !isSettled else { return }
        let total = lock.withLock { () -> Int in
            received += data.count
            return received
        }
        if total > arguments.maximumBytes {
            settle(report("tooLarge", lock.withLock { response }, bytes: total))
            dataTask.cancel()
            return
        }
        let written = data.withUnsafeBytes { FetchCommand.writeAll(1, $0) }
        if !written {
            settle(FetchReport(outcome: "cancelled", url: url.absoluteString, detail: "the body pipe was closed"))
            dataTask.cancel()
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        let count = lock.withLock { () -> Int in
            redirects += 1
            return redirects
        }
        if count > arguments.maximumRedirects {
            settle(report("tooManyRedirects", response))
            completionHandler(nil)
            return
        }
        var next = request
        do {
            try route(&next, beforeSession: false)
            #if os(Linux)
            // A relative redirect stays on the relay: keep telling the server its own name.
            if let relay = relay(at: next.url) { next.setValue(relay.target.hostHeader, forHTTPHeaderField: "Host") }
            #endif
        } catch {
            settle(error.report)
            completionHandler(nil)
            return
        }
        reportChannel.note("redirect", [
            ("status", String(response.statusCode)), ("location", JSONText.quoted(FetchReport.bounded(displayed(next.url)))),
        ])
        completionHandler(next)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if isSettled { return }
        let response = lock.withLock { self.response }
        if let error {
            settle(Self.classify(error, url: url.absoluteString, relayFailure: relayFailure))
            return
        }
        guard let response else {
            settle(FetchReport(outcome: "unreachable", url: url.absoluteString, detail: "no response"))
            return
        }
        switch response.statusCode {
        case 200..<300: settle(report("ok", response, bytes: lock.withLock { received }))
        case 304: settle(report("notModified", response))
        default: settle(report("httpStatus", response))
        }
    }

    /// Why a relayed connection could not reach its IPv6 target, if one failed.
    private var relayFailure: String? {
        #if os(Linux)
        return lock.withLock { relays.values.compactMap(\.connectFailure).first }
        #else
        return nil
        #endif
    }

    /// The report for a transfer that ended with `error`.
    static func classify(_ error: any Error, url: String, relayFailure: String? = nil) -> FetchReport {
        let code = (error as? URLError)?.code
        let description = error.localizedDescription
        let withCode = "\(description)\(code.map { " (URLError \($0.rawValue))" } ?? "")"
        switch code {
        case .timedOut?:
            return FetchReport(outcome: "timeout", url: url, detail: description)
        case .cancelled?:
            return FetchReport(outcome: "cancelled", url: url, detail: description)
        case .badURL?, .unsupportedURL?:
            // A URL that URL(string:) accepted but libcurl cannot use (a port
            // out of range, a bracketed host that is no IPv6 address): the
            // user's URL is wrong, not the network.
            return FetchReport(outcome: "badURL", url: url, detail: "the URL is malformed (\(withCode))")
        default:
            if let relayFailure { return FetchReport(outcome: "unreachable", url: url, detail: relayFailure) }
            if TLSVerificationFailure.matches(error) { return FetchReport(outcome: "untrustedCertificate", url: url, detail: description) }
            return FetchReport(outcome: "unreachable", url: url, detail: withCode)
        }
    }
}

#if os(Linux)
extension IPv6LiteralURL {
    /// Address, zone and port: two URLs with the same key reach the same socket.
    var socketAddressKey: String { "[\(address)%\(zone ?? "")]:\(port ?? 80)" }
}
#endif

/// Whether a transfer failed because the server's certificate was not trusted
/// (unknown or private CA, self-signed, expired, wrong host name).
///
/// On Linux FoundationNetworking reports every TLS failure as `URLError.unknown`
/// (-1) with libcurl's error text, so the text is what tells: libcurl's OpenSSL
/// backend says `SSL certificate problem: …` when the chain does not verify, and
/// `SSL: no alternative certificate subject name matches …` or `SSL: certificate
/// subject name … does not match …` when the name does not. Darwin has codes.
enum TLSVerificationFailure {
    static func matches(_ error: any Error) -> Bool {
        if let code = (error as? URLError)?.code {
            switch code {
            case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
                .serverCertificateNotYetValid:
                return true
            default: break
            }
        }
        let text = error.localizedDescription
        return text.contains("SSL certificate problem") || text.contains("certificate subject name")
            || text.contains("SSL peer certificate or SSH remote key was not OK")
    }
}
