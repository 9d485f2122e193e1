/* session_impl.h - what the files of the session share, and nothing else
 * includes: session.c (the table of definitions, preparing and running a
 * cell), unit.c (the translation unit built for a cell) and diag.c (the
 * compiler's messages in the cell's terms). */
#ifndef CK_SESSION_IMPL_H
#define CK_SESSION_IMPL_H

#include <stddef.h>
#include "cell.h"
#include "session.h"
#include "strmap.h"
#include "textbuf.h"

extern const char nb_header_text[];        /* runtime/nb.h, built in */

/* ---------------------------------------------------------------- session.c */

/* One definition the session keeps: what later cells are compiled with. */
typedef struct {
    item_kind kind;
    char *keys[ITEM_MAX_KEYS];
    int nkeys;
    char *text;             /* what later cells are compiled with */
    char *type_text;        /* globals: to tell a re-definition from a new type */
    void *addr;             /* functions and globals */
    unsigned long size;     /* globals: sizeof */
    char *doc;              /* the comment above its definition */
    char *body;             /* functions: the whole definition, for %escape (escape.c) */
    char *uses;             /* the names its text uses (unit_uses), for unit_build's selection */
    unsigned long gen;      /* the commit that made it */
    int count, line;        /* the cell (execution count) and line that defined it */
} entry;

struct session {
    entry *e;
    size_t n, cap;
    entry *spare;           /* commit_items builds the next list here, then swaps */
    size_t spare_cap;
    char *options;          /* extra compiler options for every cell (%cflags) */
    char **libs;            /* %lib: linked into every cell */
    size_t nlibs;
    void **runs;            /* each cell's statement function, for backtraces */
    void **text_ends;       /* and where that cell's code ends (its data follows) */
    size_t nruns, runs_cap;
    char *headers;          /* the session's preprocessed headers, for completion (a copy) */
    strmap index;           /* key -> entry: extended by a commit that only adds,
                             * rebuilt by one that replaces or drops entries */
    size_t *directives;     /* the entries that are directives, in order: every
                             * unit has them, so a cell walks them, not the session */
    size_t ndirectives, directives_cap;
    unsigned long gen;      /* commits so far */
    int count;              /* execution count of the cell being run */
    const struct cc_spec *cc;  /* %%cc: the compiler of the cell being prepared, or NULL */
};

/* The entry that holds KEY, or -1. */
static inline long session_find(const session *s, const char *key) {
    return strmap_get(&s->index, key);
}

static inline int session_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* How a cell's item relates to the session. */
typedef enum {
    PLAN_NEW,        /* defines something new, or replaces it with new storage */
    PLAN_REINIT,     /* a global of the same type: same storage, value set again */
    PLAN_KEEP_OLD,   /* a prototype of something already defined: nothing to do */
    PLAN_LOCAL       /* statements and other items that do not persist */
} plan;

/* ----------------------------------------------------------------- diag.c */

/* Where each line of the translation unit came from, for messages. */
typedef struct diag_ctx {
    const session *s;
    const cell *c;
    const char *code;
    const token *code_tokens;  /* CODE's tokens in scratch memory (split_cell), or NULL:
                                * good until the first compile_free */
    size_t ncode_tokens;
    const strmap *defined;  /* key -> the cell's item that defines it anew */
    const unsigned char *dropped;  /* per entry: goes with this cell (plan_cell) */
    size_t *entry_line;     /* first TU line of each session entry in the prelude */
    size_t *entry_of;       /* per prelude entry index in s->e */
    size_t nprelude, prelude_cap;
    size_t *need;           /* the entries unit_build selected, ascending, or NULL: all */
    size_t nneed;
    textbuf errors, warnings;
    int nerrors;
    int ndiags;             /* messages of any kind */
    char *first_error;
} diag_ctx;

/* The compiler's message callback (compile_new): MSG in the cell's terms,
 * added to D's errors or warnings. */
void diag_on_message(void *opaque, const char *msg);
/* Free what D gathered and clear it, keeping the cell it is about. */
void diag_reset(diag_ctx *d);

/* ----------------------------------------------------------------- unit.c */

/* The translation unit for cell C against S (see unit.c); SHOW adds the
 * statement that shows a trailing expression's value, SOME keeps only the
 * declarations of nb.h and the headers that the rest uses, and of earlier
 * definitions those the cell names. For gcc or clang (%%cc): the
 * session's #include lines as written, not tcc's preprocessed headers,
 * with only the earlier definitions the cell names (UNIT_FOR_CC) or all
 * (UNIT_FOR_CC_ALL). In scratch memory. Fills D's map of the unit's lines. */
#define UNIT_FOR_CC 2
#define UNIT_FOR_CC_ALL 3
char *unit_build(const session *s, const cell *c, const plan *plans, diag_ctx *d, int show,
                 const char *options, int some);
/* Whether the cell's item BY, which redefines an entry of kind OLD_KIND,
 * takes the old entry's place (a directive or type: entries after it may
 * use it), which it cannot when it names what the cell defines anew (in
 * DEFINED) as a global or function: those come after. */
int unit_in_place(item_kind old_kind, const cell *c, size_t by, const strmap *defined);
/* The names TEXT uses, for selecting the prelude: its identifiers, a tag
 * as "struct P" (repeats kept: a lookup costs less), NUL-separated and
 * ended by an empty one. A
 * new string, or NULL. */
char *unit_uses(const char *text);
/* The same from TEXT's tokens T (N of them). */
char *unit_uses_tokens(const token *t, size_t n);
/* The session's system headers, preprocessed (headers.h); *LAST (may be
 * NULL) is what unit_is_cached needs to tell the entries they cover: the
 * last system #include's entry, -1 when there are none or the text could
 * not be made. NULL then. */
const char *unit_cached_headers(const session *s, const char *options, long *last);
/* Whether entry I is in the cached headers' text (LAST from unit_cached_headers). */
int unit_is_cached(const session *s, long last, size_t i);
/* Whether the cell defines anew no name the session has: its unit then
 * needs only the entries it names (and the directives), its commit only
 * appends. Otherwise both walk the whole session. */
int unit_only_new_names(const session *s, const cell *c, const plan *plans);

#endif
