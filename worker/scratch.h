/* scratch.h - the compiler's memory, and scratch memory in it.
 *
 * Lives in the worker. One region that fork does not copy holds all that
 * libtcc allocates (its malloc family is renamed to scratch.c's ck_tcc_*
 * at build time) and the worker's short-lived text: a cell's split, the
 * unit built for it. Ownership: nothing in it is freed one by one;
 * scratch_reset frees it all, and compile.c calls it after each
 * tcc_delete (compile_free, compile_lines). */
#ifndef CK_SCRATCH_H
#define CK_SCRATCH_H

#include <stddef.h>

/* Grow P (NULL: a new block) to SIZE bytes of scratch memory: for a unit's
 * source text, built just before compiling it. Freed by the next
 * compile_free or compile_lines; never pass it to free(). NULL when the
 * region is full. */
void *scratch_realloc(void *p, size_t size);
/* Map the region now, at start-up, not in a cell. */
void scratch_reserve(void);
/* In a snapshot that took over: the region was not copied, start anew. */
void scratch_after_fork(void);
/* Free everything in the region (no TCCState may be alive). */
void scratch_reset(void);

/* Give the pages above what is in use back to the system (idle.c: the
 * worker waits for a request); the next compile faults in what it uses. */
void scratch_release(void);

/* libtcc's allocator, renamed (Makefile: objcopy --redefine-sym). */
void *ck_tcc_malloc(size_t size);
void *ck_tcc_calloc(size_t n, size_t size);
void *ck_tcc_realloc(void *p, size_t size);
void ck_tcc_free(void *p);

#endif
