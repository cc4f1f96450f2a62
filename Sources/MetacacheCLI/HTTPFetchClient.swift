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

/// Fetches an HTTP(S) payload by running the `metacache-fetch` helper next to the
/// `metacache` executable, so that only HTTP refreshes pay for loading
/// FoundationNetworking (about 9 ms per start).
///
/// Guarantee: returns the complete body (at most `limit` bytes) and the response's
/// validators, or throws a `SourceFailure`; never leaves the helper running. The
/// whole exchange — starting the helper, connecting, the response and the body —
/// ends within `timeout` of the call, to within the 100 ms of one poll tick (the
/// helper keeps the same deadline as a backstop when run by hand). A signal
/// terminates the helper at once (SIGTERM, then SIGKILL); if `metacache` itself is
/// killed, the helper sees end of file on its stdin and exits.
///
/// While it runs, `progress` is called with the body bytes received so far (and
/// the announced size, when the response has one) after every chunk and at least
/// every 100 ms, and `log` receives the `--verbose` account of the request.
public struct HTTPFetchClient: Sendable {
    public let helperPath: String
    public let limit: Int
    /// The bound on the whole exchange; nil: none (`--fetch-timeout infinite`).
    public let timeout: Duration?
    public let interrupts: InterruptSignals
    /// The environment the helper inherits (read here only to explain the proxy).
    public let environment: EnvironmentVariables
    public let log: @Sendable (String) -> Void

    public enum Response: Sendable, Equatable {
        case payload(Data, validators: HTTPValidators, finalURL: String?)
        case notModified(validators: HTTPValidators)
    }

    public init(
        helperPath: String, limit: Int, timeout: Duration?, interrupts: InterruptSignals,
        environment: EnvironmentVariables = .process, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.helperPath = helperPath
        self.limit = limit
        self.timeout = timeout
        self.interrupts = interrupts
        self.environment = environment
        self.log = log
    }

    /// `metacache-fetch` in the directory of the running executable
    /// (`/proc/self/exe` on Linux, so symlinks to `metacache` work).
    public static func helperPath(nextTo executable: String?) -> String {
        let path = BackgroundRefreshInvocation.runningExecutable(executable)
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/metacache-fetch"
    }

    public func arguments(url: String, validators: HTTPValidators) -> [String] {
        var args = [
            helperPath, url, "--max-bytes", String(limit), "--timeout", timeout.map { String($0.seconds) } ?? "infinite",
            "--max-redirects", String(FetchHelperReport.redirectLimit),
            "--report-fd", String(FetchHelperReport.reportDescriptor), "--exit-on-stdin-eof",
        ]
        if let etag = validators.etag { args += ["--if-none-match", etag] }
        if let lastModified = validators.lastModified { args += ["--if-modified-since", lastModified] }
        return args
    }

    public func fetch(
        _ url: String, validators: HTTPValidators, progress: (_ received: Int, _ expected: Int?) -> Void = { _, _ in }
    ) throws(SourceFailure) -> Response {
        guard access(helperPath, X_OK) == 0 else { throw .helperMissing(path: helperPath) }
        if interrupts.isInterrupted { throw .cancelled(source: url, bytesRead: 0) }
        let sent = [validators.etag.map { "If-None-Match: \($0)" }, validators.lastModified.map { "If-Modified-Since: \($0)" }]
            .compactMap { $0 }
        log("HTTP request: GET \(url); " + (sent.isEmpty ? "no validators" : "sending " + sent.joined(separator: ", "))
            + "; proxy: \(HTTPProxySelection.choose(for: url, environment: environment))")
        let started = ContinuousClock.now
        let child = try HelperProcess.spawn(arguments(url: url, validators: validators))
        defer { child.reap() }

        var body: [UInt8] = []
        var reportLines = LineBuffer(limit: FetchHelperReport.lineLimit)
        var report: FetchHelperReport?
        var expected: Int?
        var errors: [UInt8] = []
        let deadline = timeout.map { started + $0 }
        var open = [child.body, child.report, child.errors]
        while !open.isEmpty {
            if interrupts.isInterrupted {
                child.terminate()
                throw .cancelled(source: url, bytesRead: body.count)
            }
            var tick = Duration.milliseconds(100)
            if let deadline, let timeout {
                let left = deadline - ContinuousClock.now
                guard left > .zero else {
                    child.terminate()
                    throw .timedOut(url: url, seconds: timeout.seconds)
                }
                tick = min(tick, left)
            }
            var entries = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            entries.append(pollfd(fd: interrupts.wakeDescriptor, events: Int16(POLLIN), revents: 0))
            let ready = poll(&entries, nfds_t(entries.count), Int32(clamping: Int64(tick.milliseconds.rounded(.up))))
            if ready < 0 && errno != EINTR { throw .helperFailed(detail: "poll: \(Errno(rawValue: errno))") }
            if ready > 0, entries.last!.revents == 0 {
                for entry in entries.dropLast() where entry.revents != 0 {
                    let fd = entry.fd
                    var chunk = [UInt8](repeating: 0, count: 256 * 1024)
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                    if n <= 0 {
                        open.removeAll { $0 == fd }
                        continue
                    }
                    if fd == child.body {
                        body += chunk[0..<n]
                        if body.count > limit {
                            child.terminate()
                            throw .tooLarge(source: url, limit: limit, evidence: .receivedBeforeStopping)
                        }
                    } else if fd == child.report {
                        guard let lines = reportLines.append(chunk[0..<n]) else {
                            child.terminate()
                            throw .helperFailed(detail: "its report has a line longer than \(ByteCountText.format(FetchHelperReport.lineLimit))")
                        }
                        for line in lines {
                            switch FetchHelperLine(line) {
                            case let .note(note): expected = handle(note) ?? expected
                            case let .report(final): report = final
                            case .unreadable: break
                            }
                        }
                    } else if errors.count < 16 * 1024 {
                        errors += chunk[0..<n]
                    }
                }
            }
            progress(body.count, expected)
        }
        let termination = child.waitForExit()
        if interrupts.isInterrupted { throw .cancelled(source: url, bytesRead: body.count) }
        if report == nil, let last = reportLines.remainder, case let .report(final) = FetchHelperLine(last) { report = final }
        guard let result = report else {
            let stderrText = String(decoding: errors, as: UTF8.self).trimmingWhitespace()
            throw .helperFailed(detail: "\(termination) without a report" + (stderrText.isEmpty ? "" : "; it said: \(stderrText)"))
        }
        let validators = HTTPValidators(etag: result.etag, lastModified: result.lastModified)
        switch result.outcome {
        case .ok:
            guard case .exited(0) = termination else {
                throw .helperFailed(detail: "reported success but \(termination)")
            }
            if let announced = result.bytes, announced != body.count {
                throw .helperFailed(detail: "body of \(body.count) bytes, but the helper counted \(announced)")
            }
            log("HTTP body: \(ByteCountText.format(body.count)) received in \(DurationText.format(ContinuousClock.now - started))")
            return .payload(Data(body), validators: validators, finalURL: result.url)
        case .notModified:
            log("HTTP 304 Not Modified: nothing downloaded")
            return .notModified(validators: validators)
        case .httpStatus:
            throw .httpStatus(url: url, status: result.status ?? 0, finalURL: result.url)
        case .unreachable:
            throw .unreachable(url: url, detail: result.detail ?? "unknown error")
        case .untrustedCertificate:
            throw .untrustedCertificate(url: url, detail: result.detail ?? "certificate verification failed")
        case .badURL:
            throw .badURL(url: url, detail: result.detail ?? "the helper could not use it")
        case .timeout:
            throw .timedOut(url: url, seconds: timeout?.seconds ?? 0)
        case .tooLarge:
            throw .tooLarge(
                source: url, limit: limit, evidence: result.contentLength.map { .contentLength($0) } ?? .receivedBeforeStopping)
        case .tooManyRedirects:
            throw .tooManyRedirects(url: url, limit: FetchHelperReport.redirectLimit)
        case .cancelled:
            throw .cancelled(source: url, bytesRead: body.count)
        }
    }

    /// Logs a note; returns the payload's announced size when the note gives it.
    private func handle(_ note: FetchHelperNote) -> Int? {
        switch note.note {
        case "response":
            let status = note.status.map { "\($0) \(HTTPStatusText.reason($0))" } ?? "a response"
            var size = ""
            if let code = note.status, (200..<300).contains(code) {
                if let encoding = note.contentEncoding {
                    size = "; Content-Encoding \(encoding), decompressed as it arrives (size known at the end)"
                } else if let expected = note.expectedBytes {
                    size = "; \(ByteCountText.format(expected)) announced (Content-Length: \(expected))"
                } else {
                    size = "; size not announced"
                }
            }
            log("HTTP response: \(status) from \(note.url ?? "the server")\(size)")
            return note.expectedBytes
        case "redirect":
            let status = note.status.map { "\($0) \(HTTPStatusText.reason($0))" } ?? "a redirect"
            log("HTTP redirect: \(status) to \(note.location ?? "an unknown location")")
        case "ignoredValidator":
            log("ignoring the response's \(note.name ?? "validator") header of \(note.bytes ?? 0) bytes: validators longer than "
                + "8192 bytes are not stored, so the next refresh of this source is not conditional")
        default:
            break
        }
        return nil
    }
}

/// Splits a byte stream into lines, refusing a line longer than `limit`.
struct LineBuffer {
    let limit: Int
    private var pending: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    /// The lines completed by `bytes` (without their newlines); nil when the line
    /// being read has grown past `limit`.
    mutating func append(_ bytes: ArraySlice<UInt8>) -> [[UInt8]]? {
        pending += bytes
        var lines: [[UInt8]] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if !line.isEmpty { lines.append(line) }
        }
        return pending.count > limit ? nil : lines
    }

    /// What followed the last newline (a report written without one).
    var remainder: [UInt8]? { pending.isEmpty ? nil : pending }
}
