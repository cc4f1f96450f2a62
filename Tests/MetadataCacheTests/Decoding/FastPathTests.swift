import Foundation
import Testing
@testable import MetadataCache

/// The decoder's shortcuts against `JSONDecoder`: scalars and arrays of scalars
/// read in place by a generic `decode<T>` (`DirectScalar`), keys matched against
/// the last object's layout, and object scans reused once unreferenced.
@Suite struct FastPathTests {
    /// Every property decoded through a *generic* `decode<T>` (the synthesized
    /// `init(from:)` of a generic type calls `decode(T.self, forKey:)`), and
    /// arrays of `T` through the standard library's `Array.init(from:)`.
    struct Generic<T: Decodable & Equatable>: Decodable, Equatable {
        var value: T
        var optional: T?
        var list: [T]
        var nested: [[T]]?
    }

    static let stringValues = [#""s""#, #""""#, #""\u00e9\n""#, #""\uD83D\uDE00""#, #""\uDEAD""#, "1", "null", "true", "[]", "{}"]
    static let intValues = ["0", "-1", "9223372036854775807", "9223372036854775808", "1.0", "1.5", "1e2", "1e400", #""1""#, "null", "[]"]
    static let doubleValues = ["0", "-0.0", "1.5", "1e308", "1e400", "5e-324", "1e-400", "123456789012345678901234", #""1""#, "null", "{}"]
    static let boolValues = ["true", "false", "null", "0", #""true""#, "[]"]

    /// Documents putting `value` in every position: the scalar, the optional,
    /// an array element, a nested array element; plus missing keys and wrong containers.
    static func documents(_ value: String, _ good: String) -> [String] {
        [
            #"{"value":\#(value),"list":[]}"#,
            #"{"value":\#(good),"optional":\#(value),"list":[]}"#,
            #"{"value":\#(good),"list":[\#(good),\#(value)]}"#,
            #"{"value":\#(good),"list":[],"nested":[[\#(good)],[\#(value),\#(good)]]}"#,
            #"{"value":\#(good),"list":\#(value)}"#,
            #"{"value":\#(good),"list":[],"nested":[\#(value)]}"#,
            #"{"list":[\#(value)]}"#,
            #"{"value":\#(good)}"#,
            #"{"value":\#(good),"list":null}"#,
            #"{"value":\#(good),"list":{}}"#,
            #"{"value":\#(good),"list":[ \#(good) , \#(good) ],"optional":null}"#,
        ]
    }

    @Test func genericStrings() {
        for value in Self.stringValues {
            for json in Self.documents(value, #""g""#) {
                Differential.expectSame(Generic<String>.self, json)
                Differential.expectSame([Generic<String>].self, "[\(json),\(json)]")
            }
            Differential.expectSame([String].self, "[\(value)]")
            Differential.expectSame(String.self, value)
            Differential.expectSame([[String]].self, #"[["a"],[\#(value)]]"#)
        }
    }

    @Test func genericIntegers() {
        for value in Self.intValues {
            for json in Self.documents(value, "7") {
                Differential.expectSame(Generic<Int>.self, json)
            }
            Differential.expectSame([Int].self, "[1,\(value)]")
            Differential.expectSame(Int.self, value)
        }
    }

    @Test func genericDoubles() {
        for value in Self.doubleValues {
            for json in Self.documents(value, "0.1") {
                Differential.expectSame(Generic<Double>.self, json)
            }
            Differential.expectSame([Double].self, "[0.5,\(value)]")
        }
        // Non-conforming floats through the generic path too.
        var options = DecoderOptions()
        options.nonConformingFloat = .convertFromString(positiveInfinity: "+inf", negativeInfinity: "-inf", nan: "nan")
        Differential.expectSame([Double].self, #"[1,"+inf","-inf"]"#, options)
        Differential.expectSame(Generic<Double>.self, #"{"value":"-inf","list":["+inf"]}"#, options)
    }

    @Test func genericBooleans() {
        for value in Self.boolValues {
            for json in Self.documents(value, "true") {
                Differential.expectSame(Generic<Bool>.self, json)
            }
            Differential.expectSame([Bool].self, "[false,\(value)]")
        }
    }

    /// Arrays of direct scalars inside the containers that reach them another
    /// way: unkeyed, single-value, a dictionary under a key strategy.
    @Test func directArraysThroughEveryContainer() {
        var snake = DecoderOptions()
        snake.key = .convertFromSnakeCase
        Differential.expectSame([String: [String]].self, #"{"a_b":["x"],"c":[]}"#, snake)
        Differential.expectSame([String: [Int]].self, #"{"a":[1,2],"b":[1.5]}"#)
        Differential.expectSame([[Bool]].self, "[[true],[],[false,true]]")
        Differential.expectSame([[Double]].self, "[[1],[2.5e3],null]")
    }

    // MARK: Key layouts

    struct Entry: Decodable, Equatable {
        var a: Int
        var ab: String
        var b: String?
        var long_key_name: Int
        var c: [String]
    }

    /// Arrays of objects whose keys vary from element to element the ways the
    /// layout shortcut must notice: another order, a key missing or added, a
    /// duplicate (the first wins), a key that is a prefix of another or differs
    /// in one byte, an escaped spelling, whitespace.
    @Test func objectsWhoseLayoutChanges() {
        var rng = SplitMix(seed: 12)
        var failures = 0
        for _ in 0..<400 {
            var elements: [String] = []
            for _ in 0..<(1 + rng.below(6)) {
                var members: [(String, String)] = [
                    ("a", "\(rng.below(100))"), ("ab", #""v\#(rng.below(9))""#), ("long_key_name", "\(rng.below(9))"),
                    ("c", ["[]", #"["x"]"#, #"["x","y"]"#][rng.below(3)]),
                ]
                if rng.below(2) == 0 { members.append(("b", [#""b""#, "null"][rng.below(2)])) }
                if rng.below(6) == 0 { members.append(("extra", #"{"a":[1,{"b":2}]}"#)) }
                if rng.below(4) != 0 {  // mostly the same order as the first element
                    members.sort { $0.0 < $1.0 }
                } else {
                    members.shuffle(using: &rng)
                }
                switch rng.below(12) {
                case 0: members.append(("a", #""duplicate, not an Int""#))
                case 1: members.insert(("a", "-5"), at: 0)
                case 2: members[rng.below(members.count)].0 = "aa"  // one byte differs from "ab"
                case 3: members[rng.below(members.count)].0 = "long_key_namf"
                case 4: members[0].0 = members[0].0.isEmpty ? "" : #"\u00\#(String(members[0].0.unicodeScalars.first!.value, radix: 16))"# + members[0].0.dropFirst()
                case 5: members.removeLast()
                default: break
                }
                let spaces = ["", " ", "\n\t"]
                elements.append("{" + members.map { key, value in
                    let s = spaces[rng.below(3)]
                    return "\(s)\"\(key)\"\(s):\(s)\(value)\(s)"
                }.joined(separator: ",") + "}")
            }
            let json = "[" + elements.joined(separator: ",") + "]"
            let expected = Differential.foundation([Entry].self, Data(json.utf8))
            let actual = Differential.ours([Entry].self, Data(json.utf8))
            if actual != expected {
                failures += 1
                if failures <= 3 { Issue.record("\(json)\nours: \(actual)\nJSONDecoder: \(expected)") }
            }
        }
        #expect(failures == 0)
    }

    // MARK: Reused scans

    /// Containers that a type keeps while the decode goes on to more objects of
    /// the same key type: a pooled scan is reused only once nothing references
    /// it, so every kept container still reads its own object.
    @Test func keptContainersAreNotReused() throws {
        final class Keeper: Decodable, @unchecked Sendable {
            let container: KeyedDecodingContainer<AnyKey>
            init(from decoder: any Decoder) throws { container = try decoder.container(keyedBy: AnyKey.self) }
        }
        let count = 40
        let json = "[" + (0..<count).map { #"{"name":"n\#($0)","inner":{"name":"i\#($0)"}}"# }.joined(separator: ",") + "]"
        let keepers = try CacheJSONDecoder().decode([Keeper].self, from: Data(json.utf8))
        let foundation = try JSONDecoder().decode([Keeper].self, from: Data(json.utf8))
        for (i, (ours, theirs)) in zip(keepers, foundation).enumerated() {
            let name = AnyKey("name")
            #expect(try ours.container.decode(String.self, forKey: name) == "n\(i)")
            #expect(try ours.container.decode(String.self, forKey: name) == theirs.container.decode(String.self, forKey: name))
            let inner = try ours.container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("inner"))
            #expect(try inner.decode(String.self, forKey: name) == "i\(i)")
            #expect(inner.codingPath.map(\.stringValue) == ["Index \(i)", "inner"])
        }
    }
}
