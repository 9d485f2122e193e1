/* cc.h - %%cc: a cell compiled by gcc or clang instead of libtcc.
 *
 * The unit is the one a tcc cell gets (unit.c), with the session's
 * #include lines as written so that the compiler reads its own headers.
 * gcc or clang compiles it to a relocatable object (-fPIC, -g), which the
 * worker links into the code arena with libtcc's linker, binding earlier
 * cells' definitions by address as for any cell (compile_object). This
 * file runs the compiler, turns its messages and optimisation remarks into
 * the cell's lines, keeps each compiled cell's object (and the code of
 * every cell that defines functions) for `%asm NAME`, and reads line
 * tables (DWARF for gcc and clang, stabs for tcc) with binutils' objdump
 * and addr2line.
 *
 * Lives in the worker. Compilers and binutils run as child processes in
 * a private temporary directory, removed after each run. */
#ifndef CK_CC_H
#define CK_CC_H

#include <stddef.h>
#include "compile.h"

/* What `%%cc COMPILER [FLAGS] [--remarks] [--asm]` asks for. */
typedef struct cc_spec {
    char *compiler;         /* "gcc" or "clang" */
    char *flags;            /* the user's flags, or "" */
    int remarks, show_asm;
} cc_spec;

/* Parse the text after `%%cc` into SPEC. 0, or -1 with *ERROR (caller
 * frees). */
int cc_parse(const char *text, cc_spec *spec, char **error);
void cc_spec_free(cc_spec *spec);
/* "gcc -O2": what compiled the cell, for the reply and listings. A new string. */
char *cc_label(const cc_spec *spec);

/* Compile the unit SRC with SPEC and OPTIONS (%cflags). Messages go to
 * DIAG in libtcc's form ("cell:3: error: ..."), so diag.c maps them; the
 * remarks about the cell's lines (gcc -fopt-info, clang -Rpass), when
 * asked for, go to *REMARKS ("L\tkind: text" lines; caller frees). The
 * object: malloc'ed, its length in *LEN; NULL when it does not compile. */
unsigned char *cc_compile(const cc_spec *spec, const char *options, const char *src,
                          compile_diag_fn diag, void *opaque, size_t *len, char **remarks);

/* The remarks (cc_compile's) with each line's source from CODE, and the
 * allocations the compiler removed: lines of CODE that call malloc, calloc,
 * realloc or free with no such call left in OBJ. Printed to stdout. */
void cc_print_remarks(const char *label, const char *code, const char *remarks,
                      const unsigned char *obj, size_t len);

/* Keep, for `%asm`, cell COUNT's CODE and OPTIONS, and the object and
 * compiler LABEL of a %%cc cell (OBJ NULL for a tcc cell). Copies. */
void cc_keep(int count, const char *code, const char *options, const char *label,
             const unsigned char *obj, size_t len);
/* What cc_keep kept for cell COUNT: 1 with the borrowed pointers, else 0. */
int cc_kept(int count, const char **code, const char **options, const char **label,
            const unsigned char **obj, size_t *len);

/* Print function NAME of OBJ disassembled, each instruction under the
 * cell line (from CODE) it comes from; TITLE heads it. -1 when OBJ has no
 * such function. */
int cc_print_asm(const unsigned char *obj, size_t len, const char *name, const char *code,
                 const char *title);

/* The cell lines of N code addresses in OBJ: function NAMES[i], byte
 * OFFSETS[i] into it (for a return address, the caller passes one byte
 * less: the call's); LINES[i] 0 if unknown. */
int cc_lines(const unsigned char *obj, size_t len, const char *const *names,
             const unsigned long *offsets, int *lines, size_t n);

/* Remove the temporary directories process PID left (a worker that died
 * while its compiler ran): called by the snapshot that takes over. */
void cc_clean_after(int pid);

#endif
