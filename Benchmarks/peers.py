"""The peers: what a tool author would write instead of using MetadataCache.

    python peers.py KIND DIR

KIND is one of
  filelock-locked    `filelock.FileLock` around every operation, reads included;
                     writes via temp file + fsync + os.replace (the common design)
  filelock-lockfree  the same writes; reads open the file without the lock
  sqlite             SQLite, WAL mode, synchronous=FULL, document stored as a blob
  lmdb               LMDB (one writer at a time, lock-free MVCC readers), defaults
  parsers            JSON parsers for the typed-read figure: `parse PATH N LIB` reads
                     the file and parses it N times with LIB (json, orjson,
                     simdjson-lazy, simdjson) -> ok wall,cpu ... (ns per read+parse)

Each is a worker of bench.py and speaks its line protocol on stdin/stdout (see
bench.py, "Worker protocol"). They are written the way their documentation shows,
with default settings: nothing is tuned down, nothing is added. None of them
verifies a checksum on read, and the filelock writer does not fsync the directory
(os.replace without it is the common design); the tables say so.
"""

import os
import resource
import select
import sys
import time

now = time.monotonic_ns  # CLOCK_MONOTONIC, as the C and Swift workers


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


_payloads = {}


def load(path):
    data = _payloads.get(path)
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
        _payloads[path] = data
    return data


class FileLockPeer:
    def __init__(self, directory, lockfree_reads):
        import filelock

        self.path = os.path.join(directory, "filelock.json")
        self.lock = filelock.FileLock(os.path.join(directory, "filelock.json.lock"))
        self.lockfree_reads = lockfree_reads
        self.directory = directory

    def _write(self, data):
        temp = "%s.tmp-%d" % (self.path, os.getpid())
        with open(temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.path)

    def refresh(self, data):
        with self.lock:
            self._write(data)

    def read(self):
        if self.lockfree_reads:
            with open(self.path, "rb") as f:
                return f.read()
        with self.lock:
            with open(self.path, "rb") as f:
                return f.read()

    def lock_cycle(self):
        self.lock.acquire()
        self.lock.release()

    def hold(self):
        self.lock.acquire()

    def release(self):
        self.lock.release()


class SQLitePeer:
    def __init__(self, directory):
        import sqlite3

        self.db = sqlite3.connect(os.path.join(directory, "sqlite.db"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS doc (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")

    def refresh(self, data):
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT OR REPLACE INTO doc (id, body) VALUES (1, ?)", (data,))
        self.db.execute("COMMIT")

    def read(self):
        row = self.db.execute("SELECT body FROM doc WHERE id = 1").fetchone()
        return row[0]

    def lock_cycle(self):
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("COMMIT")

    def hold(self):
        self.db.execute("BEGIN IMMEDIATE")

    def release(self):
        self.db.execute("COMMIT")


class LMDBPeer:
    def __init__(self, directory):
        import lmdb

        # A map large enough for the 64 MiB scaling payloads and their MVCC copies.
        self.env = lmdb.open(os.path.join(directory, "lmdb.mdb"), subdir=False, map_size=1 << 30)
        self.txn = None

    def refresh(self, data):
        with self.env.begin(write=True) as txn:
            txn.put(b"doc", data)

    def read(self):
        with self.env.begin() as txn:
            return txn.get(b"doc")

    def lock_cycle(self):
        self.env.begin(write=True).abort()

    def hold(self):
        self.txn = self.env.begin(write=True)

    def release(self):
        self.txn.abort()
        self.txn = None


class JSONParsers:
    """What a Python tool does on every start: read its cache file and parse it.
    Each library is used the way its documentation shows, with defaults."""

    def __init__(self):
        self.parsers = {}

    def parser(self, lib):
        if lib not in self.parsers:
            if lib == "json":
                import json
                self.parsers[lib] = json.loads
            elif lib == "orjson":
                import orjson
                self.parsers[lib] = orjson.loads
            elif lib == "simdjson-lazy":
                # pysimdjson's documented fast path: parse once, materialise values
                # only when accessed (nothing is accessed here).
                import simdjson
                p = simdjson.Parser()
                self.parsers[lib] = p.parse
            elif lib == "simdjson":
                import simdjson
                self.parsers[lib] = simdjson.loads  # builds dicts and lists, as json.loads
            else:
                raise SystemExit("unknown parser %r" % lib)
        return self.parsers[lib]

    def parse(self, path, n, lib):
        parse = self.parser(lib)
        out = []
        for _ in range(n):
            w0, c0 = now(), time.process_time_ns()
            with open(path, "rb") as f:
                doc = parse(f.read())
            c1, w1 = time.process_time_ns(), now()
            if doc is None:
                raise SystemExit("nothing parsed")
            del doc
            out.append("%d,%d" % (w1 - w0, c1 - c0))
        return out


def make(kind, directory):
    if kind == "parsers":
        return JSONParsers()
    if kind == "filelock-locked":
        return FileLockPeer(directory, lockfree_reads=False)
    if kind == "filelock-lockfree":
        return FileLockPeer(directory, lockfree_reads=True)
    if kind == "sqlite":
        return SQLitePeer(directory)
    if kind == "lmdb":
        return LMDBPeer(directory)
    raise SystemExit("unknown peer kind %r" % kind)


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def stdin_has_line():
    return bool(select.select([sys.stdin], [], [], 0)[0])


def main():
    kind, directory = sys.argv[1], sys.argv[2]
    peer = make(kind, directory)
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        if cmd == "parse":
            say("ok " + " ".join(peer.parse(args[0], int(args[1]), args[2])))
        elif cmd == "refresh":
            data, n = load(args[0]), int(args[1])
            times = []
            for _ in range(n):
                t0 = now()
                peer.refresh(data)
                times.append(now() - t0)
            say("ok " + " ".join(map(str, times)))
        elif cmd == "read":
            n = int(args[0])
            times = []
            for _ in range(n):
                t0 = now()
                data = peer.read()
                times.append(now() - t0)
                if not data:
                    raise SystemExit("empty read")
            say("ok " + " ".join(map(str, times)))
        elif cmd == "lock":
            n = int(args[0])
            times = []
            for _ in range(n):
                t0 = now()
                peer.lock_cycle()
                times.append(now() - t0)
            say("ok " + " ".join(map(str, times)))
        elif cmd == "hold":
            peer.hold()
            say("held")
        elif cmd == "release":
            t = now()
            peer.release()
            say("released %d %d" % (t, now() - t))
        elif cmd == "wait":
            c0, w0 = cpu_ns(), now()
            say("waiting")
            peer.hold()
            t = now()
            say("acquired %d %d %d" % (t, cpu_ns() - c0, t - w0))
        elif cmd == "readloop":
            seconds, a, b = float(args[0]), load(args[1]), load(args[2])
            reads = bad = 0
            end = now() + int(seconds * 1e9)
            while now() < end:
                data = peer.read()
                reads += 1
                if data != a and data != b:
                    bad += 1
            say("reads %d bad %d" % (reads, bad))
        elif cmd == "writeloop":
            # A commit that fails is counted, not hidden: with default settings SQLite's
            # busy handler gives up after 5 s ("database is locked") when the other
            # writer keeps winning the lock.
            a, b = load(args[0]), load(args[1])
            writes = errors = 0
            while not stdin_has_line():
                try:
                    peer.refresh(b if writes & 1 else a)
                    writes += 1
                except Exception as e:  # noqa: BLE001 (reported, then the loop goes on)
                    errors += 1
                    sys.stderr.write("peers.py %s writer: %s\n" % (kind, e))
            sys.stdin.readline()
            say("writes %d errors %d" % (writes, errors))
        elif cmd == "ping":
            say("pong %d" % os.getpid())
        elif cmd == "quit":
            break
        else:
            raise SystemExit("unknown command %r" % cmd)


if __name__ == "__main__":
    main()
