/* nb.h - the runtime that every cell is compiled against.
 *
 * Cells see this header only: nb_* is the public API, nb__* are internals
 * that the kernel's generated code calls. The runtime lives in the worker
 * process and is exported to cells by the linker (-rdynamic). */
#ifndef NB_H
#define NB_H

/* The version of the runtime, as "MAJOR.MINOR.PATCH". */
const char *nb_version(void);

/* ---- internals: called by code the kernel generates, not by cells ---- */

/* (Re)initialise a global's storage. */
void nb__assign(void *dst, const void *src, unsigned long n);
void nb__zero(void *dst, unsigned long n);

/* Show the value of a cell's trailing expression. KIND is "k:type name"
 * where k says how to read the value from the variable arguments: i/u
 * (signed/unsigned integer of SIZE bytes), b (bool), c (char), f (double),
 * F (long double), s (char *), p (pointer), ? (not read: shown by size). */
void nb__show(const char *kind, unsigned long size, ...);

/* Run a cell's main(argc, argv); exit() inside it ends the program, not
 * the worker. */
void nb__run_main(int (*main_fn)(int, char **));
void nb__exit(int status) __attribute__((noreturn));

#endif
