/* checked.h - the run-time memory checker of `%%check` cells (checked.c).
 *
 * A checked cell is compiled with tcc's -b: every pointer dereference in
 * it calls __bound_ptr_indirN, every function with address-taken locals
 * registers them (__bound_local_new/delete), and memcpy, strcpy and
 * friends go through __bound_* wrappers. checked.c implements those
 * calls itself, and checked_lib.c the library wrappers (tcc's own
 * bcheck.o cannot be used: it replaces malloc and kills the process on
 * an error), with the allocator's help: while a checked cell runs,
 * alloc.c reports each block to it and hands freed blocks over for a
 * quarantine instead of giving them back to glibc.
 *
 * A bug ends the cell as a crash does: abort(), after which
 * nb_internal_memory_error() says what was found, and crash.c sends it
 * as a MemoryError with the cell line of the access and the lines where
 * the block was allocated and freed. The snapshot takes over, so the
 * session goes on as after any failed cell.
 *
 * Seen by alloc.c (the hooks), worker/main.c (begin, end),
 * worker/session.c (the wrappers bound) and worker/crash.c (the report).
 * Nothing here allocates. */
#ifndef NB_CHECKED_H
#define NB_CHECKED_H

#include <stddef.h>
#include <stdint.h>

/* Nonzero while a checked cell runs: alloc.c calls the hooks below. */
extern int rt_checking;

/* ------------------------------------------------- alloc.c's hooks */

/* P (N bytes, allocated at SITE) is a new block. */
void rt_checked_alloc(const void *p, size_t n, const void *site);
/* P came from calloc: its zeros count as written. */
void rt_checked_zeroed(const void *p);
/* free(P) is about to happen at SITE: ends the cell with a MemoryError
 * if P is no block (a stack array, a pointer into a block) or a block
 * already freed. */
void rt_checked_free(const void *p, const void *site);
/* Keep P's freed memory (glibc's block BASE) in quarantine: 1 if kept,
 * 0 if the caller must give BASE back to glibc. */
int rt_checked_keep(const void *p, void *base, const void *site);

/* ------------------------------------------------ the worker's side */

/* Around a checked cell's run, on the worker's main thread. End checks
 * the quarantine (a freed block written by code tcc did not instrument
 * ends the cell there) and gives its memory back. */
void nb_internal_checked_begin(void);
void nb_internal_checked_end(void);

/* The library functions that read what the cell hands them (printf's
 * %s, puts), as the checker's wrappers, for a unit compiled with OPTIONS
 * to bind in place of the library's own: a table ending in { NULL }, or
 * NULL when OPTIONS has no -b. */
typedef struct { const char *name; const void *addr; } nb_checked_symbol;
const nb_checked_symbol *nb_internal_checked_symbols(const char *options);

typedef struct nb_memory_error {
    const char *kind;               /* "heap buffer overflow", ... */
    char text[900];                 /* the whole finding, one line */
    uintptr_t pc, fp, sp;           /* the cell's code at the access, its frame; 0 unknown */
    const void *alloc_site, *free_site;   /* the block's, or NULL */
} nb_memory_error;
/* What the checker found before it aborted, or NULL. Safe in a signal
 * handler. */
const nb_memory_error *nb_internal_memory_error(void);

#endif
