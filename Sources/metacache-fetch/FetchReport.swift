import MetadataCache

/// The one-line JSON report (see `FetchHelperReport` in MetacacheCLI, which
/// decodes it): `{"outcome":"ok","status":200,"url":"…","etag":"…","lastModified":"…","bytes":123}`.
struct FetchReport {
    var outcome: String
    var status: Int?
    var url: String?
    var etag: String?
    var lastModified: String?
    var bytes: Int?
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
        var fields = ["\"outcome\":" + JSONText.quoted(outcome)]
        if let status { fields.append("\"status\":\(status)") }
        if let url { fields.append("\"url\":" + JSONText.quoted(url)) }
        if let etag { fields.append("\"etag\":" + JSONText.quoted(etag)) }
        if let lastModified { fields.append("\"lastModified\":" + JSONText.quoted(lastModified)) }
        if let bytes { fields.append("\"bytes\":\(bytes)") }
        if let detail { fields.append("\"detail\":" + JSONText.quoted(detail)) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
