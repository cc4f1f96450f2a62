// Fuzz target: CacheJSONDecoder on any bytes.
//
// Compiled together with the library's sources (one module, so the package-level
// trusted entry point that `CacheStore.read(as:)` uses is reachable):
//
//     swiftc -sanitize=fuzzer,address -parse-as-library -package-name MetadataCache \
//         -module-name MetadataCache Sources/MetadataCache/**/*.swift Tests/Fuzz/TypedDecoder.swift ...
//
// What it checks:
// 1. Safety on any bytes: the trusted path (`decode(_:fromValidated:)`, which skips
//    grammar checks because a cache payload was validated at commit) must return a
//    value or throw — never trap, read out of bounds or recurse without limit —
//    whatever the bytes. The sanitizers turn any violation into a crash.
// 2. Differential: when the bytes are strict JSON (StrictJSONValidator accepts
//    them), our results must equal Foundation's JSONDecoder's (values, or the
//    error's case and coding path), except for the documented differences
//    (docs/design.md, "Typed decoding"). A mismatch traps, so libFuzzer saves it.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

private enum FuzzColor: String, Decodable, Equatable { case red, green, blue }

/// A catalogue-like model without dictionaries: its errors are deterministic in
/// both decoders, so the whole outcome (value or error and path) is compared.
private struct FuzzRecord: Decodable, Equatable {
    var id: Int
    var name: String
    var tags: [String]?
    var small: Int8?
    var big: UInt64?
    var ratio: Double?
    var single: Float?
    var flag: Bool?
    var color: FuzzColor?
    var nested: [FuzzRecord]?
    var matrix: [[Int16?]]?

    enum CodingKeys: String, CodingKey {
        case id, name, tags, small, big, ratio, single, flag, color, nested, matrix
    }
}

/// Any JSON value, decoded by trying each kind (every container path). Its
/// objects are dictionaries, whose errors Foundation reports in hash order: only
/// success and the value are compared.
private indirect enum FuzzAny: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([FuzzAny]), object([String: FuzzAny])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Double.self) {
            self = .number(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([FuzzAny].self) {
            self = .array(v)
        } else {
            self = .object(try c.decode([String: FuzzAny].self))
        }
    }
}

/// A hand-written decoder that walks every container API, for safety only.
private struct FuzzWalker: Decodable {
    init(from decoder: any Decoder) throws {
        if var u = try? decoder.unkeyedContainer() {
            _ = u.count
            var steps = 0
            while !u.isAtEnd && steps < 64 {
                steps += 1
                if (try? u.decodeNil()) == true { continue }
                if (try? u.decode(FuzzWalker.self)) != nil { continue }
                _ = try? u.decode(String.self)
                _ = try? u.superDecoder()
            }
        } else if let k = try? decoder.container(keyedBy: FuzzKey.self) {
            for key in k.allKeys.prefix(64) {
                _ = try? k.decode(FuzzWalker.self, forKey: key)
                _ = try? k.decodeIfPresent(Int.self, forKey: key)
                _ = try? k.nestedUnkeyedContainer(forKey: key)
            }
            _ = try? k.superDecoder()
        } else {
            let s = try decoder.singleValueContainer()
            _ = try? s.decode(Int64.self)
            _ = try? s.decode(Float.self)
            _ = try? s.decode(String.self)
        }
    }
}

private struct FuzzKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private enum FuzzOutcome<T: Equatable>: Equatable {
    case value(T)
    case failure(kind: String, path: [String])

    init(_ body: () throws -> T) {
        do {
            self = .value(try body())
        } catch {
            switch error {
            case let DecodingError.typeMismatch(_, c): self = .failure(kind: "typeMismatch", path: Self.path(c.codingPath))
            case let DecodingError.valueNotFound(_, c): self = .failure(kind: "valueNotFound", path: Self.path(c.codingPath))
            case let DecodingError.keyNotFound(k, c): self = .failure(kind: "keyNotFound \(k.stringValue)", path: Self.path(c.codingPath))
            case let DecodingError.dataCorrupted(c): self = .failure(kind: "dataCorrupted", path: Self.path(c.codingPath))
            default: self = .failure(kind: "other", path: [])
            }
        }
    }

    static func path(_ keys: [any CodingKey]) -> [String] { keys.map(\.stringValue) }

    var succeeded: Bool {
        if case .value = self { return true }
        return false
    }
}

/// A zero written with an exponent ("0e5", "-0.0E+3"), which Foundation rejects
/// in some positions (a documented difference).
private func containsZeroWithExponent(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    while i < bytes.count {
        let c = bytes[i]
        guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else {
            i += 1
            continue
        }
        var j = i
        var nonZero = false
        var exponent = false
        while j < bytes.count {
            let d = bytes[j]
            if d == UInt8(ascii: "e") || d == UInt8(ascii: "E") { exponent = true } else if !exponent && d >= 0x31 && d <= 0x39 { nonZero = true } else if !(d >= 0x30 && d <= 0x39) && d != UInt8(ascii: ".") && d != UInt8(ascii: "-") && d != UInt8(ascii: "+") { break }
            j += 1
        }
        if exponent && !nonZero { return true }
        i = j + 1
    }
    return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let decoder = CacheJSONDecoder()

    // 1. Safety: the trusted path on raw bytes, several shapes of model.
    let record = FuzzOutcome { try decoder.decode(FuzzRecord.self, fromValidated: bytes) }
    let any = FuzzOutcome { try decoder.decode(FuzzAny.self, fromValidated: bytes) }
    _ = try? decoder.decode(FuzzWalker.self, fromValidated: bytes)
    var snake = CacheJSONDecoder()
    snake.keyDecodingStrategy = .convertFromSnakeCase
    snake.dateDecodingStrategy = .iso8601
    _ = try? snake.decode([String: [Date?]].self, fromValidated: bytes)

    // 2. Differential, for strict JSON only.
    guard (try? StrictJSONValidator(requiresContainerAtTopLevel: false).validate(bytes)) != nil else { return 0 }
    let json = Data(bytes)
    if containsZeroWithExponent(bytes) { return 0 }
    let foundation = JSONDecoder()
    let expectedRecord = FuzzOutcome { try foundation.decode(FuzzRecord.self, from: json) }
    if record != expectedRecord {
        fatalError("FuzzRecord differs from JSONDecoder: ours \(record), Foundation \(expectedRecord)")
    }
    let expectedAny = FuzzOutcome { try foundation.decode(FuzzAny.self, from: json) }
    if any.succeeded != expectedAny.succeeded || (any.succeeded && any != expectedAny) {
        fatalError("FuzzAny differs from JSONDecoder: ours \(any), Foundation \(expectedAny)")
    }
    // The validating entry point agrees with the trusted one on valid JSON.
    if FuzzOutcome({ try decoder.decode(FuzzRecord.self, from: json) }) != record {
        fatalError("validating and trusted entry points differ")
    }
    return 0
}
