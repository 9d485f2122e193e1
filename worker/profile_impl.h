/* profile_impl.h - what the worker's profile files share: a profile summed
 * up by function, by line and by stack (profile_sum.c), which
 * profile_show.c, profile_flame.c and profile_export.c present.
 *
 * Ownership: a profile_data owns everything in it (profile_data_free). */
#ifndef CK_PROFILE_IMPL_H
#define CK_PROFILE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "prof_record.h"
#include "textbuf.h"

typedef enum { PF_CELL, PF_LIBRARY, PF_MARK } pfunc_kind;

typedef struct {
    char *name;             /* "hot", "memcpy", "[stack cut: ...]" */
    char *label;            /* with where it is from: "sum (cell [3])", "memcpy (libc.so.6)" */
    int cell;               /* the execution count that defined it; 0: not a cell's */
    int def_line;           /* its first line in that cell; 0: unknown */
    pfunc_kind kind;
    double self, total;     /* samples (or bytes) at the top, anywhere on the stack */
} pfunc;

typedef struct { int cell, line; double value; } pline;

/* The tree of stacks, outermost frame at the root (node 0: all of it). */
typedef struct { int func; double value; int child, next; } pnode;

typedef struct {
    int *funcs;             /* innermost first */
    int n;
    int cell, line;         /* the innermost cell frame's line */
    uint64_t allocs, bytes;
    int64_t live_bytes;
} psite;

typedef struct {
    int heap;               /* a heap profile: values are bytes */
    int cell;               /* the profiled cell's execution count */
    double total;           /* samples, or bytes allocated */
    long samples;
    pfunc *f;
    size_t nf;
    pline *l;
    size_t nl;
    pnode *t;
    size_t nt;
    psite *sites;
    size_t nsites;
} profile_data;

/* profile_sum.c: the record R summed up (CELL is the profiled cell). */
void profile_sum(const prof_region *r, int cell, profile_data *d);
void profile_data_free(profile_data *d);

/* profile.c: the line of OFFSET into FUNCTION of cell CELL (0: unknown:
 * only profiled cells' lines are known), and the code of cell CELL. */
int profile_line_of(int cell, const char *function, unsigned long offset);
const char *profile_code_of(int cell);
/* The lines FUNCTION of cell CELL spans: 0 if unknown. */
int profile_function_lines(int cell, const char *function, int *first, int *last);

/* profile_flame.c: the tree as an SVG flame graph, UNIT "samples" or "B". */
void profile_flame_svg(const profile_data *d, const char *title, textbuf *out);
/* "12 samples", "3.1 KiB": a value of D in words. */
void profile_value_text(const profile_data *d, double v, char *out, size_t n);

/* profile_export.c: NAME.folded, NAME.speedscope.json and NAME.pb.gz
 * (HZ: the sampling rate). 0, or -1 with *ERROR (caller frees). */
int profile_export(const profile_data *d, int hz, const char *name, char **error);

/* profile_pprof.c: pprof's profile.proto, gzipped, at PATH (HZ: the
 * sampling rate, for CPU time). 0, or -1 with *ERROR (caller frees). */
int profile_export_pprof(const profile_data *d, int hz, const char *path, char **error);

/* profile_show.c: the displays and the metadata. */
/* The samples' signal, "SIGTRAP" (perf's sigtrap) or "SIGPROF". */
const char *profile_signal_name(const prof_region *r);
void profile_show_html(const profile_data *d, const prof_region *r, textbuf *html, textbuf *text);
void profile_show_heap_html(const profile_data *d, const prof_region *r, textbuf *html, textbuf *text);

/* Append S escaped for HTML/XML. */
void profile_xml(textbuf *b, const char *s);

#endif
