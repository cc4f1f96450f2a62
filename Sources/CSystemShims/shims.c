#if defined(__linux__)
#define _GNU_SOURCE  /* pipe2, pthread_setname_np */
#endif
#include <spawn.h>
#include "CSystemShims.h"

#include <pthread.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/vfs.h>
#else
#include <sys/mount.h>
#include <sys/param.h>
#endif

int csystem_flock(int fd, int operation) { return flock(fd, operation); }

static void csystem_statfs_result(const struct statfs *s, uint64_t *magic, char *name, int name_capacity);

int csystem_statfs_type(const char *path, uint64_t *magic, char *name, int name_capacity) {
    struct statfs s;
    if (statfs(path, &s) != 0) return -1;
    csystem_statfs_result(&s, magic, name, name_capacity);
    return 0;
}

int csystem_fstatfs_type(int fd, uint64_t *magic, char *name, int name_capacity) {
    struct statfs s;
    if (fstatfs(fd, &s) != 0) return -1;
    csystem_statfs_result(&s, magic, name, name_capacity);
    return 0;
}

static void csystem_statfs_result(const struct statfs *sp, uint64_t *magic, char *name, int name_capacity) {
    struct statfs s = *sp;
#if defined(__linux__)
    *magic = (uint64_t)(unsigned long)s.f_type;
    if (name_capacity > 0) name[0] = 0;
#else
    *magic = 0;
    if (name_capacity > 0) {
        strncpy(name, s.f_fstypename, (size_t)name_capacity - 1);
        name[name_capacity - 1] = 0;
    }
#endif
}

int csystem_sigrtmax(void) {
#if defined(SIGRTMAX)
    return SIGRTMAX;
#else
    return -1;
#endif
}

int csystem_pipe_cloexec(int fds[2], int nonblocking) {
#if defined(__linux__)
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
#else
    (void)fds;
    (void)nonblocking;
    errno = ENOSYS;
    return -1;
#endif
}

int csystem_posix_spawn_addclosefrom(void *actions, int lowfd) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowfd);
#else
    (void)actions;
    (void)lowfd;
    return ENOSYS;
#endif
}

int csystem_name_this_thread(const char *name) {
#if defined(__APPLE__)
    return pthread_setname_np(name);
#else
    return pthread_setname_np(pthread_self(), name);
#endif
}
