/// p50, p99 and max of a histogram in one unit, for the report.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: UInt64
    public var p50: Double?
    public var p99: Double?
    public var max: Double?

    /// - Parameter divisor: nanoseconds per reported unit (1000 for µs, 1e6 for ms).
    public init(_ histogram: LatencyHistogram, divisor: Double) {
        count = histogram.count
        func scaled(_ v: UInt64?) -> Double? { v.map { (Double($0) / divisor * 100).rounded() / 100 } }
        p50 = scaled(histogram.percentile(0.5))
        p99 = scaled(histogram.percentile(0.99))
        max = scaled(histogram.percentile(1))
    }

    // Absent percentiles are written as null, never omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(p50, forKey: .p50)
        try c.encode(p99, forKey: .p99)
        try c.encode(max, forKey: .max)
    }
}

/// Operations per second over the measured phase.
public struct Throughput: Codable, Sendable, Equatable {
    public var readsPerSecond: Double
    public var commitsPerSecond: Double
    public var updatesPerSecond: Double
}
