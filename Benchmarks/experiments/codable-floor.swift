// The cost any Codable decoder pays for figure 9's model, before it parses a byte.
//
//     swiftc -O -wmo -parse-as-library Benchmarks/metacache-bench/FoojayCatalogue.swift \
//         Benchmarks/experiments/codable-floor.swift -o /tmp/codable-floor
//     /tmp/codable-floor Fixtures/catalog-1mib.json [RUNS]
//
// (Benchmarks/run builds it and reports its numbers under figure 9; the last line
// of its output is for bench.py: "ns NULL STRINGS", the two CPU medians in ns.)
//
// 1. A decoder that parses nothing: every keyed, unkeyed and single-value call of
//    `FoojayCatalogue.init(from:)` answers a constant (strings are empty: no
//    allocation), with as many packages and features as the real file. What is
//    left is Swift's Codable machinery itself: a call through
//    `KeyedDecodingContainer`'s type-erased box per property, the generic metadata
//    of each container, `RawRepresentable` and `Array` decoding, building the
//    structs, freeing the previous value.
// 2. Creating (and freeing) the `String`s the decoded model holds, from their
//    UTF-8 bytes, as any decoder must.
//
// The sum is a floor for `read(as:)` of this model through Codable: no parser,
// index or format change can go below it. CPU medians over RUNS runs (default 50).

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class NullDecoder: Decoder, SingleValueDecodingContainer {
    let packages: Int
    var arrayCount = 1
    /// What the next single-value string is (an enum's raw value).
    var nextString = ""
    init(packages: Int) { self.packages = packages }

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(NullKeyed<Key>(decoder: self))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { NullUnkeyed(decoder: self, count: arrayCount) }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool { true }
    // Only the two enums ask a single-value container for a string: a valid raw
    // value, set by the keyed container from the key.
    func decode(_ type: String.Type) throws -> String { nextString }
    func decode(_ type: Double.Type) throws -> Double { 1 }
    func decode(_ type: Float.Type) throws -> Float { 1 }
    func decode(_ type: Int.Type) throws -> Int { 1 }
    func decode(_ type: Int8.Type) throws -> Int8 { 1 }
    func decode(_ type: Int16.Type) throws -> Int16 { 1 }
    func decode(_ type: Int32.Type) throws -> Int32 { 1 }
    func decode(_ type: Int64.Type) throws -> Int64 { 1 }
    func decode(_ type: UInt.Type) throws -> UInt { 1 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { 1 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { 1 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { 1 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { 1 }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}

struct NullKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NullDecoder
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }
    func contains(_ key: Key) -> Bool { false }
    func decodeNil(forKey key: Key) throws -> Bool { false }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { true }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { "" }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { 1 }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { 1 }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { 1 }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { 1 }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { 1 }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { 1 }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { 1 }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { 1 }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { 1 }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { 1 }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { 1 }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { 1 }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { nil }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        // "packages" is the only array of objects; "features" has one element.
        let name = key.stringValue
        decoder.arrayCount = name == "packages" ? decoder.packages : 1
        decoder.nextString = name == "release_status" ? "ga" : "lts"
        return try T(from: decoder)
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        KeyedDecodingContainer(NullKeyed<NestedKey>(decoder: decoder))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        NullUnkeyed(decoder: decoder, count: 1)
    }
    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}

struct NullUnkeyed: UnkeyedDecodingContainer {
    let decoder: NullDecoder
    let total: Int
    var currentIndex = 0
    init(decoder: NullDecoder, count: Int) {
        self.decoder = decoder
        total = count
    }
    var codingPath: [any CodingKey] { [] }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }
    mutating func decodeNil() throws -> Bool { false }
    mutating func decode(_ type: String.Type) throws -> String {
        currentIndex += 1
        return ""
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        return try T(from: decoder)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(NullKeyed<NestedKey>(decoder: decoder))
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { NullUnkeyed(decoder: decoder, count: 1) }
    mutating func superDecoder() throws -> any Decoder { decoder }
}

func cpuNS() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func median(_ xs: [Int64]) -> Int64 {
    let s = xs.sorted()
    return s[s.count / 2]
}

func ms(_ ns: Int64) -> String { String(Double(ns) / 1e6) }

/// Every string the decoded catalogue holds, as UTF-8 bytes.
func strings(of value: Any) -> [[UInt8]] {
    if let s = value as? String { return [Array(s.utf8)] }
    return Mirror(reflecting: value).children.flatMap { strings(of: $0.value) }
}

@main
struct CodableFloor {
    static func main() throws {
        let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fixtures/catalog-1mib.json"
        let runs = CommandLine.arguments.count > 2 ? max(1, Int(CommandLine.arguments[2]) ?? 50) : 50
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let catalogue = try JSONDecoder().decode(FoojayCatalogue.self, from: data)
        let count = catalogue.packages.count

        var nullTimes: [Int64] = []
        var kept: FoojayCatalogue? = nil
        for _ in 0..<runs {
            let t0 = cpuNS()
            kept = try FoojayCatalogue(from: NullDecoder(packages: count))  // (frees the previous one)
            nullTimes.append(cpuNS() - t0)
        }
        precondition(kept?.packages.count == count)

        let texts = strings(of: catalogue)
        var stringTimes: [Int64] = []
        var made: [String] = []
        made.reserveCapacity(texts.count)
        for _ in 0..<runs {
            let t0 = cpuNS()
            made.removeAll(keepingCapacity: true)  // (frees the previous ones)
            for bytes in texts { made.append(bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }) }
            stringTimes.append(cpuNS() - t0)
        }
        let heap = texts.filter { $0.count > 15 }.count
        print("""
            \(path): \(count) packages, \(texts.count) strings (\(heap) longer than 15 bytes: heap-allocated)
            Codable calls alone (a decoder that parses nothing): \(ms(median(nullTimes))) ms CPU (median of \(runs))
            creating and freeing the model's strings:            \(ms(median(stringTimes))) ms CPU (median of \(runs))
            floor for read(as:) of this model through Codable:   \(ms(median(nullTimes) + median(stringTimes))) ms
            ns \(median(nullTimes)) \(median(stringTimes))
            """)
    }
}
