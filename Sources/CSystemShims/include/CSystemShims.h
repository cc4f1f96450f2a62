// Thin C shims for the few system calls Swift's Glibc/Darwin modules do not expose
// cleanly: statfs (its header is not in the Glibc module map), flock (the function
// is shadowed by `struct flock` in Swift), the real-time signal range (SIGRTMAX
// is a function-like macro), and naming a thread (a GNU extension on Linux).
// Nothing here adds behaviour; each shim is one call.
#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H

#include <stdint.h>

#include "CSystemAtomicCell.h"

/// flock(2). Returns 0 or -1 with errno set.
int csystem_flock(int fd, int operation);

/// The filesystem type of `path`: Linux f_type magic from statfs(2), written to
/// *magic. On Darwin, the f_fstypename is copied into `name` (NUL-terminated) and
/// *magic is 0. Returns 0 or -1 with errno set.
int csystem_statfs_type(const char *path, uint64_t *magic, char *name, int name_capacity);

/// csystem_statfs_type for an open descriptor (fstatfs(2)).
int csystem_fstatfs_type(int fd, uint64_t *magic, char *name, int name_capacity);

/// The highest real-time signal number, or -1 where there are none.
int csystem_sigrtmax(void);

/// Linux pipe2(fds, O_CLOEXEC [| O_NONBLOCK]): both ends close-on-exec from the
/// start (pipe2 is a GNU extension the Glibc module does not expose). Returns 0
/// or -1 with errno set; -1 with ENOSYS where there is no pipe2.
int csystem_pipe_cloexec(int fds[2], int nonblocking);

/// posix_spawn_file_actions_addclosefrom_np(actions, lowfd) where glibc has it
/// (2.34+): the child closes every descriptor >= lowfd after the other actions,
/// so a descriptor opened without O_CLOEXEC anywhere in the parent (a library, a
/// test running concurrently) never leaks into it. Returns 0, or ENOSYS where the
/// call does not exist (the caller then relies on O_CLOEXEC alone).
int csystem_posix_spawn_addclosefrom(void *actions, int lowfd);
/// Names the calling thread (pthread_setname_np; at most 15 bytes shown on
/// Linux). Returns 0 or an error number.
int csystem_name_this_thread(const char *name);

#endif
