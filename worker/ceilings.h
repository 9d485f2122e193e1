/* ceilings.h - the administrator's ceilings on every cell, which a student's
 * magics may lower and never raise.
 *
 * Set once for every kernel in the kernelspec's "env" (README "Limits for
 * every kernel"):
 *   CKERNEL_MAX_MEMORY_MIB    memory a cell may map (RLIMIT_AS, hard)
 *   CKERNEL_MAX_CPU_SECONDS   CPU seconds one cell may use (RLIMIT_CPU)
 *   CKERNEL_MAX_PROCESSES     processes the kernel's user may have beyond
 *                             those they had when it started (RLIMIT_NPROC,
 *                             hard; Linux exempts root)
 *   CKERNEL_MAX_OUTPUT_MIB    output a cell may print before it is cut
 * Unset or 0: no ceiling. Lives in the worker. */
#ifndef CK_CEILINGS_H
#define CK_CEILINGS_H

#include "magics.h"

/* Read the ceilings and set the hard limits; call once at start. */
void ceilings_init(void);
/* The default memory (bytes) and output (bytes) limits, lowered to the
 * ceilings. */
unsigned long long ceilings_memory_default(unsigned long long bytes);
long ceilings_output_default(long bytes);
/* NULL when M's limits are within the ceilings; else why not (static). */
const char *ceilings_check(const magics *m);
/* Apply %cpu and %processes. 0, or -1 when the limit cannot be set. */
int ceilings_apply(const magics *m);
/* CPU seconds the next cell may use (0: no limit), for the kernel's
 * backstop (worker.c): a cell can raise its own soft RLIMIT_CPU. */
double ceilings_cell_cpu(void);
/* Around a cell's run: arms the CPU limit, and lets a fork that fails at
 * the process limit end the cell as ProcessLimitError. */
void ceilings_cell_begin(void);
void ceilings_cell_end(void);

#endif
