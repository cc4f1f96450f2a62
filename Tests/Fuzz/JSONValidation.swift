// Fuzz target: the strict RFC 8259 validator on any bytes, checked against
// Foundation's JSONSerialization (an independent parser). Built by Tests/Fuzz/run
// into the MetadataCache module (no import of it needed).
//
// Agreement rule: what the validator accepts, JSONSerialization must parse, except
// the two inputs docs/design.md documents as valid RFC 8259 grammar that
// Foundation refuses (lone surrogate escapes, numbers beyond Double's range).
// The reverse is not checked: Foundation accepts what the validator's policy
// refuses on purpose (bare scalars at top level, nesting beyond the limit).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONValidation(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do throws(JSONValidationError) {
        try StrictJSONValidator().validate(bytes)
        let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        precondition(object != nil || hasDocumentedDisagreement(bytes), "accepted, but Foundation cannot parse it")
    } catch {
        precondition(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside the input")
        _ = error.description
    }
    // The same bytes under a shallow limit and with scalars allowed at the top.
    _ = try? StrictJSONValidator(maxDepth: 2, requiresContainerAtTopLevel: false).validate(bytes)
    return 0
}

/// Whether `bytes` contain a `\uD800`-`\uDFFF` escape, or a number with an
/// exponent or more than 15 digits (which may lie beyond Double's range).
private func hasDocumentedDisagreement(_ bytes: UnsafeRawBufferPointer) -> Bool {
    func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
    func isHex(_ b: UInt8) -> Bool { isDigit(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b | 0x20) }
    var digits = 0
    for i in bytes.indices {
        let byte = bytes[i]
        if byte == UInt8(ascii: "\\"), i + 3 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"),
            bytes[i + 2] | 0x20 == UInt8(ascii: "d"), isHex(bytes[i + 3]), !isDigit(bytes[i + 3]) || bytes[i + 3] >= UInt8(ascii: "8")
        {
            return true
        }
        if byte | 0x20 == UInt8(ascii: "e"), i > 0, isDigit(bytes[i - 1]) { return true }
        digits = isDigit(byte) ? digits + 1 : 0
        if digits > 15 { return true }
    }
    return false
}
