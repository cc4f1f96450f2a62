import StressHarness
import Testing

/// The histogram behind every percentile in the report.
@Suite struct LatencyHistogramTests {
    @Test func percentilesAreWithinThreePercentAndMergingIsExact() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        for v in 1...10_000 { if v % 2 == 0 { a.record(UInt64(v) * 1000) } else { b.record(UInt64(v) * 1000) } }
        var merged = a
        merged.merge(b)
        #expect(merged.count == 10_000)
        #expect(merged.max == 10_000_000)
        #expect(merged.percentile(1) == 10_000_000)
        let p50 = Double(merged.percentile(0.5) ?? 0)
        let p99 = Double(merged.percentile(0.99) ?? 0)
        #expect(abs(p50 - 5_000_000) / 5_000_000 < 0.03)
        #expect(abs(p99 - 9_900_000) / 9_900_000 < 0.03)
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }
}
