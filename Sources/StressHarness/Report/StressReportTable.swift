/// The human-readable form of a `StressReport`.
///
/// Guarantee: shows every count and percentile of the JSON form, one row per
/// `InvariantKind` with its verdict (`ok`, `VIOLATED`, or `not tested` with the
/// reason), the per-role figures, any warnings, and ends with PASS or FAIL —
/// preceded by INTERRUPTED for a partial report — followed by each violation,
/// so the text alone is enough to act on.
package enum StressReportTable {
    package static func render(_ r: StressReport) -> String {
        var out: [String] = []
        out.append("metacache-stress: \(r.configuration)")
        if let i = r.interrupted {
            out.append("INTERRUPTED by \(i.signal) after \(String(format2: i.afterSeconds)) s: a partial report of the run until then")
        }
        out.append("measured \(String(format2: r.measuredSeconds)) s (percentiles from histograms: within ~3 %; max exact)")
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
        out.append(roleRow("roles", "workers", "commits", "of locks (of writers)", "kills (hit)", "wait p50 / p99 / max"))
        for (name, role) in [("refreshers", r.roles.refreshers), ("updaters", r.roles.updaters)] where role.workers > 0 {
            let share = role.shareOfAcquisitions.map(StarvationCheck.percent) ?? "-"
            let ofWriters = role.shareOfWriters.map(StarvationCheck.percent) ?? "-"
            let wait = [role.lockWaitMicros.p50, role.lockWaitMicros.p99, role.lockWaitMicros.max].map(micros).joined(separator: " / ")
            out.append(roleRow(
                "  " + name, "\(role.workers)", "\(role.commits)", "\(share) (\(ofWriters))",
                "\(role.kills) (\(role.killsWhileHolding))", wait))
        }
        if r.roles.readers.workers > 0 {
            out.append(roleRow("  readers", "\(r.roles.readers.workers)", "\(r.roles.readers.reads) reads", "", "", ""))
        }
        out.append("")
        out.append("invariants")
        for kind in InvariantKind.allCases {
            guard let check = r.checks[kind] else { continue }
            let value = check.value.count >= 30 ? check.value + "  " : check.value.padding(toLength: 32, withPad: " ", startingAt: 0)
            let verdict: String
            switch check.verdict {
            case .ok: verdict = "ok"
            case .violated: verdict = "VIOLATED"
            case .notTested: verdict = "not tested" + (check.note.map { " (\($0))" } ?? "")
            }
            out.append("  " + kind.label.padding(toLength: 34, withPad: " ", startingAt: 0) + value + verdict)
        }
        if !r.warnings.isEmpty {
            out.append("")
            out.append("warnings")
            for warning in r.warnings { out.append("  - " + warning) }
        }
        out.append("")
        let notTested = r.notTested
        let untested = notTested.isEmpty ? "" : " (\(notTested.count) not tested: \(notTested.map(\.label).joined(separator: ", ")))"
        if let i = r.interrupted {
            out.append("INTERRUPTED by \(i.signal) after \(String(format2: i.afterSeconds)) s: "
                + (r.violations.isEmpty ? "no violation until then" + untested : "\(r.violations.count) violations until then"))
            for violation in r.violations { out.append("  - " + violation) }
        } else if r.ok {
            out.append("PASS: every tested invariant holds" + untested)
        } else {
            out.append("FAIL: \(r.violations.count) violation\(r.violations.count == 1 ? "" : "s")")
            for violation in r.violations { out.append("  - " + violation) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String) -> String {
        a.padding(toLength: 24, withPad: " ", startingAt: 0) + pad(b, 10) + pad(c, 12) + pad(d, 12) + pad(e, 12) + pad(f, 12)
    }

    private static func roleRow(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String) -> String {
        a.padding(toLength: 14, withPad: " ", startingAt: 0) + pad(b, 8) + pad(c, 12) + pad(d, 26) + pad(e, 13) + "  " + f
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }

    private static func micros(_ v: Double?) -> String {
        guard let v else { return "-" }
        if v >= 1_000_000 { return String(format2: v / 1_000_000) + " s" }
        if v >= 1000 { return String(format2: v / 1000) + " ms" }
        return String(format2: v) + " µs"
    }

    private static func millis(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(format2: v) + " ms"
    }
}
