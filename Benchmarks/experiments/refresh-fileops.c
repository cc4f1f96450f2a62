/*
 * Experiment (not part of Benchmarks/run): what do MetadataCache's extra file
 * operations cost a durable refresh? The floor's refresh (flock, temp, write,
 * fsync, rename, fsync dir, unlock) with, interleaved round by round:
 *
 *   floor                 nothing else
 *   +lock-file record     pwrite(211 B) + ftruncate(211) after locking, ftruncate(0)
 *                         before unlocking (the holder record)
 *   +statvfs+header read  statvfs(dir), then open/fstat/pread(4 KiB)/close of the
 *                         current cache (free-space check, previous generation)
 *   +both
 *
 *   cc -O2 -o /tmp/refresh-fileops Benchmarks/experiments/refresh-fileops.c
 *   /tmp/refresh-fileops Benchmarks/.scratch/store 1048576 300
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}
static char record[211], *payload;
static size_t size;
static unsigned long counter;

static void refresh(const char *dir, int mode) {
    char lock[4200], cache[4200], temp[4300];
    snprintf(lock, sizeof lock, "%s/experiment.lock", dir);
    snprintf(cache, sizeof cache, "%s/experiment.json", dir);
    int l = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    flock(l, LOCK_EX);
    if (mode & 1) { pwrite(l, record, sizeof record, 0); ftruncate(l, sizeof record); }
    if (mode & 2) {
        struct statvfs sv;
        statvfs(dir, &sv);
        int h = open(cache, O_RDONLY | O_CLOEXEC);
        if (h >= 0) {
            char head[4096];
            struct stat st;
            fstat(h, &st);
            pread(h, head, sizeof head, 0);
            close(h);
        }
    }
    snprintf(temp, sizeof temp, "%s.tmp-%d-%lu", cache, (int)getpid(), ++counter);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, payload + off, size - off);
        if (n <= 0) { perror("write"); exit(1); }
        off += (size_t)n;
    }
    fsync(fd);
    close(fd);
    rename(temp, cache);
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fsync(d);
    close(d);
    if (mode & 1) ftruncate(l, 0);
    flock(l, LOCK_UN);
    close(l);
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s DIR PAYLOAD_BYTES ROUNDS\n", argv[0]); return 64; }
    const char *dir = argv[1];
    size = (size_t)atol(argv[2]);
    int n = atoi(argv[3]);
    payload = malloc(size);
    memset(payload, 'x', size);
    memset(record, 'r', sizeof record);
    long long *t[4];
    for (int m = 0; m < 4; m++) t[m] = calloc(n, sizeof **t);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            int m = (k + i) % 4;
            long long t0 = now();
            refresh(dir, m);
            t[m][i] = now() - t0;
        }
    const char *names[] = {"floor", "+lock-file record", "+statvfs+header read", "+both"};
    for (int m = 0; m < 4; m++) {
        qsort(t[m], n, sizeof **t, cmp);
        printf("%-21s median %8.1f us  p90 %8.1f us  (n=%d, %zu bytes)\n", names[m], t[m][n / 2] / 1e3,
               t[m][n * 9 / 10] / 1e3, n, size);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/experiment.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/experiment.lock", dir);
    unlink(path);
    return 0;
}
