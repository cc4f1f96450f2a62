/// Binary-unit byte counts for messages: `512 B`, `4.0 KiB`, `1.0 MiB`, `16.0 MiB`.
package enum ByteCountText {
    package static func format(_ bytes: Int) -> String { format(UInt64(max(0, bytes))) }

    package static func format(_ bytes: UInt64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }
}
