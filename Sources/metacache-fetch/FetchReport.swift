#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MetadataCache

/// The final JSON line on the report descriptor (see `FetchHelperReport` in
/// MetacacheCLI, which decodes it):
/// `{"outcome":"ok","status":200,"url":"…","etag":"…","lastModified":"…","bytes":123}`.
///
/// Guarantee: the line is bounded whatever the server sent — validators longer
/// than the cache format stores are never in it (`HTTPExchange` drops them), and
/// `url` and `detail` are cut to `fieldLimit` bytes — so a hostile header can
/// never make the report too long for the parent to read.
struct FetchReport {
    /// The most bytes of `url` or `detail` the report carries.
    static let fieldLimit = 8192

    var outcome: String
    var status: Int?
    var url: String?
    var etag: String?
    var lastModified: String?
    var bytes: Int?
    /// The `Content-Length` that made a `tooLarge` refusal before the body was read.
    var contentLength: Int?
    var detail: String?

    var exitStatus: Int32 {
        switch outcome {
        case "ok", "notModified": 0
        case "badURL": 64
        case "tooLarge": 65
        case "cancelled": 130
        default: 69
        }
    }

    func json() -> String {
        var fields = [("outcome", JSONText.quoted(outcome))]
        if let status { fields.append(("status", String(status))) }
        if let url { fields.append(("url", JSONText.quoted(Self.bounded(url)))) }
        if let etag { fields.append(("etag", JSONText.quoted(etag))) }
        if let lastModified { fields.append(("lastModified", JSONText.quoted(lastModified))) }
        if let bytes { fields.append(("bytes", String(bytes))) }
        if let contentLength { fields.append(("contentLength", String(contentLength))) }
        if let detail { fields.append(("detail", JSONText.quoted(Self.bounded(detail)))) }
        return JSONText.object(fields)
    }

    /// At most `fieldLimit` bytes of UTF-8, cut on a character boundary.
    static func bounded(_ text: String) -> String {
        guard text.utf8.count > fieldLimit else { return text }
        var cut = ""
        for character in text {
            if cut.utf8.count + character.utf8.count > fieldLimit - 3 { break }
            cut.append(character)
        }
        return cut + "…"
    }
}

/// The report descriptor: note lines while the exchange runs, then the final
/// report. Writes are serialised (notes come from URLSession's delegate queue,
/// the report from the main thread) and nothing follows the final report, so
/// the parent always finds it as the last line.
///
/// Notes (each one JSON object with a `note` key; the parent may ignore any):
///
///     {"note":"response","status":200,"url":"…","expectedBytes":371991}
///     {"note":"response","status":200,"url":"…","contentEncoding":"gzip"}
///     {"note":"redirect","status":301,"location":"http://…/new"}
///     {"note":"ignoredValidator","name":"Last-Modified","bytes":60000}
final class ReportChannel: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var finished = false

    init(fd: Int32) { self.fd = fd }

    func note(_ name: String, _ fields: [(String, String)]) {
        lock.withLock {
            guard !finished else { return }
            FetchCommand.writeAll(fd, JSONText.object([("note", JSONText.quoted(name))] + fields) + "\n")
        }
    }

    func finish(_ report: FetchReport) {
        lock.withLock {
            guard !finished else { return }
            finished = true
            FetchCommand.writeAll(fd, report.json() + "\n")
        }
    }
}
