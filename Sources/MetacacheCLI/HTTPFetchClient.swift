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
/// validators, or throws a `SourceFailure`; never leaves the helper running. A
/// signal terminates the helper at once (SIGTERM, then SIGKILL); if `metacache`
/// itself is killed, the helper sees end of file on its stdin and exits. A helper
/// that outlives `timeout` by 5 s is killed and reported as a timeout.
public struct HTTPFetchClient: Sendable {
    public let helperPath: String
    public let limit: Int
    public let timeout: Duration
    public let interrupts: InterruptSignals

    public enum Response: Sendable, Equatable {
        case payload(Data, validators: HTTPValidators, finalURL: String?)
        case notModified(validators: HTTPValidators)
    }

    public init(helperPath: String, limit: Int, timeout: Duration, interrupts: InterruptSignals) {
        self.helperPath = helperPath
        self.limit = limit
        self.timeout = timeout
        self.interrupts = interrupts
    }

    /// `metacache-fetch` in the directory of the running executable
    /// (`/proc/self/exe` on Linux, so symlinks to `metacache` work).
    public static func helperPath(nextTo executable: String?) -> String {
        var path = executable ?? CommandLine.arguments.first ?? "metacache"
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/metacache-fetch"
    }

    public func arguments(url: String, validators: HTTPValidators) -> [String] {
        var args = [
            helperPath, url, "--max-bytes", String(limit), "--timeout", String(timeout.seconds),
            "--max-redirects", String(FetchHelperReport.redirectLimit),
            "--report-fd", String(FetchHelperReport.reportDescriptor), "--exit-on-stdin-eof",
        ]
        if let etag = validators.etag { args += ["--if-none-match", etag] }
        if let lastModified = validators.lastModified { args += ["--if-modified-since", lastModified] }
        return args
    }

    public func fetch(_ url: String, validators: HTTPValidators) throws(SourceFailure) -> Response {
        guard access(helperPath, X_OK) == 0 else { throw .helperMissing(path: helperPath) }
        if interrupts.isInterrupted { throw .cancelled(source: url, bytesRead: 0) }
        let child = try HelperProcess.spawn(arguments(url: url, validators: validators))
        defer { child.reap() }

        var body: [UInt8] = []
        var report: [UInt8] = []
        var errors: [UInt8] = []
        let deadline = ContinuousClock.now + timeout + .seconds(5)
        var open = [child.body, child.report, child.errors]
        while !open.isEmpty {
            if interrupts.isInterrupted {
                child.terminate()
                throw .cancelled(source: url, bytesRead: body.count)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                child.terminate()
                throw .timedOut(url: url, seconds: timeout.seconds)
            }
            var entries = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            entries.append(pollfd(fd: interrupts.wakeDescriptor, events: Int16(POLLIN), revents: 0))
            let ready = poll(&entries, nfds_t(entries.count), Int32(clamping: Int64(left.milliseconds.rounded(.up))))
            if ready < 0 && errno != EINTR { throw .helperFailed(detail: "poll: \(Errno(rawValue: errno))") }
            if ready <= 0 { continue }
            if entries.last!.revents != 0 { continue }  // handled at the top of the loop
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
                        throw .tooLarge(source: url, limit: limit, size: nil)
                    }
                } else if fd == child.report {
                    if report.count < 64 * 1024 { report += chunk[0..<n] }
                } else if errors.count < 16 * 1024 {
                    errors += chunk[0..<n]
                }
            }
        }
        let termination = child.waitForExit()
        if interrupts.isInterrupted { throw .cancelled(source: url, bytesRead: body.count) }
        guard let result = FetchHelperReport.decode(report) else {
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
            return .payload(Data(body), validators: validators, finalURL: result.url)
        case .notModified:
            return .notModified(validators: validators)
        case .httpStatus:
            throw .httpStatus(url: url, status: result.status ?? 0, finalURL: result.url)
        case .unreachable:
            throw .unreachable(url: url, detail: result.detail ?? "unknown error")
        case .badURL:
            throw .badURL(url: url, detail: result.detail ?? "the helper could not use it")
        case .timeout:
            throw .timedOut(url: url, seconds: timeout.seconds)
        case .tooLarge:
            throw .tooLarge(source: url, limit: limit, size: result.bytes)
        case .tooManyRedirects:
            throw .tooManyRedirects(url: url, limit: FetchHelperReport.redirectLimit)
        case .cancelled:
            throw .cancelled(source: url, bytesRead: body.count)
        }
    }
}
