/* monotime.h - the monotonic clock, in the units each process counts in.
 *
 * The kernel keeps deadlines in milliseconds (stop_on_error's window, waits
 * for worker events); the worker times a cell's phases in nanoseconds. Both
 * read CLOCK_MONOTONIC, which no change of the wall clock moves. */
#ifndef CK_MONOTIME_H
#define CK_MONOTIME_H

#include <stdint.h>

uint64_t monotime_ns(void);
long monotime_ms(void);

#endif
