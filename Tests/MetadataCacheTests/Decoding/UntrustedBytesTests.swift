import Foundation
import Testing
@testable import MetadataCache

/// The trusted entry point (what `read(as:)` uses: grammar not re-checked, the
/// payload was validated at commit) on bytes that are not JSON: a value or a
/// `DecodingError`, never a trap, an out-of-bounds read or unbounded recursion.
/// A crash here fails the whole test run; each test also checks what it can.
@Suite struct UntrustedBytesTests {
    struct Model: Decodable {
        var schemaVersion: Int?
        var packages: [Package]?
        struct Package: Decodable {
            var id: String?
            var size: UInt64?
            var lts: Bool?
            var links: [String: String]?
            var features: [String]?
        }
    }

    /// Decodes `bytes` every way the fuzz target does; returns how many decodes
    /// threw a `DecodingError` (anything else thrown is a failure).
    @discardableResult
    static func decodeEveryWay(_ bytes: [UInt8]) -> Int {
        var errors = 0
        bytes.withUnsafeBytes { raw in
            func attempt<T: Decodable>(_ type: T.Type, _ decoder: CacheJSONDecoder = CacheJSONDecoder()) {
                do {
                    _ = try decoder.decode(T.self, fromValidated: raw)
                } catch is DecodingError {
                    errors += 1
                } catch {
                    Issue.record("\(T.self): not a DecodingError: \(error) for \(String(decoding: bytes.prefix(80), as: UTF8.self))")
                }
            }
            attempt(Model.self)
            attempt(AnyJSON.self)
            attempt(FoojayCatalogue.self)
            attempt([String: [Double?]].self)
            var snake = CacheJSONDecoder()
            snake.keyDecodingStrategy = .convertFromSnakeCase
            attempt(FoojayCatalogue.self, snake)
        }
        return errors
    }

    /// Every prefix of a real catalogue: all truncated, most fail, none crash.
    /// (Long loops yield now and then, not to starve the async tests sharing the
    /// cooperative pool.)
    @Test func everyTruncationOfACatalogue() async throws {
        let sample = Array(try Fixtures.data("catalog-sample.json").prefix(2500))
        var failures = 0
        for length in 0..<sample.count {
            failures += Self.decodeEveryWay(Array(sample[0..<length])) > 0 ? 1 : 0
            if length % 50 == 0 { await Task.yield() }
        }
        #expect(failures == sample.count)
    }

    /// Random byte flips, insertions and deletions in a valid document.
    @Test func randomMutationsOfACatalogue() async throws {
        let sample = Array(try Fixtures.data("catalog-sample.json").prefix(4000))
        var rng = SplitMix(seed: 42)
        let interesting: [UInt8] = Array("{}[]\":,\\ntfu0123456789-.eE \u{0}".utf8) + [0x80, 0xC3, 0xFF, 0xED]
        for round in 0..<600 {
            if round % 20 == 0 { await Task.yield() }
            var bytes = sample
            for _ in 0..<(1 + rng.below(4)) {
                let at = rng.below(bytes.count)
                switch rng.below(3) {
                case 0: bytes[at] = interesting[rng.below(interesting.count)]
                case 1: bytes.insert(interesting[rng.below(interesting.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            Self.decodeEveryWay(bytes)
        }
    }

    @Test func garbageAndPathologicalInputs() async {
        var rng = SplitMix(seed: 7)
        var inputs: [[UInt8]] = [
            [], [0], [0x22], [0x5C], Array("\"\\".utf8), Array("{\"".utf8), Array("{\"a\"".utf8), Array("{\"a\":".utf8),
            Array("[".utf8), Array("[1,".utf8), Array("tru".utf8), Array("-".utf8), Array("1e".utf8), Array("\"\\u12".utf8),
            Array("\"\\uD800\\u".utf8), Array("{\"a\":1}}}}]]]".utf8), Array("[}".utf8), Array("{]".utf8),
            Array(String(repeating: "[", count: 100_000).utf8), Array(String(repeating: "{\"a\":", count: 5_000).utf8),
            Array(String(repeating: "[{\"packages\":", count: 3_000).utf8),
            Array(("[" + String(repeating: "\"\\\\\\\"\",", count: 5000) + "0]").utf8),
            Array("{\"packages\":[{\"id\":\"\\uDBFF\\uDFFF\",\"size\":18446744073709551616}]}".utf8),
        ]
        for _ in 0..<300 { inputs.append((0..<rng.below(200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        for (i, input) in inputs.enumerated() {
            Self.decodeEveryWay(input)
            if i % 10 == 0 { await Task.yield() }
        }
    }

    /// A valid payload committed with `.trusted` validation — the caller promised
    /// JSON and sent something else: `read(as:)` reports a decoding error.
    @Test func readAsOfAPayloadThatIsNotJSON() throws {
        let t = try TestStore("not-json")
        try t.store.acquireWriterLock().commit(Data("<html>502 Bad Gateway</html>".utf8), source: "test", validation: .trusted)
        #expect {
            try t.store.read(as: FoojayCatalogue.self)
        } throws: { error in
            guard case MetadataCacheError.decodingFailed(_, _, .dataCorrupted) = error else { return false }
            return true
        }
    }
}
