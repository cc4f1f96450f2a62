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
        var fields = ["\"outcome\":" + Self.quoted(outcome)]
        if let status { fields.append("\"status\":\(status)") }
        if let url { fields.append("\"url\":" + Self.quoted(url)) }
        if let etag { fields.append("\"etag\":" + Self.quoted(etag)) }
        if let lastModified { fields.append("\"lastModified\":" + Self.quoted(lastModified)) }
        if let bytes { fields.append("\"bytes\":\(bytes)") }
        if let detail { fields.append("\"detail\":" + Self.quoted(detail)) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
