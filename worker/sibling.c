/* worker/sibling.c - fork the snapshot as the kernel's child in one step.
 *
 * The snapshot must be the kernel's child, never the worker's (main.c
 * says why). fork() can only make a child, so the worker used to fork a
 * middle process that forked the copy and exited: two copies of the
 * worker's page tables a cell, a process exit, a pipe and a wait (perf:
 * the middle's fork alone was 8% of the worker's CPU in a Run All).
 * clone(CLONE_PARENT) makes the copy the kernel's child directly.
 *
 * glibc's fork() is more than the system call, so the one step is taken
 * only where the difference cannot matter, and fork()'s two steps
 * otherwise:
 * - one thread only, now (/proc/self/task's link count: one stat call;
 *   glibc's __libc_single_threaded stays false once a thread was made, or
 *   a library loaded, as an #include <pthread.h> does): no lock another
 *   thread holds (malloc's, stdio's) can be copied held, and glibc's reset
 *   of its list of threads finds none but this one;
 * - the thread's tid field in glibc's thread descriptor is found (and
 *   checked at start-up), so that the copy's is set, as fork() does, by
 *   CLONE_CHILD_SETTID;
 * - no robust mutex is held (the kernel's list of them is empty): the
 *   copy re-registers the list, as fork() does;
 * - the pthread_atfork handlers are not run: the runtime's two are a
 *   no-op here (its allocator's lock is taken only with threads; the
 *   profiler has disarmed its timers by the time a snapshot is forked). */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sibling.h"

/* Where glibc 2.36 keeps a thread's tid (struct pthread, x86_64); checked
 * against the real tid before it is trusted. */
#define GLIBC_TID_OFFSET 0x2d0

/* The kernel's robust-list head, as glibc registers it for the thread. */
struct robust_head { void *list; long futex_offset; void *pending; };

static struct { int checked, usable; pid_t *tid; struct robust_head *robust; size_t robust_len; } S;

static void check_once(void) {
    if (S.checked) return;
    S.checked = 1;
    pid_t *tid = (pid_t *)((char *)pthread_self() + GLIBC_TID_OFFSET);
    if (*tid != (pid_t)syscall(SYS_gettid) || getpid() != (pid_t)syscall(SYS_gettid)) return;
    struct robust_head *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) != 0 || !head) return;
    S.tid = tid;
    S.robust = head;
    S.robust_len = len;
    S.usable = 1;
}

/* Only this thread is left: procfs counts a directory's subdirectories,
 * one a thread, in its link count (2 + threads). */
static int one_thread(void) {
    struct stat st;
    return stat("/proc/self/task", &st) == 0 && st.st_nlink == 3;
}

pid_t sibling_fork(void) {
    check_once();
    if (!S.usable || S.robust->list != S.robust || !one_thread()) return SIBLING_UNAVAILABLE;
    long pid = syscall(SYS_clone, CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
                       NULL, NULL, S.tid, 0);
    if (pid == 0) syscall(SYS_set_robust_list, S.robust, S.robust_len);
    return (pid_t)pid;
}
