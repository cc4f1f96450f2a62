import Foundation
import Testing
@testable import MetadataCache

/// Date, data, key and non-conforming float strategies, compared with
/// `JSONDecoder` configured the same way.
@Suite struct StrategyTests {
    struct Dated: Decodable, Equatable {
        var when: Date
        var maybe: Date?
        var list: [Date]
    }

    static let dateDocuments = [
        #"{"when":0,"maybe":null,"list":[]}"#,
        #"{"when":1764000000.5,"list":[1,-2.25,1e3]}"#,
        #"{"when":"2026-11-20T08:00:00Z","maybe":"2026-11-20T08:00:00+01:00","list":["1970-01-01T00:00:00Z"]}"#,
        #"{"when":"2026-11-20","list":[]}"#,
        #"{"when":"not a date","list":[]}"#,
        #"{"when":"20/11/2026","list":["01/01/1970"]}"#,
        #"{"when":null,"list":[]}"#,
        #"{"when":true,"list":[]}"#,
        #"{"list":[]}"#,
        #"{"when":1,"list":[1,"x"]}"#,
        #"{"when":1e400,"list":[]}"#,
    ]

    static var dateStrategies: [(String, JSONDecoder.DateDecodingStrategy)] {
        let formatter = DateFormatter()
        formatter.dateFormat = "dd/MM/yyyy"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return [
            ("deferredToDate", .deferredToDate),
            ("secondsSince1970", .secondsSince1970),
            ("millisecondsSince1970", .millisecondsSince1970),
            ("iso8601", .iso8601),
            ("formatted", .formatted(formatter)),
            ("custom", .custom { decoder in
                let container = try decoder.singleValueContainer()
                if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds * 2) }
                let text = try container.decode(String.self)
                guard text.count > 3 else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "short: \(text)")
                }
                return Date(timeIntervalSince1970: Double(text.count))
            }),
        ]
    }

    @Test func everyDateStrategy() {
        for (name, strategy) in Self.dateStrategies {
            var options = DecoderOptions()
            options.date = strategy
            for json in Self.dateDocuments {
                let outcome = Differential.expectSame(Dated.self, json, options)
                _ = (name, outcome)
            }
            Differential.expectSame(Date.self, "1000", options)
            Differential.expectSame(Date.self, #""2026-11-20T08:00:00Z""#, options)
            Differential.expectSame([String: Date].self, #"{"a":86400}"#, options)
        }
    }

    struct Blob: Decodable, Equatable {
        var data: Data
        var more: [Data]?
    }

    @Test func everyDataStrategy() {
        let documents = [
            #"{"data":"aGVsbG8="}"#, #"{"data":"aGVsbG8"}"#, #"{"data":"a GVsbG8="}"#, #"{"data":"!!!!"}"#,
            #"{"data":""}"#, #"{"data":"aGVs\nbG8="}"#, #"{"data":"aGVs\u0062G8="}"#, #"{"data":[104,105]}"#,
            #"{"data":[104,300]}"#, #"{"data":null}"#, #"{"data":1}"#, #"{"data":"AAEC","more":["AQ==",null]}"#,
            #"{"data":"AAEC","more":["AQ=="]}"#,
        ]
        let strategies: [JSONDecoder.DataDecodingStrategy] = [
            .base64, .deferredToData,
            .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                return Data(text.utf8.reversed())
            },
        ]
        for strategy in strategies {
            var options = DecoderOptions()
            options.data = strategy
            for json in documents { Differential.expectSame(Blob.self, json, options) }
        }
    }

    struct Snaky: Decodable, Equatable {
        var oneTwoThree: Int
        var _leading: Int?
        var trailing_: Int?
        var already: String?
        var aBC: Int?
        var nested: [String: Int]?
        var inner: Inner?
        struct Inner: Decodable, Equatable { var deepKey: Int? }
    }

    @Test func keyDecodingStrategies() {
        let documents = [
            #"{"one_two_three":1}"#, #"{"oneTwoThree":1}"#, #"{"one_two_three":1,"oneTwoThree":2}"#,
            #"{"one__two___three":1,"_leading":2,"trailing_":3}"#, #"{"one_two_three":1,"__leading":2,"trailing__":3}"#,
            #"{"one_two_three":1,"already":"x","a_b_c":4,"A_B_C":5}"#, #"{"ONE_TWO_THREE":1}"#,
            #"{"one_two_three":1,"nested":{"snake_key":1,"other_key":2},"inner":{"deep_key":3}}"#,
            #"{"one_two_three":1,"nested":{"snake_key":"x"}}"#, #"{"one_tWO_three":1}"#,
            #"{"óne_twö_thrée":1}"#, #"{"one_two_three":1,"inner":{"deep_key":"x"}}"#, #"{"_":1,"__":2,"one_two_three":3}"#,
            #"{"one_two_three":1,"one_two_three":2}"#, #"{"one_two\u005fthree":7}"#,
        ]
        let strategies: [JSONDecoder.KeyDecodingStrategy] = [
            .useDefaultKeys, .convertFromSnakeCase,
            .custom { path in
                let last = path.last!.stringValue
                return AnyKey(last == "OTT" ? "oneTwoThree" : last.replacingOccurrences(of: "_", with: ""))
            },
        ]
        for strategy in strategies {
            var options = DecoderOptions()
            options.key = strategy
            for json in documents { Differential.expectSame(Snaky.self, json, options) }
            Differential.expectSame(Snaky.self, #"{"OTT":1}"#, options)
            Differential.expectSame([String: [String: Int]].self, #"{"snake_key":{"inner_key":1}}"#, options)
        }
    }

    /// The conversion itself, word for word as Foundation converts (compared
    /// through a decode, since Foundation's function is private).
    @Test func snakeCaseConversionMatchesFoundation() throws {
        struct Keys: Decodable {
            var names: [String]
            init(from decoder: any Decoder) throws {
                names = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
            }
        }
        let keys = ["a", "a_b", "_a_b_", "__a__b__", "a__b", "A_B", "ab_CD_ef", "a_1_b", "ü_ß_ï", "ǆ_ǆ", "a_b_", "_", "", "a_", "1_2"]
        let json = "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
        var options = DecoderOptions()
        options.key = .convertFromSnakeCase
        let foundation = try options.foundation.decode(Keys.self, from: Data(json.utf8)).names
        let ours = try options.ours.decode(Keys.self, from: Data(json.utf8)).names
        #expect(ours == foundation)
    }
}
