/* magics.h - the `%` lines at the top of a cell, which configure it and
 * are not C.
 *
 * The list lives once, in magics.c's magic_table (name, parser, help);
 * %help prints it and the README's table is checked against %help.
 * Lives in the worker. Parsing only; worker/main.c applies the result.
 * Ownership: a magics struct owns its strings; magics_free frees them. */
#ifndef CK_MAGICS_H
#define CK_MAGICS_H

/* %measure: what the measurement line shows. */
typedef enum { MEASURE_UNCHANGED = -1, MEASURE_OFF, MEASURE_ON, MEASURE_VERBOSE } measure_level;

typedef struct {
    char *code;             /* the cell with magic lines blanked (lines keep their numbers) */
    char *cflags;           /* this cell only, or NULL */
    char *session_cflags;   /* new session flags, or NULL (unchanged) */
    char **libs;            /* NULL-terminated, or NULL */
    char **args;            /* NULL-terminated argv[1..], or NULL */
    char *file;             /* %%file NAME, or NULL */
    char *cc;               /* %%cc: what follows it ("gcc -O2 --remarks"), or NULL */
    char *asm_name;         /* %asm NAME, or NULL */
    measure_level measure;   /* MEASURE_UNCHANGED when no %measure */
    int leaks;              /* %leaks: 0 off, 1 on; -1 unchanged */
    double timeout;         /* seconds; < 0 unchanged */
    long memory_mib;        /* < 0 unchanged */
    long output_mib;        /* < 0 unchanged */
    double cpu;             /* seconds; < 0 unchanged */
    long processes;         /* < 0 unchanged */
    int who, reset, help;
    int escape;             /* 1: %escape (analyse, then run), 2: %%escape (analyse only) */
    int check;              /* %%check: compiled with -b, run with runtime/checked.c */
    int profile;            /* %%profile: 1 CPU samples, 2 --heap; 0 none */
    int profile_hz;         /* --hz N; 0: the default */
    char *profile_export;   /* --export NAME, or NULL */
    char *error;            /* set when a magic is unknown or malformed */
} magics;

/* Parse the magic lines at the top of CODE into M (which it initialises).
 * 0 on success, -1 with M->error set. */
int magics_parse(const char *code, magics *m);
void magics_free(magics *m);
/* The %help text. */
const char *magics_help(void);

#endif
