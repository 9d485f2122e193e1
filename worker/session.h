/* session.h - what the cells of this session have defined, and running a
 * cell against it.
 *
 * Lives in the worker. The session is a list of entries in the order they
 * were first defined: directives, types, prototypes of functions and
 * externs of globals, each with the address of its code or storage. A cell
 * is compiled with those entries as its prelude and the addresses bound by
 * name; a cell that compiles replaces the entries it redefines. Because
 * the worker forks a snapshot before each cell, a cell that crashes leaves
 * the session as it was: nothing here needs to undo anything.
 *
 * Ownership: the result's strings belong to the result; session_result_free
 * frees them. */
#ifndef CK_SESSION_H
#define CK_SESSION_H

#include <stddef.h>
#include <stdio.h>
#include "compile.h"
#include "errors.h"
#include "nb_internal.h"

typedef struct session session;

typedef struct {
    int ok;
    char *ename, *evalue;   /* when !ok */
    char **traceback;       /* when !ok: lines */
    size_t ntraceback;
    char *diagnostics;      /* compiler warnings for the cell, or NULL */
    char *notices;          /* one line each: what the cell replaced */
    char *result_text;      /* the trailing expression's value, or NULL */
    int main_ran, main_status;  /* the cell defined and ran main() */
    unsigned long long compile_ns, run_ns;   /* build+compile+relocate; the run */
    int compiles;           /* libtcc runs it took: more than 1 when the try with
                             * only the declarations it seemed to use said anything */
    char *compiler;         /* %%cc: "gcc -O2", or NULL for tcc */
    int measured;           /* the cell ran: MEASURE holds its figures */
    nb_measure measure;
} session_result;

session *session_new(void);
/* A cell compiled against the session, not yet part of it. */
typedef struct session_cell session_cell;

/* Compile CODE against the session. NULL when it does not compile (R
 * holds the error); the session is not changed either way. Compiling
 * before the worker forks its snapshot keeps the compiler's memory
 * traffic clear of copy-on-write faults. */
session_cell *session_prepare(session *s, const char *code, const char *cell_options, session_result *r);
/* Make PC part of the session and run it; frees PC. */
void session_commit_run(session *s, session_cell *pc, session_result *r);
/* R fails with ENAME and EVALUE; the lines of TRACE (NULL: EVALUE) are the
 * traceback, the first led by "ENAME: ". */
void session_result_error(session_result *r, ck_error e, const char *evalue, const char *trace);
void session_result_free(session_result *r);

/* Compiler options for every later cell (%cflags --session); NULL clears. */
void session_set_options(session *s, const char *options);
/* Link library NAME into every later cell (%lib). -1 with *ERROR (caller
 * frees) when it cannot be found. */
int session_add_library(session *s, const char *name, char **error);
/* Forget every definition (%reset). Code already compiled stays mapped. */
void session_reset(session *s);
/* Which cell definition holds ADDR: 'f' for a function (the nearest one
 * starting at or below ADDR in cell code), 'g' for a global (within its
 * size), with its *NAME (borrowed), *OFFSET and *SIZE (0: unknown; may be
 * NULL); 0 if none. Reads only, so
 * a signal handler may call it. */
int session_symbolize(const session *s, const void *addr, const char **name, unsigned long *offset,
                      unsigned long *size);
/* The execution count of the cell about to be prepared (for the record). */
void session_set_count(session *s, int count);
int session_count(const session *s);
/* Whether cell COUNT (an execution count) defined a function still in the
 * session. */
int session_cell_has_function(const session *s, int count);
/* Where NAME was defined: the cell's execution count and its line there.
 * 0 if unknown. Reads only (a signal handler may call it). */
int session_where_defined(const session *s, const char *name, int *count, int *line);

/* After a crash, in the snapshot that took over (whose session is the one
 * CODE was compiled against): the cell lines of code addresses given as a
 * function NAMES[i] ("the cell's statements" included) and byte OFFSETS[i]
 * into it: a return address for i > 0, and for i = 0 too if RETURNS. CELLS (may be NULL): CELLS[i] is
 * 0 for a line of this cell; for a function an earlier %%cc cell defined,
 * whose object is kept, that cell's execution count and LINES[i] its line. LINES[i] is 0 where neither knows
 * the line. 0 or -1. */
int session_lines(session *s, const char *code, const char *cell_options, const char *const *names,
                  const unsigned long *offsets, int returns, int *lines, int *cells, size_t n);

/* For %escape (escape.c): the unit session_prepare would build for CODE,
 * followed by the earlier cells' functions CODE names, directly or through
 * others (those it does not define again), in full under `#line LINE
 * "cell COUNT"`. Malloc'd; NULL when the cell cannot be split. */
char *session_escape_unit(session *s, const char *code, const char *cell_options);
/* Every line record of the unit CODE compiles to with tcc (as
 * session_lines: the session as it was before the cell): FN as
 * compile_line_table calls it, with the statements' function named
 * "__ck_run". 0 or -1. For a cell tcc compiled (the caller knows). */
int session_line_table(session *s, const char *code, const char *cell_options,
                       compile_line_fn fn, void *opaque);

/* %%cc: the compiler (cc.h) of the cells prepared or relined from now,
 * NULL for tcc. Borrowed until set again. */
struct cc_spec;
void session_set_cc(session *s, const struct cc_spec *cc);
const struct cc_spec *session_cc(const session *s);
/* %asm NAME: print the machine code of the session's function NAME, with
 * its cell lines, whichever compiler made it. 0 or -1 (said on stdout). */
int session_asm(session *s, const char *name);

/* A read-only look at entry I of the session (for completion). The
 * strings are borrowed until the next cell. */
typedef struct {
    int kind;                   /* an item_kind of cell.h */
    char *const *keys;
    int nkeys;
    const char *text, *type_text, *doc;
} session_view;
size_t session_size(const session *s);
void session_get(const session *s, size_t i, session_view *v);
/* The preprocessed system headers of the session, or NULL. The text stays
 * the same pointer while the headers do not change. */
const char *session_headers(session *s);
/* List the session's definitions, one a line (%who). */
void session_who(const session *s, FILE *out);

#endif
