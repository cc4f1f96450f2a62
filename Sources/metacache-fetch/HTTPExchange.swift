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

/// One GET through URLSession with a delegate, so the body can be streamed to
/// stdout and cut off at the size limit, and redirects counted.
///
/// Guarantee: `run` returns exactly one report, within the timeout plus a few
/// seconds, whatever the server does (the semaphore wait has its own deadline).
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let arguments: FetchArguments
    private let url: URL
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    // Delegate state: touched on the session's serial delegate queue, read by the
    // main thread only after `finished` is signalled (and under `lock`).
    private var response: HTTPURLResponse?
    private var received = 0
    private var redirects = 0
    private var verdict: FetchReport?

    init(arguments: FetchArguments, url: URL) {
        self.arguments = arguments
        self.url = url
    }

    func run() -> FetchReport {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = arguments.timeoutSeconds
        configuration.timeoutIntervalForResource = arguments.timeoutSeconds
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: arguments.timeoutSeconds)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("metacache-fetch/0.1", forHTTPHeaderField: "User-Agent")
        if let etag = arguments.ifNoneMatch { request.setValue(etag, forHTTPHeaderField: "If-None-Match") }
        if let date = arguments.ifModifiedSince { request.setValue(date, forHTTPHeaderField: "If-Modified-Since") }
        let task = session.dataTask(with: request)
        task.resume()
        if finished.wait(timeout: .now() + arguments.timeoutSeconds + 3) == .timedOut {
            task.cancel()
            settle(FetchReport(outcome: "timeout", url: url.absoluteString, detail: "no answer within \(arguments.timeoutSeconds) s"))
        }
        session.invalidateAndCancel()
        return lock.withLock { verdict! }
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

    private func report(_ outcome: String, _ response: HTTPURLResponse?, bytes: Int? = nil, detail: String? = nil) -> FetchReport {
        FetchReport(
            outcome: outcome, status: response?.statusCode, url: response?.url?.absoluteString ?? url.absoluteString,
            etag: response.flatMap { header("ETag", of: $0) }, lastModified: response.flatMap { header("Last-Modified", of: $0) },
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
        switch http.statusCode {
        case 200..<300:
            if http.expectedContentLength > Int64(arguments.maximumBytes) {
                settle(report("tooLarge", http, bytes: Int(http.expectedContentLength)))
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
        completionHandler(request)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if isSettled { return }
        let response = lock.withLock { self.response }
        if let error {
            let code = (error as? URLError)?.code
            switch code {
            case .timedOut?:
                settle(FetchReport(outcome: "timeout", url: url.absoluteString, detail: error.localizedDescription))
            case .cancelled?:
                settle(FetchReport(outcome: "cancelled", url: url.absoluteString, detail: error.localizedDescription))
            case .badURL?, .unsupportedURL?:
                // A URL that URL(string:) accepted but libcurl cannot use (a port
                // out of range, a bracketed host that is no IPv6 address): the
                // user's URL is wrong, not the network.
                settle(FetchReport(
                    outcome: "badURL", url: url.absoluteString,
                    detail: "the URL is malformed (\(error.localizedDescription), URLError \(code?.rawValue ?? 0))"))
            default:
                settle(FetchReport(
                    outcome: "unreachable", url: url.absoluteString,
                    detail: "\(error.localizedDescription)\(code.map { " (URLError \($0.rawValue))" } ?? "")"))
            }
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
}
