// syscall-strike: runs a program under ptrace, numbers the file system calls of
// ALL its threads (and child processes) in one global order, and can strike one
// of them: SIGKILL on entry (the call is never performed), an errno instead of the
// call, or "skip" (not performed, reports success: a writer that leaves a step
// out). It can also pause the program after each in-focus call until told to go
// on, so a test can copy a disk image at that instant.
//
// Test-only machinery for IntegrationTests/CrashAndFault (not a product: no host
// ever builds or links it). Why not strace: strace's `inject=...:when=N` counts
// per thread, and a refresh does its file I/O on several threads (config read,
// first cache read, lock + holder record + sweep, commit + unlock), so a strike
// numbered per thread lands on the wrong call or never reaches some calls.
//
//   syscall-strike [--focus DIR] [--log FILE] [--pause]
//                  [--strike NAME --path GLOB --occurrence N|all [--times M] --action ACTION]...
//                  [--stdout FILE] [--stderr FILE] -- PROGRAM [ARG...]
//
// A call is a *file* call when its decoder below knows a path or descriptor
// argument; it is *in focus* when one of its paths (relative paths and
// descriptors resolved through /proc at entry, *at calls through their directory
// descriptor) is DIR or beneath it. In-focus calls are numbered 1, 2, ... in the
// order the tracer sees their entries, whatever thread or process makes them:
// every thread stops at every entry until the tracer lets it go, so the order is
// one total order.
//
// A strike hits the Nth in-focus call named NAME (`rename` matches rename,
// renameat and renameat2; `open` matches open and openat; `stat` the stat family)
// one of whose paths matches GLOB (fnmatch), counted in that global order, and
// the M-1 such calls after it with --times M (an EINTR storm: the retries of an
// interrupted call are such calls), or every such call with `all`. ACTION: kill |
// skip | an errno name (ENOSPC, EIO, EINTR, EXDEV, EACCES, EROFS, EPERM, ...).
// Up to four strikes; each --strike starts one. Each counts the calls it
// matches; when several would act on one call, the first given acts.
//
// Output: --log gets one tab-separated line per file call at its exit:
//   seq focus tid name path1 path2 detail result
// (focus 0 = not in focus; detail is flags=0x.. for opens, op=N for flock and
// fcntl, atflags=0x.. for newfstatat and statx, - otherwise; result is the
// return value, `-ENAME` for an error, suffixed ` (struck)` when injected,
// `killed` when the process died in it).
// Standard output gets `PAUSE <same fields>` lines with --pause (the tracer then
// reads one line from standard input before letting the call return; end of
// input stops pausing), `STRUCK <fields> <action>` for each struck call, and a
// last line `END exit N` or `END signal N` (`MISSED` before it if fewer calls
// than asked for were struck). The tracer exits as the program did (status N, or
// killed by the same signal). The program's standard input is /dev/null.
//
// Exit 69 with a reason when ptrace is not permitted (containers often forbid it).

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))

#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PATH_TEXT 4096

// MARK: decoding

// One character per argument: 'f' a descriptor, 'p' a path (relative to the
// working directory, or to the directory descriptor of a preceding 'd'),
// 'd' a directory descriptor for the next 'p', '-' anything else.
struct decoder {
    long nr;
    const char *name;
    const char *args;
};

static const struct decoder decoders[] = {
#ifdef SYS_open
    {SYS_open, "open", "p"},
#endif
#ifdef SYS_creat
    {SYS_creat, "creat", "p"},
#endif
    {SYS_openat, "openat", "dp"},
#ifdef SYS_openat2
    {SYS_openat2, "openat2", "dp"},
#endif
#ifdef SYS_stat
    {SYS_stat, "stat", "p"},
#endif
#ifdef SYS_lstat
    {SYS_lstat, "lstat", "p"},
#endif
    {SYS_newfstatat, "newfstatat", "dp"},
    {SYS_statx, "statx", "dp"},
    {SYS_fstat, "fstat", "f"},
    {SYS_statfs, "statfs", "p"},
    {SYS_fstatfs, "fstatfs", "f"},
#ifdef SYS_access
    {SYS_access, "access", "p"},
#endif
    {SYS_faccessat, "faccessat", "dp"},
#ifdef SYS_faccessat2
    {SYS_faccessat2, "faccessat2", "dp"},
#endif
#ifdef SYS_mkdir
    {SYS_mkdir, "mkdir", "p"},
#endif
    {SYS_mkdirat, "mkdirat", "dp"},
#ifdef SYS_rmdir
    {SYS_rmdir, "rmdir", "p"},
#endif
#ifdef SYS_unlink
    {SYS_unlink, "unlink", "p"},
#endif
    {SYS_unlinkat, "unlinkat", "dp"},
#ifdef SYS_rename
    {SYS_rename, "rename", "pp"},
#endif
#ifdef SYS_renameat
    {SYS_renameat, "renameat", "dpdp"},
#endif
    {SYS_renameat2, "renameat2", "dpdp"},
#ifdef SYS_link
    {SYS_link, "link", "pp"},
#endif
    {SYS_linkat, "linkat", "dpdp"},
#ifdef SYS_symlink
    {SYS_symlink, "symlink", "-p"},
#endif
    {SYS_symlinkat, "symlinkat", "-dp"},
#ifdef SYS_readlink
    {SYS_readlink, "readlink", "p"},
#endif
    {SYS_readlinkat, "readlinkat", "dp"},
#ifdef SYS_chmod
    {SYS_chmod, "chmod", "p"},
#endif
    {SYS_fchmodat, "fchmodat", "dp"},
    {SYS_fchmod, "fchmod", "f"},
#ifdef SYS_chown
    {SYS_chown, "chown", "p"},
#endif
    {SYS_fchownat, "fchownat", "dp"},
    {SYS_fchown, "fchown", "f"},
    {SYS_truncate, "truncate", "p"},
    {SYS_ftruncate, "ftruncate", "f"},
    {SYS_fallocate, "fallocate", "f"},
    {SYS_utimensat, "utimensat", "dp"},
    {SYS_read, "read", "f"},
    {SYS_pread64, "pread64", "f"},
    {SYS_readv, "readv", "f"},
    {SYS_preadv, "preadv", "f"},
    {SYS_preadv2, "preadv2", "f"},
    {SYS_write, "write", "f"},
    {SYS_pwrite64, "pwrite64", "f"},
    {SYS_writev, "writev", "f"},
    {SYS_pwritev, "pwritev", "f"},
    {SYS_pwritev2, "pwritev2", "f"},
    {SYS_copy_file_range, "copy_file_range", "f-f"},
    {SYS_sendfile, "sendfile", "ff"},
    {SYS_lseek, "lseek", "f"},
    {SYS_fsync, "fsync", "f"},
    {SYS_fdatasync, "fdatasync", "f"},
    {SYS_sync_file_range, "sync_file_range", "f"},
    {SYS_syncfs, "syncfs", "f"},
    {SYS_close, "close", "f"},
    {SYS_flock, "flock", "f"},
    {SYS_fcntl, "fcntl", "f"},
    {SYS_ioctl, "ioctl", "f"},
    {SYS_getdents64, "getdents64", "f"},
    {SYS_fadvise64, "fadvise64", "f"},
    {SYS_dup, "dup", "f"},
    {SYS_dup3, "dup3", "f"},
#ifdef SYS_dup2
    {SYS_dup2, "dup2", "f"},
#endif
    {SYS_inotify_add_watch, "inotify_add_watch", "-p"},
    {SYS_getxattr, "getxattr", "p"},
    {SYS_lgetxattr, "lgetxattr", "p"},
    {SYS_fgetxattr, "fgetxattr", "f"},
    {SYS_setxattr, "setxattr", "p"},
    {SYS_lsetxattr, "lsetxattr", "p"},
    {SYS_fsetxattr, "fsetxattr", "f"},
    {SYS_chdir, "chdir", "p"},
    {SYS_fchdir, "fchdir", "f"},
};

static const struct decoder *decoder_for(long nr) {
    for (size_t i = 0; i < sizeof decoders / sizeof decoders[0]; i++)
        if (decoders[i].nr == nr) return &decoders[i];
    return NULL;
}

// Whether a decoded name answers to the name a strike asks for: families share
// one name, so a strike survives the library moving from path calls to *at calls.
static int name_matches(const char *wanted, const char *name) {
    if (strcmp(wanted, name) == 0) return 1;
    if (strcmp(wanted, "rename") == 0) return strncmp(name, "rename", 6) == 0;
    if (strcmp(wanted, "open") == 0) return strcmp(name, "openat") == 0 || strcmp(name, "openat2") == 0 || strcmp(name, "creat") == 0;
    if (strcmp(wanted, "unlink") == 0) return strcmp(name, "unlinkat") == 0 || strcmp(name, "rmdir") == 0;
    if (strcmp(wanted, "stat") == 0)
        return strcmp(name, "lstat") == 0 || strcmp(name, "newfstatat") == 0 || strcmp(name, "statx") == 0 || strcmp(name, "fstat") == 0;
    if (strcmp(wanted, "mkdir") == 0) return strcmp(name, "mkdirat") == 0;
    if (strcmp(wanted, "link") == 0) return strcmp(name, "linkat") == 0;
    return 0;
}

static const struct {
    const char *name;
    int value;
} errnos[] = {
    {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EINTR", EINTR}, {"EXDEV", EXDEV}, {"EACCES", EACCES},
    {"EROFS", EROFS}, {"EPERM", EPERM}, {"EBUSY", EBUSY}, {"ENOENT", ENOENT}, {"EDQUOT", EDQUOT},
    {"EAGAIN", EAGAIN}, {"EEXIST", EEXIST}, {"ENOTDIR", ENOTDIR}, {"EISDIR", EISDIR}, {"EBADF", EBADF},
    {"EINVAL", EINVAL}, {"ENOLCK", ENOLCK}, {"ENOSYS", ENOSYS}, {"ELOOP", ELOOP}, {"ENOTEMPTY", ENOTEMPTY},
    {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM}, {"ESPIPE", ESPIPE}, {"EOPNOTSUPP", EOPNOTSUPP},
};

static const char *errno_name(int value) {
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].value == value) return errnos[i].name;
    return NULL;
}

static int errno_value(const char *name) {
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (strcmp(errnos[i].name, name) == 0) return errnos[i].value;
    return 0;
}

// MARK: registers (the only architecture-specific part)

// Makes the call at this entry stop a non-call: the kernel skips syscall -1 and
// the exit stop still comes, where its result is set.
static int cancel_call(pid_t tid) {
#if defined(__x86_64__)
    return ptrace(PTRACE_POKEUSER, tid, (void *)offsetof(struct user_regs_struct, orig_rax), (void *)-1L) == -1 ? -1 : 0;
#else
    int nr = -1;
    struct iovec iov = {.iov_base = &nr, .iov_len = sizeof nr};
    return ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &iov) == -1 ? -1 : 0;
#endif
}

static int set_result(pid_t tid, long value) {
#if defined(__x86_64__)
    return ptrace(PTRACE_POKEUSER, tid, (void *)offsetof(struct user_regs_struct, rax), (void *)value) == -1 ? -1 : 0;
#else
    struct user_regs_struct regs;
    struct iovec iov = {.iov_base = &regs, .iov_len = sizeof regs};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) == -1) return -1;
    regs.regs[0] = (unsigned long long)value;
    return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) == -1 ? -1 : 0;
#endif
}

// MARK: threads

enum injection { INJECT_NONE, INJECT_ERRNO, INJECT_SKIP };

struct thread {
    pid_t tid;
    int started;      // 0 until its first stop: the auto-attach SIGSTOP is swallowed
    int in_call;      // between an entry stop and its exit stop
    int in_focus;
    unsigned long seq, focus;
    const struct decoder *decoder;
    char path[2][MAX_PATH_TEXT];
    char detail[64];
    enum injection injection;
    int injected_errno;
};

static struct thread *threads;
static size_t thread_count, thread_capacity;

static struct thread *thread_for(pid_t tid) {
    for (size_t i = 0; i < thread_count; i++)
        if (threads[i].tid == tid) return &threads[i];
    if (thread_count == thread_capacity) {
        thread_capacity = thread_capacity ? thread_capacity * 2 : 16;
        threads = realloc(threads, thread_capacity * sizeof *threads);
        if (!threads) { perror("syscall-strike: realloc"); exit(70); }
    }
    struct thread *t = &threads[thread_count++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    return t;
}

static void forget_thread(pid_t tid) {
    for (size_t i = 0; i < thread_count; i++)
        if (threads[i].tid == tid) { threads[i] = threads[--thread_count]; return; }
}

// MARK: paths

// Reads a NUL-terminated string from the tracee (page by page through
// /proc/TID/mem, so a string ending just before an unmapped page still reads).
static int read_string(pid_t tid, unsigned long address, char *out, size_t size) {
    if (address == 0) return -1;
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/mem", tid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t used = 0;
    while (used + 1 < size) {
        size_t page_left = 4096 - ((address + used) & 4095);
        size_t want = size - 1 - used < page_left ? size - 1 - used : page_left;
        ssize_t n = pread(fd, out + used, want, (off_t)(address + used));
        if (n <= 0) break;
        void *nul = memchr(out + used, '\0', (size_t)n);
        if (nul) { close(fd); return 0; }
        used += (size_t)n;
    }
    out[used] = '\0';
    close(fd);
    return used > 0 ? 0 : -1;
}

static void link_target(pid_t tid, const char *what, char *out, size_t size) {
    char link[96];
    snprintf(link, sizeof link, "/proc/%d/%s", tid, what);
    ssize_t n = readlink(link, out, size - 1);
    if (n < 0) { snprintf(out, size, "?%s", what); return; }
    out[n] = '\0';
}

static void fd_path(pid_t tid, long fd, char *out, size_t size) {
    char what[32];
    snprintf(what, sizeof what, "fd/%ld", fd);
    link_target(tid, what, out, size);
}

// Lexically tidies an absolute path in place: no `//`, no `/./`, no trailing
// `/` (what /proc reports for descriptors is already in this form; symbolic
// links are not followed).
static void tidy(char *path) {
    char *out = path;
    for (const char *in = path; *in;) {
        if (in[0] == '/' && (in[1] == '/' || (in[1] == '.' && (in[2] == '/' || in[2] == '\0')))) {
            in += in[1] == '/' ? 1 : 2;
            continue;
        }
        *out++ = *in++;
    }
    if (out > path + 1 && out[-1] == '/') out--;
    *out = '\0';
}

// An absolute path for a path argument, resolved against the working directory
// or the directory descriptor (an empty path names the descriptor itself).
static void resolve(pid_t tid, long dirfd, int has_dirfd, unsigned long address, char *out, size_t size) {
    char given[MAX_PATH_TEXT];
    if (read_string(tid, address, given, sizeof given) != 0) given[0] = '\0';
    if (given[0] == '/') {
        snprintf(out, size, "%s", given);
    } else {
        char base[MAX_PATH_TEXT];
        if (has_dirfd && (int)dirfd != AT_FDCWD) fd_path(tid, (int)dirfd, base, sizeof base);
        else link_target(tid, "cwd", base, sizeof base);
        if (given[0] == '\0') snprintf(out, size, "%s", base);
        else snprintf(out, size, "%s/%s", strcmp(base, "/") == 0 ? "" : base, given);
    }
    tidy(out);
}

static const char *focus_dir;
static size_t focus_length;

static int under_focus(const char *path) {
    if (!focus_dir || !path[0]) return 0;
    return strncmp(path, focus_dir, focus_length) == 0 && (path[focus_length] == '\0' || path[focus_length] == '/');
}

// MARK: the strike

struct strike {
    const char *name, *glob;
    long occurrence;  // the first matching call struck
    long times;       // how many consecutive matching calls; 0: all
    const char *action;
    long seen;        // matching calls so far
    long fired;       // calls struck so far
};

#define MAX_STRIKES 4
static struct strike strikes[MAX_STRIKES];
static int strike_count;

static int strike_matches(const struct strike *s, const struct thread *t) {
    if (!t->in_focus || !name_matches(s->name, t->decoder->name)) return 0;
    for (int i = 0; i < 2; i++)
        if (t->path[i][0] && fnmatch(s->glob, t->path[i], 0) == 0) return 1;
    return 0;
}

// MARK: output

static FILE *log_file;
static int pausing;

static void describe(FILE *out, const struct thread *t, const char *result) {
    fprintf(out, "%lu\t%lu\t%d\t%s\t%s\t%s\t%s\t%s", t->seq, t->focus, t->tid, t->decoder->name,
            t->path[0][0] ? t->path[0] : "-", t->path[1][0] ? t->path[1] : "-", t->detail[0] ? t->detail : "-", result);
}

static void format_result(long value, int struck, char *out, size_t size) {
    const char *suffix = struck ? " (struck)" : "";
    if (value < 0 && value > -4096) {
        const char *name = errno_name((int)-value);
        if (name) snprintf(out, size, "-%s%s", name, suffix);
        else snprintf(out, size, "-%ld%s", -value, suffix);
    } else {
        snprintf(out, size, "%ld%s", value, suffix);
    }
}

// MARK: stops

static unsigned long next_seq, next_focus;

static void on_entry(struct thread *t, const struct __ptrace_syscall_info *info) {
    t->in_call = 1;
    t->decoder = decoder_for((long)info->entry.nr);
    t->injection = INJECT_NONE;
    if (!t->decoder) return;
    t->path[0][0] = t->path[1][0] = t->detail[0] = '\0';
    int slot = 0;
    long dirfd = AT_FDCWD;
    int has_dirfd = 0;
    for (int i = 0; t->decoder->args[i] && i < 6; i++) {
        long arg = (long)info->entry.args[i];
        switch (t->decoder->args[i]) {
        case 'd': dirfd = arg; has_dirfd = 1; break;
        case 'p':
            if (slot < 2) resolve(t->tid, dirfd, has_dirfd, (unsigned long)arg, t->path[slot++], MAX_PATH_TEXT);
            has_dirfd = 0;
            break;
        case 'f':
            if (slot < 2 && (int)arg >= 0) fd_path(t->tid, (int)arg, t->path[slot++], MAX_PATH_TEXT);
            break;
        default: break;
        }
    }
    const char *name = t->decoder->name;
    if (strncmp(name, "open", 4) == 0)
        snprintf(t->detail, sizeof t->detail, "flags=0x%llx", (unsigned long long)info->entry.args[strcmp(name, "open") == 0 ? 1 : 2]);
    else if (strcmp(name, "flock") == 0 || strcmp(name, "fcntl") == 0)
        snprintf(t->detail, sizeof t->detail, "op=%lld", (long long)info->entry.args[1]);
    else if (strcmp(name, "newfstatat") == 0 || strcmp(name, "statx") == 0)  // AT_EMPTY_PATH: a descriptor stat
        snprintf(t->detail, sizeof t->detail, "atflags=0x%llx", (unsigned long long)info->entry.args[strcmp(name, "statx") == 0 ? 2 : 3]);
    t->seq = ++next_seq;
    t->in_focus = under_focus(t->path[0]) || under_focus(t->path[1]);
    t->focus = t->in_focus ? ++next_focus : 0;

    // Every strike counts the calls it matches; the first whose turn it is acts.
    int acted = 0;
    for (int k = 0; k < strike_count; k++) {
        struct strike *s = &strikes[k];
        if (!strike_matches(s, t)) continue;
        s->seen++;
        if (!acted && s->seen >= s->occurrence && (s->times == 0 || s->seen < s->occurrence + s->times)) {
            acted = 1;
            s->fired++;
            const char *strike_action = s->action;
            printf("STRUCK\t");
            describe(stdout, t, "-");
            printf("\t%s\n", strike_action);
            fflush(stdout);
            if (strcmp(strike_action, "kill") == 0) {
                // Never performed: cancelled first, then the whole process dies
                // (SIGKILL to one thread kills its thread group) before the call
                // can run; the kernel also aborts a call whose task has a fatal
                // signal pending at the entry stop.
                cancel_call(t->tid);
                if (log_file) { describe(log_file, t, "killed (struck)"); fputc('\n', log_file); fflush(log_file); }
                kill(t->tid, SIGKILL);
                t->decoder = NULL;  // logged: its death inside the call is not logged again
                return;
            }
            cancel_call(t->tid);
            if (strcmp(strike_action, "skip") == 0) {
                t->injection = INJECT_SKIP;
            } else {
                t->injection = INJECT_ERRNO;
                t->injected_errno = errno_value(strike_action);
            }
        }
    }
}

static void on_exit_stop(struct thread *t, const struct __ptrace_syscall_info *info) {
    t->in_call = 0;
    if (!t->decoder) return;
    long value = (long)info->exit.rval;
    int struck = 0;
    if (t->injection == INJECT_ERRNO) { value = -t->injected_errno; struck = 1; }
    if (t->injection == INJECT_SKIP) { value = 0; struck = 1; }
    if (struck) set_result(t->tid, value);
    t->injection = INJECT_NONE;
    char result[64];
    format_result(value, struck, result, sizeof result);
    if (log_file) { describe(log_file, t, result); fputc('\n', log_file); fflush(log_file); }
    if (pausing && t->in_focus) {
        printf("PAUSE\t");
        describe(stdout, t, result);
        printf("\n");
        fflush(stdout);
        char line[64];
        if (!fgets(line, sizeof line, stdin)) pausing = 0;  // no one listens any more: run freely
    }
}

static void usage(void) {
    fprintf(stderr,
            "usage: syscall-strike [--focus DIR] [--log FILE] [--pause]\n"
            "                      [--strike NAME --path GLOB --occurrence N|all [--times M] --action kill|skip|ERRNO]\n"
            "                      [--stdout FILE] [--stderr FILE] -- PROGRAM [ARG...]\n");
    exit(64);
}

int main(int argc, char **argv) {
    const char *log_path = NULL, *stdout_path = NULL, *stderr_path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "--pause") == 0) { pausing = 1; continue; }
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (strcmp(a, "--focus") == 0) focus_dir = v;
        else if (strcmp(a, "--log") == 0) log_path = v;
        else if (strcmp(a, "--strike") == 0) {
            // Each --strike starts a strike; the options after it describe it.
            if (strike_count == MAX_STRIKES) usage();
            strikes[strike_count++] = (struct strike){.name = v, .glob = "*", .occurrence = 1, .times = 1};
        } else if (strike_count == 0 && (strcmp(a, "--path") == 0 || strcmp(a, "--occurrence") == 0 ||
                                          strcmp(a, "--times") == 0 || strcmp(a, "--action") == 0)) {
            usage();
        } else if (strcmp(a, "--path") == 0) strikes[strike_count - 1].glob = v;
        else if (strcmp(a, "--occurrence") == 0) {
            struct strike *s = &strikes[strike_count - 1];
            if (strcmp(v, "all") == 0) s->occurrence = 1, s->times = 0;
            else s->occurrence = strtol(v, NULL, 10);
        } else if (strcmp(a, "--times") == 0) strikes[strike_count - 1].times = strtol(v, NULL, 10);
        else if (strcmp(a, "--action") == 0) strikes[strike_count - 1].action = v;
        else if (strcmp(a, "--stdout") == 0) stdout_path = v;
        else if (strcmp(a, "--stderr") == 0) stderr_path = v;
        else usage();
    }
    if (i >= argc) usage();
    for (int k = 0; k < strike_count; k++) {
        const struct strike *s = &strikes[k];
        if (!s->action || s->occurrence < 1 || s->times < 0) usage();
        if (strcmp(s->action, "kill") != 0 && strcmp(s->action, "skip") != 0 && !errno_value(s->action)) {
            fprintf(stderr, "syscall-strike: unknown action '%s'\n", s->action);
            return 64;
        }
    }
    if (focus_dir) {
        // The focus as /proc names it: descriptors resolve to real paths.
        static char real[MAX_PATH_TEXT];
        if (realpath(focus_dir, real)) focus_dir = real;
        else { snprintf(real, sizeof real, "%s", focus_dir); tidy(real); focus_dir = real; }
        focus_length = strlen(focus_dir);
    }
    if (log_path && !(log_file = fopen(log_path, "we"))) { perror(log_path); return 73; }

    // The child reports a failed PTRACE_TRACEME or exec through this pipe.
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) { perror("pipe2"); return 71; }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 71; }
    if (child == 0) {
        close(report[0]);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0) { dup2(in, 0); close(in); }
        if (stdout_path) { int o = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600); if (o >= 0) { dup2(o, 1); close(o); } }
        if (stderr_path) { int e = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600); if (e >= 0) { dup2(e, 2); close(e); } }
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
            int e = errno;
            (void)!write(report[1], &e, sizeof e);
            _exit(69);
        }
        raise(SIGSTOP);
        execvp(argv[i], &argv[i]);
        int e = errno;
        (void)!write(report[1], &e, sizeof e);
        _exit(127);
    }
    close(report[1]);

    int status;
    if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
        int e = 0;
        if (read(report[0], &e, sizeof e) == (ssize_t)sizeof e)
            fprintf(stderr, "syscall-strike: ptrace not permitted here: PTRACE_TRACEME: %s\n", strerror(e));
        else
            fprintf(stderr, "syscall-strike: the child did not stop for tracing\n");
        return 69;
    }
    long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                   PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)options) != 0) {
        fprintf(stderr, "syscall-strike: ptrace not permitted here: PTRACE_SETOPTIONS: %s\n", strerror(errno));
        kill(child, SIGKILL);
        return 69;
    }
    thread_for(child)->started = 1;
    ptrace(PTRACE_SYSCALL, child, NULL, NULL);

    int child_status = 0, child_done = 0;
    for (;;) {
        pid_t tid = waitpid(-1, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: every tracee is gone
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            struct thread *t = thread_for(tid);
            if (t->in_call && t->decoder && log_file) {
                // The thread died inside this call (killed while blocked in it).
                describe(log_file, t, "killed");
                fputc('\n', log_file);
                fflush(log_file);
            }
            forget_thread(tid);
            if (tid == child) { child_status = status; child_done = 1; }
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        struct thread *t = thread_for(tid);
        int sig = WSTOPSIG(status);
        int inject = 0;
        if (sig == (SIGTRAP | 0x80)) {
            t->started = 1;
            struct __ptrace_syscall_info info;
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof info, &info) > 0) {
                if (info.op == PTRACE_SYSCALL_INFO_ENTRY) on_entry(t, &info);
                else if (info.op == PTRACE_SYSCALL_INFO_EXIT) on_exit_stop(t, &info);
            }
        } else if (status >> 16) {
            t->started = 1;  // a ptrace event (clone, fork, exec): not a signal
            if ((status >> 16) == PTRACE_EVENT_EXEC) t->in_call = 0;
        } else if (!t->started && sig == SIGSTOP) {
            t->started = 1;  // the SIGSTOP every auto-attached thread starts with
        } else {
            t->started = 1;
            siginfo_t si;
            // A group-stop (no siginfo) is resumed without a signal.
            if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0) inject = sig;
        }
        ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)inject);
    }

    for (int k = 0; k < strike_count; k++) {
        const struct strike *s = &strikes[k];
        if (s->fired < s->times || (s->times == 0 && s->fired == 0))
            printf("MISSED\t%s\t%s\t%ld\t%ld of %ld struck\n", s->name, s->glob, s->occurrence, s->fired, s->times);
    }
    if (!child_done) { printf("END\tunknown\t0\n"); return 70; }
    if (WIFEXITED(child_status)) {
        printf("END\texit\t%d\n", WEXITSTATUS(child_status));
        fflush(stdout);
        return WEXITSTATUS(child_status);
    }
    int signal_number = WTERMSIG(child_status);
    printf("END\tsignal\t%d\n", signal_number);
    fflush(stdout);
    if (log_file) fclose(log_file);
    // Die the same way, so callers see the program's termination; signals that
    // would dump a core of the tracer end it with the shell's 128+N instead.
    if (signal_number == SIGKILL || signal_number == SIGTERM || signal_number == SIGINT || signal_number == SIGHUP) {
        signal(signal_number, SIG_DFL);
        kill(getpid(), signal_number);
    }
    return 128 + signal_number;
}

#else

#include <stdio.h>

int main(void) {
    fprintf(stderr, "syscall-strike: needs Linux ptrace syscall stops on x86_64 or aarch64\n");
    return 69;
}

#endif
