#!/usr/bin/env python3
"""Side-by-side benchmark of MetadataCache, the bare-syscall floor and the peers.

Run it through `Benchmarks/run` (which builds everything first); it writes
docs/benchmarks.md and Benchmarks/results/latest.json.

Worker protocol
---------------
Every contender runs as a long-lived worker process that reads one command per
line on stdin and answers one line on stdout. Timings are CLOCK_MONOTONIC
nanoseconds taken inside the worker around exactly one operation, so process
start-up and this orchestrator's own overhead are never measured.

    refresh PAYLOAD N [trusted|strict]  N durable refreshes (lock, write, unlock)  -> ok t1 .. tN
    refresh-split PAYLOAD N             the same, timed in three parts             -> ok lock,commit,unlock ..
    read N [PATH]                       N reads of the worker's own store          -> ok t1 .. tN
    decode N                            MetadataCache only: read(as:) typed decode -> ok t1 .. tN
    typed N cache|foundation            MetadataCache only: read(as: FoojayCatalogue.self) with
                                        CacheJSONDecoder or JSONDecoder     -> ok wall,cpu ..
    parse PATH N LIB                    peers.py parsers only: read + parse PATH with LIB
                                        (json, orjson, simdjson-lazy, simdjson) -> ok wall,cpu ..
    lock N                              N uncontended acquire + release            -> ok t1 .. tN
    hold                                take the writer lock and keep it           -> held
    release                             release it                                 -> released T_RELEASE
    wait                                take the lock, waiting for the holder      -> waiting
                                                                                   -> acquired T_ACQ CPU_NS WALL_NS
    readloop SECONDS A B                read for SECONDS; a bad read is one whose
                                        bytes are neither payload A nor B          -> reads N bad B
    writeloop A B                       refresh alternately with A and B until a
                                        line arrives on stdin                      -> writes N
    hash PAYLOAD N / validate PAYLOAD N throughput probes                          -> ok t1 .. tN
    stage A B N DIR                     MetadataCache only: N committed cache files
                                        DIR/staged-I.json, for figure 10           -> ok
    quit

Figure 10 (change notification) has its own watcher processes, which print one
line per version they are told about: `metacache-bench DIR watch` ("version GEN
T BYTES", T taken in the `for await` body) and the C floor `watch-floor DIR NAME`
("event T_EVENT T_READ BYTES").

Honesty rules (from issue 5): same payload files, same directory and same run for
every contender; contenders are interleaved (rounds of small batches, rotating
order) rather than run one after another; every sample is kept (min, median, p99,
max are reported; raw samples go to the JSON file); nothing is tuned per contender.
"""

import argparse
import datetime
import hashlib
import http.server
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

KIB, MIB = 1024, 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def cpu_accounting():
    """(machine busy seconds from /proc/stat, CPU seconds of this driver and its
    waited-for children): their difference over the run is what *other*
    processes used while the benchmark ran."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = (sum(fields[:8]) - idle) / hz  # user nice system idle iowait irq softirq steal
    import resource
    own = sum(getattr(resource.getrusage(w), a) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for a in ("ru_utime", "ru_stime"))
    return busy, own


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def size_label(n):
    if n >= MIB and n % MIB == 0:
        return "%d MiB" % (n // MIB)
    if n >= KIB and n % KIB == 0:
        return "%d KiB" % (n // KIB)
    return "%d B" % n


def size_key(n):
    return size_label(n).replace(" ", "").lower()


# ---------------------------------------------------------------------------
# Payloads: deterministic, catalogue-like JSON of exact sizes
# ---------------------------------------------------------------------------

VENDORS = [("temurin", "Eclipse Temurin"), ("zulu", "Azul Zulu"), ("corretto", "Amazon Corretto"),
           ("liberica", "BellSoft Liberica"), ("graalvm", "GraalVM CE"), ("microsoft", "Microsoft Build of OpenJDK"),
           ("sapmachine", "SapMachine"), ("semeru", "IBM Semeru")]
OSES = [("linux", "glibc"), ("linux", "musl"), ("macos", None), ("windows", None), ("aix", None)]
ARCHES = ["x64", "aarch64", "x86", "ppc64le", "s390x", "riscv64"]
ARCHIVES = {"linux": ["tar.gz"], "macos": ["tar.gz", "pkg", "dmg"], "windows": ["zip", "msi"], "aix": ["tar.gz"]}
FEATURES = ["jfr", "cds", "musl", "javafx", "crac", "lite", "headless", "debug", "large-heap"]


def package_entry(rnd, i):
    vendor, distribution = VENDORS[rnd.randrange(len(VENDORS))]
    major = rnd.choice([8, 11, 17, 21, 22, 23, 24, 25])
    minor, patch, build = rnd.randrange(0, 3), rnd.randrange(0, 30), rnd.randrange(1, 40)
    java_version = ("1.8.0_%d" % (300 + patch)) if major == 8 else ("%d.%d.%d" % (major, minor, patch))
    version = "%s+%d" % (java_version, build)
    os_name, libc = OSES[rnd.randrange(len(OSES))]
    arch = ARCHES[rnd.randrange(len(ARCHES))]
    archive = rnd.choice(ARCHIVES[os_name])
    image = rnd.choice(["jdk", "jre"])
    entry = {
        "id": "%s-%s-%s-%s-%s-%s-%d" % (vendor, version, os_name, arch, image, archive, i),
        "vendor": vendor,
        "distribution": distribution,
        "version": version,
        "javaVersion": java_version,
        "major": major,
        "os": os_name,
        "arch": arch,
        "archiveType": archive,
        "imageType": image,
        "lts": major in (8, 11, 17, 21, 25),
        "releaseDate": "20%02d-%02d-%02d" % (rnd.randrange(14, 27), rnd.randrange(1, 13), rnd.randrange(1, 29)),
        "url": "https://downloads.example.invalid/%s/%s/%s-%s_%s-%s_%s.%s"
        % (vendor, version, distribution.replace(" ", "-"), image, arch, os_name, version.replace("+", "_"), archive),
        "checksum": hashlib.sha256(("%d-%d" % (i, rnd.getrandbits(32))).encode()).hexdigest(),
        "checksumType": "sha256",
        "size": rnd.randrange(30_000_000, 400_000_000),
        "features": sorted(rnd.sample(FEATURES, rnd.randrange(0, 4))),
    }
    if libc:
        entry["libc"] = libc
    return entry


def make_catalogue(size, seed):
    """Valid JSON (a catalogue object) of exactly `size` bytes; padded with spaces."""
    rnd = random.Random(seed)
    head = '{"schema":1,"generatedAt":"2026-11-25T00:00:00Z","source":"Benchmarks/bench.py seed %d","packages":[' % seed
    tail = "]}\n"
    parts, used, i = [], len(head) + len(tail), 0
    while True:
        text = json.dumps(package_entry(rnd, i), separators=(",", ":"))
        extra = len(text) + (1 if parts else 0)
        if used + extra > size:
            break
        parts.append(text)
        used += extra
        i += 1
    body = head + ",".join(parts) + " " * (size - used) + tail
    data = body.encode()
    assert len(data) == size, (len(data), size)
    return data


def prepare_payloads(directory, sizes):
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for size in sizes:
        for variant, seed in (("a", size), ("b", size + 1)):
            path = os.path.join(directory, "catalog-%s-%s.json" % (size_key(size), variant))
            if not (os.path.exists(path) and os.path.getsize(path) == size):
                data = make_catalogue(size, seed)
                json.loads(data)  # it must be valid JSON
                with open(path + ".part", "wb") as f:
                    f.write(data)
                os.replace(path + ".part", path)
            paths[(size, variant)] = path
    return paths


TYPED_SIZES = [64 * KIB, MIB, 16 * MIB]


def prepare_typed_payloads(directory, fixture):
    """Catalogues of the Fixtures generator's kind (foojay Disco API style: snake_case
    keys, a nested object, non-ASCII text and escapes) at three sizes, for the
    typed-read figure: 1 MiB is Fixtures/catalog-1mib.json itself; 64 KiB its first
    packages; 16 MiB its packages repeated (each copy with a fresh id) until the text
    reaches 16 MiB. Compact, as an API serves it."""
    import hashlib
    os.makedirs(directory, exist_ok=True)
    with open(fixture, "rb") as f:
        original = f.read()
    base = json.loads(original)
    packages = base["packages"]

    def render(items):
        doc = dict(base)
        doc["packages"] = items
        return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    def copy(package, n):
        clone = json.loads(json.dumps(package))
        new_id = hashlib.md5(("%s-%d" % (package["id"], n)).encode()).hexdigest()
        for key, value in list(clone.items()):
            if isinstance(value, str):
                clone[key] = value.replace(package["id"], new_id)
        clone["links"] = {k: v.replace(package["id"], new_id) for k, v in clone["links"].items()}
        return clone

    paths = {}
    for size in TYPED_SIZES:
        path = os.path.join(directory, "typed-%s.json" % size_key(size))
        if not os.path.exists(path):
            if size == MIB:
                data = original
            elif size < MIB:
                n = len(packages)
                while n > 1 and len(render(packages[:n])) > size:
                    n = n * 9 // 10 if len(render(packages[:n])) > 2 * size else n - 1
                data = render(packages[:n])
            else:
                per_copy = len(render(packages)) - len(render([]))
                copies = -(-size // per_copy)
                data = render([copy(p, c) if c else p for c in range(copies) for p in packages])
            json.loads(data)  # it must be valid JSON
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)
        paths[size] = path
    return paths


# ---------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------

class Worker:
    def __init__(self, argv, name):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.pid = self.proc.pid

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def recv(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("worker %s (pid %d) died (exit %s)" % (self.name, self.pid, self.proc.poll()))
        return line.strip()

    def ask(self, line):
        self.send(line)
        return self.recv()

    def samples(self, line):
        reply = self.ask(line)
        if not reply.startswith("ok"):
            raise RuntimeError("%s: %r -> %r" % (self.name, line, reply[:200]))
        return [int(x) for x in reply.split()[1:]]

    def pairs(self, line):
        """Samples of "wall,cpu" (ns)."""
        reply = self.ask(line)
        if not reply.startswith("ok"):
            raise RuntimeError("%s: %r -> %r" % (self.name, line, reply[:200]))
        return [[int(v) for v in x.split(",")] for x in reply.split()[1:]]

    def quit(self):
        try:
            self.send("quit")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Contenders:
    """Knows how to start each contender's worker process."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.pools = {}

    def argv(self, kind):
        c = self.cfg
        if kind == "floor":
            return [c.floor_bin, c.store]
        if kind == "mc":
            return [c.bench_bin, c.store]
        return [c.python, os.path.join(HERE, "peers.py"), kind, c.store]

    def start(self, kind):
        return Worker(self.argv(kind), kind)

    def shared(self, kind):
        """One long-lived worker per kind, for the latency figures."""
        if kind not in self.pools:
            self.pools[kind] = self.start(kind)
        return self.pools[kind]

    def close(self):
        for w in self.pools.values():
            w.quit()
        self.pools.clear()


# Contenders of the latency figures: (id, worker kind, command suffix, label)
REFRESHERS = [
    ("floor", "floor", "", "floor (C syscalls)"),
    ("mc-trusted", "mc", " trusted", "MetadataCache, pre-validated bytes"),
    ("mc-strict", "mc", " strict", "MetadataCache, with JSON validation"),
    ("filelock", "filelock-locked", "", "Python filelock + temp/fsync/os.replace"),
    ("sqlite", "sqlite", "", "SQLite WAL, synchronous=FULL"),
    ("lmdb", "lmdb", "", "LMDB"),
]
READERS = [
    ("floor", "floor", "", "floor (C open/fstat/read/close)"),
    ("mc", "mc", "", "MetadataCache read() (verified)"),
    ("filelock-locked", "filelock-locked", "", "filelock, locked read"),
    ("filelock-lockfree", "filelock-lockfree", "", "filelock design, lock-free read"),
    ("sqlite", "sqlite", "", "SQLite WAL"),
    ("lmdb", "lmdb", "", "LMDB"),
]
# Reference only (figure 8): the floor with a fresh buffer per read, as a snapshot needs.
FLOOR_FRESH = ("floor-fresh", "floor", "", "floor, fresh malloc'd buffer per read")
LOCKERS = [
    ("floor", "floor", "floor (C open/flock/unlock/close)"),
    ("mc", "mc", "MetadataCache acquireWriterLock + release"),
    ("filelock", "filelock-locked", "Python filelock acquire + release"),
    ("sqlite", "sqlite", "SQLite BEGIN IMMEDIATE + COMMIT"),
    ("lmdb", "lmdb", "LMDB write txn begin + abort"),
]
HANDOVER = [
    # (id, worker kind, label, syscalls a blocked waiter sleeps in, from /proc/PID/syscall)
    ("floor", "floor", "floor (C blocking flock)", {73}),
    ("mc", "mc", "MetadataCache", {73}),
    ("filelock", "filelock-locked", "Python filelock (default 50 ms polling)", {230, 35, 23, 270, 7}),
    ("lmdb", "lmdb", "LMDB write mutex", {202}),
    ("sqlite", "sqlite", "SQLite busy handler (WAL)", {230, 35, 23, 270, 7}),
]
THROUGHPUT = [
    ("floor", "floor", "floor (C; readers open/fstat/read/close)"),
    ("mc", "mc", "MetadataCache (verified read())"),
    ("filelock-locked", "filelock-locked", "filelock, locked reads"),
    ("filelock-lockfree", "filelock-lockfree", "filelock design, lock-free reads"),
    ("sqlite", "sqlite", "SQLite WAL"),
    ("lmdb", "lmdb", "LMDB"),
]


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    k = max(1, int(-(-p * len(sorted_values) // 100)))
    return sorted_values[min(k, len(sorted_values)) - 1]


def stats(samples):
    s = sorted(samples)
    return {
        "n": len(s),
        "min": s[0],
        "median": statistics.median(s),
        "p99": percentile(s, 99),
        "max": s[-1],
        "mean": statistics.fmean(s),
    }


def interleaved(jobs, rounds, per_round, warmup=1):
    """Runs `jobs` (id -> callable(n) returning samples) in `rounds` rounds of
    `per_round` timed operations each, rotating the order every round. `warmup`
    untimed operations precede each batch, for every contender alike."""
    ids = list(jobs)
    out = {i: [] for i in ids}
    for r in range(rounds):
        k = r % len(ids)
        order = ids[k:] + ids[:k]
        if r % 2:
            order.reverse()
        for i in order:
            if warmup:
                jobs[i](warmup)
            out[i].extend(jobs[i](per_round))
    return out


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

class Run:
    def __init__(self, cfg):
        self.cfg = cfg
        self.quick = cfg.quick
        self.results = {"figures": {}, "notes": [], "unmeasured": []}
        self.contenders = Contenders(cfg)
        self.loads = []

    def mark_load(self, label):
        self.loads.append({"at": label, "loadavg": loadavg(), "time": time.time()})

    def it(self, publication, quick):
        return quick if self.quick else publication

    # -- probes -----------------------------------------------------------

    def probe_validator(self):
        w = self.contenders.shared("mc")
        reply = w.ask("validator-probe")
        self.results["validator_probe"] = reply
        return reply == "real"

    def probe_cli(self):
        """The CLI counts as available only if it really refreshes and reads."""
        cfg = self.cfg
        if not os.path.exists(cfg.metacache_bin):
            return False, "no metacache binary at %s" % cfg.metacache_bin
        probe = os.path.join(cfg.scratch, "cli-probe")
        shutil.rmtree(probe, ignore_errors=True)
        os.makedirs(probe, mode=0o700)
        # (`--only` generates no general payloads: any valid JSON file will do.)
        payload = cfg.payloads.get((4 * KIB, "a")) or next(iter(cfg.typed_payloads.values()))
        try:
            r1 = subprocess.run([cfg.metacache_bin, "cache", "refresh", "--dir", probe, "--source", payload],
                                capture_output=True, timeout=60)
            r2 = subprocess.run([cfg.metacache_bin, "cache", "read", "--dir", probe], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, "metacache failed to run: %s" % e
        with open(payload, "rb") as f:
            expected = f.read()
        if r1.returncode == 0 and r2.returncode == 0 and r2.stdout == expected:
            return True, ""
        if r1.returncode == 0 and r2.returncode == 0 and not r2.stdout and not r1.stderr and not r2.stderr:
            return False, "`metacache` is still the placeholder (exits 0 and does nothing)"
        return False, "`metacache cache refresh`/`read` did not round-trip a payload (exit %d/%d: %s)" % (
            r1.returncode, r2.returncode, (r1.stderr + r2.stderr).decode(errors="replace").strip()[:200])

    # -- figure 1: durable refresh ------------------------------------------

    def fig_refresh(self, sizes, iterations, fig_key, contenders=REFRESHERS):
        fig = {}
        for size in sizes:
            n = iterations(size)
            rounds = min(10, n)
            per = max(1, n // rounds)
            payload = self.cfg.payloads[(size, "a")]
            jobs = {}
            for cid, kind, suffix, _ in contenders:
                w = self.contenders.shared(kind)
                jobs[cid] = (lambda k, w=w, s=suffix: w.samples("refresh %s %d%s" % (payload, k, s)))
            log("%s: refresh %s x%d" % (fig_key, size_label(size), rounds * per))
            fig[size] = interleaved(jobs, rounds, per)
        return fig

    # -- figure 2: verified read -------------------------------------------

    def commit_everywhere(self, size, contenders):
        payload = self.cfg.payloads[(size, "a")]
        done = set()
        for _, kind, _, _ in contenders:
            if kind in done:
                continue
            done.add(kind)
            mode = " trusted" if kind == "mc" else ""
            w = self.contenders.shared(kind)
            if kind == "filelock-lockfree":
                w = self.contenders.shared("filelock-locked")  # same file, same writer
            w.samples("refresh %s 1%s" % (payload, mode))

    def fig_read(self, sizes, iterations, fig_key, contenders=READERS):
        fig = {}
        mc_file = os.path.join(self.cfg.store, "metacache.json")
        for size in sizes:
            self.commit_everywhere(size, contenders)
            n = iterations(size)
            rounds = min(10, n)
            per = max(1, n // rounds)
            jobs = {}
            for cid, kind, _, _ in contenders:
                w = self.contenders.shared(kind)
                if cid == "floor-fresh":
                    jobs[cid] = (lambda k, w=w: w.samples("read %d %s fresh" % (k, mc_file)))
                elif kind == "floor":
                    # The floor reads the very same file MetadataCache verifies.
                    jobs[cid] = (lambda k, w=w: w.samples("read %d %s" % (k, mc_file)))
                else:
                    jobs[cid] = (lambda k, w=w: w.samples("read %d" % k))
            log("%s: read %s x%d" % (fig_key, size_label(size), rounds * per))
            fig[size] = interleaved(jobs, rounds, per)
        return fig

    def fig_refresh_split(self):
        """Where a refresh's time goes: lock, commit (write, fsync, rename, fsync dir),
        unlock — floor and MetadataCache (pre-validated), interleaved."""
        out = {}
        floor, mc = self.contenders.shared("floor"), self.contenders.shared("mc")
        for size, n in ((MIB, self.it(300, 20)), (16 * MIB, self.it(60, 6))):
            payload = self.cfg.payloads[(size, "a")]

            def split(w, k, payload=payload):
                reply = w.ask("refresh-split %s %d" % (payload, k))
                return [tuple(int(x) for x in item.split(",")) for item in reply.split()[1:]]
            log("fig1: refresh split %s x%d" % (size_label(size), n))
            out[size] = interleaved({"floor": lambda k: split(floor, k), "mc-trusted": lambda k: split(mc, k)},
                                    10, max(1, n // 10))
        return out

    def fig_decode(self):
        self.commit_everywhere(MIB, REFRESHERS[:2])
        mc = self.contenders.shared("mc")
        floor = self.contenders.shared("floor")
        mc_file = os.path.join(self.cfg.store, "metacache.json")
        nd = self.it(100, 10)
        log("fig2: typed decode 1 MiB x%d" % nd)
        return interleaved({
            "floor": lambda k: floor.samples("read %d %s" % (k, mc_file)),
            "mc": lambda k: mc.samples("read %d" % k),
            "mc-decode": lambda k: mc.samples("decode %d" % k),
        }, 10, nd // 10)

    def guard(self, figure, produce):
        """A figure that fails is reported as failed (with the error) and the run goes
        on: a publication run must not lose everything to one contender."""
        try:
            result = produce()
        except Exception as e:  # noqa: BLE001
            import traceback
            log("figure %s FAILED: %s" % (figure, e))
            self.results["failed"][figure] = "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
            # Workers may be mid-command: start fresh ones for the next figure.
            self.contenders.close()
            return None
        return result

    # -- figure 9: typed reads ----------------------------------------------

    # Contenders of the typed-read figure: (id, worker kind, command)
    TYPED = [
        ("mc-cache", "mc", "typed %d cache"),
        ("mc-foundation", "mc", "typed %d foundation"),
        ("py-json", "parsers", "parse %s %d json"),
        ("py-orjson", "parsers", "parse %s %d orjson"),
        ("py-simdjson-lazy", "parsers", "parse %s %d simdjson-lazy"),
        ("py-simdjson", "parsers", "parse %s %d simdjson"),
    ]

    def fig_typed(self):
        """read(as: FoojayCatalogue.self) with CacheJSONDecoder and with JSONDecoder,
        and Python's parsers, on the same bytes, interleaved; wall and CPU per call."""
        cfg = self.cfg
        out = {}
        for size in TYPED_SIZES:
            payload = cfg.typed_payloads[size]
            mc = self.contenders.shared("mc")
            mc.samples("refresh %s 1 trusted" % payload)
            n = {64 * KIB: self.it(300, 30), MIB: self.it(60, 10), 16 * MIB: self.it(8, 2)}[size]
            rounds = min(10, n)
            jobs = {}
            for cid, kind, command in self.TYPED:
                w = self.contenders.shared(kind)
                if kind == "mc":
                    jobs[cid] = (lambda k, w=w, c=command: w.pairs(c % k))
                else:
                    jobs[cid] = (lambda k, w=w, c=command: w.pairs(c % (payload, k)))
            log("fig9: typed read %s x%d" % (size_label(size), rounds * max(1, n // rounds)))
            fig = interleaved(jobs, rounds, max(1, n // rounds))
            fig["bytes"] = os.path.getsize(payload)
            floor_bin = os.path.join(cfg.scratch, "bin", "codable-floor")
            if os.path.exists(floor_bin):
                r = subprocess.run([floor_bin, payload, str(max(3, n // 2))], capture_output=True, text=True)
                last = r.stdout.strip().splitlines()[-1].split() if r.returncode == 0 and r.stdout.strip() else []
                if len(last) == 3 and last[0] == "ns":
                    fig["codable_floor_ns"] = {"calls": int(last[1]), "strings": int(last[2])}
            out[size] = fig
        return out

    def fig_typed_cold(self):
        """A host tool's whole process: read(as:) of 1 MiB and print the count, vs
        `cat` of the same cache file (hyperfine, alternating order)."""
        cfg = self.cfg
        d = os.path.join(cfg.scratch, "typed-cold")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, mode=0o700)
        w = Worker([cfg.bench_bin, d], "mc-typed-cold")
        w.samples("refresh %s 1 trusted" % cfg.typed_payloads[MIB])
        w.quit()
        cache_file = os.path.join(d, "metacache.json")
        cmds = {"host": "%s %s typed-count" % (cfg.bench_bin, d),
                "start": "%s %s rss-idle" % (cfg.bench_bin, d),
                "cat": "cat %s" % cache_file}
        rounds, runs = self.it(4, 2), self.it(100, 20)
        times = {k: [] for k in cmds}
        log("fig9: cold typed read, hyperfine, %d rounds x %d runs each, alternating" % (rounds, runs))
        for r in range(rounds):
            order = list(cmds)[r % 3:] + list(cmds)[:r % 3]
            if r % 2:
                order.reverse()
            export = os.path.join(cfg.scratch, "hyperfine-typed-%d.json" % r)
            argv = ["hyperfine", "-N", "--warmup", "10", "--runs", str(runs), "--export-json", export, "--style", "none"]
            argv += [cmds[k] for k in order]
            subprocess.run(argv, check=True, capture_output=True)
            with open(export) as f:
                data = json.load(f)
            for k, res in zip(order, data["results"]):
                times[k].extend(int(t * 1e9) for t in res["times"])
        shown = "hyperfine -N --warmup 10 --runs %d '%s' '%s'" % (
            runs, cmds["host"].replace(cfg.scratch, "$SCRATCH").replace(cfg.bin_dir, "$BIN"),
            cmds["cat"].replace(cfg.scratch, "$SCRATCH"))
        return {"times_ns": times, "hyperfine": shown, "rounds": rounds}

    def fig_typed_rss(self):
        """Peak RSS of a fresh process that reads the 1 MiB cache as FoojayCatalogue
        (each decoder), against its own payload + decoded-model bytes (malloc'd bytes
        the decoded value holds, reported by the process) and an idle process."""
        cfg = self.cfg
        d = os.path.join(cfg.scratch, "typed-cold")
        reps = self.it(5, 2)
        out = {"runs": reps}
        for label, argv in (("cache", [cfg.bench_bin, d, "typed-rss"]),
                            ("foundation", [cfg.bench_bin, d, "typed-rss-foundation"]),
                            ("idle", [cfg.bench_bin, d, "rss-idle"])):
            peaks = [self.peak_rss_kib(argv) for _ in range(reps)]
            out[label] = {"peak_kib": peaks}
            if label != "idle":
                r = subprocess.run(argv, capture_output=True, text=True, check=True)
                words = r.stdout.split()  # payload P model M
                out[label]["payload_bytes"] = int(words[1])
                out[label]["model_bytes"] = int(words[3])
        return out

    # -- figure 3: uncontended lock ------------------------------------------

    def fig_lock(self):
        n = self.it(2000, 200)
        jobs = {}
        for cid, kind, _ in LOCKERS:
            w = self.contenders.shared(kind)
            jobs[cid] = (lambda k, w=w: w.samples("lock %d" % k))
        log("fig3: lock x%d" % n)
        return interleaved(jobs, 10, n // 10)

    # -- figure 4: handover -------------------------------------------------

    @staticmethod
    def blocked_in(pid, allowed, timeout=5.0):
        """Waits until thread `pid` sleeps in one of `allowed` syscalls (x86_64
        numbers, from /proc/PID/task/PID/syscall). Returns how it was established."""
        path = "/proc/%d/task/%d/syscall" % (pid, pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    first = f.read().split()[0]
            except PermissionError:
                time.sleep(0.005)
                return "settle-5ms"
            except (FileNotFoundError, IndexError, ProcessLookupError):
                raise RuntimeError("waiter %d vanished" % pid)
            if first.isdigit() and int(first) in allowed:
                return "syscall %s" % first
            time.sleep(0.0002)
        raise RuntimeError("waiter %d never blocked in %s" % (pid, sorted(allowed)))

    def handover_trial(self, holder, waiter, allowed, delay):
        if holder.ask("hold") != "held":
            raise RuntimeError("holder could not hold")
        reply = waiter.ask("wait")
        if reply != "waiting":
            raise RuntimeError("waiter did not wait: %r" % reply)
        self.blocked_in(waiter.pid, allowed)
        time.sleep(delay)
        words = holder.ask("release").split()
        t_release, release_call = int(words[1]), int(words[2])
        words = waiter.recv().split()
        if words[0] != "acquired":
            raise RuntimeError("waiter: %r" % words)
        t_acquired, cpu, wall = int(words[1]), int(words[2]), int(words[3])
        waiter.ask("release")
        return {"handover_ns": t_acquired - t_release, "cpu_ns": cpu, "wall_ns": wall, "release_call_ns": release_call}

    # Release delays after the waiter is seen blocked, identical for every contender:
    # "idle" waits long enough for the waiter's CPU to go idle (the usual case: a
    # refresher waits for another's fetch) and is uniform over filelock's 50 ms
    # polling period, so polling is not favoured or penalised by the phase; "hot"
    # releases within 1 ms (back-to-back handovers, as a busy writer queue sees).
    HANDOVER_REGIMES = (("idle", 0.0, 0.05), ("hot", 0.0, 0.001))

    def fig_handover(self):
        trials = self.it(200, 20)
        long_wait = self.it(2.0, 0.5)
        rnd = random.Random(4)
        pairs = {cid: (self.contenders.start(kind), self.contenders.start(kind)) for cid, kind, _, _ in HANDOVER}
        allowed = {cid: a for cid, _, _, a in HANDOVER}
        keys = ("handover_ns", "cpu_ns", "wall_ns", "release_call_ns")
        out = {regime: {cid: {k: [] for k in keys} for cid in pairs} for regime, _, _ in self.HANDOVER_REGIMES}
        try:
            ids = list(pairs)
            for regime, lo, hi in self.HANDOVER_REGIMES:
                log("fig4: handover (%s: release %g-%g ms after the waiter blocks), %d trials per contender"
                    % (regime, lo * 1e3, hi * 1e3, trials))
                for t in range(trials):
                    delay = rnd.uniform(lo, hi)  # the same delay for every contender in this trial
                    order = ids[t % len(ids):] + ids[:t % len(ids)]
                    for cid in order:
                        h, w = pairs[cid]
                        if t % 2:
                            h, w = w, h  # alternate roles
                        r = self.handover_trial(h, w, allowed[cid], delay)
                        for k in keys:
                            out[regime][cid][k].append(r[k])
            log("fig4: one %.1f s wait per contender for the waiter's CPU use" % long_wait)
            out["long_wait"] = {}
            for cid in ids:
                h, w = pairs[cid]
                out["long_wait"][cid] = self.handover_trial(h, w, allowed[cid], long_wait)
        finally:
            for h, w in pairs.values():
                h.quit()
                w.quit()
        return out

    # -- figure 5: reader throughput under load ------------------------------

    def fig_throughput(self):
        seconds = self.it(5.0, 1.0)
        rounds = self.it(3, 1)
        a, b = self.cfg.payloads[(MIB, "a")], self.cfg.payloads[(MIB, "b")]
        out = {cid: {"0": [], "2": [], "bad": 0, "writes": [], "writer_errors": 0} for cid, _, _ in THROUGHPUT}
        log("fig5: 4 readers x %.0f s, 0 and 2 writers, %d round(s)" % (seconds, rounds))
        for r in range(rounds):
            order = THROUGHPUT[r % len(THROUGHPUT):] + THROUGHPUT[:r % len(THROUGHPUT)]
            for cid, kind, _ in order:
                writer_kind = "filelock-locked" if kind == "filelock-lockfree" else kind
                for writers in ((0, 2) if r % 2 == 0 else (2, 0)):
                    readers = [self.contenders.start(kind) for _ in range(4)]
                    wpool = [self.contenders.start(writer_kind) for _ in range(writers)]
                    setup = self.contenders.start(writer_kind)
                    setup.samples("refresh %s 1%s" % (a, " trusted" if kind == "mc" else ""))
                    setup.quit()
                    for w in readers + wpool:
                        w.ask("ping")
                    for w in wpool:
                        w.send("writeloop %s %s" % (a, b))
                    if wpool:
                        time.sleep(0.3)  # writers in steady state before readers start
                    for w in readers:
                        w.send("readloop %s %s %s" % (seconds, a, b))
                    rates = []
                    for w in readers:
                        words = w.recv().split()
                        rates.append(int(words[1]) / seconds)
                        out[cid]["bad"] += int(words[3])
                    for w in wpool:
                        w.send("stop")
                        words = w.recv().split()
                        out[cid]["writes"].append(int(words[1]))
                        if len(words) >= 4:
                            out[cid]["writer_errors"] += int(words[3])
                    out[cid][str(writers)].extend(rates)
                    for w in readers + wpool:
                        w.quit()
        out["seconds"] = seconds
        return out

    # -- figure 6: cold CLI read vs cat --------------------------------------

    def fig_cli_read(self):
        cfg = self.cfg
        d = os.path.join(cfg.scratch, "cli-read")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, mode=0o700)
        subprocess.run([cfg.metacache_bin, "cache", "refresh", "--dir", d, "--source", cfg.payloads[(MIB, "a")]],
                       check=True, capture_output=True)
        cache_file = os.path.join(d, "metadata.json")
        cmds = {"metacache": "%s cache read --dir %s" % (cfg.metacache_bin, d), "cat": "cat %s" % cache_file}
        rounds, runs = self.it(4, 2), self.it(100, 30)
        times = {k: [] for k in cmds}
        log("fig6: hyperfine, %d rounds x %d runs each, alternating" % (rounds, runs))
        for r in range(rounds):
            order = list(cmds) if r % 2 == 0 else list(reversed(list(cmds)))
            export = os.path.join(cfg.scratch, "hyperfine-%d.json" % r)
            argv = ["hyperfine", "-N", "--warmup", "10", "--runs", str(runs), "--export-json", export, "--style", "none"]
            argv += [cmds[k] for k in order]
            subprocess.run(argv, check=True, capture_output=True)
            with open(export) as f:
                data = json.load(f)
            for k, res in zip(order, data["results"]):
                times[k].extend(int(t * 1e9) for t in res["times"])
        shown = "hyperfine -N --warmup 10 --runs %d '%s' '%s'" % (
            runs, cmds["metacache"].replace(cfg.scratch, "$SCRATCH"), cmds["cat"].replace(cfg.scratch, "$SCRATCH"))
        return {"times_ns": times, "commands": cmds, "hyperfine": shown, "rounds": rounds}

    # -- figure 7: coalescing -------------------------------------------------

    def fig_coalescing(self):
        cfg = self.cfg
        delay = 0.3
        payload_path = cfg.payloads[(MIB, "b")]
        with open(payload_path, "rb") as f:
            payload = f.read()
        server = SlowServer(payload, delay)
        url = "http://127.0.0.1:%d/catalog.json" % server.port
        d = os.path.join(cfg.scratch, "coalesce")
        out = {"delay_s": delay, "trials": [], "url": url}
        try:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d, mode=0o700)
            # Does the HTTP path work at all?
            r = subprocess.run([cfg.metacache_bin, "cache", "refresh", "--dir", d, "--source", url],
                               capture_output=True, timeout=60)
            if r.returncode != 0 or server.count != 1:
                return {"unavailable": "HTTP refresh failed (exit %d, %d fetches): %s" % (
                    r.returncode, server.count, r.stderr.decode(errors="replace").strip()[:200])}
            trials = self.it(5, 2)
            log("fig7: %d trials of 16 concurrent refreshes (source delay %.1f s)" % (trials, delay))
            for _ in range(trials):
                # A stale cache: present, committed before these refreshes began.
                subprocess.run([cfg.metacache_bin, "cache", "refresh", "--dir", d, "--source",
                                cfg.payloads[(MIB, "a")]], check=True, capture_output=True)
                server.count = 0
                t0 = time.monotonic()
                # The result line ("Coalesced: ...") is on stdout, the wait on stderr.
                procs = [subprocess.Popen([cfg.metacache_bin, "cache", "refresh", "--dir", d, "--source", url],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(16)]
                results = [(p.returncode, (out + err).decode(errors="replace"))
                           for p, (out, err) in ((p, p.communicate()) for p in procs)]
                wall = time.monotonic() - t0
                out["trials"].append({
                    "fetches": server.count, "wall_s": wall,
                    "exit_codes": [c for c, _ in results],
                    "coalesced": sum(1 for _, e in results if "Coalesced" in e),
                })
            log("fig7: 16 sequential forced refreshes")
            server.count = 0
            t0 = time.monotonic()
            for _ in range(16):
                subprocess.run([cfg.metacache_bin, "cache", "refresh", "--force", "--dir", d, "--source", url],
                               check=True, capture_output=True)
            out["sequential"] = {"fetches": server.count, "wall_s": time.monotonic() - t0}
        finally:
            server.stop()
        return out

    # -- figure 11: never waiting for the network (stale-while-revalidate) ----

    def fig_stale(self):
        """`metacache cache read` of the 1 MiB catalogue as a host tool runs it on
        every invocation, cold processes (hyperfine, rotating order): a fresh cache
        under `--refresh-after 1d`; a stale one under `--refresh-after 0s` whose
        background refreshes fetch from a loopback source that takes 2 s per
        response (so a run finds one running, or starts the next: both paths are
        in the samples); the plain read; and `cat` of the cache file."""
        cfg = self.cfg
        with open(os.path.join(REPO, "Fixtures", "catalog-1mib.json"), "rb") as f:
            payload = f.read()
        server = SlowServer(payload, 2.0)
        url = "http://127.0.0.1:%d/catalog.json" % server.port
        fresh, stale = (os.path.join(cfg.scratch, "stale-" + k) for k in ("fresh", "stale"))
        source = os.path.join(cfg.scratch, "stale-source.json")
        with open(source, "wb") as f:
            f.write(payload)
        try:
            for d in (fresh, stale):
                shutil.rmtree(d, ignore_errors=True)
                subprocess.run([cfg.metacache_bin, "cache", "refresh", "--quiet", "--dir", d, "--source", source],
                               check=True, capture_output=True)
            mc = cfg.metacache_bin
            cmds = {"cat": "cat %s/metadata.json" % fresh,
                    "plain": "%s cache read --dir %s" % (mc, fresh),
                    "fresh": "%s cache read --dir %s --refresh-after 1d --source %s" % (mc, fresh, url),
                    "stale": "%s cache read --dir %s --refresh-after 0s --source %s" % (mc, stale, url)}
            rounds, runs = self.it(4, 2), self.it(150, 20)
            times = {k: [] for k in cmds}
            log("fig11: stale vs fresh read, hyperfine, %d rounds x %d runs each, rotating order" % (rounds, runs))
            for r in range(rounds):
                order = list(cmds)[r % 4:] + list(cmds)[:r % 4]
                if r % 2:
                    order.reverse()
                export = os.path.join(cfg.scratch, "hyperfine-stale-%d.json" % r)
                argv = ["hyperfine", "-N", "--warmup", "10", "--runs", str(runs), "--export-json", export, "--style", "none"]
                argv += [cmds[k] for k in order]
                subprocess.run(argv, check=True, capture_output=True)
                with open(export) as f:
                    data = json.load(f)
                for k, res in zip(order, data["results"]):
                    times[k].extend(int(t * 1e9) for t in res["times"])
            # Let the last background refresh finish before the directory goes.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                st = json.loads(subprocess.run([mc, "cache", "status", "--json", "--dir", stale],
                                               capture_output=True, text=True).stdout or "{}")
                if st.get("backgroundRefreshPID") is None:
                    break
                time.sleep(0.1)
            generation = st.get("generation")
        finally:
            server.stop()
        shown = "hyperfine -N --warmup 10 --runs %d '%s' '%s' '%s' '%s'" % (
            runs, *(cmds[k].replace(cfg.scratch, "$SCRATCH").replace(cfg.bin_dir, "$BIN").replace(url, "$URL")
                    for k in ("cat", "plain", "fresh", "stale")))
        return {"times_ns": times, "hyperfine": shown, "rounds": rounds, "server_delay_s": 2.0,
                "fetches": server.count, "stale_generation": generation,
                "stale_runs": len(times["stale"]) + 10 * rounds}

    # -- figure 10: told about a commit (watch) -------------------------------

    @staticmethod
    def cpu_and_switches(pid):
        """(CPU ns, voluntary + involuntary context switches) of every thread of
        `pid`, from /proc/PID/task/*/schedstat and status: ns resolution, unlike
        the clock ticks of /proc/PID/stat."""
        cpu, switches = 0, 0
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    cpu += int(f.read().split()[0])
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            switches += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that just exited
        return cpu, switches

    def watcher_cpu(self, cid, w):
        """(CPU ns, context switches) of a watcher so far. MetadataCache's are
        asked from the process (getrusage, which keeps the time of threads that
        exited — the concurrency pool retires idle threads); the floor has one
        thread, which never exits."""
        if cid == "floor":
            return self.cpu_and_switches(w.pid)
        w.stdin.write("cpu\n")
        w.stdin.flush()
        while True:
            words = w.stdout.readline().split()
            if not words:
                raise RuntimeError("watcher %s ended" % cid)
            if words[0] == "cpu":
                return int(words[1]), int(words[2])

    def watcher(self, cid, directory):
        """Starts contender `cid`'s watcher on `directory` and waits until it is
        armed (the floor says "ready"; MetadataCache yields the current version)."""
        cfg = self.cfg
        if cid == "floor":
            argv = [cfg.watch_floor_bin, directory, "metacache.json"]
        elif cid == "mc":
            argv = [cfg.bench_bin, directory, "watch"]
        else:  # "mc-polling-1s"
            argv = [cfg.bench_bin, directory, "watch", "1000"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        first = p.stdout.readline().split()
        if not first or first[0] not in ("ready", "version"):
            p.kill()
            raise RuntimeError("watcher %s did not start: %r" % (cid, first))
        return p

    def fig_watch(self):
        """Latency from a commit being made visible (the rename of a complete cache
        file over NAME.json, timed from just before the call) to the watcher
        having the new version: MetadataCache's `changes()` (verified snapshot in
        the `for await` body) against the C floor (inotify event, then the file
        read). Then each watcher's CPU and wake-ups while idle."""
        cfg = self.cfg
        rounds = self.it(10, 3)
        per_round = self.it(30, 10)
        idle_s = self.it(10.0, 2.0)
        contenders = ["floor", "mc"]
        out = {"rounds": rounds, "per_round": per_round, "sizes": {}, "idle": {}}
        writer = self.contenders.shared("mc")
        rnd = random.Random(9)
        for size in (4 * KIB, MIB):
            a, b = cfg.payloads[(size, "a")], cfg.payloads[(size, "b")]
            lat = {cid: [] for cid in contenders}
            events = []  # the floor's read(2) of the event, for reference
            renames = []  # how long the rename call itself took, as the renamer saw it
            log("fig10: watch latency %s, %d rounds x %d commits per contender" % (size_label(size), rounds, per_round))
            for r in range(rounds):
                delays = [rnd.uniform(0.002, 0.010) for _ in range(per_round)]
                order = contenders if r % 2 == 0 else list(reversed(contenders))
                for cid in order:
                    stage = os.path.join(cfg.scratch, "watch-stage")
                    watched = os.path.join(cfg.scratch, "watch-dir")
                    for d in (stage, watched):
                        shutil.rmtree(d, ignore_errors=True)
                        os.makedirs(d, mode=0o700)
                    # Complete, fsynced cache files with distinct commit ids, made
                    # before the trials: a trial's commit is one rename, as in
                    # DurableCommit's step 6.
                    if writer.ask("stage %s %s %d %s" % (a, b, per_round + 1, stage)) != "ok":
                        raise RuntimeError("staging failed")
                    os.rename(os.path.join(stage, "staged-0.json"), os.path.join(watched, "metacache.json"))
                    w = self.watcher(cid, watched)
                    try:
                        for k in range(per_round):
                            time.sleep(delays[k])  # the watcher's CPU goes idle, as between real commits
                            source = os.path.join(stage, "staged-%d.json" % (k + 1))
                            target = os.path.join(watched, "metacache.json")
                            # Keep the file being replaced alive under a second name: freeing
                            # a 1 MiB inode at the end of the rename holds up whoever reads
                            # the directory at that moment — the fastest watcher most (the
                            # floor's 1 MiB read took ~0.7 ms instead of ~0.1 ms) — which
                            # would measure ext4, not the watchers.
                            os.link(target, os.path.join(stage, "replaced-%d.json" % k))
                            # Timed from just *before* the rename: the woken watcher often
                            # preempts the renaming process on its way out of the system
                            # call, so a time taken after it can be later than the receipt.
                            t_commit = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                            os.rename(source, target)
                            renames.append(time.clock_gettime_ns(time.CLOCK_MONOTONIC) - t_commit)
                            words = w.stdout.readline().split()
                            if not words:
                                raise RuntimeError("watcher %s ended" % cid)
                            if cid == "floor":
                                lat[cid].append(int(words[2]) - t_commit)
                                events.append(int(words[1]) - t_commit)
                            else:
                                lat[cid].append(int(words[2]) - t_commit)
                    finally:
                        w.kill()
                        w.wait()
            out["sizes"][size] = {"latency_ns": lat, "floor_event_ns": events, "rename_ns": renames}
        # Idle: each watcher armed and told nothing for idle_s seconds.
        watched = os.path.join(cfg.scratch, "watch-dir")
        for cid in ("floor", "mc", "mc-polling-1s"):
            w = self.watcher(cid, watched)
            try:
                time.sleep(0.2)  # let start-up finish
                c0, s0 = self.watcher_cpu(cid, w)
                t0 = time.monotonic()
                time.sleep(idle_s)
                c1, s1 = self.watcher_cpu(cid, w)
                wall = time.monotonic() - t0
            finally:
                w.kill()
                w.wait()
            out["idle"][cid] = {"cpu_ns": c1 - c0, "switches": s1 - s0, "wall_s": wall}
            log("fig10: idle %s: %.3f ms CPU, %d context switches in %.1f s" % (cid, (c1 - c0) / 1e6, s1 - s0, wall))
        return out

    # -- figure 8: scaling and peak RSS --------------------------------------

    def peak_rss_kib(self, argv):
        """Peak RSS of a fresh process, measured by the small C floor binary (see
        floor.c, --rss: a big parent would inflate the child's figure)."""
        r = subprocess.run([self.cfg.floor_bin, "--rss"] + argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (argv, r.stderr.strip()[:300]))
        return int(r.stdout.split()[0])

    def fig_rss(self, cli_available):
        cfg = self.cfg
        size = 64 * MIB
        payload = cfg.payloads[(size, "a")]
        self.contenders.shared("mc").samples("refresh %s 1 trusted" % payload)
        mc_file = os.path.join(cfg.store, "metacache.json")
        reps = self.it(5, 2)
        out = {"payload_bytes": size, "runs": reps}
        probes = {
            "metacache-bench rss-read (library read() in a fresh process)": [cfg.bench_bin, cfg.store, "rss-read"],
            "metacache-bench rss-idle (same process, no read)": [cfg.bench_bin, cfg.store, "rss-idle"],
            "cat (reference)": ["cat", mc_file],
        }
        if cli_available:
            d = os.path.join(cfg.scratch, "cli-rss")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d, mode=0o700)
            subprocess.run([cfg.metacache_bin, "cache", "refresh", "--dir", d, "--source", payload],
                           check=True, capture_output=True)
            probes = dict([("metacache cache read (CLI)", [cfg.metacache_bin, "cache", "read", "--dir", d])]
                          + list(probes.items()))
        for label, argv in probes.items():
            out[label] = [self.peak_rss_kib(argv) for _ in range(reps)]
        return out

    # -- throughput probes ----------------------------------------------------

    def fig_throughput_probes(self, validator_real):
        cfg = self.cfg
        out = {}
        mc = self.contenders.shared("mc")
        floor = self.contenders.shared("floor")
        for label, path in (("1 MiB generated", cfg.payloads[(MIB, "a")]),
                            ("16 MiB generated", cfg.payloads[(16 * MIB, "a")])):
            n = self.it(200, 30) if "1 MiB" in label else self.it(30, 5)
            out.setdefault("xxh64_swift", {})[label] = {"bytes": os.path.getsize(path), "ns": mc.samples("hash %s %d" % (path, n))}
            out.setdefault("xxh64_c", {})[label] = {"bytes": os.path.getsize(path), "ns": floor.samples("hash %s %d" % (path, n))}
        if validator_real:
            targets = [(os.path.relpath(p, REPO), p) for p in cfg.sample_catalogues]
            targets += [("1 MiB generated", cfg.payloads[(MIB, "a")]), ("16 MiB generated", cfg.payloads[(16 * MIB, "a")])]
            for label, path in targets:
                n = self.it(50, 10) if "16 MiB" not in label else self.it(10, 3)
                out.setdefault("validator", {})[label] = {"bytes": os.path.getsize(path),
                                                          "ns": mc.samples("validate %s %d" % (path, n))}
        return out

    # -- everything ----------------------------------------------------------

    def run_typed_figures(self, F):
        F["9"] = self.guard("9", self.fig_typed)
        if shutil.which("hyperfine"):
            F["9-cold"] = self.guard("9", self.fig_typed_cold)
            F["9-rss"] = self.guard("9", self.fig_typed_rss)
        else:
            self.results["unmeasured"].append("9-cold")
        self.mark_load("after figure 9")

    def run(self):
        R = self.results
        self.mark_load("start")
        validator_real = self.probe_validator()
        if not validator_real:
            R["notes"].append("StrictJSONValidator accepts invalid JSON (%s): it is still a placeholder, so "
                              "'with JSON validation' figures and the validator throughput are not meaningful."
                              % self.results["validator_probe"])
        cli_available, cli_reason = self.probe_cli()
        R["cli_available"] = cli_available
        R["cli_reason"] = cli_reason
        log("validator: %s; CLI: %s" % ("real" if validator_real else "PLACEHOLDER",
                                        "available" if cli_available else "NOT AVAILABLE (%s)" % cli_reason))
        F = R["figures"]
        R["failed"] = {}
        try:
            def refresh_n(size):
                return {4 * KIB: self.it(500, 30), MIB: self.it(600, 30), 16 * MIB: self.it(150, 10)}[size]

            def read_n(size):
                return {4 * KIB: self.it(3000, 300), MIB: self.it(2000, 200), 16 * MIB: self.it(200, 20)}[size]

            if self.cfg.only:
                # Development: only the figures asked for (Benchmarks/run --only).
                producers = {"watch": ("10", self.fig_watch), "cli-read": ("6", self.fig_cli_read),
                             "stale": ("11", self.fig_stale)}
                for name in self.cfg.only:
                    if name == "typed":
                        self.run_typed_figures(F)
                        continue
                    if name == "lock":
                        F["3"] = self.guard("3", self.fig_lock)
                        self.mark_load("after figure 3")
                        F["4"] = self.guard("4", self.fig_handover)
                        self.mark_load("after figure 4")
                        continue
                    fig, produce = producers[name]
                    F[fig] = self.guard(fig, produce)
                    self.mark_load("after figure %s" % fig)
                return self.finish(F)
            F["1"] = self.guard("1", lambda: self.fig_refresh([4 * KIB, MIB, 16 * MIB], refresh_n, "fig1"))
            F["1-split"] = self.guard("1", self.fig_refresh_split)
            self.mark_load("after figure 1")
            F["2"] = self.guard("2", lambda: self.fig_read([4 * KIB, MIB, 16 * MIB], read_n, "fig2"))
            # Typed decode is ~100x slower than a raw read: its own interleaved rounds
            # against the raw read of the same file.
            F["2-decode"] = self.guard("2", self.fig_decode)
            self.mark_load("after figure 2")
            F["3"] = self.guard("3", self.fig_lock)
            self.mark_load("after figure 3")
            F["4"] = self.guard("4", self.fig_handover)
            self.mark_load("after figure 4")
            F["5"] = self.guard("5", self.fig_throughput)
            self.mark_load("after figure 5")
            if cli_available:
                F["6"] = self.guard("6", self.fig_cli_read)
                F["7"] = self.guard("7", self.fig_coalescing)
            else:
                R["unmeasured"] += ["6", "7"]
            self.mark_load("after figures 6-7")
            scale_sizes = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB, 16 * MIB, 64 * MIB]

            def scale_refresh_n(size):
                return self.it(50, 6) if size <= MIB else self.it({4 * MIB: 30, 16 * MIB: 20, 64 * MIB: 10}[size], 3)

            def scale_read_n(size):
                return self.it(500, 50) if size <= MIB else self.it({4 * MIB: 200, 16 * MIB: 50, 64 * MIB: 20}[size], 5)

            F["8-refresh"] = self.guard("8", lambda: self.fig_refresh(scale_sizes, scale_refresh_n, "fig8",
                                                                      contenders=REFRESHERS[:3]))
            F["8-read"] = self.guard("8", lambda: self.fig_read(scale_sizes, scale_read_n, "fig8",
                                                                contenders=READERS[:2] + [FLOOR_FRESH]))
            F["8-rss"] = self.guard("8", lambda: self.fig_rss(cli_available))
            self.mark_load("after figure 8")
            F["10"] = self.guard("10", self.fig_watch)
            self.mark_load("after figure 10")
            if cli_available:
                F["11"] = self.guard("11", self.fig_stale)
                self.mark_load("after figure 11")
            else:
                R["unmeasured"] += ["11"]
            F["throughput"] = self.guard("throughput", lambda: self.fig_throughput_probes(validator_real))
            R["validator_real"] = validator_real
            self.run_typed_figures(F)
        finally:
            self.contenders.close()
        return self.finish(F)

    def finish(self, F):
        R = self.results
        self.contenders.close()
        for key in [k for k, v in F.items() if v is None]:
            del F[key]
        self.mark_load("end")
        R["loadavg"] = self.loads
        return R


class SlowServer:
    """A loopback HTTP source that waits `delay` seconds before answering, and
    counts the GET requests (fetches) it served."""

    def __init__(self, payload, delay):
        outer = self
        self.count = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with outer.lock:
                    outer.count += 1
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# Machine description
# ---------------------------------------------------------------------------

def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine(cfg):
    info = {}
    with open("/proc/cpuinfo") as f:
        cpu = f.read()
    m = re.search(r"^model name\s*:\s*(.*)$", cpu, re.M)
    info["cpu"] = m.group(1).strip() if m else platform.processor()
    info["cores"] = os.cpu_count()
    with open("/proc/meminfo") as f:
        mem = f.read()
    info["ram_gib"] = round(int(re.search(r"MemTotal:\s*(\d+)", mem).group(1)) / 1024 / 1024, 1)
    info["kernel"] = platform.release()
    info["os"] = sh(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""])
    fs = sh(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "-T", cfg.scratch]).split()
    info["filesystem"] = fs[0] if fs else sh(["stat", "-f", "-c", "%T", cfg.scratch])
    info["filesystem_source"] = fs[1] if len(fs) > 1 else ""
    info["mount_options"] = fs[2] if len(fs) > 2 else ""
    dev = os.path.basename(info["filesystem_source"])
    disk = dev.rstrip("0123456789") if dev.startswith(("sd", "vd", "xvd")) else re.sub(r"p\d+$", "", dev)
    rot = sh(["cat", "/sys/block/%s/queue/rotational" % disk])
    model = sh(["cat", "/sys/block/%s/device/model" % disk])
    vendor = sh(["cat", "/sys/block/%s/device/vendor" % disk])
    sched = re.search(r"\[(\S+)\]", sh(["cat", "/sys/block/%s/queue/scheduler" % disk]) or "")
    size = sh(["cat", "/sys/block/%s/size" % disk])
    info["disk"] = "%s%s%s%s%s%s" % (
        disk or "?",
        " (virtio block device)" if disk.startswith("vd") else "",
        (", model %s" % model) if model else "",
        (", vendor id %s" % vendor) if vendor and not model else "",
        (", %d GiB" % (int(size) * 512 // (1 << 30))) if size.isdigit() else "",
        (", rotational=%s, I/O scheduler %s" % (rot, sched.group(1) if sched else "?")) if rot else "",
    )
    info["clocksource"] = sh(["cat", "/sys/devices/system/clocksource/clocksource0/current_clocksource"])
    virt = sh(["systemd-detect-virt"])
    info["virtualization"] = ", ".join(x for x in (
        virt if virt and virt != "none" else "",
        "CPU reports a hypervisor" if " hypervisor" in cpu else "") if x)
    info["swift"] = sh(["swift", "--version"]).splitlines()[0] if sh(["swift", "--version"]) else ""
    info["cc"] = sh([cfg.cc, "--version"]).splitlines()[0] if sh([cfg.cc, "--version"]) else ""
    info["python"] = sh([cfg.python, "-c", "import sys,sqlite3,filelock,lmdb;print(sys.version.split()[0],"
                                       "'sqlite',sqlite3.sqlite_version,'filelock',filelock.__version__,"
                                       "'lmdb(py)',lmdb.__version__,'liblmdb','.'.join(map(str,lmdb.version())))"])
    info["python_json"] = sh([cfg.python, "-c", "import importlib.metadata as m;print('orjson',m.version('orjson'),"
                                            "'pysimdjson',m.version('pysimdjson'))"])
    info["hyperfine"] = sh(["hyperfine", "--version"])
    info["git"] = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    if sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]):
        info["git"] += " (with uncommitted changes)"
    return info


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--bin-dir", required=True, help="swift build -c release --show-bin-path")
    ap.add_argument("--floor-bin", required=True)
    ap.add_argument("--python", required=True, help="the venv's python, with filelock and lmdb")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json-out", required=True)
    ap.add_argument("--md-out", required=True)
    ap.add_argument("--command", required=True, help="the exact command, for the report")
    ap.add_argument("--note", default="")
    ap.add_argument("--only", default="", help="figures to run alone, by name, comma-separated (development): lock, typed, watch, cli-read, stale")
    ap.add_argument("--metacache-bin", default="", help="the metacache to time (default: BIN_DIR/metacache); "
                    "Benchmarks/run passes the static one Scripts/build-release links")
    ap.add_argument("--watch-floor-bin", default="", help="the C floor of figure 10 (Benchmarks/floor/watch-floor.c)")
    cfg = ap.parse_args()
    cfg.only = [f for f in cfg.only.split(",") if f]
    for fig in cfg.only:
        if fig not in ("lock", "typed", "watch", "cli-read", "stale"):
            raise SystemExit("bench: --only knows 'lock' (figures 3-4), 'typed' (figure 9), 'watch' (figure 10), "
                             "'cli-read' (figure 6) and 'stale' (figure 11) (got %s)" % fig)
    cfg.scratch = os.path.abspath(cfg.scratch)
    cfg.bench_bin = os.path.join(cfg.bin_dir, "metacache-bench")
    cfg.watch_floor_bin = cfg.watch_floor_bin or os.path.join(cfg.scratch, "bin", "watch-floor")
    cfg.metacache_bin = cfg.metacache_bin or os.path.join(cfg.bin_dir, "metacache")
    cfg.store = os.path.join(cfg.scratch, "store")
    shutil.rmtree(cfg.store, ignore_errors=True)
    os.makedirs(cfg.store, mode=0o700)
    os.chmod(cfg.store, 0o700)
    fs_type = sh(["stat", "-f", "-c", "%T", cfg.scratch])
    if fs_type in ("tmpfs", "ramfs"):
        raise SystemExit("bench: %s is on %s; fsync would cost nothing there. Use a real disk." % (cfg.scratch, fs_type))

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = loadavg()
    busy0, own0, wall0 = *cpu_accounting(), time.monotonic()
    log("generating payloads")
    sizes = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB, 16 * MIB, 64 * MIB]
    # --only: just what the CLI probe (4 KiB) and figure 6 (1 MiB) read.
    cfg.payloads = prepare_payloads(os.path.join(cfg.scratch, "payloads"), [4 * KIB, MIB] if cfg.only else sizes)
    cfg.typed_payloads = prepare_typed_payloads(os.path.join(cfg.scratch, "payloads"),
                                                os.path.join(REPO, "Fixtures", "catalog-1mib.json"))
    # The repository's sample catalogues (issue 2's validator goal is stated on them).
    cfg.sample_catalogues = [p for p in (os.path.join(REPO, "Fixtures", n) for n in ("catalog-sample.json", "catalog-1mib.json"))
                             if os.path.exists(p)]

    info = machine(cfg)
    run = Run(cfg)
    results = run.run()
    finished = datetime.datetime.now(datetime.timezone.utc)
    busy1, own1, wall1 = *cpu_accounting(), time.monotonic()
    foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / ((wall1 - wall0) * (os.cpu_count() or 1))
    doc = {
        "schema": 1,
        "command": cfg.command,
        "mode": ("quick" if cfg.quick else "publication") + ((", only " + ",".join(cfg.only)) if cfg.only else ""),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "machine": info,
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "foreign_cpu_share": foreign,
        "note": cfg.note,
        "results": results,
    }
    import report  # noqa: E402  (Benchmarks/report.py)

    summary = report.summarise(doc)
    doc["summary"] = summary
    os.makedirs(os.path.dirname(cfg.json_out), exist_ok=True)
    with open(cfg.json_out, "w") as f:
        json.dump(jsonable(doc), f, separators=(",", ":"))
        f.write("\n")
    with open(cfg.md_out, "w") as f:
        f.write(report.markdown(doc, summary))
    log("wrote %s and %s" % (cfg.md_out, cfg.json_out))
    print(report.goals_text(summary))


def jsonable(x):
    """Dict keys to strings (sizes are ints in memory)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
