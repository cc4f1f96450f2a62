import Foundation
import Testing
@testable import MetadataCache

/// Every error path, with its coding path, against `JSONDecoder`; and the
/// outcomes that are ours alone (invalid JSON, depth, recursion) checked by value.
@Suite struct DecodingErrorTests {
    struct Inner: Decodable, Equatable {
        var id: Int
        var tags: [String]
        var color: Color?
    }

    struct Outer: Decodable, Equatable {
        var name: String
        var inner: Inner
        var list: [Inner]
        var map: [String: Inner]?
        var flag: Bool
        var ratio: Double?
    }

    static let base = #"{"name":"n","inner":{"id":1,"tags":["a"]},"list":[{"id":2,"tags":[]},{"id":3,"tags":["x","y"],"color":"red"}],"flag":true}"#

    /// One change each: every DecodingError case at every depth.
    static let variants = [
        base,
        #"{"name":"n","inner":{"id":1,"tags":["a"]},"list":[],"flag":true,"ratio":null,"map":null}"#,
        #"{"inner":{"id":1,"tags":["a"]},"list":[],"flag":true}"#,  // keyNotFound at []
        #"{"name":"n","inner":{"tags":["a"]},"list":[],"flag":true}"#,  // keyNotFound at [inner]
        #"{"name":"n","inner":{"id":1,"tags":["a"]},"list":[{"id":2}],"flag":true}"#,  // at [list, Index 0]
        #"{"name":1,"inner":{"id":1,"tags":["a"]},"list":[],"flag":true}"#,  // typeMismatch String
        #"{"name":"n","inner":{"id":"1","tags":["a"]},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":["a",2]},"list":[],"flag":true}"#,  // [inner, tags, Index 1]
        #"{"name":"n","inner":{"id":1,"tags":"a"},"list":[],"flag":true}"#,  // unkeyed container on a string
        #"{"name":"n","inner":[],"list":[],"flag":true}"#,  // keyed container on an array
        #"{"name":"n","inner":null,"list":[],"flag":true}"#,  // valueNotFound for a container
        #"{"name":null,"inner":{"id":1,"tags":[]},"list":[],"flag":true}"#,  // valueNotFound String
        #"{"name":"n","inner":{"id":null,"tags":[]},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[null]},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[],"flag":null}"#,  // Bool: typeMismatch for null
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[],"flag":"true"}"#,
        #"{"name":"n","inner":{"id":1,"tags":[],"color":"purple"},"list":[],"flag":true}"#,  // dataCorrupted enum
        #"{"name":"n","inner":{"id":1,"tags":[],"color":5},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1.5,"tags":[]},"list":[],"flag":true}"#,  // not representable
        #"{"name":"n","inner":{"id":1e300,"tags":[]},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[],"flag":true,"ratio":1e999}"#,
        #"{"name":"\uDEAD","inner":{"id":1,"tags":[]},"list":[],"flag":true}"#,  // lone surrogate
        #"{"name":"n","inner":{"id":1,"tags":["ok","\uD800x"]},"list":[],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[],"flag":true,"map":{"k":{"id":"x","tags":[]}}}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":{},"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[1],"flag":true}"#,
        #"{"name":"n","inner":{"id":1,"tags":[]},"list":[null],"flag":true}"#,
        "[]", "{}", "null", "1", #""text""#,
    ]

    @Test(arguments: variants)
    func sameErrorAsFoundation(_ json: String) {
        Differential.expectSame(Outer.self, json)
        Differential.expectSame([Outer].self, "[" + json + "]")
        Differential.expectSame([String: Outer].self, #"{"key":"# + json + "}")
    }

    /// JSONDecoder decodes every key of an object a type opens, so a key it cannot
    /// decode (a lone surrogate escape) fails the decode even when no lookup asks
    /// for it. Found by the fuzz target: `allKeys` returned no keys instead.
    struct NameOnly: Decodable, Equatable { var name: String }
    struct NestedNameOnly: Decodable, Equatable {
        var inner: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            inner = try c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("o")).decode(String.self, forKey: AnyKey("name"))
        }
    }

    @Test(arguments: [
        #"{"d83dFFFF\ud83did":1,"name":"a","talod":[]}"#,  // the fuzz target's crash input
        #"{"name":"a","\ud800":1}"#, #"{"\udc00":1,"name":"a"}"#, #"{"name":"a","x\uD83D\uDE00":2}"#,
        #"{"o":{"name":"a","\ud800":1},"name":"b"}"#, #"{"name":"a","o":{"\ud800":1}}"#,
        #"[{"name":"a"},{"name":"b","\ud800x":0}]"#,
    ])
    func keysThatCannotBeDecodedFailTheDecode(_ json: String) {
        Differential.expectSame(NameOnly.self, json)
        Differential.expectSame([NameOnly].self, json)
        Differential.expectSame(NestedNameOnly.self, json)
        // A type that catches the error and tries something else (AnyJSON tries
        // each kind): both decodes fail, but JSONDecoder throws when the object
        // is opened and reports what was tried next, while the failure here is
        // found lazily and fails the decode at its end (a documented difference).
        // (The surrogate pair is a valid key: that case decodes in both.)
        let foundationFails = Differential.foundation(AnyJSON.self, Data(json.utf8)).error != nil
        let oursFails = Differential.ours(AnyJSON.self, Data(json.utf8)).error != nil
        #expect(oursFails == foundationFails)
        #expect(foundationFails == !json.contains(#"\uD83D\uDE00"#))
    }

    /// Invalid JSON: `dataCorrupted`, empty path, Foundation's description, and
    /// the validator's reason as the underlying error.
    @Test(arguments: ["", " ", "{", "[1,", #"{"a":1"#, "[1 2]", "nul", "[01]", "{'a':1}", "[1] x", "\u{FEFF}[]", "[\"\u{1}\"]"])
    func invalidJSONIsDataCorruptedWithTheReason(_ json: String) throws {
        do {
            _ = try CacheJSONDecoder().decode(AnyJSON.self, from: Data(json.utf8))
            Issue.record("decoded invalid JSON \(json.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.codingPath.isEmpty)
            #expect(context.debugDescription == "The given data was not valid JSON.")
            #expect(context.underlyingError is JSONValidationError)
        }
        // (A byte order mark is the one input here that Foundation accepts — a
        // documented difference: only UTF-8 without BOM is JSON here.)
        #expect((try? JSONDecoder().decode(AnyJSON.self, from: Data(json.utf8))) == nil || json.hasPrefix("\u{FEFF}"))
    }

    /// 512 nested containers decode (Foundation's limit too), 513 do not — through
    /// the validating entry point and the trusted one (which reads a payload the
    /// validator checked at commit, but must hold on any bytes).
    @Test func nestingLimit() throws {
        func nested(_ depth: Int) -> Data { Data((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8) }
        #expect(throws: Never.self) { try CacheJSONDecoder().decode(AnyJSON.self, from: nested(512)) }
        #expect((try? JSONDecoder().decode(AnyJSON.self, from: nested(512))) != nil)
        #expect(throws: DecodingError.self) { try CacheJSONDecoder().decode(AnyJSON.self, from: nested(513)) }
        #expect(throws: DecodingError.self) { try CacheJSONDecoder().decode(AnyJSON.self, fromValidated: nested(513)) }
        #expect(throws: DecodingError.self) { try CacheJSONDecoder().decode(AnyJSON.self, fromValidated: nested(200_000)) }
        #expect((try? JSONDecoder().decode(AnyJSON.self, from: nested(513))) == nil)
    }

    /// A type that decodes itself from its own single-value container recurses
    /// without descending into the document: stopped at the limit with an error
    /// (JSONDecoder overflows the stack; not run here).
    @Test func selfRecursiveDecodableStopsWithAnError() {
        struct Forever: Decodable {
            init(from decoder: any Decoder) throws { _ = try decoder.singleValueContainer().decode(Forever.self) }
        }
        #expect(throws: DecodingError.self) { try CacheJSONDecoder().decode(Forever.self, from: Data("1".utf8)) }
    }

    /// `read(as:)` of a cache whose payload is not a `T`: the decoding error,
    /// and the snapshot is not lost (a plain `read()` still works).
    @Test func readAsReportsTheDecodingError() throws {
        let t = try TestStore("typed-error")
        let payload = Data(#"{"packages":[{"vendor":7}]}"#.utf8)
        try t.store.acquireWriterLock().commit(payload, source: "test")
        struct Catalogue: Decodable { struct Package: Decodable { let vendor: String }; let packages: [Package] }
        #expect {
            try t.store.read(as: Catalogue.self)
        } throws: { error in
            // One error type for the host to switch over; the decoder's own error inside.
            guard case let MetadataCacheError.decodingFailed(path, type, .typeMismatch(_, context)) = error else { return false }
            return path == t.store.cachePath && type == "Catalogue"
                && context.codingPath.map(\.stringValue) == ["packages", "Index 0", "vendor"]
        }
        #expect(try t.store.read()?.payload == payload)
    }
}
