#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `metacache-fetch` writes to its report descriptor (fd 3), one JSON object
/// per line: notes while the exchange runs, then the one report, always the last
/// line; the body itself goes to its stdout. See "The HTTP helper" in
/// docs/cli.md for the whole protocol.
///
///     {"outcome":"ok","status":200,"url":"https://…/final","etag":"\"abc\"","lastModified":"…","bytes":1048576}
///     {"outcome":"notModified","status":304,"url":"…","etag":"\"abc\""}
///     {"outcome":"httpStatus","status":404,"url":"…"}
///     {"outcome":"unreachable","detail":"Could not connect to the server."}
///     {"outcome":"untrustedCertificate","detail":"SSL certificate problem: self-signed certificate"}
///     {"outcome":"timeout","detail":"…"}   {"outcome":"tooLarge","bytes":…}   {"outcome":"tooLarge","contentLength":…}
///     {"outcome":"tooManyRedirects"}   {"outcome":"badURL","detail":"…"}   {"outcome":"cancelled"}
public struct FetchHelperReport: Decodable, Sendable, Equatable {
    public enum Outcome: String, Decodable, Sendable {
        case ok, notModified, httpStatus, unreachable, untrustedCertificate, timeout, tooLarge, tooManyRedirects, badURL, cancelled
    }

    public var outcome: Outcome
    public var status: Int?
    public var url: String?
    public var etag: String?
    public var lastModified: String?
    public var bytes: Int?
    /// The `Content-Length` of a body refused before it was read (`tooLarge`).
    public var contentLength: Int?
    public var detail: String?

    /// The helper's exit statuses (mirroring `ExitCode`).
    public enum Exit {
        public static let ok: Int32 = 0
        public static let usage: Int32 = 64
        public static let tooLarge: Int32 = 65
        public static let unavailable: Int32 = 69
        public static let cancelled: Int32 = 130
    }

    /// The descriptor the report is written to in the helper.
    public static let reportDescriptor: Int32 = 3
    /// Redirects followed before giving up.
    public static let redirectLimit = 10
    /// The longest line the parent accepts. The helper bounds every field (its
    /// validators at 8192 bytes, its URLs and details at 8192), so a longer line
    /// means a broken helper, never a hostile server.
    public static let lineLimit = 1 << 20

    /// The report in a whole output (its last line), for tests and the helper's users.
    public static func decode(_ bytes: [UInt8]) -> FetchHelperReport? {
        guard let line = bytes.split(separator: UInt8(ascii: "\n")).last(where: { !$0.isEmpty }) else { return nil }
        guard case let .report(report) = FetchHelperLine(line) else { return nil }
        return report
    }
}

/// A note the helper writes while the exchange runs, before its report.
///
///     {"note":"response","status":200,"url":"…","expectedBytes":371991}    (or "contentEncoding":"gzip")
///     {"note":"redirect","status":301,"location":"…"}
///     {"note":"ignoredValidator","name":"Last-Modified","bytes":60000}
public struct FetchHelperNote: Decodable, Sendable, Equatable {
    public var note: String
    public var status: Int?
    public var url: String?
    /// The payload's size, when the response announces it and is not content-encoded.
    public var expectedBytes: Int?
    public var contentEncoding: String?
    public var location: String?
    public var name: String?
    public var bytes: Int?
}

/// One line of the helper's report descriptor.
public enum FetchHelperLine: Sendable, Equatable {
    case note(FetchHelperNote)
    case report(FetchHelperReport)
    case unreadable

    public init<Bytes: Collection<UInt8>>(_ line: Bytes) {
        let data = Data(line)
        if let report = try? JSONDecoder().decode(FetchHelperReport.self, from: data) {
            self = .report(report)
        } else if let note = try? JSONDecoder().decode(FetchHelperNote.self, from: data) {
            self = .note(note)
        } else {
            self = .unreadable
        }
    }
}
