#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `Decoder` a `Decodable` sees: one value of the input (an offset), its
/// coding path, and the containers over it. It is its own single-value container.
///
/// Like Foundation's decoder, one instance serves a whole decode: decoding a
/// nested value saves the current frame, points the decoder at the nested value,
/// calls `init(from:)` and restores the frame. (`superDecoder` makes a new
/// instance, which may outlive the call.)
final class JSONValueDecoder: Decoder {
    struct Frame {
        /// Offset of the value; -1 is the null a `superDecoder` gets for a missing key.
        var value: Int
        /// Nesting depth of the value (the top-level value is 0).
        var depth: Int
        /// The coding path: `parent`'s, then `key`.
        var parent: CodingPathNode?
        var key: (any CodingKey)?
        /// The container opened over this value, whose end the caller will need.
        var opened: (any ContainerScan)?
        /// Whether a caller waits for this value's end (a nested decode; not the
        /// top level or a super decoder, whose frames are never restored: an
        /// `opened` scan there would hold its decoder in a cycle).
        var wantsEnd = false
    }

    let input: JSONInput
    var frame: Frame
    /// The last scalar read through the single-value container: its start and
    /// end, so the caller learns where a wrapped scalar (a `RawRepresentable`
    /// enum, a `Date`) ends without scanning it again.
    var lastScalar: (start: Int, end: Int) = (-1, -1)

    init(input: JSONInput, frame: Frame) {
        self.input = input
        self.frame = frame
    }

    var codingPath: [any CodingKey] { CodingPathNode.path(frame.parent, appending: frame.key) }
    var userInfo: [CodingUserInfoKey: Any] { input.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let scan = try openObject(at: frame.value, depth: frame.depth, parent: frame.parent, key: frame.key, keyedBy: Key.self)
        if frame.wantsEnd {
            frame.opened = scan
        } else {
            input.keepUntilTheEnd(scan)  // the top level, a super decoder: nobody finishes it
        }
        return KeyedDecodingContainer(KeyedJSONContainer<Key>(scan: scan))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let scan = try openArray(at: frame.value, depth: frame.depth, parent: frame.parent, key: frame.key)
        if frame.wantsEnd { frame.opened = scan }
        return UnkeyedJSONContainer(decoder: self, scan: scan)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// An object scan over the value at `v` (path: `parent` + `key`), with
    /// `JSONDecoder`'s errors for a null or a value of another kind.
    func openObject(
        at v: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, keyedBy keyType: (any CodingKey.Type)? = nil
    ) throws -> ObjectScan {
        switch input.kind(at: v) {
        case .object:
            guard depth < input.maxDepth else { throw JSONDecodingFailure.nestingTooDeep(limit: input.maxDepth).decodingError }
            let keyOrder = keyType.map { input.keyOrder(for: $0) }
            if let scan = input.reusableObjectScan(for: self) {
                scan.reuse(start: v, depth: depth, parent: parent, key: key, keyOrder: keyOrder)
                return scan
            }
            let scan = ObjectScan(decoder: self, start: v, depth: depth, parent: parent, key: key, keyOrder: keyOrder)
            input.offerForReuse(scan)
            return scan
        case .null:
            throw DecodingError.valueNotFound([String: Any].self, DecodingError.Context(
                codingPath: CodingPathNode.path(parent, appending: key),
                debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default:
            throw input.mismatch([String: Any].self, at: v, CodingPathNode.path(parent, appending: key))
        }
    }

    /// An array scan over the value at `v` (path: `parent` + `key`), with
    /// `JSONDecoder`'s errors for a null or a value of another kind.
    func openArray(at v: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?) throws -> ArrayScan {
        switch input.kind(at: v) {
        case .array:
            guard depth < input.maxDepth else { throw JSONDecodingFailure.nestingTooDeep(limit: input.maxDepth).decodingError }
            return ArrayScan(input: input, start: v, depth: depth, parent: parent, key: key)
        case .null:
            throw DecodingError.valueNotFound([Any].self, DecodingError.Context(
                codingPath: CodingPathNode.path(parent, appending: key),
                debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw input.mismatch([Any].self, at: v, CodingPathNode.path(parent, appending: key))
        }
    }

    // MARK: Nested values

    /// Runs `body` with the decoder pointed at another value, then restores it.
    /// Sets `end` to the end of the value if it became known (else leaves it:
    /// the caller skips the value when it needs to go past it).
    ///
    /// The frames are swapped, not copied: no retain, release or key copy.
    @inline(__always)
    func with<T>(
        value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int, _ body: () throws -> T
    ) throws -> T {
        guard input.activeDecodes < input.maxActiveDecodes else {
            throw JSONDecodingFailure.decodingTooDeep(limit: input.maxActiveDecodes).decodingError
        }
        input.activeDecodes &+= 1
        var other = Frame(value: value, depth: depth, parent: parent, key: key, opened: nil, wantsEnd: true)
        swap(&frame, &other)
        defer {
            swap(&frame, &other)
            input.activeDecodes &-= 1
        }
        let result = try body()
        if lastScalar.start == value {
            end = lastScalar.end
        } else if let opened = frame.opened {
            // The value was an object or array: scan the rest of it if the type
            // did not decode it to the end (the caller continues after it).
            end = try surfacingDecodingErrors { try opened.finish() }
        }
        return result
    }

    /// `value` decoded as `T`, with `JSONDecoder`'s special cases (`Date`,
    /// `Data`, `URL`, `Decimal`, and string-keyed dictionaries exempt from key
    /// conversion); `parent` + `key` is the value's coding path. Sets `end` to the
    /// value's end when it became known.
    func unwrap<T: Decodable>(
        _ type: T.Type, at value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int
    ) throws -> T {
        // Standard library scalars and arrays of them, read in place (DirectScalar
        // says why that is what their `init(from:)` would do).
        if let direct = DirectScalar(T.self) {
            return try input.readDirect(direct, as: T.self, at: value, end: &end) { path(parent, key) }
        }
        if let direct = DirectScalar(elementsOf: T.self) {
            return try unwrapDirectArray(direct, as: T.self, at: value, depth: depth, parent: parent, key: key, end: &end)
        }
        if T.self == Date.self {
            return try unwrapDate(at: value, depth: depth, parent: parent, key: key, end: &end) as! T
        }
        if T.self == Data.self {
            return try unwrapData(at: value, depth: depth, parent: parent, key: key, end: &end) as! T
        }
        if T.self == URL.self {
            return try unwrapURL(at: value, parent: parent, key: key, end: &end) as! T
        }
        if T.self == Decimal.self {
            return try unwrapDecimal(at: value, parent: parent, key: key, end: &end) as! T
        }
        if !input.keysAreDefault, let dictionary = T.self as? any StringKeyedDictionary.Type {
            return try unwrapDictionary(dictionary, at: value, depth: depth, parent: parent, key: key) as! T
        }
        return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try T(from: self) }
    }

    private func path(_ parent: CodingPathNode?, _ key: (any CodingKey)?) -> [any CodingKey] {
        CodingPathNode.path(parent, appending: key)
    }

    private func unwrapDate(at value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int) throws -> Date {
        if input.isNull(at: value) { throw DecodingErrors.valueNotFound(Date.self, path(parent, key)) }
        switch input.configuration.dateDecodingStrategy {
        case .deferredToDate:
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try Date(from: self) }
        case .secondsSince1970:
            let seconds = try input.readDouble(at: value, end: &end) { path(parent, key) }
            return Date(timeIntervalSince1970: seconds)
        case .millisecondsSince1970:
            let milliseconds = try input.readDouble(at: value, end: &end) { path(parent, key) }
            return Date(timeIntervalSince1970: milliseconds / 1000.0)
        case .iso8601:
            let text = try input.readString(at: value, end: &end) { path(parent, key) }
            guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
                // Foundation reports the decoder's own path here, not the value's.
                throw DecodingErrors.dataCorrupted(codingPath, "Expected date string to be ISO8601-formatted.")
            }
            return date
        case let .custom(closure):
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try closure(self) }
        #if canImport(Darwin)
        case let .formatted(formatter):
            let text = try input.readString(at: value, end: &end) { path(parent, key) }
            guard let date = formatter.date(from: text) else {
                throw DecodingErrors.dataCorrupted(path(parent, key), "Date string does not match format expected by formatter.")
            }
            return date
        @unknown default:
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try Date(from: self) }
        #endif
        }
    }

    private func unwrapData(at value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int) throws -> Data {
        if input.isNull(at: value) { throw DecodingErrors.valueNotFound(Data.self, path(parent, key)) }
        switch input.configuration.dataDecodingStrategy {
        case .deferredToData:
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try Data(from: self) }
        case .base64:
            guard input.kind(at: value) == .string else { throw input.mismatch(String.self, at: value, path(parent, key)) }
            let text = try input.readString(at: value, end: &end) { path(parent, key) }
            guard let data = Data(base64Encoded: text) else {
                throw DecodingErrors.dataCorrupted(path(parent, key), "Encountered Data is not valid Base64.")
            }
            return data
        case let .custom(closure):
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try closure(self) }
        #if canImport(Darwin)
        @unknown default:
            return try with(value: value, depth: depth, parent: parent, key: key, end: &end) { try Data(from: self) }
        #endif
        }
    }

    private func unwrapURL(at value: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int) throws -> URL {
        if input.isNull(at: value) { throw DecodingErrors.valueNotFound(URL.self, path(parent, key)) }
        let text = try input.readString(at: value, end: &end) { path(parent, key) }
        guard let url = URL(string: text) else { throw DecodingErrors.dataCorrupted(path(parent, key), "Invalid URL string.") }
        return url
    }

    private func unwrapDecimal(at value: Int, parent: CodingPathNode?, key: (any CodingKey)?, end: inout Int) throws -> Decimal {
        switch input.kind(at: value) {
        case .null:
            throw DecodingErrors.valueNotFound(Decimal.self, path(parent, key))
        case .number:
            let number = try surfacingDecodingErrors { try JSONNumber(input, at: value) }
            let text = number.text(input)
            guard let decimal = Decimal(string: text), !decimal.isNaN else {
                throw JSONDecodingFailure.numberNotRepresentable(text).decodingError
            }
            end = number.end
            return decimal
        case .invalid:
            throw JSONDecodingFailure.invalidJSON.decodingError
        default:
            // Foundation's wording: no description at all.
            throw DecodingError.typeMismatch(Decimal.self, DecodingError.Context(codingPath: path(parent, key), debugDescription: ""))
        }
    }

    /// A `[String: Value]` under a non-default key strategy: its keys are data,
    /// not coding keys, so they are not converted (Foundation's exemption). The
    /// first of duplicate keys wins.
    private func unwrapDictionary(
        _ type: any StringKeyedDictionary.Type, at value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?
    ) throws -> Any {
        if input.isNull(at: value) { throw DecodingErrors.valueNotFound([String: Any].self, path(parent, key)) }
        guard input.kind(at: value) == .object else {
            throw input.mismatch([String: Any].self, at: value, path(parent, key))
        }
        let scan = try openObject(at: value, depth: depth, parent: parent, key: key)
        var result: [String: Any] = [:]
        for (name, element) in try surfacingDecodingErrors({ try scan.rawMembers() }) where result[name] == nil {
            result[name] = try unwrapElement(type.elementType, at: element, depth: depth &+ 1, parent: scan, key: JSONStringKey(name))
        }
        return type.make(from: result)
    }

    private func unwrapElement<E: Decodable>(_ type: E.Type, at value: Int, depth: Int, parent: CodingPathNode?, key: any CodingKey)
        throws -> Any
    {
        var end = -1
        return try unwrap(E.self, at: value, depth: depth, parent: parent, key: key, end: &end)
    }
}

/// `[String: Value]` with a decodable value: the dictionaries `JSONDecoder`
/// exempts from key conversion.
protocol StringKeyedDictionary {
    static var elementType: any Decodable.Type { get }
    static func make(from elements: [String: Any]) -> Self
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static var elementType: any Decodable.Type { Value.self }
    static func make(from elements: [String: Any]) -> Self { elements.mapValues { $0 as! Value } }
}
