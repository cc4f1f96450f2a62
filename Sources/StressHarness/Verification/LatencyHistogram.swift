/// A mergeable latency histogram in nanoseconds with about 3% resolution.
///
/// Guarantee: percentiles are within one bucket (1/32 of an octave, ~3%) of the
/// exact value, `max` and `min` are exact, and merging the histograms of many
/// processes gives exactly the histogram of all their samples — so workers can
/// record millions of reads and send a few hundred numbers to the coordinator.
///
/// Buckets: values below 64 ns are exact; above, each power of two is split into
/// 32 equal sub-buckets (log-linear, as in HdrHistogram).
public struct LatencyHistogram: Sendable, Codable, Equatable {
    static let subBucketBits = 5
    static let subBuckets = 1 << subBucketBits
    static let exactLimit: UInt64 = 64

    private var buckets: [Int: UInt64] = [:]
    public private(set) var count: UInt64 = 0
    public private(set) var min: UInt64 = .max
    public private(set) var max: UInt64 = 0
    public private(set) var sum: UInt64 = 0

    public init() {}

    static func index(of value: UInt64) -> Int {
        if value < exactLimit { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // >= 6
        let sub = Int((value >> UInt64(exponent - subBucketBits)) & UInt64(subBuckets - 1))
        return Int(exactLimit) + (exponent - 6) * subBuckets + sub
    }

    /// The middle of a bucket's range.
    static func representative(of index: Int) -> UInt64 {
        if index < Int(exactLimit) { return UInt64(index) }
        let exponent = (index - Int(exactLimit)) / subBuckets + 6
        let sub = UInt64((index - Int(exactLimit)) % subBuckets)
        let width = UInt64(1) << UInt64(exponent - subBucketBits)
        let low = (UInt64(1) << UInt64(exponent)) + sub * width
        return low + width / 2
    }

    public mutating func record(_ nanoseconds: UInt64) {
        buckets[Self.index(of: nanoseconds), default: 0] += 1
        count += 1
        sum &+= nanoseconds
        if nanoseconds < min { min = nanoseconds }
        if nanoseconds > max { max = nanoseconds }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for (index, n) in other.buckets { buckets[index, default: 0] += n }
        count += other.count
        sum &+= other.sum
        if other.count > 0 {
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
        }
    }

    /// The value at quantile `q` (0...1); nil when empty. `percentile(1)` is the
    /// exact maximum.
    public func percentile(_ q: Double) -> UInt64? {
        guard count > 0 else { return nil }
        if q >= 1 { return max }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in buckets.keys.sorted() {
            seen += buckets[index] ?? 0
            if seen >= rank {
                return Swift.min(Swift.max(Self.representative(of: index), min), max)
            }
        }
        return max
    }

    public var mean: Double? { count == 0 ? nil : Double(sum) / Double(count) }

    // Sparse encoding: [[bucket, count], ...].
    enum CodingKeys: String, CodingKey { case buckets, count, min, max, sum }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try c.decode([[UInt64]].self, forKey: .buckets)
        for pair in pairs where pair.count == 2 { buckets[Int(pair[0])] = pair[1] }
        count = try c.decode(UInt64.self, forKey: .count)
        min = try c.decode(UInt64.self, forKey: .min)
        max = try c.decode(UInt64.self, forKey: .max)
        sum = try c.decode(UInt64.self, forKey: .sum)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(buckets.keys.sorted().map { [UInt64($0), buckets[$0] ?? 0] }, forKey: .buckets)
        try c.encode(count, forKey: .count)
        try c.encode(min, forKey: .min)
        try c.encode(max, forKey: .max)
        try c.encode(sum, forKey: .sum)
    }
}
