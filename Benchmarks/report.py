"""Turns the raw results of bench.py into the summary, the goals table and
docs/benchmarks.md. Pure functions of the results document, so a report can be
regenerated from a saved JSON file:

    python3 Benchmarks/report.py Benchmarks/results/latest.json > docs/benchmarks.md
"""

import json
import statistics
import sys

KIB, MIB = 1024, 1024 * 1024


def percentile(sorted_values, p):
    k = max(1, int(-(-p * len(sorted_values) // 100)))
    return sorted_values[min(k, len(sorted_values)) - 1]


def stats(samples):
    s = sorted(samples)
    return {"n": len(s), "min": s[0], "median": statistics.median(s), "p99": percentile(s, 99), "max": s[-1]}


def size_label(n):
    n = int(n)
    if n >= MIB and n % MIB == 0:
        return "%d MiB" % (n // MIB)
    if n >= KIB and n % KIB == 0:
        return "%d KiB" % (n // KIB)
    return "%d B" % n


def t(ns):
    """A duration in ns, for people."""
    if ns is None:
        return "—"
    us = ns / 1000
    if us < 10:
        return "%.2f µs" % us
    if us < 1000:
        return "%.0f µs" % us if us >= 100 else "%.1f µs" % us
    ms = us / 1000
    if ms < 10:
        return "%.2f ms" % ms
    if ms < 1000:
        return "%.1f ms" % ms
    return "%.2f s" % (ms / 1000)


def ratio(x):
    return "—" if x is None else ("%.2f×" % x)


REFRESH_LABELS = {
    "floor": "floor (C: open lock, flock, open temp O_EXCL, write, fsync, close, rename, fsync dir, unlock)",
    "mc-trusted": "**MetadataCache**, pre-validated bytes (`.trusted`)",
    "mc-strict": "**MetadataCache**, with JSON validation (`.strictJSON`)",
    "filelock": "Python `filelock` + temp + fsync + `os.replace` (no dir fsync)",
    "sqlite": "SQLite WAL, `synchronous=FULL`, blob",
    "lmdb": "LMDB (py-lmdb, defaults: sync on commit)",
}
READ_LABELS = {
    "floor": "floor (C: open, fstat, read, close of MetadataCache's own file)",
    "mc": "**MetadataCache** `read()` (verified: header + XXH64)",
    "floor-fresh": "floor with a fresh `malloc`'d buffer per read (reference)",
    "mc-decode": "**MetadataCache** `read(as:)` (verified + `JSONDecoder` into a typed model)",
    "filelock-locked": "Python `filelock`, locked read",
    "filelock-lockfree": "Python `filelock` design, lock-free read",
    "sqlite": "SQLite WAL `SELECT`",
    "lmdb": "LMDB read txn `get` (copied to `bytes`)",
}
LOCK_LABELS = {
    "floor": "floor (C: open, flock, unlock, close)",
    "mc": "**MetadataCache** `acquireWriterLock` + `release`",
    "filelock": "Python `filelock` acquire + release",
    "sqlite": "SQLite `BEGIN IMMEDIATE` + `COMMIT`",
    "lmdb": "LMDB write txn begin + abort",
}
HANDOVER_LABELS = {
    "floor": "floor (C process blocked in `flock`)",
    "mc": "**MetadataCache** (`acquireWriterLock`, blocking wait)",
    "filelock": "Python `filelock` (default 50 ms polling)",
    "lmdb": "LMDB write mutex",
    "sqlite": "SQLite WAL busy handler",
}
TYPED_LABELS = {
    "mc-cache": "**MetadataCache** `read(as:)` (CacheJSONDecoder → typed model)",
    "mc-foundation": "MetadataCache `read(as:decoder: JSONDecoder())` (→ typed model)",
    "py-json": "CPython `json.loads` (read + parse → dicts)",
    "py-orjson": "`orjson.loads` (read + parse → dicts)",
    "py-simdjson": "pysimdjson `simdjson.loads` (read + parse → dicts)",
    "py-simdjson-lazy": "pysimdjson `Parser.parse` (read + lazy parse: builds nothing)",
}
TYPED_ORDER = ["mc-cache", "mc-foundation", "py-json", "py-orjson", "py-simdjson", "py-simdjson-lazy"]

THROUGHPUT_LABELS = {
    "floor": "floor (C readers and writers)",
    "mc": "**MetadataCache** (`read()` / `commit`)",
    "filelock-locked": "Python `filelock`, locked reads",
    "filelock-lockfree": "Python `filelock` design, lock-free reads",
    "sqlite": "SQLite WAL",
    "lmdb": "LMDB",
}


WATCH_LABELS = {
    "floor": "floor (C: blocking `read` of an inotify event naming the file, then open, fstat, read into a fresh buffer, close)",
    "floor-event": "floor, the inotify event alone (reference)",
    "mc": "**MetadataCache** `changes()` (verified snapshot in the `for await` body)",
}
IDLE_LABELS = {
    "floor": "floor (C process blocked in `read` of its inotify descriptor)",
    "mc": "**MetadataCache** `changes()` (automatic: inotify)",
    "mc-polling-1s": "MetadataCache `changes(detection: .polling(interval: .seconds(1)))` (reference: the fallback)",
}


def latency_table(per_contender, labels, floor_key="floor"):
    """per_contender: id -> samples (ns)."""
    out = {}
    fs = stats(per_contender[floor_key]) if floor_key in per_contender else None
    for cid, samples in per_contender.items():
        s = stats(samples)
        s["label"] = labels.get(cid, cid)
        if fs:
            s["ratio_median"] = s["median"] / fs["median"]
            s["ratio_p99"] = s["p99"] / fs["p99"]
        out[cid] = s
    return out


def summarise(doc):
    R = doc["results"]
    F = R["figures"]
    S = {}

    def by_size(fig, labels):
        return {int(size): latency_table(per, labels) for size, per in fig.items()}

    if "1" in F:
        S["1"] = by_size(F["1"], REFRESH_LABELS)
    if "1-split" in F:
        S["1-split"] = {}
        for size, per in F["1-split"].items():
            S["1-split"][int(size)] = {cid: [statistics.median(x[i] for x in samples) for i in range(3)]
                                       for cid, samples in per.items()}
    if "2" in F:
        S["2"] = by_size(F["2"], READ_LABELS)
    if "2-decode" in F:
        S["2-decode"] = latency_table(F["2-decode"], READ_LABELS)
    if "3" in F:
        S["3"] = latency_table(F["3"], LOCK_LABELS)
    if "4" in F:
        S["4"] = {}
        for regime, per in F["4"].items():
            if regime == "long_wait":
                continue
            h = {}
            floor = stats(per["floor"]["handover_ns"])
            for cid, d in per.items():
                s = stats(d["handover_ns"])
                s["label"] = HANDOVER_LABELS.get(cid, cid)
                s["ratio_median"] = s["median"] / floor["median"]
                s["ratio_p99"] = s["p99"] / floor["p99"]
                s["cpu_per_wait_ns"] = statistics.median(d["cpu_ns"])
                s["release_call_ns"] = statistics.median(d["release_call_ns"])
                lw = F["4"].get("long_wait", {}).get(cid)
                if lw:
                    s["long_wait_s"] = lw["wall_ns"] / 1e9
                    s["long_wait_cpu_share"] = lw["cpu_ns"] / max(1, lw["wall_ns"])
                h[cid] = s
            S["4"][regime] = h
    if "5" in F:
        tp = {}
        for cid, d in F["5"].items():
            if cid == "seconds":
                continue
            unloaded = statistics.fmean(d["0"])
            loaded = statistics.fmean(d["2"])
            tp[cid] = {
                "label": THROUGHPUT_LABELS.get(cid, cid),
                "unloaded": unloaded,
                "loaded": loaded,
                "ratio": loaded / unloaded if unloaded else None,
                "bad": d["bad"],
                "writer_errors": d.get("writer_errors", 0),
                "writes_per_s": sum(d["writes"]) / (len(d["writes"]) / 2) / F["5"]["seconds"] if d["writes"] else 0,
                "samples": len(d["0"]),
            }
        S["5"] = tp
    if "6" in F:
        s = latency_table({"cat": F["6"]["times_ns"]["cat"], "metacache": F["6"]["times_ns"]["metacache"]},
                          {"cat": "`cat` of the same cache file", "metacache": "**`metacache cache read`**"},
                          floor_key="cat")
        S["6"] = s
    if "7" in F:
        S["7"] = F["7"]
    if "8-refresh" in F:
        S["8-refresh"] = by_size(F["8-refresh"], REFRESH_LABELS)
        S["8-read"] = by_size(F["8-read"], READ_LABELS)
    if "8-rss" in F:
        S["8-rss"] = {k: (max(v) if isinstance(v, list) else v) for k, v in F["8-rss"].items()}
    if "9" in F:
        S["9"] = {}
        for size, per in F["9"].items():
            table = {}
            for cid, pairs in per.items():
                if cid in ("bytes", "codable_floor_ns"):
                    continue
                table[cid] = {"label": TYPED_LABELS.get(cid, cid), "wall": stats([p[0] for p in pairs]),
                              "cpu": stats([p[1] for p in pairs])}
            base = table.get("mc-cache")
            for cid, row in table.items():
                for ref in ("py-json", "py-orjson", "mc-cache"):
                    if ref in table:
                        row["cpu_vs_" + ref] = row["cpu"]["median"] / table[ref]["cpu"]["median"]
            S["9"][int(size)] = {"bytes": per.get("bytes"), "table": table, "floor": per.get("codable_floor_ns")}
    if "9-cold" in F:
        S["9-cold"] = latency_table(F["9-cold"]["times_ns"], {
            "cat": "`cat` of the same cache file",
            "start": "host tool started, store opened, nothing read (`metacache-bench DIR rss-idle`)",
            "host": "**host tool**: `read(as: FoojayCatalogue.self)`, print the count"}, floor_key="cat")
    if "11" in F:
        S["11"] = latency_table(F["11"]["times_ns"], {
            "cat": "`cat` of the cache file",
            "plain": "`metacache cache read` (no policy)",
            "fresh": "`cache read --refresh-after 1d`, fresh cache",
            "stale": "**`cache read --refresh-after 0s`, stale cache**, 2 s source"}, floor_key="fresh")
    if "9-rss" in F:
        r = F["9-rss"]
        S["9-rss"] = {k: dict(v, peak_kib=max(v["peak_kib"])) for k, v in r.items() if k != "runs"}
        S["9-rss"]["runs"] = r["runs"]
    if "throughput" in F:
        tp = {}
        for kind, per in F["throughput"].items():
            tp[kind] = {label: {"bytes": d["bytes"], "median_ns": statistics.median(d["ns"]),
                                "gb_per_s": d["bytes"] / statistics.median(d["ns"])} for label, d in per.items()}
        S["throughput"] = tp
    if "10" in F:
        f9 = F["10"]
        S["10"] = {"sizes": {}, "idle": f9["idle"], "rounds": f9["rounds"], "per_round": f9["per_round"]}
        for size, d in f9["sizes"].items():
            per = dict(d["latency_ns"])
            per["floor-event"] = d["floor_event_ns"]
            S["10"]["sizes"][int(size)] = latency_table(per, WATCH_LABELS)
            S["10"].setdefault("rename_ns", {})[int(size)] = stats(d["rename_ns"]) if d.get("rename_ns") else None
    S["goals"] = goals(doc, S)
    return S


def goals(doc, S):
    R = doc["results"]
    G = []

    def add(goal, figure, measured, ok, reason=""):
        status = "not measured" if ok is None else ("met" if ok else "**MISSED**")
        G.append({"goal": goal, "figure": figure, "measured": measured, "status": status, "reason": reason})

    validator_real = R.get("validator_real", R.get("validator_probe") == "real")
    if "1" in S:
        for size in (MIB, 16 * MIB):
            m = S["1"][size]["mc-trusted"]
            add("Durable refresh, pre-validated bytes ≤ 1.10× floor at %s" % size_label(size), "1",
                "%.2f× (median %s vs %s; p99 %.2f×)" % (m["ratio_median"], t(m["median"]),
                                                      t(S["1"][size]["floor"]["median"]), m["ratio_p99"]),
                m["ratio_median"] <= 1.10)
        m = S["1"][MIB]["mc-strict"]
        if validator_real:
            add("Durable refresh with JSON validation ≤ 2× floor at 1 MiB", "1",
                "%.2f× (median %s; p99 %.2f×)" % (m["ratio_median"], t(m["median"]), m["ratio_p99"]),
                m["ratio_median"] <= 2.0)
        else:
            add("Durable refresh with JSON validation ≤ 2× floor at 1 MiB", "1",
                "%.2f× measured, but the validator is still a placeholder" % m["ratio_median"], None,
                "StrictJSONValidator accepts invalid JSON in this build")
    if "2" in S:
        for size, limit in ((MIB, 3.5), (16 * MIB, 2.5)):
            m = S["2"][size]["mc"]
            add("Verified read ≤ %.1f× floor at %s" % (limit, size_label(size)), "2",
                "%.2f× (median %s vs %s; p99 %.2f×)" % (m["ratio_median"], t(m["median"]),
                                                      t(S["2"][size]["floor"]["median"]), m["ratio_p99"]),
                m["ratio_median"] <= limit)
    if "3" in S:
        m = S["3"]["mc"]
        add("Uncontended lock acquire + release ≤ 3× floor", "3", "%.2f× (median %s vs %s; p99 %.2f×)" % (
            m["ratio_median"], t(m["median"]), t(S["3"]["floor"]["median"]), m["ratio_p99"]), m["ratio_median"] <= 3.0)
    if "4" in S:
        idle, hot = S["4"]["idle"], S["4"].get("hot")
        m = idle["mc"]
        extra = lambda key: ("; back-to-back: %s" % t(hot["mc"][key])) if hot else ""
        add("Lock handover median ≤ 100 µs", "4", "%s after an idle wait (floor %s)%s" % (
            t(m["median"]), t(idle["floor"]["median"]), extra("median")), m["median"] <= 100_000)
        add("Lock handover p99 ≤ 500 µs", "4", "%s after an idle wait (floor %s)%s" % (
            t(m["p99"]), t(idle["floor"]["p99"]), extra("p99")), m["p99"] <= 500_000)
        add("Lock handover median ≤ 2× floor", "4", "%.2f× after an idle wait (%s vs %s)%s" % (
            m["ratio_median"], t(m["median"]), t(idle["floor"]["median"]),
            ("; back-to-back %.2f×" % hot["mc"]["ratio_median"]) if hot else ""), m["ratio_median"] <= 2.0)
        add("Lock handover p99 ≤ 2× floor", "4", "%.2f× after an idle wait (%s vs %s)%s" % (
            m["ratio_p99"], t(m["p99"]), t(idle["floor"]["p99"]),
            ("; back-to-back %.2f×" % hot["mc"]["ratio_p99"]) if hot else ""), m["ratio_p99"] <= 2.0)
        add("Waiting writer's CPU per wait ≤ 150 µs", "4", "%s median after an idle wait (floor %s)%s" % (
            t(m["cpu_per_wait_ns"]), t(idle["floor"]["cpu_per_wait_ns"]),
            ("; back-to-back %s" % t(hot["mc"]["cpu_per_wait_ns"])) if hot else ""), m["cpu_per_wait_ns"] <= 150_000)
        if "long_wait_cpu_share" in m:
            add("Waiting writer uses < 1 % of a core", "4",
                "%.3f %% of a core over a %.1f s wait" % (100 * m["long_wait_cpu_share"], m["long_wait_s"]),
                m["long_wait_cpu_share"] < 0.01)
    partial = "only figure" in doc.get("mode", "")
    if "7" in S and "trials" in S["7"]:
        fetches = [tr["fetches"] for tr in S["7"]["trials"]]
        add("16 concurrent refreshes of a stale cache → exactly 1 fetch", "7",
            "fetches per trial: %s" % ", ".join(map(str, fetches)), all(f == 1 for f in fetches))
    elif not partial:
        reason = R.get("cli_reason") or (S.get("7") or {}).get("unavailable", "")
        add("16 concurrent refreshes of a stale cache → exactly 1 fetch", "7", "not measured: CLI not available",
            None, reason)
    if "5" in S:
        m = S["5"]["mc"]
        fl = S["5"].get("floor")
        add("Reader throughput with 2 writers ≥ 0.9× without", "5",
            "%.2f× (%.0f → %.0f reads/s per reader; floor %.2f×); bad reads: %d" % (
                m["ratio"], m["unloaded"], m["loaded"], fl["ratio"] if fl else float("nan"), m["bad"]),
            m["ratio"] >= 0.9 and m["bad"] == 0)
    if "6" in S:
        m = S["6"]["metacache"]
        add("Cold CLI read ≤ 3× `cat` (1 MiB)", "6",
            "%.2f× (median %s vs %s)" % (m["ratio_median"], t(m["median"]), t(S["6"]["cat"]["median"])),
            m["ratio_median"] <= 3.0)
    elif not partial:
        add("Cold CLI read ≤ 3× `cat` (1 MiB)", "6", "not measured: CLI not available", None, R.get("cli_reason", ""))
    if "8-rss" in S:
        rss = S["8-rss"]
        limit_kib = (1.5 * 64 * MIB + 20 * MIB) / 1024
        cli = rss.get("metacache cache read (CLI)")
        lib = rss.get("metacache-bench rss-read (library read() in a fresh process)")
        if cli is not None:
            add("Peak RSS reading 64 MiB ≤ 1.5× payload + 20 MiB (116 MiB)", "8",
                "%.1f MiB (`metacache cache read`); library in a fresh process %.1f MiB" % (cli / 1024, lib / 1024),
                cli <= limit_kib)
        else:
            add("Peak RSS reading 64 MiB ≤ 1.5× payload + 20 MiB (116 MiB)", "8",
                "not measured for the CLI (not available); library `read()` in a fresh process: %.1f MiB (%s)" % (
                    lib / 1024, "within" if lib <= limit_kib else "over"), None, R.get("cli_reason", ""))
    if "9" in S:
        for size in sorted(S["9"]):
            tab = S["9"][size]["table"]
            m = tab.get("mc-cache")
            if not m:
                continue
            label = size_label(size)
            if "py-json" in tab:
                add("Typed read ≤ 0.5× CPython `json.loads` at %s (CPU)" % label, "9",
                    "%.2f× (%s vs %s)" % (m["cpu_vs_py-json"], t(m["cpu"]["median"]), t(tab["py-json"]["cpu"]["median"])),
                    m["cpu_vs_py-json"] <= 0.5)
            if "py-orjson" in tab:
                add("Typed read ≤ 1.0× `orjson.loads` at %s (CPU)" % label, "9",
                    "%.2f× (%s vs %s)" % (m["cpu_vs_py-orjson"], t(m["cpu"]["median"]), t(tab["py-orjson"]["cpu"]["median"])),
                    m["cpu_vs_py-orjson"] <= 1.0)
            if "mc-foundation" in tab:
                speedup = tab["mc-foundation"]["cpu"]["median"] / m["cpu"]["median"]
                add("Typed read ≥ 8× faster than `JSONDecoder` at %s (CPU)" % label, "9",
                    "%.1f× (%s vs %s)" % (speedup, t(m["cpu"]["median"]), t(tab["mc-foundation"]["cpu"]["median"])),
                    speedup >= 8.0)
    if "9-cold" in S:
        m = S["9-cold"]["host"]
        add("Cold host tool `read(as:)` of 1 MiB ≤ 2× `cat`", "9",
            "%.2f× (median %s vs %s; start alone %s)" % (m["ratio_median"], t(m["median"]), t(S["9-cold"]["cat"]["median"]),
                                                      t(S["9-cold"]["start"]["median"])),
            m["ratio_median"] <= 2.0)
    if "9-rss" in S and "cache" in S["9-rss"] and "idle" in S["9-rss"]:
        c, idle = S["9-rss"]["cache"], S["9-rss"]["idle"]
        extra = (c["peak_kib"] - idle["peak_kib"]) * 1024
        limit = 2 * (c["payload_bytes"] + c["model_bytes"])
        add("Typed 1 MiB read: peak RSS ≤ 2× (payload + model) above an idle process", "9",
            "%.1f MiB over idle (limit %.1f MiB: payload %.1f + model %.1f MiB)" % (
                extra / MIB, limit / MIB, c["payload_bytes"] / MIB, c["model_bytes"] / MIB), extra <= limit)
    if "10" in S:
        for size in sorted(S["10"]["sizes"]):
            tab = S["10"]["sizes"][size]
            m = tab["mc"]
            add("Watch: commit to watcher ≤ 2× floor at %s (median)" % size_label(size), "10",
                "%.2f× (median %s vs %s; p99 %s vs %s, %.2f×)" % (
                    m["ratio_median"], t(m["median"]), t(tab["floor"]["median"]), t(m["p99"]),
                    t(tab["floor"]["p99"]), m["ratio_p99"]),
                m["ratio_median"] <= 2.0)
        idle = S["10"]["idle"].get("mc")
        if idle:
            share = idle["cpu_ns"] / (idle["wall_s"] * 1e9)
            add("Watch: idle watcher CPU ≈ 0 (< 0.01 % of a core)", "10",
                "%s of CPU and %d context switches in %.1f s idle (%.4f %% of a core)" % (
                    t(idle["cpu_ns"]), idle["switches"], idle["wall_s"], 100 * share),
                share < 0.0001)
    if "11" in S:
        m, f = S["11"]["stale"], S["11"]["fresh"]
        add("Stale `cache read --refresh-after` ≤ 1.3× a fresh one (median)", "11",
            "%.2f× (median %s vs %s)" % (m["ratio_median"], t(m["median"]), t(f["median"])), m["ratio_median"] <= 1.3)
        add("Stale read's p99 with a 2 s source ≤ 2× the fresh read's p99", "11",
            "%.2f× (p99 %s vs %s)" % (m["ratio_p99"], t(m["p99"]), t(f["p99"])), m["ratio_p99"] <= 2.0)
    if "throughput" in S:
        v = S["throughput"].get("validator")
        if v and validator_real:
            first = list(v)[0]
            add("JSON validator ≥ 1 GB/s on the sample catalogue (issue 2)", "throughput",
                "%.2f GB/s (%s)" % (v[first]["gb_per_s"], first), v[first]["gb_per_s"] >= 1.0)
        else:
            add("JSON validator ≥ 1 GB/s on the sample catalogue (issue 2)", "throughput",
                "not measured: the validator is still a placeholder", None,
                "StrictJSONValidator accepts invalid JSON in this build")
    return G


# ---------------------------------------------------------------------------
# Why a goal can miss: analysis notes, printed only for goals this run missed
# ---------------------------------------------------------------------------

WHY = {
    "Durable refresh, pre-validated bytes": (
        "The split table under figure 1 shows where the extra time goes (lock, commit, release, each against the "
        "floor's). Done so far: the holder record in a fixed slot, one `pwrite` after locking and one before "
        "unlocking (791743b); header and payload in one `writev` (2d8419c: two writes that each extend a new "
        "file each update its inode, 50–110 µs per 1 MiB refresh in an interleaved A/B); from 8 MiB the XXH64 "
        "runs on a second thread during the write (5eda1a3: 16 MiB went from 1.08–1.22× to 0.99–1.12× the floor "
        "over three interleaved A/B runs; at 4 and 8 MiB no gain beyond the noise, so smaller payloads hash "
        "inline — a thread costs 20–140 µs to start there). What remains at 1 MiB: one XXH64 pass (~45 µs per MiB "
        "on the reference machine, ~90 µs on slower memory: 4–5 % of the floor on its own; see the throughput "
        "table), a read of the previous header to number the generation (open, fstat, pread, close), a statfs for "
        "the free-space check, an lstat of the directory (the in-process lock registry's key), two getpid and two "
        "getrandom. `perf record` over 400 refreshes (reference machine): ~87 % of the time is in the kernel. "
        "The ratio sits at the goal's edge and within run-to-run noise: 1.08–1.16× at 1 MiB across full runs "
        "on 2026-12-01/02 and 1.10–1.14× in interleaved A/B runs on 2026-12-02 (the floor's own 1 MiB median "
        "was 1.87 ms in one run and 1.26 ms in the next on this shared virtual disk). Not done: remembering the "
        "previous header by file identity (saves three syscalls, ~1 %)."),
    "Lock handover median": (
        "After an idle wait both processes' CPUs have gone idle, so the release and the wake-up run cold, and "
        "what MetadataCache adds to the floor's path runs cold too. `perf record -e syscalls:*,sched:*` traces of "
        "40 idle handovers (2026-12-07, lock-perf branch, a small Python driver and two `metacache-bench` "
        "workers, a loaded 2-vCPU VM) show: before its unlock the holder blanks its record with one `pwrite` "
        "(3–25 µs: each write updates the lock file's times through the ext4 journal); after the grant the "
        "waiter deletes its wait timer, stamps and writes its own record (one `pwrite`) and builds the guard — "
        "30–70 µs from `flock` returning to the worker's next write, against ~15 µs for the floor's "
        "`clock_gettime` + `printf`; the kernel's wake-up to running was 11–62 µs, the floor's ~25 µs. Issue 12 "
        "took everything off that path that was not the record itself: no thread per wait any more (a "
        "thread-directed POSIX timer for waits without cancellation tokens; one shared watchdog for waits with "
        "them — before, a watchdog thread per wait cost ~100 µs of CPU and was woken at the release, i.e. at the "
        "next handover), and one system call less after the grant (the signal mask is restored only if the host "
        "had blocked the signal). In back-to-back runs of this figure on the same loaded machine "
        "(other processes used 93–97 % of it) the idle median went from 5.37× the floor (121 µs) with main's "
        "code to 4.33–5.46× (107–127 µs) in four runs of this branch, and the p99, dominated there by the "
        "load, from 3.61× to 0.94–2.18× (one run caught a 1.6 ms stall: 10.5×). The two record writes and the "
        "Swift code around them remain; they are what lets waiters and `status` name the holder and what keeps "
        "a departed holder's record from being read as a live ancestor. Earlier steps: the record in a fixed "
        "slot written by one `pwrite` (791743b: 184 → 105 µs), the watchdog no longer woken at the grant "
        "(16716a9). `Benchmarks/experiments/handover-fileops.c` shows the floor for these file operations: bare "
        "flock 16–23 µs, with the slot written and blanked by `pwrite` 34–40 µs."),
    "Waiting writer's CPU per wait": (
        "Measured with getrusage of the whole waiter process around `acquireWriterLock`, so it includes the "
        "sleep and wake-up in the kernel, which the floor pays too (~31 µs). Before issue 12 it was ~600 µs "
        "(596 µs in a back-to-back run on the same machine): a watchdog thread created and destroyed per wait, "
        "the self-deadlock check walking the ancestors through ~20 `/proc/PID/stat` reads, Foundation's "
        "`JSONDecoder` for the holder's record. Done: the ancestor walk is cached (ancestors can only go away, "
        "so a complete walk is a superset), waits without tokens start no thread, and records of the library's "
        "own shape are read without the `Decodable` machinery (a build that skipped the parse used 105 µs per "
        "wait instead of 174 µs with `CacheJSONDecoder`, in a driver of 200 waits). Now 190–215 µs here (four "
        "runs), ~157 µs in that driver. What remains on top of the floor: ~20 system calls against the floor's "
        "5 (the directory's `lstat` for the in-process registry, `getpid`, `getrandom` for the lease id, `pread` "
        "of the record, the `sigaction` check of the interrupt signal, `sigprocmask`, `timer_create`/`settime`/"
        "`delete`, the record's `pwrite`), the Swift code around them, and all of it running cold after "
        "sleeping, on a VM whose other processes used ~95 % of the CPU during these runs."),
    "Uncontended lock acquire + release": (
        "Beyond the floor's open, flock, unlock and close, an acquisition `lstat`s the directory (the in-process "
        "registry's key), takes a lease id from `getrandom`, and writes and blanks the holder record (two 1 KiB "
        "`pwrite`s, each updating the lock file's times through the ext4 journal). Issue 12 removed the record's "
        "JSON encoding from every acquisition (encoded once per process, 11 of 24 µs before: `perf record`), "
        "which brought it to 2.75-2.99x. Issue 19 then made every operation reach the store through a directory "
        "descriptor opened and checked component by component from `/`: on the benchmark's six-component path "
        "that is ~27 more system calls per acquisition (`strace -f -c` of 102 cycles: ~37 in all, ~9 each of "
        "`openat`, `close`, `newfstatat`, `geteuid`), most of today's ratio. docs/design.md (\"Errors and "
        "security\") sketches keeping the checked descriptor and re-walking only when an `lstat` of the path "
        "names another directory."),
    "Lock handover p99": (
        "See the median: the same costs, plus scheduling on a 2-vCPU VM (the woken waiter "
        "can land on the CPU the holder still occupies)."),
    "Reader throughput with 2 writers": (
        "On 2 cores, 4 readers and 2 writers share the CPUs: the floor's own readers lose about as much (compare "
        "its ratio in figure 5). Readers never wait for writers (they take no lock), so what remains is CPU and "
        "memory-bandwidth sharing with the writers' hashing and copying. A machine with ≥ 6 cores would measure "
        "the locking design rather than CPU sharing."),
    "Cold CLI read": (
        "Process start dominates a 1 MiB read: the verified read itself costs ~70 µs on the reference machine "
        "(figure 2). `metacache` is linked fully statically (`-static-executable`, Package.swift): with only the "
        "Swift runtime static, loading and relocating the shared libstdc++/libm/libc cost ~1 ms of every start "
        "(2026-12-02, `hyperfine -N --runs 500`: 2.4–3.4 ms median dynamic, 1.5–1.6 ms static, `cat` 1.1 ms; "
        "libstdc++ alone made static: 2.4 ms). What remains is the static Swift runtime's start-up (~0.6 ms more "
        "than `cat` for `--version`) and faulting in the fresh 1 MiB buffer page by page (a C probe: open+read "
        "into malloc 780 µs median, into a `MAP_POPULATE` mapping 540 µs). Not done: populating the buffer in one "
        "pass — within the noise once the binary is static, and it would cost every read of a long-running host, "
        "whose allocator reuses the pages."),
    "Verified read": (
        "A verified read is the floor plus one XXH64 pass over the payload (~45 µs per MiB here) plus header "
        "decoding; above glibc's mmap threshold each read also faults in a fresh buffer (see figure 8)."),
    "Peak RSS": ("The payload is read into one buffer of its size; see figure 8."),
    "Typed read": (
        "Swift's `Decodable` protocols are most of the cost, and no decoder can go below them. The *Codable "
        "floor* row of figure 9 measures a decoder that parses nothing (`Benchmarks/experiments/codable-floor.swift`): "
        "every property is a call through `KeyedDecodingContainer`'s type-erased box, every container needs "
        "its generic metadata, every enum goes through `RawRepresentable` (and an `Optional<Self>` metadata "
        "lookup), and the model's strings (17,293 at 1 MiB, 7,285 of them longer than 15 bytes, so "
        "heap-allocated) must be created and later freed. That row runs apart from the interleaved rounds, so "
        "on a loaded machine its time wanders; instruction counts do not (`valgrind --tool=callgrind`, 1 MiB, "
        "per call = (3 calls − 1 call) / 2 of the whole process, 2026-12-07): the Codable floor is 27.1 M "
        "instructions, against CPython `json.loads`' 65.3 M (0.41×), `orjson.loads`' 25.9 M and `JSONDecoder`'s "
        "154.3 M (1/5.7). So half of `json.loads`, `orjson`'s speed and 8× `JSONDecoder` all lie at or below what "
        "`Decodable` itself costs: no decoder behind `read(as:)`'s API can reach them. `read(as:)` is 48.4 M "
        "instructions per call (0.74× `json.loads`, 1.87× `orjson`, 1/3.2 of `JSONDecoder`); its decode was "
        "51.4 M instructions before the decoder-speed round and is 44.3 M after (−14 %: scalars and arrays of "
        "scalars read in place in generic `decode<T>`, keys matched against the last object's layout, object "
        "and array scans reused, no closure per keyed scalar; docs/design.md, \"Typed decoding\"). Of the "
        "decode's ~17 M above the floor, finding members is ~13 M (the lookups with the member scans and value "
        "skips they do, ~460 instructions per property) and string ends ~2.6 M; the rest is nested decodes' "
        "frames and the standard library's box copying our container on every call (a retain and a release). "
        "A structural index written at commit could remove at most the scanning part of the lookups, ~10 M: "
        "`read(as:)` would be ~38 M, still above the 32.6 M that half of `json.loads` allows, and `orjson` "
        "and 8× `JSONDecoder` (19.3 M) lie below the floor itself, so the file format is unchanged. "
        "Times in this table come from a shared, loaded machine (see the header) and move more than the "
        "instruction counts; at 16 MiB `orjson.loads` slows down more than `read(as:)` (Python's allocator "
        "and garbage collector)."),
    "Cold host tool": (
        "A host built with `swift build -c release` links the Swift runtime and FoundationEssentials "
        "dynamically: starting it and opening the store already costs the *start alone* row of figure 9 (several "
        "times `cat`'s whole run before a byte is read), and the first decode in a fresh process also pays page "
        "faults for the new model and the one-time instantiation of generic metadata, so it is slower than in "
        "figure 9's warm process. Linking the host statically (`-static-executable`, as `metacache` is: 1.9× "
        "`cat` for its plain read in figure 6) removes most of the start; but the decode itself — ~5–7 ms at "
        "1 MiB on this machine, its Codable floor ~3 ms — is already several times `cat`'s ~1–2 ms: a 1 MiB "
        "decode through `Decodable` cannot fit in 2× `cat`."),
    "16 concurrent refreshes": ("See figure 7: the trials list which processes fetched."),
    "JSON validator": ("See the throughput table."),
    "Durable refresh with JSON validation": (
        "Validation is one extra pass over the payload at the validator's throughput (see the throughput table)."),
    "Waiting writer uses": ("The waiter's CPU per wait includes its pre-wait work (see figure 4)."),
    "Watch: commit to watcher": (
        "The floor is one blocking `read` of the inotify descriptor and one plain read of the file. On top, a "
        "watch wakes from `poll` on its thread (inotify and the stop pipe), drains the queue, lstats the "
        "directory, reads and verifies the file (header, length, XXH64: ~45–90 µs per MiB, see the throughput "
        "table), then resumes the `for await` task, which must be scheduled on a Swift concurrency thread — a "
        "second wake-up of an idle CPU that the floor does not pay (tens of µs on this 2-vCPU VM)."),
    "Watch: idle watcher": ("See figure 10's idle table: the watch's thread sleeps in `poll` with no timeout."),
}

# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------

def latency_rows(table, order, show_ratio=True):
    rows = []
    for cid in order:
        if cid not in table:
            continue
        s = table[cid]
        row = [s["label"], t(s["median"]), t(s["p99"]), t(s["min"]), t(s["max"]), str(s["n"])]
        if show_ratio:
            row += [ratio(s.get("ratio_median")), ratio(s.get("ratio_p99"))]
        rows.append(row)
    return rows


def md_table(header, rows, left=1):
    """The first `left` columns are text (left-aligned), the rest numbers."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " if i < left else " ---: " for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


LAT_HEADER = ["contender", "median", "p99", "min", "max", "n", "median ÷ floor", "p99 ÷ floor"]


def markdown(doc, S):
    R = doc["results"]
    m = doc["machine"]
    L = []
    w = L.append
    w("# Benchmarks: MetadataCache side by side\n")
    w("Generated by [`Benchmarks/run`](../Benchmarks/run) — do not edit by hand; rerun it instead. "
      "Raw samples: [`Benchmarks/results/latest.json`](../Benchmarks/results/latest.json).\n")
    if doc.get("note"):
        w("> **Note.** %s\n" % doc["note"])
    ls, le = doc["loadavg_start"], doc["loadavg_end"]
    w("- **Command:** `%s` (%s mode)" % (doc["command"], doc["mode"]))
    w("- **Date:** %s → %s UTC (%.0f s)" % (doc["started"].replace("+00:00", ""), doc["finished"].replace("+00:00", ""),
                                           doc["duration_s"]))
    foreign = doc.get("foreign_cpu_share")
    busy = ls[0] > 0.25 * max(1, m.get("cores", 1)) or (foreign is not None and foreign > 0.05)
    phases = ", ".join("%s %.2f" % (x["at"], x["loadavg"][0]) for x in R.get("loadavg", [])
                       if x["at"] not in ("start", "end"))
    w("- **Load average (1/5/15 min):** %s at start, %s at end (the benchmark's own processes count: figure 5 "
      "runs 6 at once); 1-min load after each phase: %s" % (
        " / ".join("%.2f" % x for x in ls), " / ".join("%.2f" % x for x in le), phases or "—"))
    if foreign is not None:
        w("- **Other processes' CPU during the run:** %.1f %% of the machine (busy time in /proc/stat minus the "
          "benchmark's own processes)%s" % (100 * foreign,
                                            " — **the machine was not quiet**: treat tails (p99, max) with caution"
                                            if busy else ""))
    w("- **Machine:** %s, %s cores, %s GiB RAM; kernel %s (%s)%s; clocksource %s" % (
        m["cpu"], m["cores"], m["ram_gib"], m["kernel"], m.get("os", ""),
        (", virtualised: %s" % m["virtualization"]) if m.get("virtualization") else "", m.get("clocksource", "")))
    w("- **Filesystem / disk:** %s on %s (%s); %s" % (m["filesystem"], m["filesystem_source"], m["mount_options"], m["disk"]))
    w("- **Toolchain:** %s; %s; Python %s%s; %s" % (m["swift"], m["cc"], m["python"],
                                                  (" " + m["python_json"]) if m.get("python_json") else "", m["hyperfine"]))
    w("- **Code:** git %s\n" % m["git"])
    for merged in R.get("merged", []):
        w("> **Figure%s %s** measured separately by `%s` at %s UTC (git %s; load average %s at its start; other "
          "processes' CPU %.1f %% of the machine%s). The header above describes the run of the other figures.\n" % (
              "s" if len([f for f in merged["figures"] if "-" not in f]) > 1 else "",
              ", ".join(f for f in merged["figures"] if "-" not in f), merged["command"],
              merged["started"].replace("+00:00", ""), merged.get("git", "?"),
              " / ".join("%.2f" % x for x in merged["loadavg_start"]), 100 * (merged.get("foreign_cpu_share") or 0),
              " — **not quiet**" if (merged.get("foreign_cpu_share") or 0) > 0.05 else ""))

    w("## Goals\n")
    rows = [[g["goal"], g["figure"], g["measured"], g["status"] + ((" — " + g["reason"]) if g["reason"] else "")]
            for g in S["goals"]]
    w(md_table(["goal (issues 2, 5 and 12)", "figure", "measured (MetadataCache)", "status"], rows, left=4))
    missed = [g for g in S["goals"] if g["status"] == "**MISSED**"]
    if missed:
        w("### Why goals were missed\n")
        w("The figures are measured by this run; the explanations come from the benchmark author's "
          "investigation on the development machine (2 vCPUs, ext4 on virtio) and name their evidence, so the "
          "lead can check them against a new run.\n")
        seen = set()
        for g in missed:
            for key, text in WHY.items():
                if g["goal"].startswith(key) and key not in seen:
                    seen.add(key)
                    w("- **%s** — %s\n" % (g["goal"], text))
    for note in R.get("notes", []):
        w("> %s\n" % note)
    for figure, error in sorted(R.get("failed", {}).items()):
        w("> **Figure %s failed in this run** (its goals are missing above): `%s`\n" % (figure, error))

    ratio_note = ("Ratios divide MetadataCache's (or a peer's) median and p99 by the floor's median and p99 "
                  "measured in the same run, interleaved with it.\n")

    if "1" in S:
        w("## 1. Durable refresh latency\n")
        w("One refresh = take the writer lock, write the new document durably, release. "
          "Payloads are the same catalogue-like JSON files for every contender. " + ratio_note)
        for size, table in sorted(S["1"].items()):
            w("### %s\n" % size_label(size))
            w(md_table(LAT_HEADER, latency_rows(table, ["floor", "mc-trusted", "mc-strict", "filelock", "sqlite", "lmdb"])))
    if "1-split" in S:
        w("### Where a refresh's time goes\n")
        w("The same refresh timed in three parts (medians of each part, separate interleaved samples): taking the "
          "lock (floor: open + flock; MetadataCache: `acquireWriterLock`, which also writes the holder record), "
          "the commit (floor: temp, write, fsync, rename, fsync dir; MetadataCache: `commit(validation: .trusted)`, "
          "which also hashes the payload, reads the previous header and checks free space) and the release.\n")
        rows = []
        for size, per in sorted(S["1-split"].items()):
            f, m = per.get("floor"), per.get("mc-trusted")
            if not f or not m:
                continue
            for i, part in enumerate(("lock", "commit", "release")):
                rows.append([size_label(size), part, t(f[i]), t(m[i]), t(m[i] - f[i])])
        w(md_table(["payload", "part", "floor", "MetadataCache", "difference"], rows, left=2))
    if "2" in S:
        w("## 2. Verified read latency\n")
        w("Warm page cache, in-process (no process start). MetadataCache verifies the header checksum, the length "
          "and the XXH64 of the payload; none of the peers verifies anything. The floor reads MetadataCache's own "
          "cache file (the same bytes). " + ratio_note)
        for size, table in sorted(S["2"].items()):
            w("### %s\n" % size_label(size))
            w(md_table(LAT_HEADER, latency_rows(table, ["floor", "mc", "filelock-lockfree", "filelock-locked", "sqlite", "lmdb"])))
        if "2-decode" in S:
            w("### 1 MiB, decoded into a typed model\n")
            w("`read(as:)` = verified read + `JSONDecoder` into `Catalogue` (Codable structs, "
              "see `Benchmarks/metacache-bench/main.swift`), interleaved with the raw read and the floor.\n")
            w(md_table(LAT_HEADER, latency_rows(S["2-decode"], ["floor", "mc", "mc-decode"])))
    if "3" in S:
        w("## 3. Uncontended lock acquire + release\n")
        w(md_table(LAT_HEADER, latency_rows(S["3"], ["floor", "mc", "filelock", "sqlite", "lmdb"])))
        w("MetadataCache's acquisition also publishes a holder record (one pwrite into a fixed slot of the lock "
          "file) and blanks it on release, so that waiters and `status` can say who holds the lock.\n")
    if "4" in S:
        w("## 4. Lock handover\n")
        w("A holder process releases at a recorded CLOCK_MONOTONIC time (taken just before its release call); "
          "the waiter, a second process already blocked (checked in `/proc/PID/task/TID/syscall` before every "
          "release: `flock` for the floor and MetadataCache, the futex for LMDB, the sleep of a polling loop for "
          "filelock and SQLite), records CLOCK_MONOTONIC right after its acquire call returns. Contenders are "
          "interleaved trial by trial, with the same release delay for all in a trial, and roles alternate.\n")
        w("- **idle waiter:** the holder releases a random 0–50 ms after the waiter blocked — the common case (a "
          "refresher waits for another's fetch, its CPU goes idle), and uniform over filelock's polling period.\n"
          "- **back-to-back:** the holder releases within 1 ms — hot caches and CPUs, as a queue of busy writers.\n")
        w("*release call* = how long the holder's release call took (MetadataCache blanks its holder record with "
          "one `pwrite` before unlocking). *Waiter CPU* = the waiter's user+system time (getrusage) per wait, and "
          "as a share of one core over one long wait.\n")
        for regime, title in (("idle", "Idle waiter (release 0–50 ms after the waiter blocked)"),
                              ("hot", "Back-to-back (release within 1 ms)")):
            if regime not in S["4"]:
                continue
            tab = S["4"][regime]
            w("### %s\n" % title)
            rows = []
            for cid in ["floor", "mc", "lmdb", "sqlite", "filelock"]:
                s = tab.get(cid)
                if not s:
                    continue
                rows.append([s["label"], t(s["median"]), t(s["p99"]), t(s["min"]), t(s["max"]), str(s["n"]),
                             ratio(s["ratio_median"]), ratio(s["ratio_p99"]), t(s["release_call_ns"]),
                             t(s["cpu_per_wait_ns"]),
                             ("%.3f %%" % (100 * s["long_wait_cpu_share"])) if "long_wait_cpu_share" in s else "—"])
            w(md_table(LAT_HEADER + ["release call (median)", "waiter CPU per wait (median)",
                                     "waiter CPU, %.1f s wait" % tab["mc"].get("long_wait_s", 0)], rows))
    if "5" in S:
        secs = R["figures"]["5"]["seconds"]
        w("## 5. Reader throughput under load (1 MiB)\n")
        w("4 reader processes read for %.0f s, with no writer and with 2 writer processes refreshing continuously "
          "(alternating between two different 1 MiB payloads). Every read is compared byte for byte with both "
          "payloads (the comparison is part of each read's cost, for every contender); a bad read is any other "
          "result or an error. Reads/s are per reader, averaged over readers and rounds.\n" % secs)
        rows = []
        for cid in ["floor", "mc", "filelock-lockfree", "filelock-locked", "sqlite", "lmdb"]:
            s = S["5"].get(cid)
            if not s:
                continue
            rows.append([s["label"], "%.0f" % s["unloaded"], "%.0f" % s["loaded"], ratio(s["ratio"]),
                         "%.0f" % s["writes_per_s"], str(s["writer_errors"]), str(s["bad"])])
        w(md_table(["contender", "reads/s per reader, no writer", "with 2 writers", "loaded ÷ unloaded",
                    "commits/s (2 writers)", "failed commits", "bad reads"], rows))
        if any(s["writer_errors"] for s in S["5"].values()):
            w("Failed commits are writes that raised an error and were counted (the writer then went on): with its "
              "default 5 s busy timeout, SQLite answers \"database is locked\" to a writer that keeps losing the "
              "lock to the other one (its busy handler sleeps and retries instead of queueing).\n")
        w("On a 2-core machine the 6 processes share 2 cores, so even the floor loses throughput to its writers: "
          "compare MetadataCache's ratio with the floor's.\n")
    partial = "only figure" in doc["mode"]  # `Benchmarks/run --only ...`: that figure's sections alone
    if not partial:
        w("## 6. Whole-process cold read: `metacache cache read` vs `cat` (1 MiB)\n")
    if "6" in S:
        f6 = R["figures"]["6"]
        w("`%s` in %d rounds that alternate the order of the two commands (`$SCRATCH` = `Benchmarks/.scratch`): a new "
          "process per run (cold process, warm page cache), output to /dev/null.\n" % (f6["hyperfine"], f6.get("rounds", 1)))
        w(md_table(["command", "median", "p99", "min", "max", "n", "median ÷ cat", "p99 ÷ cat"],
                   latency_rows(S["6"], ["cat", "metacache"])))
    elif not partial:
        w("**Not measured: CLI not available** (%s).\n" % R.get("cli_reason", ""))
    if not partial:
        w("## 7. Coalescing: 16 concurrent `metacache cache refresh` of a stale cache\n")
    if "7" in S and "trials" in S["7"]:
        f7 = S["7"]
        w("Source: a loopback HTTP server that waits %.1f s before sending a 1 MiB catalogue and counts requests. "
          "Each trial starts from a cache committed just before (stale) and launches 16 refreshes at once.\n" % f7["delay_s"])
        rows = [[str(i + 1), str(tr["fetches"]), str(tr["coalesced"]), "%.2f s" % tr["wall_s"],
                 ",".join(sorted(set(map(str, tr["exit_codes"]))))] for i, tr in enumerate(f7["trials"])]
        w(md_table(["trial", "fetches", "processes that said 'Coalesced'", "wall time (16 concurrent)", "exit codes"], rows))
        seq = f7.get("sequential")
        if seq:
            w("16 sequential `--force` refreshes (each fetches): %d fetches, %.2f s wall.\n" % (seq["fetches"], seq["wall_s"]))
    elif "7" in S:
        w("**Not measured:** %s.\n" % S["7"]["unavailable"])
    elif not partial:
        w("**Not measured: CLI not available** (%s).\n" % R.get("cli_reason", ""))
    if "8-refresh" in S:
        w("## 8. Scaling with payload size\n")
        w("Median (p99) per operation; ratio = median ÷ floor median at the same size.\n")
        rows = []
        for size in sorted(S["8-refresh"]):
            r, d = S["8-refresh"][size], S["8-read"][size]
            rows.append([size_label(size),
                         "%s (%s)" % (t(r["floor"]["median"]), t(r["floor"]["p99"])),
                         "%s (%s) %s" % (t(r["mc-trusted"]["median"]), t(r["mc-trusted"]["p99"]), ratio(r["mc-trusted"]["ratio_median"])),
                         "%s (%s) %s" % (t(r["mc-strict"]["median"]), t(r["mc-strict"]["p99"]), ratio(r["mc-strict"]["ratio_median"])),
                         "%s (%s)" % (t(d["floor"]["median"]), t(d["floor"]["p99"])),
                         "%s (%s) %s" % (t(d["mc"]["median"]), t(d["mc"]["p99"]), ratio(d["mc"]["ratio_median"])),
                         ("%s (%s) %s" % (t(d["floor-fresh"]["median"]), t(d["floor-fresh"]["p99"]),
                                          ratio(d["floor-fresh"]["ratio_median"]))) if "floor-fresh" in d else "—"])
        w(md_table(["payload", "refresh: floor", "refresh: MC pre-validated", "refresh: MC + validation",
                    "read: floor", "read: MC verified", "read: floor, fresh buffer (reference)"], rows))
        w("```text\n" + ascii_plot(S) + "```\n")
    if "8-rss" in S:
        w("### Peak RSS reading a 64 MiB cache (fresh process, output to /dev/null)\n")
        rows = [[k, "%.1f MiB" % (v / 1024)] for k, v in S["8-rss"].items() if k not in ("payload_bytes", "runs")]
        if not R.get("cli_available"):
            rows.insert(0, ["`metacache cache read` (CLI)", "not measured: CLI not available"])
        w(md_table(["process", "peak RSS (max of %d runs)" % S["8-rss"]["runs"]], rows))
        w("The fresh-buffer floor row in the scaling table shows why a 64 MiB read costs more than the floor: "
          "a new 64 MiB buffer is above glibc's mmap threshold, so every read page-faults 16 384 fresh pages.\n")
        w("Goal: ≤ 1.5 × 64 MiB + 20 MiB = 116 MiB.\n")
    if "9" in S:
        w("## 9. Typed reads: `read(as:)` into a host's model\n")
        w("What a host tool does on every start: read the cache and decode it into its own `Decodable` types "
          "(`FoojayCatalogue` in `Benchmarks/metacache-bench/FoojayCatalogue.swift`: the Fixtures catalogue as a host models "
          "it, with `CodingKeys` for the snake_case keys, two enums, an optional, a nested object and arrays). "
          "`read(as:)` is the verified read (header, XXH64) plus the decode. The Python rows read the same bytes "
          "from a plain file and parse them into dicts (they build no typed model and verify nothing); "
          "pysimdjson's lazy parse builds nothing at all. Payloads: Fixtures/catalog-1mib.json, its first "
          "packages (64 KiB), its packages repeated with fresh ids (16 MiB). All contenders interleaved in "
          "rounds; CPU = the process's CPU time per call (`CLOCK_PROCESS_CPUTIME_ID`, `time.process_time_ns`). "
          "Ratios divide CPU medians. The *Codable floor* row (`Benchmarks/experiments/codable-floor.swift`, same "
          "run, not interleaved) is what any decoder going through Swift's `Decodable` pays for this model before "
          "it parses a byte: no parser, index or file format can make `read(as:)` cheaper than it.\n")
        for size in sorted(S["9"]):
            tab = S["9"][size]["table"]
            w("### %s (%s bytes)\n" % (size_label(size), format(S["9"][size]["bytes"] or 0, ",")))
            rows = []
            for cid in TYPED_ORDER:
                r = tab.get(cid)
                if not r:
                    continue
                rows.append([r["label"], t(r["cpu"]["median"]), t(r["cpu"]["p99"]), t(r["wall"]["median"]),
                             t(r["wall"]["p99"]), str(r["cpu"]["n"]), ratio(r.get("cpu_vs_py-json")),
                             ratio(r.get("cpu_vs_mc-cache"))])
            fl = S["9"][size].get("floor")
            if fl and "py-json" in tab:
                total = fl["calls"] + fl["strings"]
                rows.append(["*Codable floor*: a decoder that parses nothing (%s) + creating the model's strings (%s)"
                             % (t(fl["calls"]), t(fl["strings"])), t(total), "—", "—", "—", "—",
                             ratio(total / tab["py-json"]["cpu"]["median"]),
                             ratio(total / tab["mc-cache"]["cpu"]["median"]) if "mc-cache" in tab else "—"])
            w(md_table(["contender", "CPU median", "CPU p99", "wall median", "wall p99", "n",
                        "CPU ÷ `json.loads`", "CPU ÷ `read(as:)`"], rows))
        if "9-cold" in S:
            f = R["figures"]["9-cold"]
            w("### Cold process: a host tool's `main` (1 MiB)\n")
            w("`%s` (and the start-only row) in %d rounds that rotate the order (`$BIN` = the release build "
              "directory; the host is `metacache-bench`, built by `swift build -c release` as a host's tool is, "
              "linked dynamically): a new process per run, warm page cache.\n" % (f["hyperfine"], f.get("rounds", 1)))
            w(md_table(["command", "median", "p99", "min", "max", "n", "median ÷ cat", "p99 ÷ cat"],
                       latency_rows(S["9-cold"], ["cat", "start", "host"])))
        if "9-rss" in S:
            rs = S["9-rss"]
            w("### Memory: peak RSS of a typed 1 MiB read (fresh process)\n")
            rows = []
            for key, label in (("idle", "idle (store opened, nothing read)"), ("cache", "`CacheJSONDecoder`"),
                               ("foundation", "`JSONDecoder`")):
                if key not in rs:
                    continue
                r = rs[key]
                over = (r["peak_kib"] - rs["idle"]["peak_kib"]) * 1024 if "idle" in rs else None
                rows.append([label, "%.1f MiB" % (r["peak_kib"] / 1024),
                             ("%.1f MiB" % (over / MIB)) if over is not None and key != "idle" else "—",
                             ("%.2f MiB" % (r["payload_bytes"] / MIB)) if "payload_bytes" in r else "—",
                             ("%.2f MiB" % (r["model_bytes"] / MIB)) if "model_bytes" in r else "—"])
            w(md_table(["process", "peak RSS (max of %d)" % rs["runs"], "above idle", "payload", "decoded model (malloc'd)"], rows))
    if "10" in S:
        f9 = S["10"]
        w("## 10. Being told about a commit: `changes()` vs an inotify floor\n")
        w("A commit becomes visible when a complete cache file is renamed over `metacache.json` (step 6 of the "
          "commit protocol; its directory fsync follows, so a watcher normally has the new version *before* the "
          "committer's `commit()` returns, and that return is no usable start). So each trial renames a complete, "
          "fsynced cache file prepared beforehand (distinct commits made by the library) over the watched one "
          "(the file it replaces is kept alive by a second name, so that freeing its blocks at the end of the "
          "rename does not hold up the reads being measured), "
          "and the latency runs from just before the `rename` call in the committing process (CLOCK_MONOTONIC; "
          "a time taken after it is often later than the receipt, because the woken watcher preempts the "
          "renamer on its way out of the call) to the watcher having the new version: MetadataCache when the `for await` body receives the verified "
          "snapshot; the floor when it has read the file after its inotify event. One watcher process at a time, "
          "%d rounds of %d commits per contender, alternating order, 2–10 ms apart (the same delays for both), "
          "so the watcher is idle when each commit lands. %s\n" % (f9["rounds"], f9["per_round"], ratio_note.strip()))
        for size, tab in sorted(f9["sizes"].items()):
            w("### %s\n" % size_label(size))
            w(md_table(LAT_HEADER, latency_rows(tab, ["floor", "floor-event", "mc"])))
            rn = f9.get("rename_ns", {}).get(size)
            if rn:
                w("The `rename` call itself, as the renaming process saw it (included in every row): median %s, "
                  "p99 %s.\n" % (t(rn["median"]), t(rn["p99"])))
        rows = []
        for cid in ("floor", "mc", "mc-polling-1s"):
            d = f9["idle"].get(cid)
            if d:
                rows.append([IDLE_LABELS.get(cid, cid), "%.1f s" % d["wall_s"], t(d["cpu_ns"]),
                             "%.4f %%" % (100 * d["cpu_ns"] / (d["wall_s"] * 1e9)), str(d["switches"])])
        w("### An idle watcher\n")
        w("Each watcher armed on an unchanging cache; its CPU time (all threads, `/proc/PID/task/*/schedstat`) "
          "and context switches over the idle period.\n")
        w(md_table(["watcher", "idle for", "CPU", "share of a core", "context switches"], rows))
    if "11" in S:
        f = R["figures"]["11"]
        w("## Figure 11: never waiting for the network (stale-while-revalidate)\n")
        w("`%s` in %d rounds that rotate the order (`$BIN` = the release build directory, `$URL` a loopback source "
          "that answers after %.0f s): a new process per run, warm page cache, 1 MiB catalogue. The stale read "
          "prints the old copy, warns on stderr and starts a detached background refresh when none runs: %d "
          "fetches reached the source in %d stale runs (warm-ups included), the rest found one running. Ratios "
          "are to the fresh read.\n" % (f["hyperfine"], f.get("rounds", 1), f["server_delay_s"], f["fetches"],
                                       f["stale_runs"]))
        w(md_table(["command", "median", "p99", "min", "max", "n", "median ÷ fresh", "p99 ÷ fresh"],
                   latency_rows(S["11"], ["cat", "plain", "fresh", "stale"])))
    if "throughput" in S:
        w("## Checksum and validator throughput\n")
        rows = []
        names = {"xxh64_swift": "XXH64, MetadataCache (Swift)", "xxh64_c": "XXH64, plain C reference (`cc -O2`)",
                 "validator": "StrictJSONValidator"}
        for kind in ("xxh64_swift", "xxh64_c", "validator"):
            for label, d in S["throughput"].get(kind, {}).items():
                rows.append([names[kind], label, t(d["median_ns"]), "%.2f GB/s" % d["gb_per_s"]])
        if "validator" not in S["throughput"]:
            rows.append(["StrictJSONValidator", "—", "—", "not measured: placeholder validator"])
        w(md_table(["what", "input", "median per pass", "throughput (median)"], rows, left=2))
    w(HOW_TO)
    return "\n".join(L) + "\n"


def ascii_plot(S):
    """log-log-ish bars: median time per operation vs size."""
    lines = []
    series = [("refresh floor", "8-refresh", "floor"), ("refresh MC  ", "8-refresh", "mc-trusted"),
              ("read floor   ", "8-read", "floor"), ("read MC      ", "8-read", "mc")]
    import math
    all_ns = [S[f][sz][c]["median"] for _, f, c in series for sz in S[f]]
    lo, hi = math.log10(min(all_ns)), math.log10(max(all_ns))
    for name, f, c in series:
        for size in sorted(S[f]):
            ns = S[f][size][c]["median"]
            width = 1 + int(50 * (math.log10(ns) - lo) / max(1e-9, hi - lo))
            lines.append("%s %7s |%s %s" % (name, size_label(size), "#" * width, t(ns)))
        lines.append("")
    return "\n".join(lines) + "(bar length: log10 of the median time)\n"


HOW_TO = """## How to run

```sh
Benchmarks/run            # publication mode: ~5–7 minutes on 2 cores; writes docs/benchmarks.md and Benchmarks/results/latest.json
Benchmarks/run --quick    # fewer iterations, ~1 minute, for development (the report says "quick mode")
Benchmarks/run --only lock    # figures 3 and 4 alone (the writer lock), a few minutes; report in Benchmarks/.scratch/only-lock.md
Benchmarks/run --only typed   # figure 9 alone (typed reads), a few minutes; report in Benchmarks/.scratch/only-typed.md
Benchmarks/run --only watch   # figure 10 alone (development); writes to Benchmarks/.scratch, not docs/
Benchmarks/run --only stale   # figure 11 alone: stale vs fresh `cache read --refresh-after` vs cat
```

A figure run alone is merged into the published report with
`python3 Benchmarks/report.py Benchmarks/results/latest.json --merge Benchmarks/.scratch/only-lock.json
--write-json Benchmarks/results/latest.json > docs/benchmarks.md` (the header then names that run separately).

It needs `swift`, `cc`, `python3` (with `venv`; PyPI reachable for `filelock`, `lmdb`, `orjson` and
`pysimdjson`, pinned in `Benchmarks/requirements.txt`) and `hyperfine` (`apt-get install hyperfine`). It
builds release binaries, creates `Benchmarks/.venv`, compiles the C floor and the Codable floor into
`Benchmarks/.scratch/`, generates deterministic catalogue-like JSON payloads there (4 KiB … 64 MiB, and the
typed-read catalogues from `Fixtures/catalog-1mib.json`; on the same disk as the repository — refused on
tmpfs, where fsync costs nothing), and runs every figure. Run it on a quiet machine: the report records the load average and how much CPU other
processes used during the run, and says so when the machine was not quiet. The figures that need the
`metacache` CLI (6, 7 and the CLI's peak RSS) detect a placeholder or non-working CLI and say
"not measured" instead of failing.

## How to read

- **Floor** = the bare system calls of the same operation in C, measured in the same run, interleaved
  with every contender: MetadataCache cannot be faster than it, and the ratio says what the library's
  safety (validation, header, checksum, holder record, sweeping) costs on top.
- **median** is the typical cost, **p99** what one call in a hundred exceeds; **min/max** show the spread.
  Each latency figure runs contenders in rounds of small batches with a rotating order and one untimed
  warm-up operation per batch, for every contender alike; all samples are kept (see the JSON).
- The peers are written the way their documentation shows, with default settings. They do *less* than
  MetadataCache in places (no checksum on read; `filelock`'s writer does not fsync the directory) — the
  labels say so.
- Regenerate the Markdown from a saved run: `python3 Benchmarks/report.py Benchmarks/results/latest.json`.
"""


def goals_text(S):
    lines = ["Goals:"]
    for g in S["goals"]:
        lines.append("  [%s] %s — %s" % (g["status"].replace("*", ""), g["goal"], g["measured"]))
    return "\n".join(lines)


def merge(doc, other):
    """Adds the figures of `other` (a run of `Benchmarks/run --only ...`) to `doc`,
    recording where they came from (shown under the report's header)."""
    figures = other["results"]["figures"]
    doc["results"]["figures"].update(figures)
    # A figure measured again replaces the earlier separate run's note too.
    doc["results"]["merged"] = [m for m in doc["results"].get("merged", []) if not set(m["figures"]) <= set(figures)]
    doc["results"]["merged"].append({
        "figures": sorted(figures), "command": other["command"], "started": other["started"],
        "loadavg_start": other["loadavg_start"], "foreign_cpu_share": other.get("foreign_cpu_share"),
        "git": other["machine"].get("git")})
    for key in ("python_json",):
        if key in other["machine"]:
            doc["machine"][key] = other["machine"][key]
    return doc


if __name__ == "__main__":
    # report.py RESULTS.json [--merge ONLY.json] [--write-json MERGED.json]  > docs/benchmarks.md
    args = sys.argv[1:]
    with open(args[0]) as f:
        doc = json.load(f)
    if "--merge" in args:
        with open(args[args.index("--merge") + 1]) as f:
            doc = merge(doc, json.load(f))
        doc.pop("summary", None)
    summary = summarise(doc)
    if "--write-json" in args:
        doc["summary"] = summary
        with open(args[args.index("--write-json") + 1], "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
    # JSON turned int keys into strings; summarise() converts sizes back.
    sys.stdout.write(markdown(doc, summary))
