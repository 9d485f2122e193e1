/* session.c - the session's definitions and running a cell (session.h).
 *
 * Owns: the entries (prelude) and their addresses, the translation unit
 * built for each cell, the mapping of compiler messages back to cell lines,
 * and the rules for replacing what a cell redefines. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include "cell.h"
#include "compile.h"
#include "decls.h"
#include "expand.h"
#include "lexer.h"
#include "monotime.h"
#include "headers.h"
#include "strmap.h"
#include "session.h"
#include "nb.h"
#include "nb_internal.h"

extern const char nb_header_text[];        /* runtime/nb.h, built in */

typedef struct {
    item_kind kind;
    char *keys[ITEM_MAX_KEYS];
    int nkeys;
    char *text;             /* what later cells are compiled with */
    char *type_text;        /* globals: to tell a re-definition from a new type */
    void *addr;             /* functions and globals */
    unsigned long size;     /* globals: sizeof */
    char *doc;              /* the comment above its definition */
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
    strmap index;           /* key -> entry; rebuilt after each commit */
    unsigned long gen;      /* commits so far */
    int count;              /* execution count of the cell being run */
};

/* ------------------------------------------------------------- utilities */

/* scratch: in the compiler's memory (compile_scratch_realloc), gone at
 * the next compile_free */
typedef struct { char *s; size_t len, cap; int scratch; } buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = b->scratch ? compile_scratch_realloc(b->s, cap) : realloc(b->s, cap);
        if (!p) abort();
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void buf_puts(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    buf_add(b, s, (size_t)n);
    free(s);
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* The entry that holds KEY, or -1. */
static long find_entry(const session *s, const char *key) {
    return strmap_get(&s->index, key);
}

static void reindex(session *s) {
    strmap_clear(&s->index);
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < s->e[i].nkeys; k++) strmap_put(&s->index, s->e[i].keys[k], (long)i);
}

/* Directive keys (cell.c): "#include <x>", "#NAME" for a macro, "##if..." for a group. */
static int is_system_include(const char *key) {
    return key && strncmp(key, "#include <", 10) == 0;
}

/* A directive line (from '#') that is an #include. */
static int is_include_directive(const char *line) {
    line++;
    while (*line == ' ' || *line == '\t') line++;
    return strncmp(line, "include", 7) == 0;
}

static int is_macro_key(const char *key) {
    return key && key[0] == '#' && key[1] != '#' && strncmp(key, "#include", 8) != 0;
}

session *session_new(void) {
    return calloc(1, sizeof(session));
}

/* ---------------------------------------------------- what a cell changes */

/* How a cell's item relates to the session. */
typedef enum {
    PLAN_NEW,        /* defines something new, or replaces it with new storage */
    PLAN_REINIT,     /* a global of the same type: same storage, value set again */
    PLAN_KEEP_OLD,   /* a prototype of something already defined: nothing to do */
    PLAN_LOCAL       /* statements and other items that do not persist */
} plan;

static plan plan_item(const session *s, const cell_item *it) {
    switch (it->kind) {
    case ITEM_GLOBAL: {
        long e = find_entry(s, it->keys[0]);
        if (e >= 0 && s->e[e].kind == ITEM_GLOBAL && !it->unsized &&
            strcmp(s->e[e].type_text, it->type_text) == 0)
            return PLAN_REINIT;
        return PLAN_NEW;
    }
    case ITEM_DECLARATION:
        if (it->nkeys && find_entry(s, it->keys[0]) >= 0) return PLAN_KEEP_OLD;
        return PLAN_NEW;
    case ITEM_DIRECTIVE: case ITEM_TYPE: case ITEM_FUNCTION:
        return PLAN_NEW;
    default:
        return PLAN_LOCAL;
    }
}

/* Whether TEXT uses KEY: a name ("T", or "#N" for the macro N) or a tag
 * ("struct node"), as whole words. */
static int mentions(const char *text, const char *key) {
    if (key[0] == '#') key++;
    if (!*key || key[0] == '#' || strncmp(key, "include", 7) == 0) return 0;
    char word[300];
    const char *space = strchr(key, ' ');
    snprintf(word, sizeof word, "%s", space ? space + 1 : key);   /* the tag's name */
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        if (p > text && lexer_ident_char((unsigned char)p[-1])) continue;
        if (lexer_ident_char((unsigned char)p[n])) continue;
        if (!space) return 1;
        /* a tag: the keyword must come before it */
        const char *q = p;
        while (q > text && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n')) q--;
        size_t kw = (size_t)(space - key);
        if ((size_t)(q - text) >= kw && strncmp(q - kw, key, kw) == 0) return 1;
    }
    return 0;
}

/* Plan the cell: what each item does to the session, the keys it defines
 * anew, and the entries that must go because a type or macro they use is
 * redefined with other text (they were compiled against the old one). */
static void plan_cell(const session *s, const cell *c, plan *plans, strmap *defined, unsigned char *dropped) {
    for (size_t j = 0; j < c->n; j++) {
        plans[j] = plan_item(s, &c->items[j]);
        if (plans[j] == PLAN_NEW)
            for (int k = 0; k < c->items[j].nkeys; k++) strmap_put(defined, c->items[j].keys[k], (long)j);
    }
    /* the types and macros whose text changes */
    const char *changed[256];
    size_t nchanged = 0;
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (plans[j] != PLAN_NEW || (it->kind != ITEM_TYPE && it->kind != ITEM_DIRECTIVE)) continue;
        for (int k = 0; k < it->nkeys && nchanged < 256; k++) {
            long e = find_entry(s, it->keys[k]);
            if (e >= 0 && strcmp(s->e[e].text, it->proto ? it->proto : it->text) != 0)
                changed[nchanged++] = it->keys[k];
        }
    }
    /* entries that use them, and entries that use those (a struct in a struct) */
    for (int grew = nchanged > 0; grew;) {
        grew = 0;
        for (size_t i = 0; i < s->n; i++) {
            const entry *e = &s->e[i];
            if (dropped[i] || e->kind == ITEM_DIRECTIVE) continue;
            int redefined = 0;
            for (int k = 0; k < e->nkeys && !redefined; k++) redefined = strmap_get(defined, e->keys[k]) >= 0;
            if (redefined) continue;
            const char *text = e->type_text ? e->type_text : e->text;
            for (size_t k = 0; k < nchanged && !dropped[i]; k++)
                if (mentions(text, changed[k])) dropped[i] = 1;
            if (dropped[i] && e->kind == ITEM_TYPE) {
                for (int k = 0; k < e->nkeys && nchanged < 256; k++) changed[nchanged++] = e->keys[k];
                grew = 1;
            }
        }
    }
    /* a global defined again with the same text still needs new storage
     * if a macro or type in its text changed since (int a[N], N bigger) */
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (plans[j] != PLAN_REINIT) continue;
        long g = find_entry(s, it->keys[0]);
        int stale = g >= 0 && dropped[g];
        for (size_t k = 0; k < nchanged && !stale; k++) stale = mentions(it->type_text, changed[k]);
        for (size_t i = 0; i < s->n && !stale && g >= 0; i++)
            if (s->e[i].gen > s->e[g].gen && (s->e[i].kind == ITEM_TYPE || s->e[i].kind == ITEM_DIRECTIVE))
                for (int k = 0; k < s->e[i].nkeys && !stale; k++) stale = mentions(it->type_text, s->e[i].keys[k]);
        if (stale) {
            plans[j] = PLAN_NEW;
            if (g >= 0) dropped[g] = 1;
            strmap_put(defined, it->keys[0], (long)j);
        }
    }
}

/* ------------------------------------------------- the translation unit */

typedef struct diag_ctx diag_ctx;
static char *declared_type(const session *s, const cell *c, const diag_ctx *d, const char *expr);

/* Where each line of the translation unit came from, for messages. */
struct diag_ctx {
    const session *s;
    const cell *c;
    const char *code;
    const strmap *defined;  /* key -> the cell's item that defines it anew */
    const unsigned char *dropped;  /* per entry: goes with this cell (plan_cell) */
    size_t *entry_line;     /* first TU line of each session entry in the prelude */
    size_t *entry_of;       /* per prelude entry index in s->e */
    size_t nprelude;
    buf errors, warnings;
    int nerrors;
    int ndiags;             /* messages of any kind */
    char *first_error;
};

/* Text of cell line N (1-based), without its newline. */
static char *cell_line(const char *code, int n) {
    const char *p = code;
    for (int i = 1; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p) return NULL;
    const char *e = strchr(p, '\n');
    return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* The first cell line that uses NAME as a whole word, or 0. */
static int line_using(const char *code, const char *name) {
    size_t n = strlen(name);
    int line = 1;
    for (const char *p = code; *p; p++) {
        if (*p == '\n') { line++; continue; }
        if (strncmp(p, name, n) == 0 && (p == code || !lexer_ident_char((unsigned char)p[-1])) &&
            !lexer_ident_char((unsigned char)p[n]))
            return line;
    }
    return 0;
}

/* Report MSG (kind and text, e.g. "error: 'x' undeclared") at cell LINE:
 * the line's source, and a caret under the name the message quotes. */
static void report_at(diag_ctx *d, buf *out, int line, const char *msg, int is_error) {
    int last = count_lines(d->code) + 1;
    if (line > last) line = last;      /* the unit's own code after the cell: its end */
    buf_printf(out, "line %d: %s\n", line, msg);
    char *src = cell_line(d->code, line);
    if (src) {
        buf_printf(out, "%5d | %s\n", line, src);
        const char *q1 = strchr(msg, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
        if (q1 && q2 && q2 > q1 + 1) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
            const char *at = strstr(src, name);
            if (at) {
                buf_printf(out, "      | %*s^", (int)(at - src), "");
                for (size_t k = 1; k < strlen(name); k++) buf_puts(out, "~");
                buf_puts(out, "\n");
            }
        }
        free(src);
    }
    if (is_error && !d->first_error) {
        char *fe = NULL;
        if (asprintf(&fe, "line %d: %s", line, msg) >= 0) d->first_error = fe;
    }
}

/* The names the unit adds for a global X (__ck_size_X, __ck_len_X) are
 * the user's X in a message. */
static void hide_internal_names(char *msg) {
    static const char *const prefixes[] = { "__ck_size_", "__ck_len_", NULL };
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        for (char *p = strstr(msg, prefixes[i]); p; p = strstr(p, prefixes[i]))
            memmove(p, p + n, strlen(p + n) + 1);
    }
}

/* libtcc's messages look like "cell:3: error: 'x' undeclared"; some carry
 * "In file included from" lines first. Turn them into the cell's terms:
 * "line 3: error: ...", the source line, and a caret under the name the
 * message quotes when it can be found on that line. */
static void on_diag(void *opaque, const char *msg) {
    diag_ctx *d = opaque;
    d->ndiags++;
    const char *last = strrchr(msg, '\n');
    const char *m = last ? last + 1 : msg;
    int is_error = strstr(m, ": warning: ") == NULL;
    buf *out = is_error ? &d->errors : &d->warnings;
    int line = 0;
    char kindmsg[1024], name[256];
    if (sscanf(m, "cell:%d: %1023[^\n]", &line, kindmsg) == 2) {
        hide_internal_names(kindmsg);
        report_at(d, out, line, kindmsg, is_error);
    } else if (sscanf(m, "<session>:%d: %1023[^\n]", &line, kindmsg) == 2) {
        /* a definition from an earlier cell no longer compiles */
        const char *what = "an earlier definition";
        for (size_t i = 0; i < d->nprelude; i++)
            if ((size_t)line >= d->entry_line[i]) {
                const entry *e = &d->s->e[d->entry_of[i]];
                if (e->nkeys) what = e->keys[0];
            }
        if (!is_error) return;             /* its warnings were shown when it was defined */
        buf_printf(out, "in '%s', defined in an earlier cell: %s\n", what, kindmsg);
        if (!d->first_error) {
            char *fe = NULL;
            if (asprintf(&fe, "'%s' (from an earlier cell): %s", what, kindmsg) >= 0) d->first_error = fe;
        }
    } else if (sscanf(m, "tcc: error: undefined symbol '%255[^']'", name) == 1 &&
               (line = line_using(d->code, name)) > 0) {
        /* the linker names no line: the first use is the one to fix */
        snprintf(kindmsg, sizeof kindmsg, "error: undefined symbol '%s' (no cell or library defines it)", name);
        report_at(d, out, line, kindmsg, 1);
    } else {
        if (!is_error) { buf_printf(out, "%s\n", msg); return; }
        buf_printf(out, "%s\n", msg);
        if (!d->first_error) d->first_error = strdup(m);
    }
    if (is_error) d->nerrors++;
}

/* R fails with ENAME and EVALUE. The lines of TRACE (NULL: EVALUE) are
 * the traceback; front ends show it, not ename, so the first leads with
 * it, as Python kernels do ("CompileError: line 3: error: ..."). */
void session_result_error(session_result *r, const char *ename, const char *evalue, const char *trace) {
    r->ok = 0;
    r->ename = xstrdup(ename);
    r->evalue = xstrdup(evalue);
    if (!trace) trace = evalue ? evalue : "";
    size_t n = 1;
    for (const char *p = trace; *p; p++) n += *p == '\n';
    if (!(r->traceback = calloc(n, sizeof(char *)))) return;
    const char *p = trace;
    do {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = NULL;
        if (r->ntraceback > 0 || asprintf(&line, "%s: %.*s", ename, (int)len, p) < 0)
            line = strndup(p, len);
        r->traceback[r->ntraceback++] = line;
        p = e ? e + 1 : p + len;
    } while (*p);
}

/* Build the translation unit for cell C against session S. */
static void add_generic_types(buf *b, const session *s, const cell *c, const diag_ctx *d);

/* System headers come preprocessed from the cache (headers.h): the
 * #include <...> entries and the macros defined among them, up to the last
 * such include. Marks those entries in CACHED (may be NULL) and returns the
 * text, or NULL when there are none or they cannot be preprocessed (then
 * the prelude has them as written). */
static const char *cached_headers(const session *s, const char *options, unsigned char *cached) {
    long last_include = -1;
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].kind == ITEM_DIRECTIVE && is_system_include(s->e[i].keys[0])) last_include = (long)i;
    if (last_include < 0) return NULL;
    buf directives = {0};
    for (long i = 0; i <= last_include; i++) {
        const entry *e = &s->e[i];
        if (e->kind != ITEM_DIRECTIVE || !(is_system_include(e->keys[0]) || is_macro_key(e->keys[0])))
            continue;
        buf_printf(&directives, "%s\n", e->text);
        if (cached) cached[i] = 1;
    }
    const char *text = headers_text(directives.s, options);
    free(directives.s);
    if (!text && cached) memset(cached, 0, s->n + 1);
    return text;
}

static void emit_to_buf(void *ud, const char *text, size_t len) { buf_add(ud, text, len); }

/* TEXT, or with SOME only the parts of it that the code in USERS needs. */
static void put_declarations(buf *b, const char *text, int some, const char *const *users, size_t n) {
    decls *ix = some ? decls_for(text) : NULL;
    if (ix) decls_select(ix, users, n, emit_to_buf, b);
    else buf_puts(b, text);
}

/* The cell's globals by name: the first item of each, and the names
 * defined with an initializer more than once. Keys are the items'. */
typedef struct { strmap first, first_init, init_twice; } global_names;

static void global_names_of(const cell *c, global_names *g) {
    memset(g, 0, sizeof *g);
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (it->kind != ITEM_GLOBAL || !it->nkeys) continue;
        strmap_put(&g->first, it->keys[0], (long)j);
        if (it->init && strmap_get(&g->first_init, it->keys[0]) >= 0) strmap_put(&g->init_twice, it->keys[0], 1);
        if (it->init) strmap_put(&g->first_init, it->keys[0], (long)j);
    }
}

static void global_names_free(global_names *g) {
    strmap_free(&g->first);
    strmap_free(&g->first_init);
    strmap_free(&g->init_twice);
}

/* The cell's global J at file scope: its definition without the
 * initializer (that runs with the statements), and its size and length
 * for later cells. A name defined twice with initializers gets one here
 * too, so that the compiler says "redefinition of 'x'" as tcc would. */
static void put_global(buf *b, const cell *c, size_t j, const global_names *g) {
    const cell_item *it = &c->items[j];
    if (!it->nkeys) { buf_printf(b, "#line %d \"cell\"\n%s\n", it->line, it->text); return; }
    size_t len = strlen(it->text);
    if (it->init && !it->unsized && strmap_get(&g->init_twice, it->keys[0]) >= 0 && len && it->text[len - 1] == ';')
        buf_printf(b, "#line %d \"cell\"\n%.*s = {0};\n", it->line, (int)(len - 1), it->text);
    else
        buf_printf(b, "#line %d \"cell\"\n%s\n", it->line, it->text);
    if (strmap_get(&g->first, it->keys[0]) != (long)j || (it->unsized && !it->init))
        return;                          /* said once a name; `int a[];` has no size yet */
    buf_printf(b, "unsigned long __ck_size_%s = sizeof %s;\n", it->keys[0], it->keys[0]);
    if (it->unsized)
        buf_printf(b, "unsigned long __ck_len_%s = sizeof %s / sizeof *%s;\n", it->keys[0], it->keys[0], it->keys[0]);
}

/* The priority of a function's __attribute__((WHICH)) or
 * __attribute__((WHICH(N))) in TEXT, its head up to the body: N, 65536
 * without one (after all numbered ones, as gcc orders them), or -1. */
static long structor_priority(const char *text, const char *which) {
    const char *body = strchr(text, '{');
    size_t n = strlen(which);
    const char *a = strstr(text, "__attribute__");
    for (const char *p = a ? strstr(a, which) : NULL; p && (!body || p < body); p = strstr(p + n, which)) {
        if (lexer_ident_char((unsigned char)p[-1]) || lexer_ident_char((unsigned char)p[n])) continue;
        const char *q = p + n;
        while (*q == ' ' || *q == '_') q++;
        return *q == '(' ? strtol(q + 1, NULL, 10) : 65536;
    }
    return -1;
}

/* Whether the cell defines the function NAME. */
static int cell_defines_function(const cell *c, const char *name) {
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_FUNCTION && c->items[j].nkeys && !strcmp(c->items[j].keys[0], name))
            return 1;
    return 0;
}

/* Calls to the cell's constructors (WHICH "constructor": lowest priority
 * first, then in order of definition) or destructors (highest first, then
 * last defined first), as a program's start and end run them: libtcc
 * relocates .init_array and .fini_array but never runs them. The
 * attribute may be on the definition or on a prototype in the cell. */
static void put_structors(buf *b, const cell *c, const char *which) {
    int dtor = which[0] == 'd';
    long *prio = calloc(c->n + 1, sizeof *prio);
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        prio[j] = -1;
        if ((it->kind == ITEM_FUNCTION || it->kind == ITEM_DECLARATION) && it->nkeys)
            prio[j] = structor_priority(it->text, which);
        if (prio[j] >= 0 && !cell_defines_function(c, it->keys[0])) prio[j] = -1;
        for (size_t k = 0; k < j && prio[j] >= 0; k++)     /* once a name */
            if (prio[k] >= 0 && !strcmp(c->items[k].keys[0], it->keys[0])) prio[j] = -1;
    }
    for (;;) {                          /* the next priority, and each function of it */
        long p = -1;
        for (size_t j = 0; j < c->n; j++)
            if (prio[j] >= 0 && (p < 0 || (dtor ? prio[j] > p : prio[j] < p))) p = prio[j];
        if (p < 0) break;
        for (size_t i = 0; i < c->n; i++) {
            size_t j = dtor ? c->n - 1 - i : i;
            if (prio[j] == p) buf_printf(b, "%s();\n", c->items[j].keys[0]);
            if (prio[j] == p) prio[j] = -1;
        }
    }
    free(prio);
}

static void put_run_function(buf *b, const session *s, const cell *c, const plan *plans, diag_ctx *d, int show);
static char *with_headers(buf *b, const char *text, int some);

/* The translation unit for cell C: nb.h, the session's system headers,
 * the prelude of earlier definitions, the cell's items and its run
 * function. With SOME, of nb.h and the headers only what the rest uses
 * (decls.h). In scratch memory (buf.scratch). */
static char *build_unit(const session *s, const cell *c, const plan *plans, diag_ctx *d, int show,
                        const char *options, int some) {
    buf b = { .scratch = 1 };     /* 60 KB a cell: kept out of pages the snapshot shares */
    size_t tu_line = 1;
    unsigned char *cached = calloc(s->n + 1, 1);
    const char *text = cached_headers(s, options, cached);
    buf_puts(&b, "\n#line 1 \"<session>\"\n");

    /* The prelude: every entry the cell does not redefine. A directive the
     * cell redefines takes the old one's place, since later entries may
     * expand its macro. */
    d->entry_line = calloc(s->n + 1, sizeof(size_t));
    d->entry_of = calloc(s->n + 1, sizeof(size_t));
    unsigned char *emitted = calloc(c->n + 1, 1);
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        long by = -1;
        for (int k = 0; k < e->nkeys && by < 0; k++) by = strmap_get(d->defined, e->keys[k]);
        if (cached[i]) {
            /* in the cache: a cell's copy of an include adds nothing; its
             * new value for a macro comes after, in the cell's own part */
            if (by >= 0 && is_system_include(e->keys[0])) emitted[by] = 1;
            continue;
        }
        if (d->dropped && d->dropped[i]) continue;
        /* a directive or type the cell redefines takes the old one's place:
         * entries after it (externs, prototypes) may use it */
        if (by >= 0 && e->kind == c->items[by].kind && !emitted[by] &&
            (e->kind == ITEM_DIRECTIVE || e->kind == ITEM_TYPE)) {
            buf_printf(&b, "#line %d \"cell\"\n%s\n#line %zu \"<session>\"\n",
                       c->items[by].line, c->items[by].text, tu_line);
            emitted[by] = 1;
            continue;
        }
        if (by >= 0) continue;
        d->entry_line[d->nprelude] = tu_line;
        d->entry_of[d->nprelude++] = i;
        if (e->kind == ITEM_GLOBAL && e->type_text) {
            /* Hidden: libtcc 0.9.27 reaches a default-visibility extern
             * through its PLT in float arithmetic (gy * gx reads the stub's
             * bytes); a hidden one is addressed directly, which works since
             * all cell data lives in one code arena. Spelled __attribute:
             * glibc's <sys/cdefs.h> defines __attribute__ away for compilers
             * that are not GCC, tcc among them, so after any system header
             * __attribute__ said nothing and x + y of two doubles was wrong. */
            buf_printf(&b, "extern %s __attribute((visibility(\"hidden\")));\n", e->type_text);
        } else {
            buf_puts(&b, e->text);
            buf_puts(&b, "\n");
        }
        tu_line += (size_t)count_lines(e->text) + 1;
    }

    /* The cell's file-scope items, in its order. */
    global_names globals;
    global_names_of(c, &globals);
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (!emitted[j] && it->kind == ITEM_DIRECTIVE && is_macro_key(it->keys[0])) {
            long e = find_entry(s, it->keys[0]);
            if (e >= 0 && cached[e]) buf_printf(&b, "#undef %s\n", it->keys[0] + 1);
        }
        if (emitted[j] || (plans[j] == PLAN_LOCAL && it->kind != ITEM_OTHER)) continue;
        if (plans[j] == PLAN_REINIT) continue;     /* the prelude declares it */
        if (it->kind == ITEM_GLOBAL) put_global(&b, c, j, &globals);
        else buf_printf(&b, "#line %d \"cell\"\n%s\n", it->line, it->text);
        if (it->open_end) break;              /* the compiler reaches the end there */
    }
    global_names_free(&globals);
    free(emitted);
    free(cached);
    if (!c->n || !c->items[c->n - 1].open_end) put_run_function(&b, s, c, plans, d, show);
    return with_headers(&b, text, some);
}

/* The statement that shows the value of the trailing expression IT. */
static void put_value(buf *b, const session *s, const cell *c, diag_ctx *d, const cell_item *it) {
    /* _Generic names the type without evaluating; the value goes
     * through varargs, so arrays decay and it is evaluated once. A
     * bare name of a global keeps the type its declaration spelled
     * (size_t, not unsigned long); a function shows its prototype. */
    int is_sizeof = strncmp(it->text, "sizeof", 6) == 0;
    char *named = declared_type(s, c, d, it->text);
    if (named && named[0] == '(') {
        buf_printf(b, "#line %d \"cell\"\nnb__show_as(\"%s\", \"p:\", sizeof(void *), (void *)(%s));\n",
                   it->line, named + 1, it->text);
        free(named);
        return;
    }
    if (named) buf_printf(b, "#line %d \"cell\"\nnb__show_as(\"%s\", _Generic((%s)", it->line, named, it->text);
    else buf_printf(b, "#line %d \"cell\"\nnb__show(_Generic((%s)", it->line, it->text);
    free(named);
    if (is_sizeof) buf_puts(b, ", default: \"u:size_t\"");
    else add_generic_types(b, s, c, d);
    buf_printf(b, "), sizeof(%s), (%s));\n", it->text, it->text);
}

/* The cell's run function: its constructors, statements and initializers
 * in order, then main; and its destructors, in a function of their own. */
static void put_run_function(buf *b, const session *s, const cell *c, const plan *plans, diag_ctx *d, int show) {
    buf_puts(b, "void __ck_run(void) {\n");
    put_structors(b, c, "constructor");
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (it->kind == ITEM_STATEMENT) {
            buf_printf(b, "#line %d \"cell\"\n%s\n", it->line, it->text);
        } else if (it->kind == ITEM_EXPRESSION && show) {
            put_value(b, s, c, d, it);
        } else if (it->kind == ITEM_EXPRESSION) {
            buf_printf(b, "#line %d \"cell\"\n%s;\n", it->line, it->text);
        } else if (it->kind == ITEM_GLOBAL && !it->unsized) {
            const char *name = it->keys[0];
            if (it->init)
                buf_printf(b, "#line %d \"cell\"\n{ __typeof__(%s) __ck_v = %s; nb__assign((void *)&%s, &__ck_v, sizeof %s); }\n",
                           it->init_line, name, it->init, name, name);
            else if (plans[j] == PLAN_REINIT)
                buf_printf(b, "nb__zero((void *)&%s, sizeof %s);\n", name, name);
        }
    }
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_FUNCTION && c->items[j].nkeys &&
            strcmp(c->items[j].keys[0], "main") == 0)
            buf_puts(b, "nb__run_main((int (*)(int, char **))main);\n");
    buf_puts(b, "}\n");
    /* after the exit handlers (session_commit_run): the destructors */
    buf_puts(b, "void __ck_fini(void) {\n");
    put_structors(b, c, "destructor");
    buf_puts(b, "}\n");
    /* libtcc lays functions out in order: this one marks where the unit's
     * code ends and its data (static locals, literals) begins */
    buf_puts(b, "void __ck_text_end(void) {}\n");
}

/* The unit: nb.h and the session's system headers (with SOME, only
 * what the code in B uses), then B. In scratch memory. */
static char *with_headers(buf *b, const char *text, int some) {
    /* A header included after the cached ones may include some of them
     * again, and only their include guards (macros no code names) stop it */
    if (some && strstr(b->s, "include")) {
        size_t n = 0;
        token *t = lexer_tokenize(b->s, &n, NULL);
        for (size_t i = 0; t && i < n && some; i++)
            if (t[i].kind == TOK_DIRECTIVE && is_include_directive(t[i].start)) some = 0;
        free(t);
    }
    /* the headers' part first: the session's macros cached with them may
     * use nb.h */
    buf headers = { .scratch = 1 };
    if (text) {
        buf_puts(&headers, "\n#line 1 \"<headers>\"\n");
        put_declarations(&headers, text, some, (const char *[]){ b->s }, 1);
    }
    buf unit = { .scratch = 1 };
    buf_puts(&unit, "#line 1 \"<ckernel>\"\n");
    put_declarations(&unit, nb_header_text, some, (const char *[]){ headers.s, b->s }, 2);
    if (headers.s) buf_add(&unit, headers.s, headers.len);
    buf_add(&unit, b->s, b->len);
    return unit.s;
}

/* The type a global's declaration gives it, for a trailing expression
 * that is just its name: "size_t" for `size_t n`; for a function, "(" and
 * its prototype; NULL otherwise (arrays too: they decay). */
static char *declared_type(const session *s, const cell *c, const diag_ctx *d, const char *expr) {
    char name[256];
    size_t a = strspn(expr, " \t\n"), n = 0;
    while (lexer_ident_char((unsigned char)expr[a + n])) n++;
    if (n == 0 || n >= sizeof name || expr[a + n + strspn(expr + a + n, " \t\n")]) return NULL;
    snprintf(name, sizeof name, "%.*s", (int)n, expr + a);
    const char *type_text = NULL, *proto = NULL;
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (!it->nkeys || strcmp(it->keys[0], name) != 0) continue;
        if (it->kind == ITEM_GLOBAL) type_text = it->type_text;
        if (it->kind == ITEM_FUNCTION) proto = it->proto;
    }
    long e = type_text || proto ? -1 : find_entry(s, name);
    if (e >= 0 && !(d->dropped && d->dropped[e])) {
        if (s->e[e].kind == ITEM_GLOBAL) type_text = s->e[e].type_text;
        if (s->e[e].kind == ITEM_FUNCTION) proto = s->e[e].text;
    }
    char *out = NULL;
    if (proto) {
        size_t len = strlen(proto);
        while (len && (proto[len - 1] == ';' || proto[len - 1] == ' ')) len--;
        if (asprintf(&out, "(%.*s", (int)len, proto) < 0) out = NULL;
    } else if (type_text && !strchr(type_text, '[') && !strchr(type_text, '"')) {
        /* drop the name from the declarator: "int *p" -> "int *" */
        const char *at = NULL;
        for (const char *q = strstr(type_text, name); q; q = strstr(q + 1, name))
            if ((q == type_text || !lexer_ident_char((unsigned char)q[-1])) &&
                !lexer_ident_char((unsigned char)q[n]))
                at = q;
        if (at && asprintf(&out, "%.*s%s", (int)(at - type_text), type_text, at + n) >= 0) {
            size_t len = strlen(out);
            while (len && out[len - 1] == ' ') out[--len] = 0;
        }
    }
    if (out && strchr(out, '\\')) { free(out); out = NULL; }
    return out;
}

/* The _Generic associations that name a value's type: C's arithmetic
 * types, common pointers, and the struct and union types in scope (the
 * prelude's and the cell's, by typedef name when they have one). A clash,
 * such as two typedefs of one struct, fails the compile; the cell is then
 * compiled again without showing its value. */
static void add_type_name(buf *b, char *const *keys, int nkeys, const char *text) {
    if (nkeys == 0 || (!strstr(text, "struct") && !strstr(text, "union"))) return;
    if (strstr(text, "typedef") && !strchr(text, '}')) return;   /* typedef of a pointer, or a copy */
    const char *name = keys[0];
    for (int k = 0; k < nkeys; k++)
        if (strncmp(keys[k], "struct ", 7) && strncmp(keys[k], "union ", 6)) name = keys[k];
    buf_printf(b, ", %s: \"?:%s\", %s *: \"p:%s *\"", name, name, name, name);
}

static void add_generic_types(buf *b, const session *s, const cell *c, const diag_ctx *d) {
    static const char *const base[] = {
        "_Bool", "b:bool", "char", "c:char", "signed char", "i:signed char",
        "unsigned char", "u:unsigned char", "short", "i:short",
        "unsigned short", "u:unsigned short", "int", "i:int",
        "unsigned int", "u:unsigned int", "long", "i:long",
        "unsigned long", "u:unsigned long", "long long", "i:long long",
        "unsigned long long", "u:unsigned long long", "float", "f:float",
        "double", "f:double", "long double", "F:long double",
        "char *", "s:char *", "const char *", "s:const char *",
        "signed char *", "p:signed char *", "unsigned char *", "p:unsigned char *",
        "void *", "p:void *", "const void *", "p:const void *",
        "int *", "p:int *", "const int *", "p:const int *", "long *", "p:long *",
        "unsigned int *", "p:unsigned int *", "unsigned long *", "p:unsigned long *",
        "short *", "p:short *", "float *", "p:float *", "double *", "p:double *",
        "char **", "p:char **", "const char **", "p:const char **",
        "int **", "p:int **", "void **", "p:void **", NULL
    };
    for (int i = 0; base[i]; i += 2) buf_printf(b, ", %s: \"%s\"", base[i], base[i + 1]);
    for (size_t i = 0; i < d->nprelude; i++) {
        const entry *e = &s->e[d->entry_of[i]];
        if (e->kind == ITEM_TYPE) add_type_name(b, e->keys, e->nkeys, e->text);
    }
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_TYPE)
            add_type_name(b, c->items[j].keys, c->items[j].nkeys, c->items[j].text);
    buf_puts(b, ", default: \"?\"");
}

/* ---------------------------------------------------------------- commit */

static void entry_clear(entry *e) {
    for (int k = 0; k < e->nkeys; k++) free(e->keys[k]);
    free(e->text);
    free(e->doc);
    free(e->type_text);
    memset(e, 0, sizeof *e);
}

/* A cell that compiled and is waiting to be committed and run. */
struct session_cell {
    cell c;
    plan *plans;
    strmap defined;              /* key -> item, for items that define anew */
    unsigned char *dropped;      /* per session entry: goes (plan_cell) */
    void **addr;                 /* per item: its function or global */
    unsigned long *length;       /* per item: an unsized array's length */
    unsigned long *size;         /* per item: a global's size */
    void (*run)(void);
    void (*fini)(void);          /* the cell's destructors */
    void *text_end;              /* __ck_text_end: the end of the unit's code */
};

static void entry_set(entry *e, const cell_item *it, void *addr) {
    memset(e, 0, sizeof *e);
    e->line = it->line;
    e->kind = it->kind;
    for (int k = 0; k < it->nkeys; k++) e->keys[k] = strdup(it->keys[k]);
    e->nkeys = it->nkeys;
    e->text = strdup(it->proto ? it->proto : it->text);
    e->type_text = xstrdup(it->type_text);
    e->doc = xstrdup(it->doc);
    e->addr = addr;
}

/* Record the cell's new definitions in one pass. A directive or type
 * takes the place of the entry it redefines; a function, global or
 * prototype goes to the end, since it may use types defined after its old
 * place. Entries plan_cell dropped go, each with a note in NOTICES. */
static void commit_items(session *s, session_cell *pc, buf *notices) {
    const cell *c = &pc->c;
    /* A cell of statements only (the usual kind) changes no entry: the
     * arrays and index stay as they are, and their pages unwritten. */
    int changes = 0;
    for (size_t j = 0; j < c->n && !changes; j++) changes = pc->plans[j] == PLAN_NEW;
    for (size_t i = 0; i < s->n && !changes; i++) changes = pc->dropped[i] != 0;
    if (!changes && pc->defined.n == 0) return;
    size_t need = s->n + c->n + 1;
    if (s->spare_cap < need) {           /* reused: fresh pages would fault every cell */
        entry *grown = realloc(s->spare, need * sizeof *grown);
        if (!grown) abort();
        s->spare = grown;
        s->spare_cap = need;
    }
    entry *out = s->spare;
    unsigned char *placed = calloc(c->n + 1, 1);
    if (!placed) abort();
    s->gen++;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        entry *e = &s->e[i];
        long by = -1;
        for (int k = 0; k < e->nkeys && by < 0; k++) by = strmap_get(&pc->defined, e->keys[k]);
        if (by < 0 && !pc->dropped[i]) { out[n++] = *e; continue; }
        if (by < 0 && e->nkeys)
            buf_printf(notices, "note: '%s' is gone: it used a type or macro this cell changed (run its cell again)\n",
                       e->keys[0]);
        int in_place = by >= 0 && !placed[by] && e->kind == c->items[by].kind &&
                       (e->kind == ITEM_DIRECTIVE || e->kind == ITEM_TYPE);
        entry_clear(e);
        if (in_place) {
            entry_set(&out[n], &c->items[by], pc->addr[by]);
            out[n].count = s->count;
            out[n++].gen = s->gen;
            placed[by] = 1;
        }
    }
    for (size_t j = 0; j < c->n; j++)
        if (pc->plans[j] == PLAN_NEW && !placed[j]) {
            entry_set(&out[n], &c->items[j], pc->addr[j]);
            out[n].count = s->count;
            out[n++].gen = s->gen;
        }
    free(placed);
    s->spare = s->e;
    s->spare_cap = s->cap;
    s->e = out;
    s->cap = need;
    s->n = n;
    reindex(s);
}

/* An array defined as `T a[] = {...}` is known to later cells by its
 * length, `extern T a[4];`, so that sizeof works there too. */
static void complete_array(session *s, const char *name, unsigned long length) {
    long at = find_entry(s, name);
    if (at < 0) return;
    entry *e = &s->e[at];
    char *hole = strstr(e->type_text, "[]");
    if (!hole) return;
    char *t = NULL;
    if (asprintf(&t, "%.*s[%lu]%s", (int)(hole - e->type_text), e->type_text, length, hole + 2) < 0) return;
    free(e->type_text);
    free(e->text);
    e->type_text = t;
    if (asprintf(&e->text, "extern %s;", t) < 0) e->text = NULL;
}

/* ------------------------------------------------------------------- run */

static void diag_reset(diag_ctx *d) {
    free(d->entry_line);
    free(d->entry_of);
    free(d->errors.s);
    free(d->warnings.s);
    free(d->first_error);
    const session *s = d->s;
    const cell *c = d->c;
    const char *code = d->code;
    const strmap *defined = d->defined;
    const unsigned char *dropped = d->dropped;
    memset(d, 0, sizeof *d);
    d->s = s;
    d->c = c;
    d->code = code;
    d->defined = defined;
    d->dropped = dropped;
}

/* Compile cell C against S, showing its trailing value if SHOW. The unit,
 * or NULL with D holding the messages. */
static int compiles;     /* of the cell being prepared (session_result.compiles) */

static compile_unit *compile_cell(session *s, const cell *c, const plan *plans, diag_ctx *d,
                                  int show, const char *options) {
    /* First with only the declarations the cell uses; if that says
     * anything at all, the guess may have been wrong: again with all. */
    for (int some = !getenv("CKERNEL_ALL_DECLS"); ; some = 0) {
        char *src = build_unit(s, c, plans, d, show, options, some);
        if (getenv("CKERNEL_DUMP_UNIT")) fprintf(stderr, "%s", src);
        compile_unit *u = compile_new(options, on_diag, d);
        if (!u) return NULL;
        compile_set_cell(u, s->count);
        for (size_t i = 0; i < s->nlibs; i++) compile_add_library(u, s->libs[i]);
        /* Bind earlier definitions, except those this cell defines anew. */
        for (size_t i = 0; i < s->n; i++) {
            const entry *e = &s->e[i];
            if (!e->addr) continue;
            if (strmap_get(d->defined, e->keys[0]) < 0 && !d->dropped[i]) compile_add_symbol(u, e->keys[0], e->addr);
        }
        compile_add_symbol(u, "exit", (void *)nb__exit);    /* exit() in main ends the program */
        compile_add_symbol(u, "atexit", (void *)nb__atexit);      /* ... and runs its handlers */
        compile_add_symbol(u, "on_exit", (void *)nb__on_exit);
        int rc = compile_source(u, src);
        compiles++;
        if (some && (rc < 0 || d->ndiags)) {
            compile_free(u);
            diag_reset(d);
            continue;
        }
        if (rc < 0 || d->nerrors) {
            compile_free(u);
            return NULL;
        }
        return u;
    }
}

/* ------------------------------------------------------------- split */

static const char *session_macro(void *ud, const char *name, size_t len) {
    char key[300];
    if (len + 2 > sizeof key) return NULL;
    snprintf(key, sizeof key, "#%.*s", (int)len, name);
    long e = find_entry(ud, key);
    const entry *en = e >= 0 ? &((const session *)ud)->e[e] : NULL;
    return en && en->kind == ITEM_DIRECTIVE ? en->text : NULL;
}

/* The text that defines the session's macros, for the preprocessor:
 * nb.h, the system headers (preprocessed, their macros kept) and the
 * session's other directives, in order. A new string. */
static char *macro_context(const session *s, const char *options) {
    buf b = {0};
    buf_puts(&b, nb_header_text);
    unsigned char *cached = calloc(s->n + 1, 1);
    const char *text = cached_headers(s, options, cached);
    if (text) buf_puts(&b, text);
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].kind == ITEM_DIRECTIVE && !(cached && cached[i])) {
            buf_puts(&b, s->e[i].text);
            buf_puts(&b, "\n");
        }
    free(cached);
    return b.s;
}

/* Split CODE into OUT; preprocessed first where that decides what is a
 * definition (expand.h). */
static int split_cell(const session *s, const char *code, const char *options, cell *out) {
    if (!expand_needed(code, session_macro, (void *)s)) return cell_split(code, out);
    char *context = macro_context(s, options);
    char *expanded = expand_cell(context, code, options);
    free(context);
    if (expanded && getenv("CKERNEL_DUMP_UNIT")) fprintf(stderr, "%s\n-- the cell, preprocessed --\n", expanded);
    int rc = cell_split(expanded ? expanded : code, out);
    free(expanded);
    return rc;
}

static void session_cell_free(session_cell *pc) {
    if (!pc) return;
    cell_free(&pc->c);
    strmap_free(&pc->defined);
    free(pc->dropped);
    free(pc->plans);
    free(pc->addr);
    free(pc->length);
    free(pc->size);
    free(pc);
}

session_cell *session_prepare(session *s, const char *code, const char *cell_options, session_result *r) {
    memset(r, 0, sizeof *r);
    r->ok = 1;
    char *options = NULL;
    if (asprintf(&options, "%s %s", s->options ? s->options : "", cell_options ? cell_options : "") < 0)
        options = NULL;
    uint64_t t0 = monotime_ns();
    compiles = 0;
    session_cell *pc = calloc(1, sizeof *pc);
    if (!pc || split_cell(s, code, options, &pc->c) < 0) {
        free(pc);
        session_result_error(r, "MemoryError", "out of memory splitting the cell", "out of memory\n");
        return NULL;
    }
    cell *c = &pc->c;
    pc->plans = calloc(c->n + 1, sizeof *pc->plans);
    pc->addr = calloc(c->n + 1, sizeof *pc->addr);
    pc->length = calloc(c->n + 1, sizeof *pc->length);
    pc->size = calloc(c->n + 1, sizeof *pc->size);
    pc->dropped = calloc(s->n + 1, 1);
    plan_cell(s, c, pc->plans, &pc->defined, pc->dropped);
    int has_expression = c->n && c->items[c->n - 1].kind == ITEM_EXPRESSION;

    diag_ctx d = { .s = s, .c = c, .code = code, .defined = &pc->defined, .dropped = pc->dropped };
    compile_unit *u = compile_cell(s, c, pc->plans, &d, has_expression, options);
    if (!u && has_expression) {
        /* The value could not be shown (an array, a clashing type name):
         * run the expression as a plain statement instead. */
        diag_reset(&d);
        u = compile_cell(s, c, pc->plans, &d, 0, options);
    }
    free(options);
    if (!u) {
        if (d.warnings.s) r->diagnostics = d.warnings.s, d.warnings.s = NULL;   /* tcc shows them too */
        session_result_error(r, "CompileError", d.first_error ? d.first_error : "the cell does not compile",
                  d.errors.s ? d.errors.s : "the cell does not compile\n");
        diag_reset(&d);
        session_cell_free(pc);
        r->compile_ns = monotime_ns() - t0;
        r->compiles = compiles;
        return NULL;
    }
    /* Read what the commit needs, then free the compiler: only the code
     * in the arena stays. */
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (pc->plans[j] != PLAN_NEW || !it->nkeys) continue;
        if (it->kind != ITEM_FUNCTION && it->kind != ITEM_GLOBAL) continue;
        pc->addr[j] = compile_symbol(u, it->keys[0]);
        if (it->kind == ITEM_GLOBAL) {
            char sym[300];
            snprintf(sym, sizeof sym, "__ck_size_%s", it->keys[0]);
            const unsigned long *size = compile_symbol(u, sym);
            if (size) pc->size[j] = *size;
        }
        if (it->kind == ITEM_GLOBAL && it->unsized) {
            char sym[300];
            snprintf(sym, sizeof sym, "__ck_len_%s", it->keys[0]);
            const unsigned long *len = compile_symbol(u, sym);
            if (len) pc->length[j] = *len;
        }
    }
    pc->run = (void (*)(void))compile_symbol(u, "__ck_run");
    pc->fini = (void (*)(void))compile_symbol(u, "__ck_fini");
    pc->text_end = compile_symbol(u, "__ck_text_end");
    compile_free(u);
    if (d.warnings.s) r->diagnostics = d.warnings.s, d.warnings.s = NULL;
    diag_reset(&d);
    r->compile_ns = monotime_ns() - t0;
    r->compiles = compiles;
    return pc;
}

void session_commit_run(session *s, session_cell *pc, session_result *r) {
    /* Rebind the old definitions to the new, and say what changed type. */
    cell *c = &pc->c;
    buf notices = {0};
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (pc->plans[j] != PLAN_NEW || !it->nkeys) continue;
        if (it->kind != ITEM_FUNCTION && it->kind != ITEM_GLOBAL) continue;
        long old = find_entry(s, it->keys[0]);
        if (old < 0) continue;
        if (it->kind == ITEM_FUNCTION && s->e[old].kind == ITEM_FUNCTION && s->e[old].addr && pc->addr[j])
            compile_redirect(s->e[old].addr, pc->addr[j]);
        if (it->kind == ITEM_GLOBAL && s->e[old].kind == ITEM_GLOBAL)
            buf_printf(&notices, "note: '%s' is now '%s' (new storage; code that used the old one keeps it)\n",
                       it->keys[0], it->type_text);
    }
    commit_items(s, pc, &notices);
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (pc->plans[j] != PLAN_NEW || it->kind != ITEM_GLOBAL || !it->nkeys) continue;
        long at = find_entry(s, it->keys[0]);
        if (at >= 0) s->e[at].size = pc->size[j];
        if (it->unsized && pc->length[j]) complete_array(s, it->keys[0], pc->length[j]);
    }
    r->notices = notices.s;
    if (s->nruns == s->runs_cap) {        /* doubling: a realloc a cell moved them often */
        size_t cap = s->runs_cap ? 2 * s->runs_cap : 64;
        void **ends = realloc(s->text_ends, cap * sizeof *ends);
        if (ends) s->text_ends = ends;
        void **runs = ends ? realloc(s->runs, cap * sizeof *runs) : NULL;
        if (runs) s->runs = runs;
        if (runs && ends) s->runs_cap = cap;
    }
    if (s->nruns < s->runs_cap) {
        s->text_ends[s->nruns] = pc->text_end;
        s->runs[s->nruns++] = (void *)pc->run;
    }
    /* begin and end in this one frame: the stack is measured below it */
    nb_internal_cell_begin();
    uint64_t t1 = monotime_ns();
    if (pc->run) pc->run();
    nb__program_end();                    /* the program's exit handlers, then */
    if (pc->fini) pc->fini();             /* its destructors */
    r->run_ns = monotime_ns() - t1;
    nb_internal_cell_end(&r->measure);
    nb_internal_heap_check();      /* a block written past its end ends the cell as a crash */
    r->measure.compile_ns = r->compile_ns;
    r->measure.run_ns = r->run_ns;
    r->measured = 1;
    r->result_text = nb_internal_take_result();
    r->main_ran = nb_internal_main_status(&r->main_status);
    session_cell_free(pc);
}

void session_set_options(session *s, const char *options) {
    free(s->options);
    s->options = options && *options ? strdup(options) : NULL;
}

int session_add_library(session *s, const char *name, char **error) {
    *error = NULL;
    for (size_t i = 0; i < s->nlibs; i++) if (strcmp(s->libs[i], name) == 0) return 0;
    diag_ctx d = { .s = s };
    compile_unit *u = compile_new(s->options, on_diag, &d);
    int rc = u ? compile_add_library(u, name) : -1;
    compile_free(u);
    diag_reset(&d);
    if (rc < 0) {
        if (asprintf(error, "library '%s' not found (is its -dev package installed?)", name) < 0) *error = NULL;
        return -1;
    }
    char **libs = realloc(s->libs, (s->nlibs + 1) * sizeof *libs);
    if (!libs) return -1;
    s->libs = libs;
    s->libs[s->nlibs++] = strdup(name);
    return 0;
}

void session_reset(session *s) {
    for (size_t i = 0; i < s->n; i++) entry_clear(&s->e[i]);
    s->n = 0;
    reindex(s);
}

void session_who(const session *s, FILE *out) {
    if (s->n == 0) { fputs("The session defines nothing yet.\n", out); return; }
    static const char *const label[] = {
        [ITEM_DIRECTIVE] = "directive", [ITEM_TYPE] = "type", [ITEM_FUNCTION] = "function",
        [ITEM_DECLARATION] = "declaration", [ITEM_GLOBAL] = "global",
    };
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        const char *what = e->kind <= ITEM_GLOBAL ? label[e->kind] : "item";
        if (e->kind == ITEM_GLOBAL) {
            fprintf(out, "%-10s %s\n", what, e->type_text);
        } else {
            /* one line: the first line of its text */
            const char *nl = strchr(e->text, '\n');
            int n = nl ? (int)(nl - e->text) : (int)strlen(e->text);
            fprintf(out, "%-10s %.*s%s\n", what, n > 100 ? 100 : n, e->text, nl || n > 100 ? " ..." : "");
        }
    }
}

/* Whether A, found after the function at START, lies past the end of
 * START's unit's code: then it is that unit's data, not code. Reads only. */
static int past_code(const session *s, const void *start, const char *a) {
    const char *end = NULL;
    for (size_t i = 0; i < s->nruns; i++) {
        const char *e = s->text_ends[i];
        if (e && e > (const char *)start && (!end || e < end)) end = e;
    }
    return end && a >= end;
}

int session_symbolize(const session *s, const void *addr, const char **name, unsigned long *offset,
                      unsigned long *size) {
    if (size) *size = 0;
    const entry *best = NULL;
    const char *a = addr;
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        if (!e->addr || !e->nkeys || (const char *)e->addr > a) continue;
        if (e->kind == ITEM_GLOBAL) {
            if (a < (const char *)e->addr + (e->size ? e->size : 1)) { best = e; break; }
        } else if (e->kind == ITEM_FUNCTION && compile_in_arena(addr)) {
            if (!best || best->kind != ITEM_FUNCTION || (const char *)e->addr > (const char *)best->addr) best = e;
        }
    }
    /* a cell's statements run in a function of their own */
    const char *run = NULL;
    for (size_t i = 0; i < s->nruns; i++)
        if ((const char *)s->runs[i] <= a && (!run || (const char *)s->runs[i] > run)) run = s->runs[i];
    if (run && compile_in_arena(addr) && (!best || (best->kind == ITEM_FUNCTION && run > (const char *)best->addr))) {
        if (past_code(s, run, a)) return 0;
        *name = "the cell's statements";
        *offset = (unsigned long)(a - run);
        return 'f';
    }
    if (!best) return 0;
    if (best->kind == ITEM_FUNCTION && past_code(s, best->addr, a)) return 0;
    *name = best->keys[0];
    *offset = (unsigned long)(a - (const char *)best->addr);
    if (size && best->kind == ITEM_GLOBAL) *size = best->size;
    return best->kind == ITEM_GLOBAL ? 'g' : 'f';
}

void session_set_count(session *s, int count) { s->count = count; }

int session_lines(session *s, const char *code, const char *cell_options, const char *const *names,
                  const unsigned long *offsets, int *lines, size_t n) {
    /* the unit exactly as session_prepare built it: same session, same cell */
    char *options = NULL;
    if (asprintf(&options, "%s %s", s->options ? s->options : "", cell_options ? cell_options : "") < 0)
        options = NULL;
    cell c = {0};
    if (split_cell(s, code, options, &c) < 0) { free(options); return -1; }
    plan *plans = calloc(c.n + 1, sizeof *plans);
    unsigned char *dropped = calloc(s->n + 1, 1);
    strmap defined = {0};
    plan_cell(s, &c, plans, &defined, dropped);
    int has_expression = c.n && c.items[c.n - 1].kind == ITEM_EXPRESSION;
    diag_ctx d = { .s = s, .c = &c, .code = code, .defined = &defined, .dropped = dropped };
    char *src = build_unit(s, &c, plans, &d, has_expression, options, 0);
    const char **fn = calloc(n + 1, sizeof *fn);
    for (size_t i = 0; i < n; i++)          /* the statements' function has a name of its own */
        fn[i] = strcmp(names[i], "the cell's statements") == 0 ? "__ck_run" : names[i];
    int rc = compile_lines(src, options, fn, offsets, lines, n);
    free(fn);
    free(options);
    diag_reset(&d);
    strmap_free(&defined);
    free(dropped);
    free(plans);
    cell_free(&c);
    return rc;
}

int session_where_defined(const session *s, const char *name, int *count, int *line) {
    long e = find_entry(s, name);
    if (e < 0 || !s->e[e].line) return 0;
    *count = s->e[e].count;
    *line = s->e[e].line;
    return 1;
}

size_t session_size(const session *s) { return s->n; }

void session_get(const session *s, size_t i, session_view *v) {
    const entry *e = &s->e[i];
    v->kind = e->kind;
    v->keys = e->keys;
    v->nkeys = e->nkeys;
    v->text = e->text;
    v->type_text = e->type_text;
    v->doc = e->doc;
}

const char *session_headers(session *s) {
    const char *text = cached_headers(s, s->options, NULL);
    if (!text) return NULL;
    if (!s->headers || strcmp(s->headers, text) != 0) {
        free(s->headers);
        s->headers = strdup(text);     /* the cache may drop its copy */
    }
    return s->headers;
}

void session_result_free(session_result *r) {
    free(r->ename);
    free(r->evalue);
    for (size_t i = 0; i < r->ntraceback; i++) free(r->traceback[i]);
    free(r->traceback);
    free(r->diagnostics);
    free(r->notices);
    free(r->result_text);
    memset(r, 0, sizeof *r);
}
