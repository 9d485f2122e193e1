/* magics.h - the `%` lines at the top of a cell, which configure it and
 * are not C.
 *
 *   %cflags FLAGS            compiler options for this cell (e.g. -DNDEBUG)
 *   %cflags --session FLAGS  ... for this and every later cell (none: clear)
 *   %lib NAME...             link libraries for the session (-lNAME)
 *   %args ARG...             argv[1..] for a main() this cell defines
 *   %who                     what the session defines, with types
 *   %reset                   forget every definition
 *   %measure off|on|verbose  the measurement line under each cell
 *   %timeout SECONDS         wall-time limit for each cell (0: none)
 *   %memory MIB              memory cells may map beyond the worker's own (0: none)
 *   %output MIB              output a cell may print before it is cut (0: none)
 *   %cpu SECONDS             CPU time each cell may use (0: none)
 *   %processes N             processes the user may start beyond those running (0: none)
 *   %%file NAME              write the rest of the cell to NAME, run nothing
 *   %escape                  escape analysis of the cell, then run it
 *   %%escape                 escape analysis only: the cell does not run
 *   %help                    this list
 *
 * Lives in the worker. Parsing only; worker/main.c applies the result.
 * Ownership: a magics struct owns its strings; magics_free frees them. */
#ifndef CK_MAGICS_H
#define CK_MAGICS_H

typedef struct {
    char *code;             /* the cell with magic lines blanked (lines keep their numbers) */
    char *cflags;           /* this cell only, or NULL */
    char *session_cflags;   /* new session flags, or NULL (unchanged) */
    char **libs;            /* NULL-terminated, or NULL */
    char **args;            /* NULL-terminated argv[1..], or NULL */
    char *file;             /* %%file NAME, or NULL */
    char *measure;          /* "off", "on", "verbose", or NULL */
    double timeout;         /* seconds; < 0 unchanged */
    long memory_mib;        /* < 0 unchanged */
    long output_mib;        /* < 0 unchanged */
    double cpu;             /* seconds; < 0 unchanged */
    long processes;         /* < 0 unchanged */
    int who, reset, help;
    int escape;             /* 1: %escape (analyse, then run), 2: %%escape (analyse only) */
    char *error;            /* set when a magic is unknown or malformed */
} magics;

/* Parse the magic lines at the top of CODE into M (which it initialises).
 * 0 on success, -1 with M->error set. */
int magics_parse(const char *code, magics *m);
void magics_free(magics *m);
/* The %help text. */
const char *magics_help(void);

#endif
