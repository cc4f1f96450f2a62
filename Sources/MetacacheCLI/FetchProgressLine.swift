import MetadataCache

/// The live line of a download, kept as its parts so that a narrow terminal can
/// shorten the source (which never changes) and drop the rate before it loses
/// the parts that show progress: the bytes and the elapsed time.
///
///     Fetching http://mirror.example/catalog.json: 120.0 KiB of 363.3 KiB (33%), 58.1 KiB/s, 2.1s (Ctrl-C to cancel)
///     Fetching http://mir…/catalog.json: 120.0 KiB of 363.3 KiB (33%), 58.1 KiB/s, 2.1s (Ctrl-C to cancel)
///     Fetching: 120.0 KiB of 363.3 KiB (33%), 2.1s; Ctrl-C
///
/// Guarantee: `fitted(width:)` never returns more than `width` characters, and
/// for any width of at least 24 it contains the bytes received and the elapsed
/// time, so every rewrite shows the download progressing (or stalled).
public struct FetchProgressLine: Sendable, Equatable {
    public let source: String
    public let received: Int
    /// The payload's size, when announced.
    public let expected: Int?
    /// Bytes per second over the last few seconds; nil before it can be measured.
    public let bytesPerSecond: Double?
    public let elapsed: Duration

    public init(source: String, received: Int, expected: Int?, bytesPerSecond: Double?, elapsed: Duration) {
        self.source = source
        self.received = received
        self.expected = expected
        self.bytesPerSecond = bytesPerSecond
        self.elapsed = elapsed
    }

    /// `120.0 KiB of 363.3 KiB (33%)`, `120.0 KiB`, or `nothing received yet`.
    var amount: String {
        guard received > 0 || expected != nil else { return "nothing received yet" }
        let got = ByteCountText.format(received)
        guard let expected, expected > 0 else { return got }
        let percent = Int((Double(min(received, expected)) / Double(expected) * 100).rounded(.down))
        return "\(got) of \(ByteCountText.format(expected)) (\(percent)%)"
    }

    /// `58.1 KiB/s`, or nil before anything arrived.
    var rate: String? {
        guard let bytesPerSecond, bytesPerSecond.isFinite, received > 0 else { return nil }
        return ByteCountText.format(Int(bytesPerSecond.rounded())) + "/s"
    }

    var time: String { DurationText.format(elapsed) }

    /// The whole line, as wide terminals show it.
    public var text: String { render(source: source, withRate: true, cancel: "(Ctrl-C to cancel)") }

    private func render(source: String?, withRate: Bool, cancel: String) -> String {
        let parts = [amount] + (withRate ? [rate].compactMap { $0 } : []) + [time]
        let lead = source.map { "Fetching \($0): " } ?? "Fetching: "
        return lead + parts.joined(separator: ", ") + (cancel.hasPrefix("(") ? " " + cancel : "; " + cancel)
    }

    /// The richest rendering that fits in `width` characters.
    public func fitted(width: Int) -> String {
        let long = "(Ctrl-C to cancel)"
        // With the source (shortened in the middle, to no fewer than 12 characters:
        // its start says where, its end what), first with the rate, then without.
        for (withRate, cancel) in [(true, long), (false, "Ctrl-C")] {
            let whole = render(source: source, withRate: withRate, cancel: cancel)
            if whole.count <= width { return whole }
            let budget = source.count - (whole.count - width)
            if budget >= 12 {
                let head = budget / 3
                return render(source: source.prefix(head) + "…" + source.suffix(budget - head - 1), withRate: withRate, cancel: cancel)
            }
        }
        let candidates = [
            render(source: nil, withRate: true, cancel: long),
            render(source: nil, withRate: false, cancel: "Ctrl-C"),
            "\(amount), \(time); Ctrl-C",
            "\(amount), \(time)",
            "\(ByteCountText.format(received)), \(time)",
        ]
        return candidates.first { $0.count <= width } ?? String("\(ByteCountText.format(received)), \(time)".prefix(max(0, width)))
    }
}
