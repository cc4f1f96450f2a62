import Foundation
import Testing
@testable import MetadataCache

/// What a decode produced, in a form two decoders can be compared by: the value,
/// or the error's case, type or key, coding path and debug description.
enum DecodeOutcome<T: Equatable>: Equatable, CustomStringConvertible {
    case value(T)
    case error(DecodeErrorSummary)

    init(_ body: () throws -> T) {
        do {
            self = .value(try body())
        } catch {
            self = .error(DecodeErrorSummary(error))
        }
    }

    var description: String {
        switch self {
        case let .value(value): "value \(value)"
        case let .error(error): "\(error)"
        }
    }

    var error: DecodeErrorSummary? {
        if case let .error(error) = self { return error }
        return nil
    }
}

struct DecodeErrorSummary: Equatable, CustomStringConvertible {
    var kind: String
    var path: [String]
    var debugDescription: String

    init(kind: String, path: [String], debugDescription: String) {
        self.kind = kind
        self.path = path
        self.debugDescription = debugDescription
    }

    init(_ error: any Error) {
        func keys(_ path: [any CodingKey]) -> [String] {
            path.map { key in key.intValue.map { "\(key.stringValue)#\($0)" } ?? key.stringValue }
        }
        switch error {
        case let DecodingError.typeMismatch(type, context):
            self.init(kind: "typeMismatch(\(type))", path: keys(context.codingPath), debugDescription: context.debugDescription)
        case let DecodingError.valueNotFound(type, context):
            self.init(kind: "valueNotFound(\(type))", path: keys(context.codingPath), debugDescription: context.debugDescription)
        case let DecodingError.keyNotFound(key, context):
            self.init(
                kind: "keyNotFound(\(key.stringValue))", path: keys(context.codingPath), debugDescription: context.debugDescription)
        case let DecodingError.dataCorrupted(context):
            self.init(kind: "dataCorrupted", path: keys(context.codingPath), debugDescription: context.debugDescription)
        default:
            // Inside `init(from:)` Foundation throws its internal `JSONError` for
            // invalid or unrepresentable values and converts it to this at the top;
            // CacheJSONDecoder throws the converted error at once.
            if "\(type(of: error))" == "JSONError" {
                self = .invalidJSON
            } else {
                self.init(kind: "other: \(type(of: error))", path: [], debugDescription: "\(error)")
            }
        }
    }

    var description: String { "\(kind) at \(path): \(debugDescription)" }

    static let invalidJSON = DecodeErrorSummary(kind: "dataCorrupted", path: [], debugDescription: "The given data was not valid JSON.")
}

/// The options both decoders are configured with.
struct DecoderOptions: @unchecked Sendable {
    var date: JSONDecoder.DateDecodingStrategy = .deferredToDate
    var data: JSONDecoder.DataDecodingStrategy = .base64
    var key: JSONDecoder.KeyDecodingStrategy = .useDefaultKeys
    var nonConformingFloat: JSONDecoder.NonConformingFloatDecodingStrategy = .throw
    var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    var foundation: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = date
        decoder.dataDecodingStrategy = data
        decoder.keyDecodingStrategy = key
        decoder.nonConformingFloatDecodingStrategy = nonConformingFloat
        decoder.userInfo = userInfo
        return decoder
    }

    var ours: CacheJSONDecoder {
        var decoder = CacheJSONDecoder()
        decoder.dateDecodingStrategy = date
        decoder.dataDecodingStrategy = data
        decoder.keyDecodingStrategy = key
        decoder.nonConformingFloatDecodingStrategy = nonConformingFloat
        decoder.userInfo = userInfo
        return decoder
    }
}

enum Differential {
    static func foundation<T: Decodable & Equatable>(_ type: T.Type, _ data: Data, _ options: DecoderOptions = DecoderOptions())
        -> DecodeOutcome<T>
    {
        DecodeOutcome { try options.foundation.decode(T.self, from: data) }
    }

    /// Ours, through the validating entry point; the trusted entry point (what
    /// `read(as:)` uses) must give the same outcome for valid JSON.
    static func ours<T: Decodable & Equatable>(_ type: T.Type, _ data: Data, _ options: DecoderOptions = DecoderOptions())
        -> DecodeOutcome<T>
    {
        let checked = DecodeOutcome { try options.ours.decode(T.self, from: data) }
        if (try? StrictJSONValidator(requiresContainerAtTopLevel: false).validate(data)) != nil {
            let trusted = DecodeOutcome { try options.ours.decode(T.self, fromValidated: data) }
            #expect(trusted == checked, "trusted and validating entry points differ on \(String(decoding: data, as: UTF8.self))")
        }
        return checked
    }

    /// Expects both decoders to produce the same value or the same error.
    @discardableResult
    static func expectSame<T: Decodable & Equatable>(
        _ type: T.Type, _ json: String, _ options: DecoderOptions = DecoderOptions(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> DecodeOutcome<T> {
        expectSame(type, Data(json.utf8), options, sourceLocation: sourceLocation)
    }

    @discardableResult
    static func expectSame<T: Decodable & Equatable>(
        _ type: T.Type, _ data: Data, _ options: DecoderOptions = DecoderOptions(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> DecodeOutcome<T> {
        let expected = foundation(type, data, options)
        let actual = ours(type, data, options)
        #expect(
            actual == expected, "\(T.self) from \(String(decoding: data.prefix(300), as: UTF8.self))",
            sourceLocation: sourceLocation)
        return actual
    }
}

/// Any JSON value, decoded the way a generic model would (trying each kind in
/// turn through a single-value container): exercises every container path.
indirect enum AnyJSON: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .number(n): "\(n)"
        case let .string(s): s.debugDescription
        case let .array(a): "[\(a.map(\.description).joined(separator: ","))]"
        case let .object(o): "{\(o.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription):\($0.value)" }.joined(separator: ","))}"
        }
    }
}
