#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one-line JSON report `metacache-fetch` writes to its report descriptor
/// (fd 3) when it finishes; the body itself goes to its stdout. See "The HTTP
/// helper" in docs/cli.md for the whole protocol.
///
///     {"outcome":"ok","status":200,"url":"https://…/final","etag":"\"abc\"","lastModified":"…","bytes":1048576}
///     {"outcome":"notModified","status":304,"url":"…","etag":"\"abc\""}
///     {"outcome":"httpStatus","status":404,"url":"…"}
///     {"outcome":"unreachable","detail":"Could not connect to the server."}
///     {"outcome":"timeout","detail":"…"}   {"outcome":"tooLarge","bytes":…}
///     {"outcome":"tooManyRedirects"}   {"outcome":"badURL","detail":"…"}   {"outcome":"cancelled"}
public struct FetchHelperReport: Decodable, Sendable, Equatable {
    public enum Outcome: String, Decodable, Sendable {
        case ok, notModified, httpStatus, unreachable, timeout, tooLarge, tooManyRedirects, badURL, cancelled
    }

    public var outcome: Outcome
    public var status: Int?
    public var url: String?
    public var etag: String?
    public var lastModified: String?
    public var bytes: Int?
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

    public static func decode(_ bytes: [UInt8]) -> FetchHelperReport? {
        guard let line = bytes.split(separator: UInt8(ascii: "\n")).last(where: { !$0.isEmpty }) else { return nil }
        return try? JSONDecoder().decode(FetchHelperReport.self, from: Data(line))
    }
}
