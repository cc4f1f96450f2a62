/// A JSON array as an unkeyed container, over the array's lazy scan
/// (`ArrayScan`). Each copy keeps its own `currentIndex`, as `JSONDecoder`'s do.
///
/// Semantics are `JSONDecoder`'s: `decode` past the end is `valueNotFound`
/// ("Unkeyed container is at end."); `decodeNil` advances only on null;
/// `decodeIfPresent` advances even past the end (returning nil); errors carry the
/// path of the element ("Index N").
///
/// The struct is three words (decoder, scan, index), so returning it as
/// `any UnkeyedDecodingContainer` allocates nothing.
struct UnkeyedJSONContainer: UnkeyedDecodingContainer {
    let decoder: JSONValueDecoder
    let scan: ArrayScan
    private(set) var currentIndex = 0

    init(decoder: JSONValueDecoder, scan: ArrayScan) {
        self.decoder = decoder
        self.scan = scan
    }

    var codingPath: [any CodingKey] { scan.path }
    var count: Int? { try? scan.count() }
    var isAtEnd: Bool { (try? scan.elementStart(currentIndex)) == nil }

    private var input: JSONInput { scan.input }

    private var elementPath: [any CodingKey] { CodingPathNode.path(scan, appending: JSONIndexKey(index: currentIndex)) }

    /// The current element's offset, or `valueNotFound(type)` at the end.
    @inline(__always)
    private func element(_ type: Any.Type) throws -> Int {
        guard let v = try scan.element(currentIndex) else { throw DecodingErrors.atEnd(type, elementPath) }
        return v
    }

    /// The current element read by `read`, which sets where it ends; then one
    /// step on.
    @inline(__always)
    private mutating func read<T>(_ read: (Int, inout Int, () -> [any CodingKey]) throws -> T) throws -> T {
        let v = try element(T.self)
        var end = -1
        let value = try read(v, &end) { elementPath }
        scan.noteEnd(ofElement: currentIndex, end)
        currentIndex &+= 1
        return value
    }

    /// nil (and one step on) at the end or on null; else `read`.
    @inline(__always)
    private mutating func readIfPresent<T>(_ read: (Int, inout Int, () -> [any CodingKey]) throws -> T) throws -> T? {
        guard let v = try scan.element(currentIndex), !input.isNull(at: v) else {
            currentIndex &+= 1
            return nil
        }
        var end = -1
        let value = try read(v, &end) { elementPath }
        scan.noteEnd(ofElement: currentIndex, end)
        currentIndex &+= 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        let v = try element(Never.self)
        guard input.isNull(at: v) else { return false }
        scan.noteEnd(ofElement: currentIndex, v &+ 4)
        currentIndex &+= 1
        return true
    }

    mutating func decode(_: Bool.Type) throws -> Bool { try read { [input] in try input.readBool(at: $0, end: &$1, path: $2) } }
    mutating func decode(_: String.Type) throws -> String { try read { [input] in try input.readString(at: $0, end: &$1, path: $2) } }
    mutating func decode(_: Double.Type) throws -> Double { try read { [input] in try input.readDouble(at: $0, end: &$1, path: $2) } }
    mutating func decode(_: Float.Type) throws -> Float { try read { [input] in try input.readFloat(at: $0, end: &$1, path: $2) } }
    mutating func decode(_: Int.Type) throws -> Int { try integer() }
    mutating func decode(_: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_: Int64.Type) throws -> Int64 { try integer() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decode(_: Int128.Type) throws -> Int128 { try integer() }
    mutating func decode(_: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_: UInt64.Type) throws -> UInt64 { try integer() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decode(_: UInt128.Type) throws -> UInt128 { try integer() }

    mutating func decode<T: Decodable>(_: T.Type) throws -> T {
        let v = try element(T.self)
        var end = -1
        let value = try decoder.unwrap(
            T.self, at: v, depth: scan.depth &+ 1, parent: scan, key: JSONIndexKey(index: currentIndex), end: &end)
        scan.noteEnd(ofElement: currentIndex, end)
        currentIndex &+= 1
        return value
    }

    mutating func decodeIfPresent(_: Bool.Type) throws -> Bool? { try readIfPresent { [input] in try input.readBool(at: $0, end: &$1, path: $2) } }
    mutating func decodeIfPresent(_: String.Type) throws -> String? {
        try readIfPresent { [input] in try input.readString(at: $0, end: &$1, path: $2) }
    }
    mutating func decodeIfPresent(_: Double.Type) throws -> Double? {
        try readIfPresent { [input] in try input.readDouble(at: $0, end: &$1, path: $2) }
    }
    mutating func decodeIfPresent(_: Float.Type) throws -> Float? {
        try readIfPresent { [input] in try input.readFloat(at: $0, end: &$1, path: $2) }
    }
    mutating func decodeIfPresent(_: Int.Type) throws -> Int? { try integerIfPresent() }
    mutating func decodeIfPresent(_: Int8.Type) throws -> Int8? { try integerIfPresent() }
    mutating func decodeIfPresent(_: Int16.Type) throws -> Int16? { try integerIfPresent() }
    mutating func decodeIfPresent(_: Int32.Type) throws -> Int32? { try integerIfPresent() }
    mutating func decodeIfPresent(_: Int64.Type) throws -> Int64? { try integerIfPresent() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decodeIfPresent(_: Int128.Type) throws -> Int128? { try integerIfPresent() }
    mutating func decodeIfPresent(_: UInt.Type) throws -> UInt? { try integerIfPresent() }
    mutating func decodeIfPresent(_: UInt8.Type) throws -> UInt8? { try integerIfPresent() }
    mutating func decodeIfPresent(_: UInt16.Type) throws -> UInt16? { try integerIfPresent() }
    mutating func decodeIfPresent(_: UInt32.Type) throws -> UInt32? { try integerIfPresent() }
    mutating func decodeIfPresent(_: UInt64.Type) throws -> UInt64? { try integerIfPresent() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decodeIfPresent(_: UInt128.Type) throws -> UInt128? { try integerIfPresent() }

    mutating func decodeIfPresent<T: Decodable>(_: T.Type) throws -> T? {
        guard let v = try scan.element(currentIndex), !input.isNull(at: v) else {
            currentIndex &+= 1
            return nil
        }
        var end = -1
        let value = try decoder.unwrap(
            T.self, at: v, depth: scan.depth &+ 1, parent: scan, key: JSONIndexKey(index: currentIndex), end: &end)
        scan.noteEnd(ofElement: currentIndex, end)
        currentIndex &+= 1
        return value
    }

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        try read { [input] in try input.readInteger(T.self, at: $0, end: &$1, path: $2) }
    }

    @inline(__always)
    private mutating func integerIfPresent<T: FixedWidthInteger>() throws -> T? {
        try readIfPresent { [input] in try input.readInteger(T.self, at: $0, end: &$1, path: $2) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let v = try element(KeyedDecodingContainer<NestedKey>.self)
        let nested = try decoder.openObject(
            at: v, depth: scan.depth &+ 1, parent: scan, key: JSONIndexKey(index: currentIndex), keyedBy: NestedKey.self)
        input.keepUntilTheEnd(nested)
        currentIndex &+= 1
        return KeyedDecodingContainer(KeyedJSONContainer<NestedKey>(scan: nested))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let v = try element((any UnkeyedDecodingContainer).self)
        let nested = try decoder.openArray(at: v, depth: scan.depth &+ 1, parent: scan, key: JSONIndexKey(index: currentIndex))
        currentIndex &+= 1
        return UnkeyedJSONContainer(decoder: decoder, scan: nested)
    }

    mutating func superDecoder() throws -> any Decoder {
        guard let v = try scan.element(currentIndex) else {
            throw DecodingErrors.atEnd((any Decoder).self, elementPath, superDecoder: true)
        }
        let decoder = JSONValueDecoder(input: input, frame: JSONValueDecoder.Frame(
            value: v, depth: scan.depth &+ 1, parent: scan, key: JSONIndexKey(index: currentIndex), opened: nil))
        currentIndex &+= 1
        return decoder
    }
}
