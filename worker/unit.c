/* unit.c - the C translation unit compiled for a cell (session_impl.h).
 *
 * One unit a cell: nb.h and the session's system headers (with only the
 * declarations the rest uses, decls.h), the prelude of earlier definitions
 * (externs and prototypes, bound by address at link), the cell's own
 * file-scope items with #line marks, and __ck_run: its statements, its
 * globals' initializers, a trailing expression shown through _Generic, and
 * main. Writes text only: compiling it is compile.c's, what the session
 * keeps is session.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decls.h"
#include "headers.h"
#include "lexer.h"
#include "scratch.h"
#include "session_impl.h"

static char *declared_type(const session *s, const cell *c, const diag_ctx *d, const char *expr);
static void add_generic_types(textbuf *b, const session *s, const cell *c, const diag_ctx *d);

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

/* Whether entry E can be in the cached headers' text: an #include <...>
 * or a macro (a directive of its own). */
static int cacheable(const entry *e) {
    return e->kind == ITEM_DIRECTIVE && (is_system_include(e->keys[0]) || is_macro_key(e->keys[0]));
}

/* System headers come preprocessed from the cache (headers.h): the
 * #include <...> entries and the macros defined among them, up to the last
 * such include. Sets *LAST (may be NULL) for unit_is_cached and returns the
 * text, or NULL when there are none or they cannot be preprocessed (then
 * the prelude has them as written). Walks the session's directives only. */
const char *unit_cached_headers(const session *s, const char *options, long *last) {
    long last_include = -1;
    size_t upto = 0;                    /* directives up to the last include */
    for (size_t k = 0; k < s->ndirectives; k++)
        if (is_system_include(s->e[s->directives[k]].keys[0])) {
            last_include = (long)s->directives[k];
            upto = k + 1;
        }
    if (last) *last = -1;
    if (last_include < 0) return NULL;
    textbuf directives = {0};
    for (size_t k = 0; k < upto; k++) {
        const entry *e = &s->e[s->directives[k]];
        if (cacheable(e)) textbuf_printf(&directives, "%s\n", e->text);
    }
    const char *text = headers_text(directives.s, options);
    free(directives.s);
    if (text && last) *last = last_include;
    return text;
}

int unit_is_cached(const session *s, long last, size_t i) {
    return last >= 0 && i <= (size_t)last && cacheable(&s->e[i]);
}

int unit_only_new_names(const session *s, const cell *c, const plan *plans) {
    for (size_t j = 0; j < c->n; j++)
        for (int k = 0; plans[j] == PLAN_NEW && k < c->items[j].nkeys; k++)
            if (session_find(s, c->items[j].keys[k]) >= 0) return 0;
    return 1;
}

static void emit_to_buf(void *ud, const char *text, size_t len) { textbuf_add(ud, text, len); }

/* TEXT, or with SOME only the parts of it that NAMES (decls_names) and the
 * code in USERS need. */
static void put_declarations(textbuf *b, const char *text, int some, const char *names,
                             const char *const *users, size_t n) {
    decls *ix = some ? decls_for(text) : NULL;
    if (ix) decls_select_names(ix, names, users, n, emit_to_buf, b);
    else textbuf_puts(b, text);
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

/* `#line LINE "cell"` and TEXT, then END: a unit has thousands of these,
 * so written piece by piece rather than through printf. */
static void put_cell_text(textbuf *b, int line, const char *text, const char *end) {
    char digits[16], *p = digits + sizeof digits;
    unsigned v = line > 0 ? (unsigned)line : 0;
    do *--p = (char)('0' + v % 10); while ((v /= 10));
    textbuf_add(b, "#line ", 6);
    textbuf_add(b, p, (size_t)(digits + sizeof digits - p));
    textbuf_add(b, " \"cell\"\n", 8);
    textbuf_puts(b, text);
    textbuf_puts(b, end);
}

/* The cell's global J at file scope: its definition without the
 * initializer (that runs with the statements), and its size and length
 * for later cells. A name defined twice with initializers gets one here
 * too, so that the compiler says "redefinition of 'x'" as tcc would. */
static void put_global(textbuf *b, const cell *c, size_t j, const global_names *g) {
    const cell_item *it = &c->items[j];
    if (!it->nkeys) { put_cell_text(b, it->line, it->text, "\n"); return; }
    size_t len = strlen(it->text);
    if (it->init && !it->unsized && strmap_get(&g->init_twice, it->keys[0]) >= 0 && len && it->text[len - 1] == ';')
        textbuf_printf(b, "#line %d \"cell\"\n%.*s = {0};\n", it->line, (int)(len - 1), it->text);
    else if (it->readonly && !it->unsized && len && it->text[len - 1] == ';')
        /* a const object is initialised where it is defined, as C has it:
         * its pages are read-only before the cell runs */
        textbuf_printf(b, "#line %d \"cell\"\n%.*s = \n#line %d \"cell\"\n%s;\n", it->line, (int)(len - 1),
                       it->text, it->init_line, it->init);
    else
        put_cell_text(b, it->line, it->text, "\n");
    if (strmap_get(&g->first, it->keys[0]) != (long)j || (it->unsized && !it->init))
        return;                          /* said once a name; `int a[];` has no size yet */
    const char *size_line[] = { "unsigned long __ck_size_", it->keys[0], " = sizeof ", it->keys[0],
                                ";\n" };
    for (size_t k = 0; k < 5; k++) textbuf_puts(b, size_line[k]);
    if (it->unsized)
        textbuf_printf(b, "unsigned long __ck_len_%s = sizeof %s / sizeof *%s;\n", it->keys[0], it->keys[0], it->keys[0]);
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
static void put_structors(textbuf *b, const cell *c, const char *which) {
    int dtor = which[0] == 'd';
    long small[16];                      /* each set below */
    long *prio = c->n < 16 ? small : calloc(c->n + 1, sizeof *prio);
    if (!prio) abort();
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
            if (prio[j] == p) textbuf_printf(b, "%s();\n", c->items[j].keys[0]);
            if (prio[j] == p) prio[j] = -1;
        }
    }
    if (prio != small) free(prio);
}

static void put_run_function(textbuf *b, const session *s, const cell *c, const plan *plans, diag_ctx *d,
                             int show, int for_cc);
static char *with_headers(textbuf *b, const char *text, int some);

int unit_in_place(item_kind old_kind, const cell *c, size_t by, const strmap *defined) {
    const cell_item *it = &c->items[by];
    if (old_kind != it->kind || (it->kind != ITEM_DIRECTIVE && it->kind != ITEM_TYPE)) return 0;
    /* `enum { N = sizeof table / sizeof *table };` after the cell's new
     * `table`: the old place comes before it */
    char *uses = unit_uses(it->text);
    int in_place = 1;
    for (const char *u = uses; u && *u && in_place; u += strlen(u) + 1) {
        long j = strmap_get(defined, u);
        if (j >= 0 && (size_t)j != by && c->items[j].kind != ITEM_TYPE && c->items[j].kind != ITEM_DIRECTIVE)
            in_place = 0;
    }
    free(uses);
    return in_place;
}

static void add_uses(textbuf *b, const char *text);

/* The names of the tokens T (N of them) added to B (unit_uses); a
 * directive's own names too (`#define GET(i) table[i]` uses table). */
static void add_uses_of(textbuf *b, const token *t, size_t n) {
    for (size_t i = 0; t && i < n; i++) {
        if (t[i].kind == TOK_DIRECTIVE && t[i].len > 1) {
            char *body = strndup(t[i].start + 1, t[i].len - 1);
            if (body) add_uses(b, body);
            free(body);
        }
        if (t[i].kind != TOK_IDENT || t[i].len >= 300) continue;
        const token *p = i ? &t[i - 1] : NULL;
        if (p && (lexer_tok_is(p, "struct") || lexer_tok_is(p, "union") || lexer_tok_is(p, "enum"))) {
            textbuf_add(b, p->start, p->len);
            textbuf_add(b, " ", 1);
        }
        textbuf_add(b, t[i].start, t[i].len);
        textbuf_add(b, "", 1);
    }
}

/* The names of TEXT added to B. */
static void add_uses(textbuf *b, const char *text) {
    size_t n = 0;
    /* in scratch memory: a cell's tokens are megabytes, fresh pages of the heap */
    token *t = lexer_tokenize_with(text, &n, NULL, scratch_realloc);
    add_uses_of(b, t, n);
    ck_tcc_free(t);                      /* scratch: the newest block goes back */
}

/* B's list ended and cut to its size: kept with each entry. */
static char *finish_uses(textbuf *b) {
    textbuf_add(b, "", 1);
    char *fit = realloc(b->s, b->len + 1);
    return fit ? fit : b->s;
}

char *unit_uses_tokens(const token *t, size_t n) {
    textbuf b = {0};
    add_uses_of(&b, t, n);
    return finish_uses(&b);
}

char *unit_uses(const char *text) {
    textbuf b = {0};
    add_uses(&b, text);
    return finish_uses(&b);
}

/* A set of entry indexes: a bitmap (an eighth of a byte an entry) and the
 * list of its members. */
typedef struct { unsigned char *bits; size_t *list, n, cap; } entry_set_t;

static int set_add(entry_set_t *set, size_t i) {
    if (set->bits[i / 8] & (1u << (i % 8))) return 0;
    set->bits[i / 8] |= (unsigned char)(1u << (i % 8));
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 64;
        size_t *list = realloc(set->list, cap * sizeof *list);
        if (!list) abort();
        set->list = list;
        set->cap = cap;
    }
    set->list[set->n++] = i;
    return 1;
}

/* Add to NEED the entries of S that the names USES (unit_uses) define: as
 * a name, a tag, or a macro ("#N"). */
static void mark_used(const session *s, const char *uses, entry_set_t *need) {
    for (const char *u = uses; u && *u; ) {
        size_t n = strlen(u);
        long found[2] = { session_find(s, u), n < 298 ? strmap_get_n(&s->index, '#', u, n) : -1 };
        u += n + 1;
        for (int k = 0; k < 2; k++)
            if (found[k] >= 0) set_add(need, (size_t)found[k]);
    }
}

/* USES (unit_uses) with each name once, in place: a long cell names `x`
 * thousands of times, and each name costs two lookups in the session. */
static void unique_uses(char *uses) {
    strmap seen = {0};
    char *w = uses;
    for (const char *u = uses; *u; ) {
        size_t n = strlen(u);
        if (strmap_get(&seen, u) < 0) {
            memmove(w, u, n + 1);
            strmap_put(&seen, w, 1);
            w += n + 1;
        }
        u += n + 1;
    }
    *w = 0;
    strmap_free(&seen);
}

static int by_index(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Which entries of S the cell's CODE needs: those it names, and those they
 * name, on and on; and the directives, which every unit has, and what they
 * name. The selection is a guess that compile_cell checks: any message at
 * all, and the cell is compiled again with every entry. Ascending, *N of
 * them; looked up by name, so a session's length does not slow it. */
static size_t *needed_entries(const session *s, const diag_ctx *d, size_t *n) {
    const char *code = d->code;
    unsigned char small[1024];          /* a session of up to 8,192 entries: on the stack */
    size_t nbits = s->n / 8 + 1;
    entry_set_t need = { .bits = nbits <= sizeof small ? memset(small, 0, nbits)
                                                       : calloc(nbits, 1) };
    /* the split's tokens when they are the code's: the lexer ran once */
    char *uses = d->code_tokens ? unit_uses_tokens(d->code_tokens, d->ncode_tokens)
                                : unit_uses(code);
    if (!need.bits || !uses) abort();
    if (strlen(code) > 1024) unique_uses(uses);
    mark_used(s, uses, &need);
    for (size_t k = 0; k < s->ndirectives; k++) {
        set_add(&need, s->directives[k]);
        mark_used(s, s->e[s->directives[k]].uses, &need);
    }
    for (size_t done = 0; done < need.n; done++)     /* the list grows as it is walked */
        mark_used(s, s->e[need.list[done]].uses, &need);
    free(uses);
    if (need.bits != small) free(need.bits);
    if (need.n) qsort(need.list, need.n, sizeof *need.list, by_index);
    *n = need.n;
    return need.list ? need.list : calloc(1, sizeof *need.list);
}

/* Note entry I at unit line LINE in D's map of the prelude. */
static void add_prelude_line(diag_ctx *d, size_t i, size_t line) {
    if (d->nprelude == d->prelude_cap) {
        size_t cap = d->prelude_cap ? 2 * d->prelude_cap : 64;
        size_t *lines = realloc(d->entry_line, cap * sizeof *lines);
        size_t *of = lines ? realloc(d->entry_of, cap * sizeof *of) : NULL;
        if (!lines || !of) abort();
        d->entry_line = lines;
        d->entry_of = of;
        d->prelude_cap = cap;
    }
    d->entry_line[d->nprelude] = line;
    d->entry_of[d->nprelude++] = i;
}

/* Entry I of the prelude at B's line *TU_LINE, noted in D's map. */
static void put_entry(textbuf *b, diag_ctx *d, const entry *e, size_t i, size_t *tu_line) {
    add_prelude_line(d, i, *tu_line);
    if (e->kind == ITEM_GLOBAL && e->type_text) {
        /* Hidden: libtcc 0.9.27 reaches a default-visibility extern
         * through its PLT in float arithmetic (gy * gx reads the stub's
         * bytes); a hidden one is addressed directly, which works since
         * all cell data lives in one code arena. Spelled __attribute:
         * glibc's <sys/cdefs.h> defines __attribute__ away for compilers
         * that are not GCC, tcc among them, so after any system header
         * __attribute__ said nothing and x + y of two doubles was wrong. */
        textbuf_printf(b, "extern %s __attribute((visibility(\"hidden\")));\n", e->type_text);
    } else {
        textbuf_puts(b, e->text);
        textbuf_puts(b, "\n");
    }
    *tu_line += (size_t)session_count_lines(e->text) + 1;
}

/* The prelude: every entry the cell does not redefine (with D->need, only
 * those selected). A directive or type the cell redefines takes the old
 * one's place, since later entries may use it; EMITTED marks such items of
 * the cell. LAST: unit_cached_headers'. When the cell defines only new
 * names, only the selected entries are visited: the others would all be
 * skipped, and a long session would cost each cell a walk through it. */
static void put_prelude(textbuf *b, const session *s, const cell *c, const plan *plans, diag_ctx *d,
                        long last, unsigned char *emitted) {
    size_t tu_line = 1;
    int walk_selected = d->need && unit_only_new_names(s, c, plans);
    size_t n = walk_selected ? d->nneed : s->n, next_needed = 0;
    for (size_t at = 0; at < n; at++) {
        size_t i = walk_selected ? d->need[at] : at;
        const entry *e = &s->e[i];
        int needed = !d->need;
        for (; d->need && next_needed < d->nneed && d->need[next_needed] <= i; next_needed++)
            needed = d->need[next_needed] == i;
        long by = -1;
        for (int k = 0; k < e->nkeys && by < 0; k++) by = strmap_get(d->defined, e->keys[k]);
        if (unit_is_cached(s, last, i)) {
            /* in the cache: a cell's copy of an include adds nothing; its
             * new value for a macro comes after, in the cell's own part */
            if (by >= 0 && is_system_include(e->keys[0])) emitted[by] = 1;
            continue;
        }
        if (d->dropped && d->dropped[i]) continue;
        if (by >= 0 && !emitted[by] && unit_in_place(e->kind, c, (size_t)by, d->defined)) {
            textbuf_printf(b, "#line %d \"cell\"\n%s\n#line %zu \"<session>\"\n",
                       c->items[by].line, c->items[by].text, tu_line);
            emitted[by] = 1;
            continue;
        }
        if (by >= 0 || (!needed && e->kind != ITEM_DIRECTIVE)) continue;
        put_entry(b, d, e, i, &tu_line);
    }
}

/* The translation unit for cell C: nb.h, the session's system headers,
 * the prelude of earlier definitions, the cell's items and its run
 * function. With SOME, of nb.h and the headers only what the rest uses
 * (decls.h), and of earlier definitions only those the cell needs: a
 * session's length should not slow each cell down. In scratch memory
 * (textbuf.scratch). */
char *unit_build(const session *s, const cell *c, const plan *plans, diag_ctx *d, int show,
                        const char *options, int some) {
    textbuf b = { .scratch = 1 };     /* 60 KB a cell: kept out of pages the snapshot shares */
    long last = -1;
    int for_cc = some == UNIT_FOR_CC || some == UNIT_FOR_CC_ALL;
    const char *text = for_cc ? NULL : unit_cached_headers(s, options, &last);
    textbuf_puts(&b, "\n#line 1 \"<session>\"\n");
    unsigned char small[64];
    unsigned char *emitted = c->n < sizeof small ? memset(small, 0, sizeof small)
                                                 : calloc(c->n + 1, 1);
    if (!emitted) abort();
    free(d->need);
    d->need = NULL;
    d->nneed = 0;
    if ((some == 1 || some == UNIT_FOR_CC) && d->code) d->need = needed_entries(s, d, &d->nneed);
    put_prelude(&b, s, c, plans, d, last, emitted);

    /* The cell's file-scope items, in its order. */
    global_names globals;
    global_names_of(c, &globals);
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (!emitted[j] && it->kind == ITEM_DIRECTIVE && is_macro_key(it->keys[0])) {
            long e = session_find(s, it->keys[0]);
            if (e >= 0 && unit_is_cached(s, last, (size_t)e))
                textbuf_printf(&b, "#undef %s\n", it->keys[0] + 1);
        }
        if (emitted[j] || (plans[j] == PLAN_LOCAL && it->kind != ITEM_OTHER && it->kind != ITEM_LITERAL))
            continue;
        if (plans[j] == PLAN_REINIT) continue;     /* the prelude declares it */
        if (it->kind == ITEM_LITERAL && !it->text) continue;   /* a static of __ck_run */
        if (it->kind == ITEM_GLOBAL) put_global(&b, c, j, &globals);
        else put_cell_text(&b, it->line, it->text, "\n");
        if (it->open_end) break;              /* the compiler reaches the end there */
    }
    global_names_free(&globals);
    if (emitted != small) free(emitted);
    if (!c->n || !c->items[c->n - 1].open_end) put_run_function(&b, s, c, plans, d, show, for_cc);
    return with_headers(&b, text, some == 1);
}

/* The statement that shows the value of the trailing expression IT. */
static void put_value(textbuf *b, const session *s, const cell *c, diag_ctx *d, const cell_item *it) {
    /* _Generic names the type without evaluating; the value goes
     * through varargs, so arrays decay and it is evaluated once. A
     * bare name of a global keeps the type its declaration spelled
     * (size_t, not unsigned long); a function shows its prototype. */
    int is_sizeof = strncmp(it->text, "sizeof", 6) == 0;
    char *named = declared_type(s, c, d, it->text);
    if (named && named[0] == '(') {
        textbuf_printf(b, "#line %d \"cell\"\nnb__show_as(\"%s\", \"p:\", sizeof(void *), (void *)(%s));\n",
                   it->line, named + 1, it->text);
        free(named);
        return;
    }
    if (named) textbuf_printf(b, "#line %d \"cell\"\nnb__show_as(\"%s\", _Generic((%s)", it->line, named, it->text);
    else textbuf_printf(b, "#line %d \"cell\"\nnb__show(_Generic((%s)", it->line, it->text);
    free(named);
    if (is_sizeof) textbuf_puts(b, ", default: \"u:size_t\"");
    else add_generic_types(b, s, c, d);
    textbuf_printf(b, "), sizeof(%s), (%s));\n", it->text, it->text);
}

/* The cell's run function: its constructors, statements and initializers
 * in order, then main; and its destructors, in a function of their own. */
static void put_run_function(textbuf *b, const session *s, const cell *c, const plan *plans, diag_ctx *d,
                             int show, int for_cc) {
    textbuf_puts(b, "void __ck_run(void) {\n");
    put_structors(b, c, "constructor");
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (it->kind == ITEM_STATEMENT) {
            put_cell_text(b, it->line, it->text, "\n");
        } else if (it->kind == ITEM_EXPRESSION && show) {
            put_value(b, s, c, d, it);
        } else if (it->kind == ITEM_EXPRESSION) {
            put_cell_text(b, it->line, it->text, ";\n");
        } else if (it->kind == ITEM_LITERAL && it->init) {   /* its static: the global fills it */
            put_cell_text(b, it->init_line, it->init, "\n");
        } else if (it->kind == ITEM_GLOBAL && !it->unsized && !it->readonly) {
            const char *name = it->keys[0];
            if (it->init) {
                put_cell_text(b, it->init_line, "{ __typeof__(", name);
                const char *rest[] = { ") __ck_v = ", it->init, "; nb__assign((void *)&", name,
                                       ", &__ck_v, sizeof ", name, "); }\n" };
                for (size_t k = 0; k < 7; k++) textbuf_puts(b, rest[k]);
            }
            else if (plans[j] == PLAN_REINIT)
                textbuf_printf(b, "nb__zero((void *)&%s, sizeof %s);\n", name, name);
        }
    }
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_FUNCTION && c->items[j].nkeys &&
            strcmp(c->items[j].keys[0], "main") == 0)
            textbuf_puts(b, "nb__run_main((int (*)(int, char **))main);\n");
    textbuf_puts(b, "}\n");
    /* after the exit handlers (session_commit_run): the destructors */
    textbuf_puts(b, "void __ck_fini(void) {\n");
    put_structors(b, c, "destructor");
    textbuf_puts(b, "}\n");
    /* libtcc lays functions out in order: this one marks where the unit's
     * code ends and its data (static locals, literals) begins */
    textbuf_puts(b, for_cc ? "void __ck_text_end(void) { __asm__ volatile(\"\"); }\n"   /* not folded */
                           : "void __ck_text_end(void) {}\n");
}

/* The unit: nb.h and the session's system headers (with SOME, only
 * what the code in B uses), then B. In scratch memory. */
static char *with_headers(textbuf *b, const char *text, int some) {
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
    /* the unit's names, once for both selections (before the texts below,
     * which grow in place as the newest scratch blocks) */
    const char *names = some ? decls_names(b->s) : NULL;
    const char *const *unit_code = names ? NULL : (const char *[]){ b->s };
    textbuf headers = { .scratch = 1 };
    if (text) {
        textbuf_puts(&headers, "\n#line 1 \"<headers>\"\n");
        put_declarations(&headers, text, some, names, unit_code, names ? 0 : 1);
    }
    textbuf unit = { .scratch = 1 };
    textbuf_puts(&unit, "#line 1 \"<ckernel>\"\n");
    put_declarations(&unit, nb_header_text, some, names, (const char *[]){ headers.s, b->s },
                     names ? 1 : 2);
    if (headers.s) textbuf_add(&unit, headers.s, headers.len);
    textbuf_add(&unit, b->s, b->len);
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
    long e = type_text || proto ? -1 : session_find(s, name);
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
static void add_type_name(textbuf *b, char *const *keys, int nkeys, const char *text) {
    if (nkeys == 0 || (!strstr(text, "struct") && !strstr(text, "union"))) return;
    if (strstr(text, "typedef") && !strchr(text, '}')) return;   /* typedef of a pointer, or a copy */
    const char *name = keys[0];
    for (int k = 0; k < nkeys; k++)
        if (strncmp(keys[k], "struct ", 7) && strncmp(keys[k], "union ", 6)) name = keys[k];
    textbuf_printf(b, ", %s: \"?:%s\", %s *: \"p:%s *\"", name, name, name, name);
}

static void add_generic_types(textbuf *b, const session *s, const cell *c, const diag_ctx *d) {
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
    for (int i = 0; base[i]; i += 2) textbuf_printf(b, ", %s: \"%s\"", base[i], base[i + 1]);
    for (size_t i = 0; i < d->nprelude; i++) {
        const entry *e = &s->e[d->entry_of[i]];
        if (e->kind == ITEM_TYPE) add_type_name(b, e->keys, e->nkeys, e->text);
    }
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_TYPE)
            add_type_name(b, c->items[j].keys, c->items[j].nkeys, c->items[j].text);
    textbuf_puts(b, ", default: \"?\"");
}
