/*
 * Experiment (not part of Benchmarks/run): how much do MetadataCache's holder-record
 * writes on the lock file add to a lock handover? Two processes hand an flock back
 * and forth; the file operations around the lock emulate the library's.
 *
 *   cc -O2 -o /tmp/handover-fileops Benchmarks/experiments/handover-fileops.c
 *   cd Benchmarks/.scratch/store && for m in bare mc keep-record fixed-slot slot-blank mmap-slot; do
 *       /tmp/handover-fileops $m ./experiment.lock 20000 200; done
 *
 * Modes (what happens right after acquiring / right before releasing):
 *   bare        nothing (the floor)
 *   mc          pwrite(record, 211 B) + ftruncate(211) / ftruncate(0)   -- the library today
 *   keep-record pwrite(record) + ftruncate(211)        / nothing
 *   fixed-slot  pwrite(record padded to 512 B)         / nothing
 *   slot-blank  pwrite(record padded to 1024 B)        / pwrite(1024 blanks)  -- the library since 791743b
 *   mmap-slot   memcpy into a MAP_SHARED mapping of the slot (mapped before waiting)
 *               / memcpy of blanks into it
 *
 * The holder releases DELAY_US after the waiter is seen blocked in flock (from
 * /proc/PID/syscall); handover = waiter's CLOCK_MONOTONIC after it acquired (and
 * wrote its record) minus the holder's just before its release step.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
static const char *mode;
static char record[1024], blanks[1024];
static char *slot;  /* mmap-slot: the mapping of the lock file's first 1024 bytes */

static void before_wait(int fd) {
    if (!strcmp(mode, "mmap-slot")) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size < (off_t)sizeof record) pwrite(fd, blanks, sizeof blanks, 0);
        slot = mmap(NULL, sizeof record, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (slot == MAP_FAILED) { perror("mmap"); exit(1); }
    }
}
static void after_acquire(int fd) {
    if (!strcmp(mode, "mc") || !strcmp(mode, "keep-record")) {
        pwrite(fd, record, 211, 0);
        ftruncate(fd, 211);
    } else if (!strcmp(mode, "fixed-slot")) {
        pwrite(fd, record, 512, 0);
    } else if (!strcmp(mode, "slot-blank")) {
        pwrite(fd, record, sizeof record, 0);
    } else if (!strcmp(mode, "mmap-slot")) {
        memcpy(slot, record, sizeof record);
    }
}
static void before_release(int fd) {
    if (!strcmp(mode, "mc")) ftruncate(fd, 0);
    else if (!strcmp(mode, "slot-blank")) pwrite(fd, blanks, sizeof blanks, 0);
    else if (!strcmp(mode, "mmap-slot")) memcpy(slot, blanks, sizeof blanks);
}
static void after_close(void) {
    if (slot) { munmap(slot, sizeof record); slot = NULL; }
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s bare|mc|keep-record|fixed-slot|slot-blank|mmap-slot LOCKPATH DELAY_US TRIALS\n", argv[0]); return 64; }
    mode = argv[1];
    const char *path = argv[2];
    int delay = atoi(argv[3]), n = atoi(argv[4]);
    memset(record, ' ', sizeof record);
    memset(blanks, ' ', sizeof blanks);
    blanks[sizeof blanks - 1] = '\n';
    record[0] = '{'; record[1] = '}'; record[sizeof record - 1] = '\n';
    int go[2], back[2];
    if (pipe(go) || pipe(back)) return 1;
    long long *res = calloc(n, sizeof *res);
    pid_t pid = fork();
    if (pid == 0) {  /* the waiter */
        for (int i = 0; i < n; i++) {
            char c;
            if (read(go[0], &c, 1) != 1) _exit(1);
            int fd = open(path, O_RDWR | O_CREAT, 0600);
            before_wait(fd);
            if (write(back[1], "w", 1) != 1) _exit(1);
            flock(fd, LOCK_EX);
            after_acquire(fd);
            long long t = now();
            before_release(fd);
            flock(fd, LOCK_UN);
            close(fd);
            after_close();
            if (write(back[1], &t, sizeof t) != sizeof t) _exit(1);
        }
        _exit(0);
    }
    for (int i = 0; i < n; i++) {  /* the holder */
        int fd = open(path, O_RDWR | O_CREAT, 0600);
        before_wait(fd);
        flock(fd, LOCK_EX);
        after_acquire(fd);
        char c, buf[256], sp[64];
        if (write(go[1], "g", 1) != 1 || read(back[0], &c, 1) != 1) return 1;
        snprintf(sp, sizeof sp, "/proc/%d/syscall", pid);
        for (;;) {  /* until the waiter sleeps in flock (syscall 73 on x86_64) */
            int f = open(sp, O_RDONLY);
            ssize_t k = read(f, buf, sizeof buf - 1);
            close(f);
            buf[k > 0 ? k : 0] = 0;
            if (buf[0] != 'r' && atoi(buf) == 73) break;
            usleep(100);
        }
        usleep(delay);
        long long t = now();
        before_release(fd);
        flock(fd, LOCK_UN);
        close(fd);
        after_close();
        long long acquired;
        if (read(back[0], &acquired, sizeof acquired) != sizeof acquired) return 1;
        res[i] = acquired - t;
    }
    waitpid(pid, 0, 0);
    qsort(res, n, sizeof *res, cmp);
    printf("%-11s release %6d us after the waiter blocked: handover median %6.1f us, p90 %6.1f us, max %7.1f us (n=%d)\n",
           mode, delay, res[n / 2] / 1e3, res[n * 9 / 10] / 1e3, res[n - 1] / 1e3, n);
    return 0;
}
