/// Fixed-width lowercase hexadecimal for checksums and ids.
package enum Hex {
    package static func format(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    package static func parse(_ text: some StringProtocol) -> UInt64? {
        guard text.count == 16 else { return nil }
        return UInt64(text, radix: 16)
    }
}
