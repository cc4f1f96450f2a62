import MetadataCache

/// Why a refresh could not get a payload from its source. Each case maps to one
/// exit status and says what to do next; none of them writes anything.
public enum SourceFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not exist (66).
    case missing(path: String)
    /// The path exists but is not something a payload can be read from: a
    /// directory, a socket (66).
    case notReadable(path: String, what: String)
    /// Permission denied opening the source (77).
    case permissionDenied(path: String, errno: Errno)
    /// Reading failed midway (74).
    case readFailed(source: String, errno: Errno)
    /// The source is empty (65).
    case empty(source: String)
    /// More bytes than `--max-bytes` (65).
    case tooLarge(source: String, limit: Int, evidence: OversizeEvidence)
    /// SIGINT/SIGTERM while reading or downloading (130).
    case cancelled(source: String, bytesRead: Int)
    /// The server answered with an error status (69).
    case httpStatus(url: String, status: Int, finalURL: String?)
    /// Connection refused, DNS failure, a TLS failure other than trust, ... (69).
    case unreachable(url: String, detail: String)
    /// The server's TLS certificate did not verify against the system's trusted
    /// CAs, or is for another name (69).
    case untrustedCertificate(url: String, detail: String)
    /// No complete answer within `--fetch-timeout` (69).
    case timedOut(url: String, seconds: Double)
    /// Redirect loop or chain longer than the limit (69).
    case tooManyRedirects(url: String, limit: Int)
    /// The helper found the URL malformed (64): `SourceSpecifier` checks URLs
    /// before the lock, so this is the helper's second opinion (what libcurl
    /// refuses), still the user's URL to fix rather than the network.
    case badURL(url: String, detail: String)
    /// The server said 304 Not Modified although there is no cache to keep (69).
    case unexpectedNotModified(url: String)
    /// `metacache-fetch` is not next to `metacache` (69).
    case helperMissing(path: String)
    /// `metacache-fetch` failed without a usable report (69).
    case helperFailed(detail: String)

    public var exitCode: ExitCode {
        switch self {
        case .missing, .notReadable: .missing
        case .permissionDenied: .permission
        case .readFailed: .ioError
        case .empty, .tooLarge: .invalidData
        case .cancelled: .cancelled
        case .badURL: .usage
        case .httpStatus, .unreachable, .untrustedCertificate, .timedOut, .tooManyRedirects, .unexpectedNotModified, .helperMissing, .helperFailed:
            .unavailable
        }
    }

    /// The message (so that `--events` and logs show it, not the case's fields).
    public var description: String { message }

    public var message: String {
        let unchanged = "nothing was written; the previous cache is unchanged"
        switch self {
        case let .missing(path):
            return "source \(path) does not exist; check the path (\(unchanged))"
        case let .notReadable(path, what):
            return "source \(path) is \(what), not a file with a JSON payload; point --source at a file (\(unchanged))"
        case let .permissionDenied(path, errno):
            return "cannot open source \(path): \(errno); check its permissions (\(unchanged))"
        case let .readFailed(source, errno):
            return "reading source \(source) failed: \(errno) (\(unchanged))"
        case let .empty(source):
            return "source \(source) is empty (0 bytes); expected a JSON document (\(unchanged))"
        case let .tooLarge(source, limit, evidence):
            let limitText = ByteCountText.format(limit)
            let evidenceText: String
            switch evidence {
            case let .fileSize(size): evidenceText = "it is \(ByteCountText.format(size)) (\(size) bytes)"
            case let .contentLength(size):
                evidenceText = "the server announces \(ByteCountText.format(size)) (Content-Length: \(size)); nothing was downloaded"
            case .receivedBeforeStopping: evidenceText = "more than \(limitText) received before stopping"
            }
            let what = "is larger than the limit of \(limitText): \(evidenceText)"
            return "source \(source) \(what); raise --max-bytes if this size is expected (\(unchanged))"
        case let .cancelled(source, bytesRead):
            return "Cancelled while fetching \(source) after \(ByteCountText.format(bytesRead)); \(unchanged)"
        case let .httpStatus(url, status, finalURL):
            let via = finalURL.flatMap { $0 == url ? nil : " (redirected to \($0))" } ?? ""
            return "fetching \(url)\(via) failed: HTTP \(status) \(HTTPStatusText.reason(status)); "
                + "check the URL or retry later (\(unchanged))"
        case let .badURL(url, detail):
            return "invalid source URL \(url): \(detail); fix the URL (\(unchanged))"
        case let .unreachable(url, detail):
            return "cannot reach \(url): \(detail); check the network and the URL (\(unchanged))"
        case let .untrustedCertificate(url, detail):
            return "cannot fetch \(url): the server's TLS certificate is not trusted (\(detail)). \(Self.trustRemedy) (\(unchanged))"
        case let .timedOut(url, seconds):
            return "fetching \(url) timed out after \(DurationText.format(seconds: seconds)); "
                + "retry later or raise --fetch-timeout (\(unchanged))"
        case let .tooManyRedirects(url, limit):
            return "fetching \(url) followed more than \(limit) redirects; check the URL (\(unchanged))"
        case let .unexpectedNotModified(url):
            return "\(url) answered 304 Not Modified to a request without validators; there is no cached payload to keep (\(unchanged))"
        case let .helperMissing(path):
            return "HTTP(S) sources need the helper \(path), which is missing; build it with 'swift build --product metacache-fetch' "
                + "(or 'swift build -c release') and keep it next to metacache"
        case let .helperFailed(detail):
            return "the HTTP helper metacache-fetch failed: \(detail) (\(unchanged))"
        }
    }

    /// How to trust a private CA on this system: the system trust store is the
    /// only one the HTTP stack reads.
    static var trustRemedy: String {
        #if os(Linux)
        "If the server's certificate is issued by a private CA (or is self-signed) on purpose, add that CA to the system "
            + "trust store: copy its PEM file to /usr/local/share/ca-certificates/NAME.crt and run 'update-ca-certificates' "
            + "(Debian, Ubuntu), or to /etc/pki/ca-trust/source/anchors/ and run 'update-ca-trust' (Fedora, RHEL). "
            + "SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE are ignored: the HTTP stack (libcurl through FoundationNetworking) "
            + "reads only the system store. If the certificate is for another name, use the name it was issued for"
        #else
        "If the server's certificate is issued by a private CA (or is self-signed) on purpose, add that CA to the System "
            + "keychain as trusted ('sudo security add-trusted-cert -d -k /Library/Keychains/System.keychain CA.pem'). "
            + "If the certificate is for another name, use the name it was issued for"
        #endif
    }

    var failure: CommandFailure { CommandFailure(exitCode, message, isFeedbackLine: exitCode == .cancelled) }

    /// The failure of a refresh whose source came from `origin`: a bad URL is a
    /// usage error, so it says where the URL was given and shows the usage line.
    func failure(sourceOrigin origin: SettingOrigin) -> CommandFailure {
        guard case let .badURL(url, detail) = self else { return failure }
        return CommandFailure(
            .usage, "invalid source URL \(url) from \(origin): \(detail); fix the URL (nothing was written; the previous cache is unchanged)",
            showsUsageHint: true)
    }
}

/// What shows that a source is over `--max-bytes`.
public enum OversizeEvidence: Sendable, Equatable {
    /// A regular file's size, checked before reading it.
    case fileSize(Int)
    /// The `Content-Length` of an HTTP response, refused before downloading.
    case contentLength(Int)
    /// A stream (FIFO, stdin, a body without `Content-Length`) that went past the
    /// limit: its true size is unknown, since reading stopped there.
    case receivedBeforeStopping
}

/// Reason phrases for the HTTP statuses a catalogue server is likely to send.
enum HTTPStatusText {
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 203: "Non-Authoritative Information"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: status >= 500 ? "(server error)" : status >= 400 ? "(client error)" : (200..<300).contains(status) ? "(success)" : "(unexpected status)"
        }
    }
}
