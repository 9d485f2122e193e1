/* crash.h - explain how a cell died, from inside the dying worker.
 *
 * The worker runs cells in the process that holds the session, so a crash
 * kills it and the snapshot takes over (worker/main.c). Just before it
 * dies, a signal handler on an alternate stack writes one "crash" event
 * (ipc.h) naming the signal in words, the faulting address and the region
 * it falls in, and the cell functions on the stack; then the signal takes
 * its default course. Handlers use only system calls and fixed buffers:
 * the heap may be what broke. */
#ifndef CK_CRASH_H
#define CK_CRASH_H

#include "errors.h"
#include "session.h"

/* Install the handlers; S is read (never written) when a crash happens. */
void crash_install(const session *s);
/* Stop any cell that runs longer than SECONDS (0: no limit), from now on. */
void crash_arm_timeout(double seconds);
void crash_disarm_timeout(void);
/* End the running cell with ENAME: EVALUE, from any context, signal
 * handlers included; the snapshot takes over. Never returns. */
void crash_end_cell(ck_error e, const char *evalue) __attribute__((noreturn));
/* What cells may map (MiB, 0: no limit), to name in a crash report. */
void crash_set_memory_limit(unsigned long mib);

#endif
