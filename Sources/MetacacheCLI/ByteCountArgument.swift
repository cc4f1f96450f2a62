import MetadataCache

/// Parses `--max-bytes N`: a positive whole number of bytes, optionally with a
/// binary suffix `K`/`KiB`, `M`/`MiB`, `G`/`GiB` (`64M` = 67108864).
public enum ByteCountArgument {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingWhitespace()
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 15, let value = Int(digits) else { return nil }
        let shift: Int
        switch t.dropFirst(digits.count).lowercased() {
        case "", "b": shift = 0
        case "k", "kib": shift = 10
        case "m", "mib": shift = 20
        case "g", "gib": shift = 30
        default: return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow, bytes > 0 else { return nil }
        return bytes
    }

    static let expectation = "expected a positive number of bytes, optionally with K, M or G (e.g. 1048576 or 64M)"
}
