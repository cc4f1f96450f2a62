import Foundation
import Testing
@testable import MetadataCache

/// Hand-written `init(from:)`s that call every container API in odd orders and
/// write down what each call returned or threw; both decoders must write the same
/// transcript. (This is how host code that does not use synthesized conformances
/// sees a decoder.)
@Suite struct ContainerSemanticsTests {
    /// "label: value" or "label: error summary".
    struct Transcript {
        var lines: [String] = []
        mutating func record<T>(_ label: String, _ body: () throws -> T) {
            do {
                lines.append("\(label): \(try body())")
            } catch {
                lines.append("\(label): \(DecodeErrorSummary(error))")
            }
        }
    }

    static func path(_ path: [any CodingKey]) -> String {
        path.map { key in key.intValue.map { "\(key.stringValue)#\($0)" } ?? key.stringValue }.joined(separator: "/")
    }

    /// Every keyed-container API for a few keys (present, null, missing, "super").
    struct KeyedProbe: Decodable, Equatable {
        var lines: [String]
        init(from decoder: any Decoder) throws {
            var t = Transcript()
            t.record("decoder path") { path(decoder.codingPath) }
            let c = try decoder.container(keyedBy: AnyKey.self)
            t.record("allKeys") { c.allKeys.map(\.stringValue).sorted() }
            for name in ["a", "b", "n", "missing", "super", "o", "arr"] {
                let k = AnyKey(name)
                t.record("\(name) contains") { c.contains(k) }
                t.record("\(name) decodeNil") { try c.decodeNil(forKey: k) }
                t.record("\(name) Int") { try c.decode(Int.self, forKey: k) }
                t.record("\(name) Int?") { try c.decodeIfPresent(Int.self, forKey: k) as Any }
                t.record("\(name) String") { try c.decode(String.self, forKey: k) }
                t.record("\(name) String?") { try c.decodeIfPresent(String.self, forKey: k) as Any }
                t.record("\(name) Bool") { try c.decode(Bool.self, forKey: k) }
                t.record("\(name) Double") { try c.decode(Double.self, forKey: k) }
                t.record("\(name) [Int]") { try c.decode([Int].self, forKey: k) }
                t.record("\(name) [Int]?") { try c.decodeIfPresent([Int].self, forKey: k) as Any }
                t.record("\(name) [String:Int]") { try c.decode([String: Int].self, forKey: k).sorted { $0.key < $1.key }.description }
                t.record("\(name) nested keyed") {
                    let n = try c.nestedContainer(keyedBy: AnyKey.self, forKey: k)
                    return "\(path(n.codingPath)) \(n.allKeys.map(\.stringValue).sorted()) x=\((try? n.decode(Int.self, forKey: AnyKey("x"))) as Any)"
                }
                t.record("\(name) nested unkeyed") {
                    var n = try c.nestedUnkeyedContainer(forKey: k)
                    return "\(path(n.codingPath)) count=\(n.count as Any) end=\(n.isAtEnd) first=\((try? n.decode(Int.self)) as Any) index=\(n.currentIndex)"
                }
                t.record("\(name) superDecoder(forKey:)") {
                    let s = try c.superDecoder(forKey: k)
                    let single = try s.singleValueContainer()
                    return "\(path(s.codingPath)) nil=\(single.decodeNil()) int=\((try? single.decode(Int.self)) as Any)"
                }
            }
            t.record("superDecoder()") {
                let s = try c.superDecoder()
                return "\(path(s.codingPath)) nil=\(try s.singleValueContainer().decodeNil())"
            }
            t.record("codingPath") { path(c.codingPath) }
            lines = t.lines
        }
    }

    /// Every unkeyed-container API, walking past the end.
    struct UnkeyedProbe: Decodable, Equatable {
        var lines: [String]
        init(from decoder: any Decoder) throws {
            var t = Transcript()
            var c = try decoder.unkeyedContainer()
            t.record("count") { c.count as Any }
            var copy = c
            var step = 0
            while step < 12 {
                let at = "[\(c.currentIndex)] end=\(c.isAtEnd)"
                switch step % 6 {
                case 0: t.record("\(at) decodeNil") { try c.decodeNil() }
                case 1: t.record("\(at) Int") { try c.decode(Int.self) }
                case 2: t.record("\(at) String?") { try c.decodeIfPresent(String.self) as Any }
                case 3: t.record("\(at) [Int]") { try c.decode([Int].self) }
                case 4:
                    t.record("\(at) nested keyed") {
                        let n = try c.nestedContainer(keyedBy: AnyKey.self)
                        return "\(path(n.codingPath)) \(n.allKeys.map(\.stringValue).sorted())"
                    }
                default: t.record("\(at) superDecoder") { path(try c.superDecoder().codingPath) }
                }
                if c.isAtEnd && step >= 6 { break }
                step += 1
            }
            t.record("after: index") { c.currentIndex }
            t.record("after: decode past end") { try c.decode(Bool.self) }
            t.record("after: nested unkeyed past end") { try c.nestedUnkeyedContainer().count as Any }
            t.record("after: decodeIfPresent past end") { try c.decodeIfPresent(Int.self) as Any }
            t.record("after: index") { c.currentIndex }
            // The copy made at the start still reads from the first element.
            t.record("copy: Int") { try copy.decode(Int.self) }
            t.record("copy: index") { copy.currentIndex }
            lines = t.lines
        }
    }

    /// Every single-value API on one value.
    struct SingleProbe: Decodable, Equatable {
        var lines: [String]
        init(from decoder: any Decoder) throws {
            var t = Transcript()
            let c = try decoder.singleValueContainer()
            t.record("nil") { c.decodeNil() }
            t.record("Bool") { try c.decode(Bool.self) }
            t.record("Int8") { try c.decode(Int8.self) }
            t.record("UInt") { try c.decode(UInt.self) }
            t.record("Double") { try c.decode(Double.self) }
            t.record("Float") { try c.decode(Float.self) }
            t.record("String") { try c.decode(String.self) }
            t.record("[Int]") { try c.decode([Int].self) }
            t.record("keyed") { try decoder.container(keyedBy: AnyKey.self).allKeys.count }
            t.record("unkeyed") { try decoder.unkeyedContainer().count as Any }
            t.record("Date") { try c.decode(Date.self).timeIntervalSince1970 }
            t.record("Data") { try c.decode(Data.self).count }
            t.record("URL") { try c.decode(URL.self).absoluteString }
            t.record("Decimal") { try c.decode(Decimal.self).description }
            lines = t.lines
        }
    }

    static let documents = [
        #"{"a":1,"b":"two","n":null,"o":{"x":5,"y":[1]},"arr":[1,2,3],"super":7}"#,
        #"{"a":"1","b":2,"o":[],"arr":{},"super":null}"#,
        #"{"a":1,"a":2,"b":"first","b":"second","arr":[1],"arr":[]}"#,
        #"{}"#, "[]", "null", "1", "\"s\"", "true", "-1.5e3", "\"aGk=\"", "\"https://x.invalid/\"",
        "[1,\"s\",null,[2],{\"k\":1},true]", "[null,null]", "[{\"a\":1},{\"a\":\"x\"}]", "[[1,2],[3,\"x\"]]",
        #"{"o":{"x":"not int"},"arr":[1,"x"]}"#, #"{"e\u0301":1,"é":2,"\u212A":3,"K":4,"a":5}"#,
        #"{"\u0061":10,"b\u0000":1,"\ud83d\ude00":2}"#,
    ]

    @Test(arguments: documents)
    func keyedTranscript(_ json: String) {
        Differential.expectSame(KeyedProbe.self, json)
        Differential.expectSame([KeyedProbe].self, "[\(json)]")
        Differential.expectSame([String: KeyedProbe].self, "{\"k\":\(json)}")
    }

    @Test(arguments: documents)
    func unkeyedTranscript(_ json: String) {
        Differential.expectSame(UnkeyedProbe.self, json)
        Differential.expectSame([UnkeyedProbe].self, "[\(json)]")
    }

    @Test(arguments: documents)
    func singleValueTranscript(_ json: String) {
        Differential.expectSame(SingleProbe.self, json)
        Differential.expectSame([String: SingleProbe].self, "{\"v\":\(json)}")
    }

    /// A container kept after `decode` returned still reads its bytes (they are
    /// copied when something outlives the decode), as with `JSONDecoder`.
    @Test func containersOutliveTheDecode() throws {
        final class Keeper: Decodable, @unchecked Sendable {
            let container: KeyedDecodingContainer<AnyKey>
            var unkeyed: any UnkeyedDecodingContainer
            let decoder: any Decoder
            init(from decoder: any Decoder) throws {
                container = try decoder.container(keyedBy: AnyKey.self)
                unkeyed = try container.nestedUnkeyedContainer(forKey: AnyKey("list"))
                self.decoder = decoder
            }
        }
        var bytes = Data(#"{"name":"kept","list":[10,20,30],"late":{"x":1}}"#.utf8)
        let keeper = try bytes.withUnsafeBytes { try CacheJSONDecoder().decode(Keeper.self, fromValidated: $0) }
        bytes.resetBytes(in: 0..<bytes.count)  // the caller's buffer is gone
        #expect(try keeper.container.decode(String.self, forKey: AnyKey("name")) == "kept")
        #expect(try keeper.unkeyed.decode(Int.self) == 10)
        #expect(try keeper.container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("late")).decode(Int.self, forKey: AnyKey("x")) == 1)
        #expect(keeper.container.allKeys.map(\.stringValue) == ["name", "list", "late"])
    }

    /// `userInfo` reaches every `init(from:)`, nested ones included.
    @Test func userInfoReachesNestedDecoders() throws {
        struct Reader: Decodable, Equatable {
            var seen: [String]
            init(seen: [String]) { self.seen = seen }
            init(from decoder: any Decoder) throws {
                let key = CodingUserInfoKey(rawValue: "tag")!
                var seen = [decoder.userInfo[key] as? String ?? "missing"]
                if var c = try? decoder.unkeyedContainer(), !c.isAtEnd { seen += try c.decode(Reader.self).seen }
                self.seen = seen
            }
        }
        var options = DecoderOptions()
        options.userInfo = [CodingUserInfoKey(rawValue: "tag")!: "hello"]
        let outcome = Differential.expectSame(Reader.self, "[[[1]]]", options)
        #expect(outcome == .value(Reader(seen: ["hello", "hello", "hello", "hello"])))
    }
}

extension ContainerSemanticsTests.KeyedProbe: CustomStringConvertible {
    var description: String { lines.joined(separator: "\n") }
}
extension ContainerSemanticsTests.UnkeyedProbe: CustomStringConvertible {
    var description: String { lines.joined(separator: "\n") }
}
extension ContainerSemanticsTests.SingleProbe: CustomStringConvertible {
    var description: String { lines.joined(separator: "\n") }
}
