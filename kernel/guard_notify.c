/* guard_notify.c - the kernel's half of the worker's seccomp filter: it
 * answers, for each pidfd_send_signal a cell (or a program it started)
 * makes, whether the call may go on.
 *
 * The filter (worker/guard_filter.c) refuses what it can judge from
 * numbers. pidfd_send_signal names its process by a descriptor: a pidfd,
 * or a descriptor of a /proc/PID directory, which a filter cannot look
 * into. So the filter hands that call to us (SECCOMP_RET_USER_NOTIF): we
 * take a copy of the caller's descriptor (pidfd_getfd, as the caller's
 * ancestor), and refuse with EPERM when it is this process or one of its
 * threads; anything else goes on as asked. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "channels.h"
#include "guard_notify.h"
#include "log.h"

static int listener = -1;

/* Is ST the /proc directory of this process or of one of its threads? */
static int our_proc_dir(const struct stat *st) {
    char path[64];
    struct stat ours;
    snprintf(path, sizeof path, "/proc/%d", (int)getpid());
    if (stat(path, &ours) == 0 && ours.st_dev == st->st_dev && ours.st_ino == st->st_ino) return 1;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int hit = 0;
    while (d && !hit && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%.20s", e->d_name);
        hit = stat(path, &ours) == 0 && ours.st_dev == st->st_dev && ours.st_ino == st->st_ino;
    }
    if (d) closedir(d);
    return hit;
}

/* Is FD (ours now) a pidfd of this process or one of its threads? */
static int our_pidfd(int fd) {
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    int pid = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Pid: %d", &pid) == 1) break;
    if (f) fclose(f);
    if (pid <= 0) return 0;
    snprintf(path, sizeof path, "/proc/self/task/%d", pid);
    return pid == getpid() || access(path, F_OK) == 0;
}

/* Does descriptor FD of process PID name this process? */
static int aims_at_us(pid_t pid, int fd) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return 0;
    int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    close(pidfd);
    if (copy < 0) return 0;                 /* not a descriptor: the call fails by itself */
    struct stat st;
    int hit = fstat(copy, &st) == 0 && (S_ISDIR(st.st_mode) ? our_proc_dir(&st) : our_pidfd(copy));
    close(copy);
    return hit;
}

static void on_notification(int fd, void *ud) {
    (void)ud;
    /* RECV blocks until a notification comes: take one only when one is
     * there now (a readiness seen for an earlier listener at this number,
     * or the hang-up of a filter nobody uses any more, is none) */
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) guard_notify_drop();
        return;
    }
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return;   /* the caller died meanwhile */
    struct seccomp_notif_resp resp = { .id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
    if (aims_at_us((pid_t)req.pid, (int)req.data.args[0])) {
        resp.flags = 0;
        resp.error = -EPERM;
        log_info("refused a signal to the kernel from process %d", (int)req.pid);
    }
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
        log_warn("seccomp notification: %m");
}

/* The worker's listener: the descriptor whose link reads "anon_inode:seccomp notify". */
static int find_listener(pid_t worker) {
    char dir[64], path[320], link[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)worker);
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = -1;
    while (d && found < 0 && (e = readdir(d))) {
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0 && (link[n] = '\0', strcmp(link, "anon_inode:seccomp notify") == 0)) found = atoi(e->d_name);
    }
    if (d) closedir(d);
    return found;
}

int guard_notify_take(pid_t worker) {
    guard_notify_drop();
    int fd = find_listener(worker);
    if (fd < 0) return 0;                   /* a worker without it: nothing to answer */
    int pidfd = (int)syscall(SYS_pidfd_open, worker, 0);
    listener = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (pidfd >= 0) close(pidfd);
    if (listener < 0) {
        log_warn("cannot take the worker's seccomp listener: %m");
        return -1;
    }
    channels_watch_fd(listener, on_notification, NULL);
    return 0;
}

void guard_notify_drop(void) {
    if (listener < 0) return;
    channels_unwatch_fd(listener);
    close(listener);
    listener = -1;
}
