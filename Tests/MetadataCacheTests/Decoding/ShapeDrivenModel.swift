import Foundation
@testable import MetadataCache

/// A model decided at run time: a `Shape` says what `init(from:)` decodes at each
/// level and through which API (nested `Decodable` or nested container, `decode`
/// or `decodeIfPresent`), so random shapes stand for random Swift models.
indirect enum Shape: CustomStringConvertible, Sendable {
    case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, int128, uint128
    case double, float, string, bool
    case optional(Shape)
    /// An array: through a nested `Decodable` (`[T]` or a type with an unkeyed
    /// container) or a nested unkeyed container.
    case array(Shape, viaDecodable: Bool)
    case object([(key: String, shape: Shape)], viaDecodable: Bool)
    /// A `String`-backed enum (`Color`).
    case color
    case date, data, url, decimal
    case dictionary(Shape)

    var description: String {
        switch self {
        case let .optional(s): "\(s)?"
        case let .array(s, d): "[\(s)]\(d ? "" : "~")"
        case let .object(members, d): "{\(members.map { "\($0.key.debugDescription):\($0.shape)" }.joined(separator: ","))}\(d ? "" : "~")"
        case let .dictionary(s): "[String:\(s)]"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .int: "Int"
        case .uint8: "UInt8"
        case .uint16: "UInt16"
        case .uint32: "UInt32"
        case .uint64: "UInt64"
        case .uint: "UInt"
        case .int128: "Int128"
        case .uint128: "UInt128"
        case .double: "Double"
        case .float: "Float"
        case .string: "String"
        case .bool: "Bool"
        case .color: "Color"
        case .date: "Date"
        case .data: "Data"
        case .url: "URL"
        case .decimal: "Decimal"
        }
    }

    /// A random shape, at most `depth` levels of containers deep.
    static func random(_ rng: inout SplitMix, depth: Int, keys: [String]) -> Shape {
        let scalars: [Shape] = [
            .int8, .int16, .int32, .int64, .int, .uint8, .uint16, .uint32, .uint64, .uint, .int128, .uint128,
            .double, .float, .string, .string, .bool, .color, .date, .data, .url, .decimal,
        ]
        let pick = rng.below(depth > 0 ? 10 : 6)
        switch pick {
        case 0...3: return scalars[rng.below(scalars.count)]
        case 4, 5: return .optional(random(&rng, depth: depth, keys: keys))
        case 6: return .array(random(&rng, depth: depth - 1, keys: keys), viaDecodable: rng.below(2) == 0)
        case 7: return .dictionary(random(&rng, depth: depth - 1, keys: keys))
        default:
            var members: [(String, Shape)] = []
            var used = Set<String>()
            for _ in 0..<(1 + rng.below(5)) {
                let key = keys[rng.below(keys.count)]
                guard used.insert(key).inserted else { continue }
                members.append((key, random(&rng, depth: depth - 1, keys: keys)))
            }
            return .object(members.map { (key: $0.0, shape: $0.1) }, viaDecodable: rng.below(2) == 0)
        }
    }
}

enum Color: String, Decodable { case red, green, blue }

/// What the shape-driven model decoded: comparable between decoders.
indirect enum Decoded: Equatable, CustomStringConvertible {
    case scalar(String)
    case absent
    case array([Decoded])
    case object([String: Decoded])

    var description: String {
        switch self {
        case let .scalar(s): s
        case .absent: "nil"
        case let .array(a): "[\(a.map(\.description).joined(separator: ","))]"
        case let .object(o): "{\(o.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))}"
        }
    }
}

struct AnyKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// The `Decodable` that follows the current shape (a task-local, set by the
/// parent around each nested decode).
struct ShapeDriven: Decodable, Equatable {
    @TaskLocal static var shape: Shape = .int

    let value: Decoded

    init(from decoder: any Decoder) throws {
        value = try Self.decodeWhole(Self.shape, decoder)
    }

    /// Decodes a whole value of `shape` from `decoder`.
    static func decodeWhole(_ shape: Shape, _ decoder: any Decoder) throws -> Decoded {
        switch shape {
        case let .array(element, _):
            var container = try decoder.unkeyedContainer()
            return try decodeElements(element, &container)
        case let .object(members, _):
            return try decodeMembers(members, try decoder.container(keyedBy: AnyKey.self))
        case let .optional(inner):
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { return .absent }
            return try nested(inner) { try container.decode(ShapeDriven.self).value }
        default:
            let container = try decoder.singleValueContainer()
            return try scalar(shape, single: container)
        }
    }

    static func nested<T>(_ shape: Shape, _ body: () throws -> T) throws -> T {
        try $shape.withValue(shape) { try body() }
    }

    static func decodeMembers(_ members: [(key: String, shape: Shape)], _ container: KeyedDecodingContainer<AnyKey>) throws -> Decoded {
        var result: [String: Decoded] = [:]
        for (name, shape) in members {
            result[name] = try member(shape, AnyKey(name), container)
        }
        return .object(result)
    }

    static func member(_ shape: Shape, _ key: AnyKey, _ container: KeyedDecodingContainer<AnyKey>) throws -> Decoded {
        switch shape {
        case let .optional(inner):
            switch inner {
            case .int8: return text(try container.decodeIfPresent(Int8.self, forKey: key))
            case .int16: return text(try container.decodeIfPresent(Int16.self, forKey: key))
            case .int32: return text(try container.decodeIfPresent(Int32.self, forKey: key))
            case .int64: return text(try container.decodeIfPresent(Int64.self, forKey: key))
            case .int: return text(try container.decodeIfPresent(Int.self, forKey: key))
            case .uint8: return text(try container.decodeIfPresent(UInt8.self, forKey: key))
            case .uint16: return text(try container.decodeIfPresent(UInt16.self, forKey: key))
            case .uint32: return text(try container.decodeIfPresent(UInt32.self, forKey: key))
            case .uint64: return text(try container.decodeIfPresent(UInt64.self, forKey: key))
            case .uint: return text(try container.decodeIfPresent(UInt.self, forKey: key))
            case .int128: return text(try container.decodeIfPresent(Int128.self, forKey: key))
            case .uint128: return text(try container.decodeIfPresent(UInt128.self, forKey: key))
            case .double: return text(try container.decodeIfPresent(Double.self, forKey: key).map { $0.bitPattern })
            case .float: return text(try container.decodeIfPresent(Float.self, forKey: key).map { $0.bitPattern })
            case .string: return text(try container.decodeIfPresent(String.self, forKey: key))
            case .bool: return text(try container.decodeIfPresent(Bool.self, forKey: key))
            default:
                return try nested(inner) { try container.decodeIfPresent(ShapeDriven.self, forKey: key)?.value ?? .absent }
            }
        case let .array(element, viaDecodable):
            if viaDecodable { return try nested(shape) { try container.decode(ShapeDriven.self, forKey: key).value } }
            var nestedContainer = try container.nestedUnkeyedContainer(forKey: key)
            return try decodeElements(element, &nestedContainer)
        case let .object(members, viaDecodable):
            if viaDecodable { return try nested(shape) { try container.decode(ShapeDriven.self, forKey: key).value } }
            return try decodeMembers(members, try container.nestedContainer(keyedBy: AnyKey.self, forKey: key))
        case let .dictionary(inner):
            let dictionary = try nested(inner) { try container.decode([String: ShapeDriven].self, forKey: key) }
            return .object(dictionary.mapValues(\.value))
        case .int8: return text(try container.decode(Int8.self, forKey: key))
        case .int16: return text(try container.decode(Int16.self, forKey: key))
        case .int32: return text(try container.decode(Int32.self, forKey: key))
        case .int64: return text(try container.decode(Int64.self, forKey: key))
        case .int: return text(try container.decode(Int.self, forKey: key))
        case .uint8: return text(try container.decode(UInt8.self, forKey: key))
        case .uint16: return text(try container.decode(UInt16.self, forKey: key))
        case .uint32: return text(try container.decode(UInt32.self, forKey: key))
        case .uint64: return text(try container.decode(UInt64.self, forKey: key))
        case .uint: return text(try container.decode(UInt.self, forKey: key))
        case .int128: return text(try container.decode(Int128.self, forKey: key))
        case .uint128: return text(try container.decode(UInt128.self, forKey: key))
        case .double: return text(try container.decode(Double.self, forKey: key).bitPattern)
        case .float: return text(try container.decode(Float.self, forKey: key).bitPattern)
        case .string: return text(try container.decode(String.self, forKey: key))
        case .bool: return text(try container.decode(Bool.self, forKey: key))
        case .color: return text(try container.decode(Color.self, forKey: key).rawValue)
        case .date: return text(try container.decode(Date.self, forKey: key).timeIntervalSince1970.bitPattern)
        case .data: return text(try container.decode(Data.self, forKey: key).base64EncodedString())
        case .url: return text(try container.decode(URL.self, forKey: key).absoluteString)
        case .decimal: return text(try container.decode(Decimal.self, forKey: key))
        }
    }

    static func decodeElements(_ element: Shape, _ container: inout any UnkeyedDecodingContainer) throws -> Decoded {
        var items: [Decoded] = []
        while !container.isAtEnd {
            items.append(try self.element(element, &container))
        }
        return .array(items)
    }

    static func element(_ shape: Shape, _ container: inout any UnkeyedDecodingContainer) throws -> Decoded {
        switch shape {
        case let .optional(inner):
            switch inner {
            case .int8: return text(try container.decodeIfPresent(Int8.self))
            case .int: return text(try container.decodeIfPresent(Int.self))
            case .uint64: return text(try container.decodeIfPresent(UInt64.self))
            case .double: return text(try container.decodeIfPresent(Double.self).map { $0.bitPattern })
            case .string: return text(try container.decodeIfPresent(String.self))
            case .bool: return text(try container.decodeIfPresent(Bool.self))
            default:
                if try container.decodeNil() { return .absent }
                return try nested(inner) { try container.decode(ShapeDriven.self).value }
            }
        case let .array(inner, viaDecodable):
            if viaDecodable { return try nested(shape) { try container.decode(ShapeDriven.self).value } }
            var nestedContainer = try container.nestedUnkeyedContainer()
            return try decodeElements(inner, &nestedContainer)
        case let .object(members, viaDecodable):
            if viaDecodable { return try nested(shape) { try container.decode(ShapeDriven.self).value } }
            return try decodeMembers(members, try container.nestedContainer(keyedBy: AnyKey.self))
        case .int8: return text(try container.decode(Int8.self))
        case .int16: return text(try container.decode(Int16.self))
        case .int32: return text(try container.decode(Int32.self))
        case .int64: return text(try container.decode(Int64.self))
        case .int: return text(try container.decode(Int.self))
        case .uint8: return text(try container.decode(UInt8.self))
        case .uint16: return text(try container.decode(UInt16.self))
        case .uint32: return text(try container.decode(UInt32.self))
        case .uint64: return text(try container.decode(UInt64.self))
        case .uint: return text(try container.decode(UInt.self))
        case .int128: return text(try container.decode(Int128.self))
        case .uint128: return text(try container.decode(UInt128.self))
        case .double: return text(try container.decode(Double.self).bitPattern)
        case .float: return text(try container.decode(Float.self).bitPattern)
        case .string: return text(try container.decode(String.self))
        case .bool: return text(try container.decode(Bool.self))
        default: return try nested(shape) { try container.decode(ShapeDriven.self).value }
        }
    }

    static func scalar(_ shape: Shape, single container: any SingleValueDecodingContainer) throws -> Decoded {
        switch shape {
        case .int8: text(try container.decode(Int8.self))
        case .int16: text(try container.decode(Int16.self))
        case .int32: text(try container.decode(Int32.self))
        case .int64: text(try container.decode(Int64.self))
        case .int: text(try container.decode(Int.self))
        case .uint8: text(try container.decode(UInt8.self))
        case .uint16: text(try container.decode(UInt16.self))
        case .uint32: text(try container.decode(UInt32.self))
        case .uint64: text(try container.decode(UInt64.self))
        case .uint: text(try container.decode(UInt.self))
        case .int128: text(try container.decode(Int128.self))
        case .uint128: text(try container.decode(UInt128.self))
        case .double: text(try container.decode(Double.self).bitPattern)
        case .float: text(try container.decode(Float.self).bitPattern)
        case .string: text(try container.decode(String.self))
        case .bool: text(try container.decode(Bool.self))
        case .color: text(try container.decode(Color.self).rawValue)
        case .date: text(try container.decode(Date.self).timeIntervalSince1970.bitPattern)
        case .data: text(try container.decode(Data.self).base64EncodedString())
        case .url: text(try container.decode(URL.self).absoluteString)
        case .decimal: text(try container.decode(Decimal.self))
        case let .dictionary(inner): .object(try nested(inner) { try container.decode([String: ShapeDriven].self) }.mapValues(\.value))
        default: .absent
        }
    }

    static func text(_ value: Any?) -> Decoded {
        guard let value else { return .absent }
        return .scalar("\(type(of: value))(\(value))")
    }
}

/// Decodes `data` as the shape with both decoders (the shape bound for each).
enum ShapeDifferential {
    static func outcomes(_ shape: Shape, _ data: Data, _ options: DecoderOptions = DecoderOptions())
        -> (foundation: DecodeOutcome<ShapeDriven>, ours: DecodeOutcome<ShapeDriven>)
    {
        ShapeDriven.$shape.withValue(shape) {
            (Differential.foundation(ShapeDriven.self, data, options), Differential.ours(ShapeDriven.self, data, options))
        }
    }
}
