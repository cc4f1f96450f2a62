#!/usr/bin/env python3
"""Writes the crafted seeds of the CacheFileReading fuzz target into
Tests/Fuzz/Seeds/CacheFileReading/crafted-*.bin.

An independent writer of docs/format.md: its own XXH64 (checked against the
specification's test vectors below) and its own header layout, so the seeds are
also a cross-check of the Swift encoder and decoder. Run it after changing the
format; the real-file seeds (real-*.bin) are made with `metacache cache refresh`
(see README.md next to this script).
"""
import os
import struct
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M, 31) * P1) & M


def merge(acc, val):
    return ((acc ^ rnd(0, val)) * P1 + P4) & M


def xxh64(data, seed=0):
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from('<Q', data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = merge(h, v[k])
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h = (rotl(h ^ rnd(0, struct.unpack_from('<Q', data, i)[0]), 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h = (rotl(h ^ (struct.unpack_from('<I', data, i)[0] * P1) & M, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h = (rotl(h ^ (data[i] * P5) & M, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)


VECTORS = {b'': 0xef46db3751d8e999, b'a': 0xd24ec4f1a98c6e5b, b'abc': 0x44bc2cf5ad770999,
           b'message digest': 0x066ed728fceeb3be,
           b'abcdefghijklmnopqrstuvwxyz': 0xcfe1f278fa89835c}
for text, expected in VECTORS.items():
    assert xxh64(text) == expected, (text, hex(xxh64(text)))


def cache_file(payload=b'{"crafted":true}', version=1, flags=0, n=None, checksum=None, generation=1,
               commit_id=0x0123456789ABCDEF, fetched=1764000000000, committed=1764000000000, pid=4242,
               fields=((1, b'https://api.example/catalogue'), (2, b'"v7"'), (4, b'build-host'), (5, b'fetch'))):
    body = b''.join(struct.pack('<HH', tag, len(value)) + value for tag, value in fields)
    h = 72 + len(body) + 8
    header = (b'\x89MCACHE\n' + struct.pack('<HHI', version, flags, h)
              + struct.pack('<QQQQqqiI', len(payload) if n is None else n,
                            xxh64(payload) if checksum is None else checksum,
                            generation, commit_id, fetched, committed, pid, 0) + body)
    return header + struct.pack('<Q', xxh64(header)) + payload


SEEDS = {
    'plain': cache_file(),
    'empty-payload': cache_file(payload=b''),
    'no-fields': cache_file(fields=()),
    'all-tags-and-unknown': cache_file(fields=((1, b'/srv/catalog.json'), (2, b'"e"'),
                                               (3, b'Tue, 01 Dec 2026 10:00:00 GMT'), (4, b'h'),
                                               (5, b'update'), (77, b'\xff\x00opaque'), (1, b'stdin'))),
    'version-2': cache_file(version=2),
    'unknown-flag': cache_file(flags=4),
    'huge-length': cache_file(n=(1 << 64) - 1),
    'int64-min-times': cache_file(fetched=-(1 << 63), committed=-(1 << 63)),
    'int64-max-times': cache_file(fetched=(1 << 63) - 1, committed=(1 << 63) - 1),
    'negative-pid': cache_file(pid=-1),
    'wrong-payload-checksum': cache_file(checksum=0),
}

if __name__ == '__main__':
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'CacheFileReading')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, 'crafted-' + name + '.bin'), 'wb') as f:
            f.write(data)
    print(f'wrote {len(SEEDS)} seeds to {out}', file=sys.stderr)
