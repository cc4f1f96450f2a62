/// The decoder's current value as a single-value container (as `JSONDecoder`,
/// the decoder is its own single-value container). A scalar read records where
/// the value ends, for the container that asked for this value.
extension JSONValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        input.isNull(at: frame.value)
    }

    /// Reads the current value with `read`, recording where it ends.
    @inline(__always)
    private func scalar<T>(_ read: (Int, inout Int, () -> [any CodingKey]) throws -> T) throws -> T {
        let v = frame.value
        var end = -1
        let value = try read(v, &end) { self.codingPath }
        lastScalar = (v, end)
        return value
    }

    func decode(_: Bool.Type) throws -> Bool { try scalar { try input.readBool(at: $0, end: &$1, path: $2) } }
    func decode(_: String.Type) throws -> String { try scalar { try input.readString(at: $0, end: &$1, path: $2) } }
    func decode(_: Double.Type) throws -> Double { try scalar { try input.readDouble(at: $0, end: &$1, path: $2) } }
    func decode(_: Float.Type) throws -> Float { try scalar { try input.readFloat(at: $0, end: &$1, path: $2) } }
    func decode(_: Int.Type) throws -> Int { try integer() }
    func decode(_: Int8.Type) throws -> Int8 { try integer() }
    func decode(_: Int16.Type) throws -> Int16 { try integer() }
    func decode(_: Int32.Type) throws -> Int32 { try integer() }
    func decode(_: Int64.Type) throws -> Int64 { try integer() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_: Int128.Type) throws -> Int128 { try integer() }
    func decode(_: UInt.Type) throws -> UInt { try integer() }
    func decode(_: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_: UInt64.Type) throws -> UInt64 { try integer() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_: UInt128.Type) throws -> UInt128 { try integer() }

    @inline(__always)
    private func integer<T: FixedWidthInteger>() throws -> T {
        try scalar { try input.readInteger(T.self, at: $0, end: &$1, path: $2) }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let v = frame.value
        var end = -1
        let value = try unwrap(T.self, at: v, depth: frame.depth, parent: frame.parent, key: frame.key, end: &end)
        if end > v { lastScalar = (v, end) }
        return value
    }
}
