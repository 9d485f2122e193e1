/* guard.c - the worker's descriptors to the kernel, kept whatever a cell
 * does with its own.
 *
 * The request and event pipes of ipc.h arrive as 3 and 4; they move to
 * numbers from KEPT_BASE up, close-on-exec, so that a cell's first open()
 * gets 3 as in a program, and programs a cell starts do not inherit them.
 * Copies of 1 and 2 are kept the same way (a cell may close those: they
 * are its stdout and stderr). A cell that closes every descriptor
 * (close() in a loop, closefrom, close_range) or dup2()s over one of
 * these still reaches them: the sleeping snapshot, forked before the cell,
 * holds the same pipes at the same numbers, and /proc/SNAPSHOT/fd/N opens
 * them again. Each use checks the descriptor is still the pipe it was
 * (fstat: device and inode); everything here is async-signal-safe, for
 * crash.c's handler. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guard.h"
#include "ipc.h"
#include "log.h"

#define KEPT_BASE 200                  /* beyond what a cell's open()s reach in practice */

static struct {
    int fd;                            /* where it is now */
    int snap_fd;                       /* where the snapshot has it */
    int flags;                         /* O_RDONLY or O_WRONLY: how to open it again */
    dev_t dev;
    ino_t ino;
} kept[GUARD_KEPT] = { { -1, -1, 0, 0, 0 }, { -1, -1, 0, 0, 0 }, { -1, -1, 0, 0, 0 }, { -1, -1, 0, 0, 0 } };

static pid_t snapshot;

static int same_pipe(int fd, int which) {
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == kept[which].dev && st.st_ino == kept[which].ino;
}

/* Move FROM to a number from KEPT_BASE up, close-on-exec, and remember it
 * as WHICH. FROM stays open if COPY. */
static void keep(int from, int which, int flags, int copy) {
    struct stat st;
    int fd = fcntl(from, F_DUPFD_CLOEXEC, KEPT_BASE);
    if (fd < 0 || fstat(fd, &st) < 0) {
        log_warn("cannot keep descriptor %d: %m", from);
        fd = from;                     /* left where it is, unguarded */
        fstat(fd, &st);
    } else if (!copy) {
        close(from);
    }
    kept[which].fd = kept[which].snap_fd = fd;
    kept[which].flags = flags;
    kept[which].dev = st.st_dev;
    kept[which].ino = st.st_ino;
}

void guard_install(void) {
    keep(IPC_REQUEST_FD, GUARD_REQUESTS, O_RDONLY, 0);
    keep(IPC_EVENT_FD, GUARD_EVENTS, O_WRONLY, 0);
    keep(1, GUARD_STDOUT, O_WRONLY, 1);
    keep(2, GUARD_STDERR, O_WRONLY, 1);
    int rc = guard_filter_install(getppid());
    if (rc < 0) log_warn("no seccomp filter (%s): a cell can signal the kernel", strerror(-rc));
}

void guard_note_snapshot(pid_t pid) {
    snapshot = pid;
    for (int i = 0; i < GUARD_KEPT; i++) kept[i].snap_fd = kept[i].fd;
}

void guard_set_snapshot(pid_t pid) {
    guard_note_snapshot(pid);
    /* The snapshot leaves the worker's process group itself (forked by
     * clone, it is not the worker's child): until it has, a cell's
     * kill(0, sig) would reach it. It has long done so when a cell starts;
     * else this waits for it to be scheduled. */
    pid_t group = getpgrp();
    for (int i = 0; pid > 0 && getpgid(pid) == group; i++) usleep(i < 100 ? 20 : 1000);
}

/* "/proc/PID/fd/FD" into OUT, by hand: snprintf is not async-signal-safe. */
static void fd_path(char *out, pid_t pid, int fd) {
    static const char head[] = "/proc/";
    char digits[2][16];
    long v[2] = { pid, fd };
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        len[k] = 0;
        do digits[k][len[k]++] = (char)('0' + v[k] % 10); while ((v[k] /= 10) > 0);
    }
    size_t n = 0;
    memcpy(out, head, sizeof head - 1);
    n = sizeof head - 1;
    while (len[0]) out[n++] = digits[0][--len[0]];
    memcpy(out + n, "/fd/", 4);
    n += 4;
    while (len[1]) out[n++] = digits[1][--len[1]];
    out[n] = '\0';
}

/* Open WHICH again from the snapshot's copy; put it back at its number if
 * that is free (else the cell's descriptor is there: take another). */
static int reopen(int which) {
    if (snapshot <= 0 || kept[which].snap_fd < 0) return -1;
    char path[64];
    fd_path(path, snapshot, kept[which].snap_fd);
    int fd = open(path, kept[which].flags | O_CLOEXEC);
    if (fd < 0) return -1;
    if (!same_pipe(fd, which)) {       /* the snapshot is gone, its pid reused */
        close(fd);
        return -1;
    }
    int at = kept[which].fd;
    if (at != fd && fcntl(at, F_GETFD) < 0 && errno == EBADF && dup3(fd, at, O_CLOEXEC) == at) {
        close(fd);
        fd = at;
    } else if (fd < KEPT_BASE) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, KEPT_BASE);
        if (high >= 0) { close(fd); fd = high; }
    }
    kept[which].fd = fd;
    return fd;
}

int guard_fd(guard_kept which) {
    if (same_pipe(kept[which].fd, which)) return kept[which].fd;
    return reopen(which);
}

void guard_cut_off(int rc) {
    if (rc == -EBADF) {
        signal(SIGPIPE, SIG_DFL);
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        sigprocmask(SIG_UNBLOCK, &pipe_only, NULL);
        raise(SIGPIPE);
    }
    _exit(0);
}

int guard_recover(void) {
    int lost = 0;
    for (int i = 0; i < GUARD_KEPT; i++) lost += guard_fd((guard_kept)i) < 0;
    return lost ? -1 : 0;
}
