/// The helper's command line:
///
///     metacache-fetch URL [--max-bytes N] [--timeout SECONDS|infinite] [--max-redirects N]
///                         [--if-none-match ETAG] [--if-modified-since DATE]
///                         [--report-fd FD] [--exit-on-stdin-eof]
struct FetchArguments {
    var url: String
    var maximumBytes = 64 << 20
    /// The whole exchange's deadline, from the helper's start; nil: none.
    var timeoutSeconds: Double? = 60
    var maximumRedirects = 10
    var ifNoneMatch: String?
    var ifModifiedSince: String?
    /// Where the one-line JSON report goes (default: stderr).
    var reportDescriptor: Int32 = 2
    /// Exit when stdin reaches end of file: `metacache` holds the other end of a
    /// pipe, so its death (however it dies) ends the fetch.
    var exitOnStdinEOF = false

    static let usage = """
        usage: metacache-fetch URL [--max-bytes N] [--timeout SECONDS|infinite] [--max-redirects N]
                               [--if-none-match ETAG] [--if-modified-since DATE] [--report-fd FD] [--exit-on-stdin-eof]
        Fetches URL; writes the body to stdout, and JSON lines to the report descriptor: notes while it runs,
        then the one report (the line with "outcome").
        Exit: 0 body or 304, 64 usage, 65 body over --max-bytes, 69 unavailable (HTTP status, network, timeout), 130 cancelled.
        """

    init(_ arguments: [String]) throws(FetchUsageError) {
        var url: String?
        var words = arguments[...]
        func value(_ name: String) throws(FetchUsageError) -> String {
            guard let next = words.popFirst() else { throw FetchUsageError("\(name) needs a value") }
            return next
        }
        self.url = ""
        while let word = words.popFirst() {
            switch word {
            case "--max-bytes":
                guard let n = Int(try value(word)), n > 0 else { throw FetchUsageError("--max-bytes needs a positive integer") }
                maximumBytes = n
            case "--timeout":
                let text = try value(word)
                if text == "infinite" {
                    timeoutSeconds = nil
                } else {
                    guard let t = Double(text), t > 0, t <= 1_000_000_000 else {
                        throw FetchUsageError("--timeout needs positive seconds (at most 1000000000) or 'infinite'")
                    }
                    timeoutSeconds = t
                }
            case "--max-redirects":
                guard let n = Int(try value(word)), n >= 0 else { throw FetchUsageError("--max-redirects needs a number") }
                maximumRedirects = n
            case "--if-none-match": ifNoneMatch = try value(word)
            case "--if-modified-since": ifModifiedSince = try value(word)
            case "--report-fd":
                guard let fd = Int32(try value(word)), fd >= 0 else { throw FetchUsageError("--report-fd needs a descriptor") }
                reportDescriptor = fd
            case "--exit-on-stdin-eof": exitOnStdinEOF = true
            case "-h", "--help": throw FetchUsageError(nil)
            default:
                guard !word.hasPrefix("-"), url == nil else { throw FetchUsageError("unexpected argument '\(word)'") }
                url = word
            }
        }
        guard let url else { throw FetchUsageError("missing URL") }
        self.url = url
    }
}

struct FetchUsageError: Error {
    let message: String?
    init(_ message: String?) { self.message = message }
}
