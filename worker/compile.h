/* compile.h - libtcc, wrapped for cells: compile one translation unit in
 * memory, relocate it into a code arena that outlives the compiler state,
 * and rebind old functions to new ones.
 *
 * Lives in the worker process only: libtcc calls exit() on some failures,
 * and the kernel must never die of a cell. */
#ifndef CK_COMPILE_H
#define CK_COMPILE_H

#include <stdint.h>
#include "nb_internal.h"

/* Called with each message libtcc prints (errors and warnings alike). */
typedef void (*compile_diag_fn)(void *opaque, const char *msg);

typedef struct compile_unit compile_unit;

/* A new unit with OPTIONS (tcc command-line options, may be NULL). */
compile_unit *compile_new(const char *options, compile_diag_fn diag, void *opaque);
/* Make NAME resolve to ADDR (a definition from an earlier cell). */
void compile_add_symbol(compile_unit *u, const char *name, const void *addr);
/* Link the library NAME (as -lNAME). 0 or -1. */
int compile_add_library(compile_unit *u, const char *name);
/* Compile SRC and relocate it into the arena. 0, or -1 after diagnostics. */
int compile_source(compile_unit *u, const char *src);
/* Link OBJ (LEN bytes), a relocatable object another compiler wrote (gcc,
 * clang: %%cc), into the arena as one read-write-execute block, with the
 * symbols and libraries given to U. 0, or -1 after diagnostics. */
int compile_object(compile_unit *u, const unsigned char *obj, size_t len);
/* The address of a global symbol of the relocated unit, or NULL. */
void *compile_symbol(compile_unit *u, const char *name);
/* Free the compiler state; the relocated code and data stay. */
void compile_free(compile_unit *u);

/* SRC preprocessed (as tcc -E) with OPTIONS: a new string the caller
 * frees, or NULL when it does not preprocess (#error, a missing header). */
char *compile_preprocess(const char *src, const char *options);

/* Tell compile_part_of which cell (execution count) U is compiled for. */
void compile_set_cell(compile_unit *u, int cell);

/* The const objects (NULL-terminated names, kept by the caller until the
 * compile is done) that U lays out on read-only pages. */
void compile_set_readonly(compile_unit *u, const char *const *names);

/* The part of a relocated unit that holds ADDR, from its sections (never
 * from the bytes); *CELL (if not NULL) gets the unit's cell. */
typedef enum {
    COMPILE_NONE,           /* not in any unit */
    COMPILE_UNKNOWN,        /* in a unit laid out as tcc does: one block */
    COMPILE_CODE,           /* read+execute */
    COMPILE_DATA,           /* initialised globals and statics, read-write */
    COMPILE_BSS,            /* zero-initialised ones, read-write */
    COMPILE_LITERAL,        /* string literals and other anonymous constants, read+execute */
    COMPILE_STUBS           /* the linker's tables (GOT, PLT) and libtcc1's helpers */
} compile_part;
compile_part compile_part_of(const void *addr, int *cell);
/* The named static (a static variable in a function, or at file scope)
 * that holds ADDR: 1 with its name, start and size, else 0. */
int compile_static_of(const void *addr, const char **name, const void **start, unsigned long *size);

/* The writable memory of the cells' units (data and bss; the whole unit
 * where it is laid out as one block), for the leak scan: up to MAX ranges
 * into OUT; returns how many there are. And the range of libtcc's own
 * statics, which hold no cell's pointers. */
size_t compile_writable(nb_range *out, size_t max);
void compile_tcc_statics(uintptr_t *lo, uintptr_t *hi);

/* Whether ADDR lies in cell code or data. Only the newest chunk of the
 * arena is known; enough for the usual session. */
int compile_in_arena(const void *addr);

/* Map the compiler's and the code's regions now, so that a memory limit
 * set afterwards counts them as already there. */
void compile_reserve(void);

/* In a forked child, before its first compile: the compiler's memory
 * region is not inherited. */
void compile_after_fork(void);

/* The cell lines of N code addresses: for each, the function NAMES[i]
 * of SRC and the byte OFFSETS[i] into it; LINES[i] gets the line (0 if
 * unknown). SRC is compiled again, with -g, to an object, whose stabs are
 * read; nothing of it is kept. 0 or -1. */
int compile_lines(const char *src, const char *options, const char *const *names,
                  const unsigned long *offsets, int *lines, size_t n);

/* SRC compiled by tcc with -g (stabs) to a relocatable object: malloc'ed
 * bytes, LEN in *LEN; NULL when it does not compile. Nothing is kept. */
unsigned char *compile_debug_object(const char *src, const char *options, size_t *len);

/* Every line record of SRC compiled with -g (as compile_lines): FN gets
 * the function, the byte offset into it where the line's code starts, and
 * the line, in code order. 0 or -1. */
typedef void (*compile_line_fn)(void *opaque, const char *function, unsigned long offset, int line);
int compile_line_table(const char *src, const char *options, compile_line_fn fn, void *opaque);

/* Make every call to the function at OLD go to NEW: a 13-byte
 * `jmp rel32` over OLD's entry when NEW is within 2 GiB (5 bytes), else a
 * `movabs r11, NEW; jmp r11` (13 bytes: tcc's smallest function; r11 is
 * scratch in the SysV ABI and carries no argument, unlike rax, which holds
 * the vector-register count of variadic calls); its page made writable
 * just for the patch. */
void compile_redirect(void *old_fn, void *new_fn);

#endif
