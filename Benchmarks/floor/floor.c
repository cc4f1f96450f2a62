/*
 * The floor: the bare system calls of one durable refresh and of one read,
 * with nothing else (no validation, no checksum, no header, no holder record).
 *
 *   refresh: open lock, flock(LOCK_EX), open temp O_CREAT|O_EXCL, write, fsync,
 *            close, rename over the cache file, open dir, fsync dir, close dir,
 *            flock(LOCK_UN), close lock
 *   read:    open, fstat, read (until the whole file is in), close
 *   lock:    open lock, flock(LOCK_EX), flock(LOCK_UN), close
 *
 * It is a worker of Benchmarks/bench.py and speaks the same line protocol on
 * stdin/stdout as the other contenders (see bench.py, "Worker protocol").
 * Files: DIR/floor.json, DIR/floor.lock, DIR/floor.json.tmp-PID-N.
 *
 * Built by Benchmarks/run with `cc -O2`. Benchmark-only: not part of the package.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[4096], cache_path[4200], lock_path[4200];
static unsigned long temp_counter;

static void die(const char *what, const char *path) {
    fprintf(stderr, "floor: %s %s: %s\n", what, path ? path : "", strerror(errno));
    exit(1);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* ---- payloads, loaded once per path ---- */
struct payload { char path[4096]; char *bytes; size_t size; };
static struct payload loaded[16];
static int nloaded;

static struct payload *load(const char *path) {
    for (int i = 0; i < nloaded; i++)
        if (strcmp(loaded[i].path, path) == 0) return &loaded[i];
    if (nloaded == 16) { nloaded = 0; }
    struct payload *p = &loaded[nloaded++];
    free(p->bytes);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open payload", path);
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat payload", path);
    p->size = (size_t)st.st_size;
    p->bytes = malloc(p->size ? p->size : 1);
    size_t got = 0;
    while (got < p->size) {
        ssize_t n = read(fd, p->bytes + got, p->size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("read payload", path);
        got += (size_t)n;
    }
    close(fd);
    snprintf(p->path, sizeof p->path, "%s", path);
    return p;
}


/* ---- XXH64 (seed 0), a plain C reference for the Swift implementation's speed ---- */
static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL,
                      P3 = 0x165667B19E3779F9ULL, P4 = 0x85EBCA77C2B2AE63ULL,
                      P5 = 0x27D4EB2F165667C5ULL;
static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t xround(uint64_t acc, uint64_t in) { return rotl64(acc + in * P2, 31) * P1; }
static inline uint64_t xmerge(uint64_t h, uint64_t v) { return (h ^ xround(0, v)) * P1 + P4; }
static uint64_t xxh64(const void *data, size_t len) {
    const unsigned char *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
        const unsigned char *limit = end - 32;
        do {
            v1 = xround(v1, rd64(p)); v2 = xround(v2, rd64(p + 8));
            v3 = xround(v3, rd64(p + 16)); v4 = xround(v4, rd64(p + 24));
            p += 32;
        } while (p <= limit);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xmerge(h, v1); h = xmerge(h, v2); h = xmerge(h, v3); h = xmerge(h, v4);
    } else {
        h = P5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) { h = rotl64(h ^ xround(0, rd64(p)), 27) * P1 + P4; p += 8; }
    if (p + 4 <= end) { h = rotl64(h ^ ((uint64_t)rd32(p) * P1), 23) * P2 + P3; p += 4; }
    while (p < end) { h = rotl64(h ^ (*p * P5), 11) * P1; p++; }
    h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
    return h;
}

/* ---- the operations ---- */
static void write_all(int fd, const char *b, size_t n, const char *path) {
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("write", path);
        b += w;
        n -= (size_t)w;
    }
}

static int lock_open_and_flock(void) {
    int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0) die("open", lock_path);
    while (flock(lfd, LOCK_EX) != 0) if (errno != EINTR) die("flock", lock_path);
    return lfd;
}

static void unlock_close(int lfd) {
    flock(lfd, LOCK_UN);
    close(lfd);
}

/* Everything after the lock is taken: temp, write, fsync, rename, fsync dir. */
static void commit_locked(const struct payload *p) {
    char temp[4300];
    snprintf(temp, sizeof temp, "%s.tmp-%d-%lu", cache_path, (int)getpid(), ++temp_counter);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die("open", temp);
    write_all(fd, p->bytes, p->size, temp);
    if (fsync(fd) != 0) die("fsync", temp);
    if (close(fd) != 0) die("close", temp);
    if (rename(temp, cache_path) != 0) die("rename", temp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("open", dir);
    if (fsync(dfd) != 0) die("fsync", dir);
    close(dfd);
}

static void refresh(const struct payload *p) {
    int lfd = lock_open_and_flock();
    commit_locked(p);
    unlock_close(lfd);
}

/* open, fstat, read, close; returns the bytes read into *buf (grown as needed). */
static size_t read_file(const char *path, char **buf, size_t *cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat", path);
    size_t size = (size_t)st.st_size;
    if (size > *cap) {
        free(*buf);
        *cap = size;
        *buf = malloc(size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, *buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read", path);
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    return got;
}

/* ---- output ---- */
static char *out;
static size_t outcap, outlen;
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(out + outlen, outcap - outlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < outcap - outlen) { outlen += (size_t)n; return; }
        outcap = outcap * 2 + 4096;
        out = realloc(out, outcap);
    }
}
static void flush_line(void) {
    emit("\n");
    size_t off = 0;
    while (off < outlen) {
        ssize_t n = write(1, out + off, outlen - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) exit(1);
        off += (size_t)n;
    }
    outlen = 0;
}

static int stdin_has_line(void) {
    struct pollfd p = { .fd = 0, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

/* floor --rss CMD ARGS...: runs CMD with stdout to /dev/null and prints its peak
 * RSS in KiB (wait4). A small parent matters: Linux carries the RSS high-water
 * mark of the forking parent's image across exec, so measuring children of a
 * big Python process directly would report the parent's size. */
static int rss_of(char **argv) {
    pid_t pid = fork();
    if (pid < 0) die("fork", NULL);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) die("wait4", NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "floor --rss: %s failed (status %d)\n", argv[0], status);
        return 1;
    }
    printf("%ld\n", ru.ru_maxrss);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--rss") == 0) return rss_of(argv + 2);
    if (argc != 2) { fprintf(stderr, "usage: floor DIR | floor --rss CMD [ARGS...]\n"); return 64; }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    snprintf(cache_path, sizeof cache_path, "%s/floor.json", dir);
    snprintf(lock_path, sizeof lock_path, "%s/floor.lock", dir);
    outcap = 1 << 16;
    out = malloc(outcap);
    char *rbuf = NULL;
    size_t rcap = 0;
    int held = -1;
    char line[16384];
    setvbuf(stdin, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char cmd[64] = "", a1[4096] = "", a2[4096] = "", a3[4096] = "";
        sscanf(line, "%63s %4095s %4095s %4095s", cmd, a1, a2, a3);
        if (strcmp(cmd, "refresh") == 0) {          /* refresh PAYLOAD N */
            struct payload *p = load(a1);
            long n = atol(a2);
            emit("ok");
            for (long i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                refresh(p);
                emit(" %lld", (long long)(now_ns() - t0));
            }
            flush_line();
        } else if (strcmp(cmd, "refresh-split") == 0) {  /* refresh-split PAYLOAD N: "lock,commit,unlock" ns */
            struct payload *p = load(a1);
            long n = atol(a2);
            emit("ok");
            for (long i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                int lfd = lock_open_and_flock();
                int64_t t1 = now_ns();
                commit_locked(p);
                int64_t t2 = now_ns();
                unlock_close(lfd);
                int64_t t3 = now_ns();
                emit(" %lld,%lld,%lld", (long long)(t1 - t0), (long long)(t2 - t1), (long long)(t3 - t2));
            }
            flush_line();
        } else if (strcmp(cmd, "read") == 0) {      /* read N [PATH [fresh]] */
            /* The floor reuses one buffer. With "fresh", every read gets a new
             * malloc'd buffer, freed after the read, as a library that hands out
             * a new snapshot must (a reference point: its page faults show at
             * sizes above glibc's mmap threshold, 32 MiB at most). */
            long n = atol(a1);
            const char *path = a2[0] ? a2 : cache_path;
            int fresh = strcmp(a3, "fresh") == 0;
            emit("ok");
            for (long i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                size_t got = read_file(path, &rbuf, &rcap);
                if (fresh) { free(rbuf); rbuf = NULL; rcap = 0; }
                int64_t dt = now_ns() - t0;
                if (got == 0) { fprintf(stderr, "floor: empty read\n"); return 1; }
                emit(" %lld", (long long)dt);
            }
            flush_line();
        } else if (strcmp(cmd, "lock") == 0) {      /* lock N */
            long n = atol(a1);
            emit("ok");
            for (long i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                unlock_close(lock_open_and_flock());
                emit(" %lld", (long long)(now_ns() - t0));
            }
            flush_line();
        } else if (strcmp(cmd, "hold") == 0) {
            held = lock_open_and_flock();
            emit("held");
            flush_line();
        } else if (strcmp(cmd, "release") == 0) {
            int64_t t = now_ns();
            unlock_close(held);
            held = -1;
            emit("released %lld %lld", (long long)t, (long long)(now_ns() - t));
            flush_line();
        } else if (strcmp(cmd, "wait") == 0) {
            /* Blocking flock: the kernel wakes us at the release. */
            int64_t c0 = cpu_ns(), w0 = now_ns();
            int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (lfd < 0) die("open", lock_path);
            if (flock(lfd, LOCK_EX | LOCK_NB) == 0) {
                held = lfd;
                emit("acquired-immediately");
                flush_line();
                continue;
            }
            emit("waiting");
            flush_line();
            while (flock(lfd, LOCK_EX) != 0) if (errno != EINTR) die("flock", lock_path);
            int64_t t = now_ns();
            held = lfd;
            emit("acquired %lld %lld %lld", (long long)t, (long long)(cpu_ns() - c0), (long long)(t - w0));
            flush_line();
        } else if (strcmp(cmd, "readloop") == 0) {  /* readloop SECONDS A B */
            double seconds = atof(a1);
            struct payload *pa = load(a2), *pb = load(a3);
            long reads = 0, bad = 0;
            int64_t end = now_ns() + (int64_t)(seconds * 1e9);
            while (now_ns() < end) {
                size_t got = read_file(cache_path, &rbuf, &rcap);
                int ok = (got == pa->size && memcmp(rbuf, pa->bytes, got) == 0) ||
                         (got == pb->size && memcmp(rbuf, pb->bytes, got) == 0);
                reads++;
                if (!ok) bad++;
            }
            emit("reads %ld bad %ld", reads, bad);
            flush_line();
        } else if (strcmp(cmd, "writeloop") == 0) { /* writeloop A B: until a line arrives */
            struct payload *pa = load(a1), *pb = load(a2);
            long writes = 0;
            while (!stdin_has_line()) refresh((writes++ & 1) ? pb : pa);
            if (!fgets(line, sizeof line, stdin)) return 0;
            emit("writes %ld", writes);
            flush_line();
        } else if (strcmp(cmd, "hash") == 0) {      /* hash PAYLOAD N: C XXH64, ns per pass */
            struct payload *p = load(a1);
            long n = atol(a2);
            volatile uint64_t sink = 0;
            emit("ok");
            for (long i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                sink += xxh64(p->bytes, p->size);
                emit(" %lld", (long long)(now_ns() - t0));
            }
            (void)sink;
            flush_line();
        } else if (strcmp(cmd, "xxh64") == 0) {     /* xxh64 PAYLOAD: the digest, for a cross-check */
            struct payload *p = load(a1);
            emit("%016llx", (unsigned long long)xxh64(p->bytes, p->size));
            flush_line();
        } else if (strcmp(cmd, "ping") == 0) {
            emit("pong %d", (int)getpid());
            flush_line();
        } else if (strcmp(cmd, "quit") == 0 || cmd[0] == 0) {
            break;
        } else {
            fprintf(stderr, "floor: unknown command '%s'\n", cmd);
            return 64;
        }
    }
    return 0;
}
