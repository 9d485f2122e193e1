/* analysis_impl.h - what analysis.c (where pointers go) and paths.c (what
 * is freed on which path) share. Nothing else includes it. */
#ifndef CK_ESCAPE_ANALYSIS_IMPL_H
#define CK_ESCAPE_ANALYSIS_IMPL_H

#include <stdint.h>
#include "analysis.h"
#include "ast.h"

#define MAX_OBJECTS 512
#define MAX_PARAMS 16
typedef struct { uint64_t w[MAX_OBJECTS / 64]; } objset;

/* How far something escapes, in rising order: a verdict keeps the highest. */
enum { ESC_NONE, ESC_MAY, ESC_HEAP, ESC_PARAM, ESC_GLOBAL, ESC_CALLER };

typedef enum {
    O_LOCAL,      /* a local variable's (or parameter's) storage */
    O_STATIC,     /* a static local: its storage outlives the function */
    O_PARAM,      /* the pointer a parameter comes in with */
    O_CONTENT,    /* what that pointer points to, and beyond */
    O_ALLOC,      /* a block from malloc, calloc, realloc, strdup ... */
    O_LITERAL,    /* a compound literal (automatic storage) */
    O_ALLOCA,     /* a block from alloca */
    O_GLOBAL      /* a global, and whatever is reachable from it */
} object_kind;

typedef struct {
    object_kind kind;
    CXCursor key;           /* the declaration, or the expression */
    char *name;
    int line;               /* cell line of the declaration or the call */
    int param;              /* O_PARAM, O_CONTENT, a parameter's O_LOCAL: its index; else -1 */
    int vla;                /* O_LOCAL: a variable-length array */
    long size;              /* O_ALLOC: bytes when constant, else -1 */
    int addr_line;          /* first line its address is taken (0: never) */
    objset held;            /* what its storage may hold the address of */
    int esc, esc_line;      /* the highest escape, and where */
    char where[160];        /* ... to what: a global's, a parameter's, a function's name */
    unsigned flags;         /* 1 << ESC_x for every escape seen (summaries) */
    unsigned through;       /* ESC_PARAM: which parameters (bit per index) */
    unsigned deep;          /* ... of those, stored beyond what they point to (p->next->x) */
    char global[64];        /* ESC_GLOBAL: the first global */
    char reason[160];       /* ESC_MAY: the first reason */
    char reader[64];        /* a function it was passed to that does not keep it */
    int returned_line;      /* O_ALLOC: a return that hands it to the caller */
    int leak_line;          /* O_ALLOC: a path where it is still live at exit (0: none) */
    int freed;              /* O_ALLOC: freed somewhere */
} object;

typedef struct function function;
struct function {
    char *name;
    CXCursor cursor;
    int in_report;          /* defined in the cell being reported on */
    int needed;             /* reported on, or called (maybe indirectly) by one that is */
    ast_tokens tok;         /* its tokens, read once */
    int line, end_line;
    int error_line;         /* a line of it the parser could not read (0: none) */
    int nparams;
    /* the summary, per parameter: ESC_x bits for the pointer itself and for
     * what it points to, through which parameters, to which global, why maybe */
    unsigned pflags[MAX_PARAMS], cflags[MAX_PARAMS], through[MAX_PARAMS], deep[MAX_PARAMS];
    unsigned cthrough[MAX_PARAMS];  /* what it points to is stored through these */
    int frees[MAX_PARAMS];
    char global[MAX_PARAMS][64], reason[MAX_PARAMS][160];
};

typedef struct {
    CXTranslationUnit tu;
    function *fn;
    size_t nfn;
} analysis;

/* paths.c's state at a point: the blocks that may be live, and for each
 * tracked local pointer variable the blocks it may hold there. */
#define MAX_TRACKED 16
typedef struct {
    objset live;
    int dead;
    objset var[MAX_TRACKED];
} flow_state;

typedef struct {
    analysis *a;
    function *f;
    ast_tokens tok;
    object *obj;
    int nobj;
    int changed;            /* a held set grew this pass */
    int frees_before[MAX_PARAMS];   /* the function's summary before this analysis */
    /* paths.c */
    struct { CXCursor label; flow_state st; } *labels;
    size_t nlabels;
    int backward_goto;           /* the walk is not exact: a goto back to a label already passed,
                                  * a computed goto, setjmp, control flow inside ({ ... }) */
    struct { CXCursor stmt; objset v; } *rets;   /* what a `return p;` returns, per path */
    size_t nrets;
    struct { unsigned offset; objset v; } *refs; /* what a tracked p holds where it is read */
    size_t nrefs;
    int use_rets;                /* analysis.c: take reads' and returns' values from the walk */
    flow_state *breaks, *continues;
    int tracked[MAX_TRACKED];    /* the local variables whose blocks are followed per path */
    int ntracked;
} fctx;

static inline int set_has(const objset *s, int i) { return (s->w[i / 64] >> (i % 64)) & 1; }
static inline void set_add(objset *s, int i) {      /* i < 0: an object not made (too many) */
    if (i >= 0 && i < MAX_OBJECTS) s->w[i / 64] |= (uint64_t)1 << (i % 64);
}
static inline void set_del(objset *s, int i) { s->w[i / 64] &= ~((uint64_t)1 << (i % 64)); }
static inline int set_union(objset *a, const objset *b) {   /* 1 if A grew */
    int grew = 0;
    for (int i = 0; i < MAX_OBJECTS / 64; i++) {
        grew |= (b->w[i] & ~a->w[i]) != 0;
        a->w[i] |= b->w[i];
    }
    return grew;
}
static inline int set_empty(const objset *s) {
    for (int i = 0; i < MAX_OBJECTS / 64; i++) if (s->w[i]) return 0;
    return 1;
}
#define SET_EACH(i, s) for (int i = 0; i < MAX_OBJECTS; i++) if (set_has((s), i))

/* analysis.c, for paths.c */
objset analysis_eval(fctx *c, CXCursor e);
object *analysis_alloc_object(fctx *c, CXCursor call);
function *analysis_function(analysis *a, const char *name);
char *analysis_callee_name(CXCursor call);
int analysis_local_object(fctx *c, CXCursor decl);  /* index of a local's object, or -1 */

/* report.c: the facts about the function C analysed, added to FACTS. */
void report_function(fctx *c, json_t *facts);

/* paths.c: which allocations may still be live where the function exits
 * (leak_line), which are freed (freed), which parameters are freed on
 * every path (f->frees). */
void paths_run(fctx *c, CXCursor body);
/* What the return statement S returns, by the walk of paths, or NULL. */
const objset *paths_return_value(const fctx *c, CXCursor s);
/* What the variable read E (a DeclRefExpr) holds there, by the walk, or NULL. */
const objset *paths_read_value(const fctx *c, CXCursor e);
/* Whether NAME never returns (exit, abort, ...). */
int paths_noreturn(const char *name);

#endif
