/* nb.h - the runtime that every cell is compiled against.
 *
 * Cells see this header only: nb_* is the public API, nb__* are internals
 * that the kernel's generated code calls. The runtime lives in the worker
 * process and is exported to cells by the linker (-rdynamic). */
#ifndef NB_H
#define NB_H

/* The version of the runtime, as "MAJOR.MINOR.PATCH". */
const char *nb_version(void);

/* Internals used by generated code: (re)initialise a global's storage. */
void nb__assign(void *dst, const void *src, unsigned long n);
void nb__zero(void *dst, unsigned long n);

#endif
