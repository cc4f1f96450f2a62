/// A JSON object as a keyed container. Lookups go through the object's lazy
/// member table (`ObjectScan`); every decode tells the scan where the value ended,
/// so the next lookup continues from there instead of skipping the value.
///
/// Semantics are `JSONDecoder`'s, method by method: a missing key is
/// `keyNotFound` for `decode`/`decodeNil` and nil for `decodeIfPresent`; `null`
/// is nil for `decodeIfPresent`; `superDecoder()` is the value of the key "super"
/// (null when absent).
struct KeyedJSONContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// The only stored property (the decoder is the scan's): the standard
    /// library's container box copies its container for every call, and one
    /// reference is the cheapest thing to copy.
    let scan: ObjectScan

    init(scan: ObjectScan) { self.scan = scan }

    private var decoder: JSONValueDecoder { scan.decoder }

    var codingPath: [any CodingKey] { scan.path }
    var allKeys: [Key] { scan.allKeys().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { scan.contains(key) }

    private var input: JSONInput { scan.input }

    @inline(__always)
    private func valueStart(_ key: Key) throws -> Int {
        guard let v = try scan.valueStart(forKey: key) else {
            throw DecodingErrors.keyNotFound(key, scan.path)
        }
        return v
    }

    /// The value for `key` read by `read`, which sets where the value ends; the
    /// scan continues from there.
    @inline(__always)
    private func read<T>(_ key: Key, _ read: (Int, inout Int, () -> [any CodingKey]) throws -> T) throws -> T {
        let v = try valueStart(key)
        var end = -1
        let value = try read(v, &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }

    /// nil when the key is missing or its value is null; else `read`.
    @inline(__always)
    private func readIfPresent<T>(_ key: Key, _ read: (Int, inout Int, () -> [any CodingKey]) throws -> T) throws -> T? {
        guard let v = try scan.valueStart(forKey: key) else { return nil }
        if input.isNull(at: v) {
            scan.noteEnd(ofValueAt: v, v &+ 4)
            return nil
        }
        var end = -1
        let value = try read(v, &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        input.isNull(at: try valueStart(key))
    }

    // The most common types are written out rather than passed to `read` as a
    // closure: the closure stayed a separate function, called indirectly with a
    // retained context (callgrind: ~100 instructions per value).
    func decode(_: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try valueStart(key)
        var end = -1
        let value = try input.readBool(at: v, end: &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }
    func decode(_: String.Type, forKey key: Key) throws -> String {
        let v = try valueStart(key)
        var end = -1
        let value = try input.readString(at: v, end: &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }
    func decode(_: Double.Type, forKey key: Key) throws -> Double {
        let v = try valueStart(key)
        var end = -1
        let value = try input.readDouble(at: v, end: &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }
    func decode(_: Float.Type, forKey key: Key) throws -> Float {
        try read(key) { try input.readFloat(at: $0, end: &$1, path: $2) }
    }
    func decode(_: Int.Type, forKey key: Key) throws -> Int {
        let v = try valueStart(key)
        var end = -1
        let value = try input.readInteger(Int.self, at: v, end: &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }
    func decode(_: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_: Int128.Type, forKey key: Key) throws -> Int128 { try integer(key) }
    func decode(_: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_: UInt128.Type, forKey key: Key) throws -> UInt128 { try integer(key) }

    func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
        let v = try valueStart(key)
        var end = -1
        let value = try decoder.unwrap(T.self, at: v, depth: scan.depth &+ 1, parent: scan, key: key, end: &end)
        scan.noteEnd(ofValueAt: v, end)
        return value
    }

    func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? {
        try readIfPresent(key) { try input.readBool(at: $0, end: &$1, path: $2) }
    }
    func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? {
        guard let v = try scan.valueStart(forKey: key) else { return nil }
        if input.isNull(at: v) {
            scan.noteEnd(ofValueAt: v, v &+ 4)
            return nil
        }
        var end = -1
        let value = try input.readString(at: v, end: &end) { CodingPathNode.path(scan, appending: key) }
        scan.noteEnd(ofValueAt: v, end)
        return value
    }
    func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? {
        try readIfPresent(key) { try input.readDouble(at: $0, end: &$1, path: $2) }
    }
    func decodeIfPresent(_: Float.Type, forKey key: Key) throws -> Float? {
        try readIfPresent(key) { try input.readFloat(at: $0, end: &$1, path: $2) }
    }
    func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? { try integerIfPresent(key) }
    func decodeIfPresent(_: Int8.Type, forKey key: Key) throws -> Int8? { try integerIfPresent(key) }
    func decodeIfPresent(_: Int16.Type, forKey key: Key) throws -> Int16? { try integerIfPresent(key) }
    func decodeIfPresent(_: Int32.Type, forKey key: Key) throws -> Int32? { try integerIfPresent(key) }
    func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? { try integerIfPresent(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decodeIfPresent(_: Int128.Type, forKey key: Key) throws -> Int128? { try integerIfPresent(key) }
    func decodeIfPresent(_: UInt.Type, forKey key: Key) throws -> UInt? { try integerIfPresent(key) }
    func decodeIfPresent(_: UInt8.Type, forKey key: Key) throws -> UInt8? { try integerIfPresent(key) }
    func decodeIfPresent(_: UInt16.Type, forKey key: Key) throws -> UInt16? { try integerIfPresent(key) }
    func decodeIfPresent(_: UInt32.Type, forKey key: Key) throws -> UInt32? { try integerIfPresent(key) }
    func decodeIfPresent(_: UInt64.Type, forKey key: Key) throws -> UInt64? { try integerIfPresent(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decodeIfPresent(_: UInt128.Type, forKey key: Key) throws -> UInt128? { try integerIfPresent(key) }

    func decodeIfPresent<T: Decodable>(_: T.Type, forKey key: Key) throws -> T? {
        guard let v = try scan.valueStart(forKey: key) else { return nil }
        if input.isNull(at: v) {
            scan.noteEnd(ofValueAt: v, v &+ 4)
            return nil
        }
        var end = -1
        let value = try decoder.unwrap(T.self, at: v, depth: scan.depth &+ 1, parent: scan, key: key, end: &end)
        scan.noteEnd(ofValueAt: v, end)
        return value
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        try read(key) { try input.readInteger(T.self, at: $0, end: &$1, path: $2) }
    }

    @inline(__always)
    private func integerIfPresent<T: FixedWidthInteger>(_ key: Key) throws -> T? {
        try readIfPresent(key) { try input.readInteger(T.self, at: $0, end: &$1, path: $2) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let nested = try decoder.openObject(
            at: try valueStart(key), depth: scan.depth &+ 1, parent: scan, key: key, keyedBy: NestedKey.self)
        input.keepUntilTheEnd(nested)
        return KeyedDecodingContainer(KeyedJSONContainer<NestedKey>(scan: nested))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        UnkeyedJSONContainer(
            decoder: decoder, scan: try decoder.openArray(at: try valueStart(key), depth: scan.depth &+ 1, parent: scan, key: key))
    }

    func superDecoder() throws -> any Decoder { try superDecoder(JSONStringKey.superKey) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder(key) }

    /// A new decoder over the key's value; a missing key gives a null value.
    private func superDecoder(_ key: some CodingKey) throws -> any Decoder {
        let v = (try? scan.valueStart(forKey: key)) ?? nil
        return JSONValueDecoder(input: input, frame: JSONValueDecoder.Frame(
            value: v ?? -1, depth: scan.depth &+ 1, parent: scan, key: key, opened: nil))
    }
}
