/* guard_notify.h - the kernel answers the worker's seccomp notifications
 * (a cell's pidfd_send_signal: refused when it aims at the kernel). */
#ifndef CK_GUARD_NOTIFY_H
#define CK_GUARD_NOTIFY_H

#include <sys/types.h>

/* Take the listener of WORKER's filter and answer it from the poll loop.
 * 0 (also when it has none), or -1: its calls would wait for nobody. */
int guard_notify_take(pid_t worker);
/* Stop answering (the worker is gone for good). */
void guard_notify_drop(void);

#endif
