/// The human-readable form of a `StressReport`.
///
/// Guarantee: shows every count and percentile of the JSON form, one invariant
/// per line with its verdict, and ends with PASS or FAIL followed by each
/// violation, so the text alone is enough to act on.
enum StressReportTable {
    static func render(_ r: StressReport) -> String {
        var out: [String] = []
        out.append("metacache-stress: \(r.configuration)")
        out.append("measured \(String(format2: r.measuredSeconds)) s")
        out.append("")
        out.append(row("", "count", "per second", "p50", "p99", "max"))
        out.append(row("reads", "\(r.reads)", "\(r.throughput.readsPerSecond)", micros(r.readLatencyMicros.p50),
            micros(r.readLatencyMicros.p99), micros(r.readLatencyMicros.max)))
        out.append(row("commits", "\(r.commits)", "\(r.throughput.commitsPerSecond)", micros(r.commitMicros.p50),
            micros(r.commitMicros.p99), micros(r.commitMicros.max)))
        out.append(row("  of which updates", "\(r.updates)", "\(r.throughput.updatesPerSecond)", "", "", ""))
        out.append(row("lock wait", "\(r.lockWaitMicros.count)", "", micros(r.lockWaitMicros.p50), micros(r.lockWaitMicros.p99),
            micros(r.lockWaitMicros.max)))
        out.append(row("handover", "\(r.handoverMicros.count)", "", micros(r.handoverMicros.p50), micros(r.handoverMicros.p99),
            micros(r.handoverMicros.max)))
        if r.kills > 0 {
            out.append(row("re-acquire after kill", "\(r.reacquireMillis.count)", "", millis(r.reacquireMillis.p50),
                millis(r.reacquireMillis.p99), millis(r.reacquireMillis.max)))
        }
        if let cli = r.cliRefreshMillis {
            out.append(row("cli refresh (process)", "\(cli.count)", "", millis(cli.p50), millis(cli.p99), millis(cli.max)))
        }
        out.append("")
        out.append("invariants")
        func check(_ name: String, _ value: String, _ ok: Bool) {
            let cell = value.count >= 22 ? value + "  " : value.padding(toLength: 24, withPad: " ", startingAt: 0)
            out.append("  " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + cell + (ok ? "ok" : "VIOLATED"))
        }
        check("torn reads (harness digest)", "\(r.tornReads)", r.tornReads == 0)
        check("corrupt reads (library)", "\(r.corruptReads)", r.corruptReads == 0)
        check("missing / failed / stale reads", "\(r.missingReads)/\(r.readErrors)/\(r.staleReads)",
            r.missingReads + r.readErrors + r.staleReads == 0)
        check("writer overlaps", "\(r.writerOverlaps)", r.writerOverlaps == 0)
        check("commit order violations", "\(r.commitOrderViolations)", r.commitOrderViolations == 0)
        if let checked = r.cliCommitsCheckedAgainstReads {
            check("CLI reads matched to their commit", "\(checked) checked", r.tornReads == 0)
        }
        check("lost / phantom updates", "\(r.lostUpdates)/\(r.phantomUpdates)", r.lostUpdates + r.phantomUpdates == 0)
        check("lock timeouts", "\(r.timeouts)", r.timeouts == 0)
        check("writer failures", "\(r.writerFailures)", r.writerFailures == 0)
        check("worker crashes", "\(r.workerCrashes)", r.workerCrashes == 0)
        if r.kills > 0 {
            let max = r.maxReacquireMillis.map { String(format2: $0) + " ms" } ?? "-"
            check("kills (hit holder) / max re-acquire", "\(r.kills) (\(r.killsWhileHolding)) / \(max)",
                (r.maxReacquireMillis ?? 0) < StressReportBuilder.reacquireGoalMillis && r.killsWhileHolding > 0)
        }
        check("temps left after sweep", "\(r.orphanTempsAfterSweep)", r.orphanTempsAfterSweep == 0)
        check("swept after run", "\(r.sweptAfterRun)", true)
        check("lock free after run", r.lockFreeAfterRun ? "yes" : "no", r.lockFreeAfterRun)
        check("final cache verifies", r.finalCacheVerified ? "yes (generation \(r.finalGeneration ?? 0))" : "no", r.finalCacheVerified)
        out.append("")
        if r.ok {
            out.append("PASS: every invariant holds")
        } else {
            out.append("FAIL: \(r.violations.count) violation\(r.violations.count == 1 ? "" : "s")")
            for violation in r.violations { out.append("  - " + violation) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String) -> String {
        a.padding(toLength: 24, withPad: " ", startingAt: 0) + pad(b, 10) + pad(c, 12) + pad(d, 12) + pad(e, 12) + pad(f, 12)
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }

    private static func micros(_ v: Double?) -> String {
        guard let v else { return "-" }
        if v >= 1000 { return String(format2: v / 1000) + " ms" }
        return String(format2: v) + " µs"
    }

    private static func millis(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(format2: v) + " ms"
    }
}
