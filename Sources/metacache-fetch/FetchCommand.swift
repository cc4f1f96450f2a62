#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `metacache-fetch`: one HTTP(S) GET for `metacache cache refresh`, in its own
/// process so that only HTTP refreshes load FoundationNetworking.
///
/// Protocol (the parent is `HTTPFetchClient` in MetacacheCLI):
/// - the body of a 2xx response is streamed to stdout, never more than
///   `--max-bytes` (a larger `Content-Length` is refused before reading; a body
///   that grows past the limit is cut off and reported `tooLarge`);
/// - JSON lines go to `--report-fd`: notes while the exchange runs (the response's
///   status and expected size, redirects, validators ignored), then the one
///   report, always the last line (see `ReportChannel` and `FetchReport`);
/// - exit 0 for 2xx and 304, 65 too large, 69 HTTP error status / network failure
///   / timeout / too many redirects, 64 bad arguments or URL, 130 cancelled;
/// - `If-None-Match` / `If-Modified-Since` are sent when given; no cache of its
///   own is used (so a 304 reaches the parent as a 304);
/// - redirects are followed up to `--max-redirects`;
/// - `--timeout` bounds the whole exchange (connect, headers and body), to the
///   millisecond; `infinite` removes the bound;
/// - an `http://` URL whose host is an IPv6 literal is fetched through a loopback
///   relay on Linux (`IPv6LiteralRelay`), where FoundationNetworking refuses it;
/// - with `--exit-on-stdin-eof` it exits at once when stdin reaches end of file,
///   which happens when the parent dies, however it dies.
enum FetchCommand {
    static func main(_ argv: [String]) -> Int32 {
        let arguments: FetchArguments
        do {
            arguments = try FetchArguments(argv)
        } catch {
            if let message = error.message {
                writeAll(2, "metacache-fetch: \(message)\n\(FetchArguments.usage)\n")
                return 64
            }
            writeAll(1, FetchArguments.usage + "\n")
            return 0
        }
        // A parent that stops reading must not kill us silently mid-report.
        signal(SIGPIPE, SIG_IGN)
        if arguments.exitOnStdinEOF { ParentWatch.start() }

        let channel = ReportChannel(fd: arguments.reportDescriptor)
        let report: FetchReport
        if let url = URL(string: arguments.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        {
            report = HTTPExchange(arguments: arguments, url: url, report: channel).run()
        } else {
            report = FetchReport(outcome: "badURL", url: arguments.url, detail: "not an http(s) URL with a well-formed host and port")
        }
        channel.finish(report)
        return report.exitStatus
    }

    /// Writes everything, retrying short writes; false on failure (EPIPE: the
    /// parent stopped reading).
    @discardableResult
    static func writeAll(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    @discardableResult
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}

/// Ends the process when stdin reaches end of file (the parent is gone).
enum ParentWatch {
    static func start() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { _exit(130) }
            }
        }
        thread.start()
    }
}
