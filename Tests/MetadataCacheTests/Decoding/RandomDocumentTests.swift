import Foundation
import Testing
@testable import MetadataCache

/// Random models (shapes) and random documents for them — valid ones and ones
/// with one thing wrong — decoded by both decoders: the same value or the same
/// error, with the same coding path.
@Suite struct RandomDocumentTests {
    /// Key names, some of which the document writes differently from the model's
    /// `stringValue` while `String` equality still matches them.
    static let keys = ["a", "b", "id", "name", "é", "K", "long_key_name_for_words", "x y", "\"q\"", "ключ", ""]

    /// How a key can be spelled in the document: as is, with a `\u` escape, in
    /// another Unicode normalization (canonically equal, so `JSONDecoder` matches it).
    static func spell(_ key: String, _ rng: inout SplitMix) -> String {
        switch (key, rng.below(4)) {
        case ("é", 0): return "e\u{301}"  // decomposed: equal as String
        case ("K", 0): return "\u{212A}"  // KELVIN SIGN: canonically equal to K
        case (_, 1) where !key.isEmpty:
            return key.unicodeScalars.map { $0.value < 0x10000 ? String(format: "\\u%04X", $0.value) : "\($0)" }.joined()
        default: return escape(key)
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Something wrong, once per document at most: `mutation` counts down to it.
    struct Writer {
        var rng: SplitMix
        var mutateAt: Int
        var mutated = false

        mutating func shouldMutate() -> Bool {
            mutateAt -= 1
            if mutateAt == 0 { mutated = true }
            return mutateAt == 0
        }

        mutating func value(_ shape: Shape) -> String {
            if shouldMutate() { return wrong(shape) }
            switch shape {
            case .int8: return integer(Int8.self)
            case .int16: return integer(Int16.self)
            case .int32: return integer(Int32.self)
            case .int64: return integer(Int64.self)
            case .int: return integer(Int.self)
            case .uint8: return integer(UInt8.self)
            case .uint16: return integer(UInt16.self)
            case .uint32: return integer(UInt32.self)
            case .uint64: return integer(UInt64.self)
            case .uint: return integer(UInt.self)
            case .int128: return integer(Int128.self)
            case .uint128: return integer(UInt128.self)
            case .double, .float: return double()
            case .string: return "\"" + string() + "\""
            case .bool: return rng.below(2) == 0 ? "true" : "false"
            case .color: return ["\"red\"", "\"green\"", "\"blue\""][rng.below(3)]
            case .date: return double()
            case .data: return "\"" + Data((0..<rng.below(12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).base64EncodedString() + "\""
            case .url: return ["\"https://example.invalid/a?b=c\"", "\"file:///tmp/x\"", "\"relative/path\""][rng.below(3)]
            case .decimal: return double()
            case let .optional(inner): return rng.below(3) == 0 ? "null" : value(inner)
            case let .array(element, _):
                return "[" + (0..<rng.below(4)).map { _ in value(element) }.joined(separator: ",") + "]"
            case let .dictionary(inner):
                // (No mutation inside: several bad values would be reported in hash
                // order by JSONDecoder.)
                let saved = mutateAt
                mutateAt = -1
                defer { mutateAt = saved }
                return "{" + (0..<rng.below(3)).map { i in "\"k\(i)\":" + value(inner) }.joined(separator: ",") + "}"
            case let .object(members, _):
                var parts: [String] = []
                for (key, memberShape) in members {
                    if case .optional = memberShape, rng.below(4) == 0 { continue }  // absent optional
                    if shouldMutate() { continue }  // a missing key
                    parts.append("\"" + RandomDocumentTests.spell(key, &rng) + "\":" + whitespace() + value(memberShape))
                }
                if rng.below(3) == 0 { parts.insert("\"extra\":" + extra(), at: rng.below(parts.count + 1)) }
                if shouldMutate(), let first = members.first {
                    // A duplicate key: the first wins in JSONDecoder.
                    parts.append("\"" + RandomDocumentTests.escape(first.key) + "\":" + value(first.shape))
                }
                parts.shuffle(using: &rng)
                return "{" + whitespace() + parts.joined(separator: "," + whitespace()) + whitespace() + "}"
            }
        }

        mutating func whitespace() -> String { ["", "", " ", "\n  ", "\t"][rng.below(5)] }

        mutating func extra() -> String {
            ["[1,{\"a\":[\"]\",\"}\"]}]", "{\"nested\":{\"deep\":[[[]]]}}", "\"s\\\"t\\\\r\"", "-0.5e-3", "null", "true"][rng.below(6)]
        }

        /// A value of another kind, a null, or a number out of range.
        mutating func wrong(_ shape: Shape) -> String {
            ["null", "\"text\"", "true", "1.5", "-1", "300", "1e400", "[]", "{}", "\"\\uD800\"", "18446744073709551616", "\"purple\""][rng.below(12)]
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> String {
            switch rng.below(6) {
            case 0: return "\(T.max)"
            case 1: return "\(T.min)"
            case 2: return "\(T(truncatingIfNeeded: rng.next()))"
            case 3: return "\(T(truncatingIfNeeded: rng.below(100)))" + (rng.below(2) == 0 ? ".0" : "e0")
            default: return "\(T(truncatingIfNeeded: rng.below(1000)))"
            }
        }

        mutating func double() -> String {
            switch rng.below(5) {
            case 0: return "\(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))"
            case 1: return "\(rng.below(1_000_000))"
            case 2: return "-\(rng.below(1000)).\(rng.below(1000))e\(rng.below(20))"
            default: return "\(Double(rng.below(100_000)) / 100)"
            }
        }

        mutating func string() -> String {
            let pieces = ["plain", " ", "é", "日本", "\\n", "\\\"", "\\\\", "\\u00e9", "\\uD83D\\uDE00", "😀", "\\t", "\\/", "a\\u0000b"]
            return (0..<rng.below(5)).map { _ in pieces[rng.below(pieces.count)] }.joined()
        }
    }

    /// Compares both decoders on one random model and document; returns
    /// Foundation's error kind ("value" if it decoded).
    @discardableResult
    static func check(seed: UInt64, mutate: Bool) -> String {
        var rng = SplitMix(seed: seed)
        let shape = Shape.random(&rng, depth: 1 + rng.below(3), keys: keys)
        var writer = Writer(rng: SplitMix(seed: seed &* 31 &+ 7), mutateAt: mutate ? 1 + Int(seed % 7) : -1)
        let json = writer.value(shape)
        let (expected, actual) = ShapeDifferential.outcomes(shape, Data(json.utf8))
        #expect(actual == expected, "seed \(seed) shape \(shape)\n\(json)")
        if let error = expected.error, error.path.contains(where: { $0.hasPrefix("Index") }) { return "inArray" }
        return expected.error.map { String($0.kind.prefix { $0 != "(" }) } ?? "value"
    }

    // (The loops yield now and then: Swift Testing runs tests on the cooperative
    // pool, one thread per core, and a long CPU-bound test must not starve the
    // async tests that share it.)
    @Test func validDocumentsForRandomModels() async {
        var kinds: [String: Int] = [:]
        for seed in UInt64(1)...600 {
            kinds[Self.check(seed: seed, mutate: false), default: 0] += 1
            if seed % 20 == 0 { await Task.yield() }
        }
        // Valid documents decode (a few integers written "5.0" beyond 2^53 aside).
        #expect(kinds["value", default: 0] > 550, "\(kinds)")
    }

    @Test func documentsWithOneThingWrong() async {
        var kinds: [String: Int] = [:]
        for seed in UInt64(1)...2000 {
            kinds[Self.check(seed: seed, mutate: true), default: 0] += 1
            if seed % 20 == 0 { await Task.yield() }
        }
        // Every kind of error is among the comparisons.
        for kind in ["value", "typeMismatch", "valueNotFound", "keyNotFound", "dataCorrupted", "inArray"] {
            #expect(kinds[kind, default: 0] >= 15, "\(kind): \(kinds)")
        }
    }

    /// The same comparisons with every key decoding strategy and the date and
    /// data strategies that read numbers and strings.
    @Test func randomModelsUnderStrategies() async {
        var snake = DecoderOptions()
        snake.key = .convertFromSnakeCase
        snake.date = .secondsSince1970
        var custom = DecoderOptions()
        custom.key = .custom { path in AnyKey(path.last!.stringValue.lowercased()) }
        custom.date = .millisecondsSince1970
        custom.data = .deferredToData
        for (options, name) in [(snake, "snake"), (custom, "custom")] {
            for seed in UInt64(2000)...2300 {
                var rng = SplitMix(seed: seed)
                let shape = Shape.random(&rng, depth: 1 + rng.below(3), keys: Self.keys)
                var writer = Writer(rng: SplitMix(seed: seed), mutateAt: seed % 2 == 0 ? Int(seed % 5) + 1 : -1)
                let json = writer.value(shape)
                let (expected, actual) = ShapeDifferential.outcomes(shape, Data(json.utf8), options)
                #expect(actual == expected, "\(name) seed \(seed) shape \(shape)\n\(json)")
                if seed % 20 == 0 { await Task.yield() }
            }
        }
    }
}
