/* guard.h - keeps a cell from killing the kernel or cutting the worker off
 * from it (README "What happens when a cell crashes").
 *
 * guard.c owns the worker's descriptors to the kernel: they live out of
 * the cells' way (a cell's open() gets 3, as in a program), and one a cell
 * closed or replaced is opened again from the snapshot, which holds copies.
 * guard_filter.c is a seccomp filter: signals, ptrace and the like aimed at
 * the kernel process fail with EPERM, as for a process one may not signal. */
#ifndef CK_GUARD_H
#define CK_GUARD_H

#include <sys/types.h>

/* The worker's descriptors that must survive every cell. */
typedef enum { GUARD_REQUESTS, GUARD_EVENTS, GUARD_STDOUT, GUARD_STDERR, GUARD_KEPT } guard_kept;

/* At start-up, before any thread: moves the pipes of ipc.h (3, 4) and
 * copies of 1 and 2 out of the way, and installs the filter. */
void guard_install(void);
/* A working descriptor for WHICH, opened again from the snapshot if a cell
 * closed or replaced it; -1 if it is lost. Async-signal-safe. */
int guard_fd(guard_kept which);
/* Check every kept descriptor and open again those a cell closed or
 * replaced, while the snapshot lives: 0, or -1 if one is lost. */
int guard_recover(void);
/* Sending an event failed with RC (-errno). The kernel is gone: exit
 * quietly. The pipe is lost (a cell closed it, and no snapshot had a
 * copy): die of SIGPIPE, which the kernel reports as such. */
__attribute__((noreturn)) void guard_cut_off(int rc);
/* The process holding copies of the descriptors (the sleeping snapshot),
 * or 0; returns once it is out of the worker's process group. */
void guard_set_snapshot(pid_t pid);

/* The same without the wait: for the snapshot forked after a cell's
 * reply, which start_cell hands to guard_set_snapshot before the next
 * cell runs. Waiting there, while the kernel publishes the reply, put
 * the worker's sleeps and wake-ups on the reply's path (issue 18). */
void guard_note_snapshot(pid_t pid);

/* guard_filter.c: install the filter protecting process KERNEL and its
 * threads. 0, or -errno when it could not be installed. */
int guard_filter_install(pid_t kernel);

#endif
