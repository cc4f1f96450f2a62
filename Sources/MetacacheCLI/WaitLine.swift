/// One lock-wait line, kept as its parts so that a terminal too narrow for all of
/// it can drop or shorten the parts that never change (the cache path, the
/// holder's command) and keep the part that does: the timing and how to cancel.
///
///     Waiting for lock on cache /c/metadata.json held by pid 4242 (metacache cache refresh) on build-1 for 6s (waited 2s, 8s left; Ctrl-C to cancel)
///     Waiting for lock held by pid 4242 (waited 2s, 8s left; Ctrl-C to cancel)        ← 80 columns
///     Lock busy: waited 2s, 8s left; Ctrl-C                                           ← 40 columns
///
/// Guarantee: `fitted(width:)` never returns more than `width` characters, and for
/// any width of at least 20 it contains the timing (elapsed and remaining time,
/// or the timeout of the first line), so every rewrite of a live line shows the
/// wait progressing. The rewrite itself depends on the line not wrapping.
public struct WaitLine: Sendable, Equatable {
    /// Who holds the lock, as its holder record says.
    public struct Holder: Sendable, Equatable {
        public let pid: Int32
        public let command: String
        public let host: String
        /// How long it has held the lock (`4s`).
        public let heldFor: String
    }

    public let cachePath: String
    /// Nil when the holder published no record.
    public let holder: Holder?
    /// `waited 2s, 8s left`, `waited 2s, timeout: none`, or `timeout: 10s` for the first line.
    public let timing: String
    /// The same in fewer characters: `2s, 8s left`, `2s, no timeout`, `timeout 10s`.
    public let shortTiming: String

    public init(cachePath: String, holder: Holder?, timing: String, shortTiming: String) {
        self.cachePath = cachePath
        self.holder = holder
        self.timing = timing
        self.shortTiming = shortTiming
    }

    static let lead = "Waiting for lock"
    static let cancel = "Ctrl-C to cancel"
    static let unknownHolder = "held by another process (it has not published who it is)"

    /// The whole line, as written to logs and wide terminals.
    public var text: String {
        "\(Self.lead) on cache \(cachePath) \(holderPhrase(command: holder?.command)) (\(timing); \(Self.cancel))"
    }

    private func holderPhrase(command: String?, withHost: Bool = true) -> String {
        guard let holder else { return Self.unknownHolder }
        let who = "held by pid \(holder.pid)" + (command.map { " (\($0))" } ?? "")
        return withHost ? who + " on \(holder.host) for \(holder.heldFor)" : who
    }

    /// The richest rendering that fits in `width` characters.
    public func fitted(width: Int) -> String {
        let tail = " (\(timing); \(Self.cancel))"
        var candidates: [Candidate] = [
            .fixed(text),
            .shortened(cachePath, minimum: 12, shorten: Self.keepingEnd) { path in
                "\(Self.lead) on cache \(path) \(holderPhrase(command: holder?.command))\(tail)"
            },
        ]
        if let holder {
            candidates += [
                .shortened(holder.command, minimum: 8, shorten: Self.keepingStart) { command in
                    "\(Self.lead) \(holderPhrase(command: command))\(tail)"
                },
                .shortened(holder.command, minimum: 8, shorten: Self.keepingStart) { command in
                    "\(Self.lead) \(holderPhrase(command: command, withHost: false))\(tail)"
                },
                .fixed("\(Self.lead) \(holderPhrase(command: nil, withHost: false))\(tail)"),
            ]
        } else {
            candidates.append(.fixed("\(Self.lead) held by another process\(tail)"))
        }
        candidates += [
            .fixed("\(Self.lead)\(tail)"),
            .fixed("Lock busy: \(timing); \(Self.cancel)"),
            .fixed("Lock busy: \(timing); Ctrl-C"),
            .fixed("Lock busy: \(shortTiming); Ctrl-C"),
            .fixed("\(shortTiming); Ctrl-C"),
            .fixed(shortTiming),
        ]
        for candidate in candidates {
            if let line = candidate.render(width: width) { return line }
        }
        return String(shortTiming.prefix(max(0, width)))
    }

    /// A rendering: fixed text, or a template with one part that may be shortened
    /// (to no fewer than `minimum` characters) to make the line fit.
    private enum Candidate {
        case fixed(String)
        case shortened(String, minimum: Int, shorten: (String, Int) -> String, template: (String) -> String)

        func render(width: Int) -> String? {
            switch self {
            case let .fixed(line):
                return line.count <= width ? line : nil
            case let .shortened(part, minimum, shorten, template):
                let whole = template(part)
                if whole.count <= width { return whole }
                let budget = part.count - (whole.count - width)
                guard budget >= minimum else { return nil }
                return template(shorten(part, budget))
            }
        }
    }

    /// `…/cache/metadata.json`: a path keeps its end (the file name).
    static func keepingEnd(_ text: String, _ length: Int) -> String { "…" + text.suffix(length - 1) }

    /// `metacache cache re…`: a command keeps its start (the program).
    static func keepingStart(_ text: String, _ length: Int) -> String { text.prefix(length - 1) + "…" }
}
