/* session.c - the session's table of definitions, and preparing and
 * running a cell against it (session.h).
 *
 * Owns: the entries and their addresses, what a cell changes in them
 * (plan_cell) and the rules for replacing what it redefines, compiling
 * (once with only the declarations it seems to use, again with all), the
 * run, and looking addresses up. The unit's text is unit.c's, the
 * compiler's messages diag.c's (session_impl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "cc.h"
#include "cell.h"
#include "checked.h"
#include "checked_units.h"
#include "compile.h"
#include "expand.h"
#include "lexer.h"
#include "monotime.h"
#include "scratch.h"
#include "strmap.h"
#include "leaks.h"
#include "session_impl.h"
#include "nb.h"
#include "nb_internal.h"
#include "scratch.h"

/* ------------------------------------------------------------- utilities */

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* Entry I, new at the end of the list, in the index and the directives. */
static void index_entry(session *s, size_t i) {
    for (int k = 0; k < s->e[i].nkeys; k++) strmap_put(&s->index, s->e[i].keys[k], (long)i);
    if (s->e[i].kind != ITEM_DIRECTIVE) return;
    if (s->ndirectives == s->directives_cap) {
        size_t cap = s->directives_cap ? 2 * s->directives_cap : 16;
        size_t *grown = realloc(s->directives, cap * sizeof *grown);
        if (!grown) abort();
        s->directives = grown;
        s->directives_cap = cap;
    }
    s->directives[s->ndirectives++] = i;
}

/* The index and the directives, anew. */
static void reindex(session *s) {
    strmap_clear(&s->index);
    s->ndirectives = 0;
    for (size_t i = 0; i < s->n; i++) index_entry(s, i);
}

/* A setting from the environment, read once (getenv walks it all). */
static int env_set(const char *name, int *cached) {
    if (*cached < 0) *cached = getenv(name) != NULL;
    return *cached;
}

static int dump_unit(void) {
    static int cached = -1;
    return env_set("CKERNEL_DUMP_UNIT", &cached);
}

session *session_new(void) {
    return calloc(1, sizeof(session));
}

/* ---------------------------------------------------- what a cell changes */

static plan plan_item(const session *s, const cell_item *it) {
    switch (it->kind) {
    case ITEM_GLOBAL: {
        long e = session_find(s, it->keys[0]);
        /* a const object is new each time: its pages are read-only */
        if (e >= 0 && s->e[e].kind == ITEM_GLOBAL && !it->unsized && !it->readonly &&
            strcmp(s->e[e].type_text, it->type_text) == 0)
            return PLAN_REINIT;
        return PLAN_NEW;
    }
    case ITEM_DECLARATION:
        if (it->nkeys && session_find(s, it->keys[0]) >= 0) return PLAN_KEEP_OLD;
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
static void plan_cell(const session *s, const cell *c, plan *plans, strmap *defined,
                      unsigned char **dropped_out) {
    unsigned char *dropped = NULL;
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
            long e = session_find(s, it->keys[k]);
            if (e >= 0 && strcmp(s->e[e].text, it->proto ? it->proto : it->text) != 0)
                changed[nchanged++] = it->keys[k];
        }
    }
    /* entries that use them, and entries that use those (a struct in a struct) */
    int reinit = 0;
    for (size_t j = 0; j < c->n && !reinit; j++) reinit = plans[j] == PLAN_REINIT;
    *dropped_out = NULL;                /* only new names: nothing can go */
    if (!nchanged && !reinit && unit_only_new_names(s, c, plans)) return;
    if (!(dropped = calloc(s->n + 1, 1))) abort();
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
        long g = session_find(s, it->keys[0]);
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
    *dropped_out = dropped;
}

/* ---------------------------------------------------------------- results */

/* R fails with error E and EVALUE. The lines of TRACE (NULL: EVALUE) are
 * the traceback; front ends show it, not ename, so the first leads with
 * it, as Python kernels do ("CompileError: line 3: error: ..."). */
void session_result_error(session_result *r, ck_error e, const char *evalue, const char *trace) {
    r->ok = 0;
    const char *ename = ck_ename(e);
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

/* ---------------------------------------------------------------- commit */

static void entry_clear(entry *e) {
    for (int k = 0; k < e->nkeys; k++) free(e->keys[k]);
    free(e->text);
    free(e->doc);
    free(e->type_text);
    free(e->body);
    free(e->uses);
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
    char *code, *options;        /* kept for %asm when the cell defines functions */
    char *label;                 /* %%cc: "gcc -O2"; NULL for tcc */
    unsigned char *obj;          /* %%cc: the compiler's object */
    size_t obj_len;
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
    e->body = it->kind == ITEM_FUNCTION ? strdup(it->text) : NULL;
    e->uses = unit_uses(e->type_text ? e->type_text : e->text);
    e->addr = addr;
}

/* Add the cell's new definitions at the end of the list and the index:
 * what a cell that defines only new names does, without walking the
 * session. */
static void append_items(session *s, session_cell *pc) {
    const cell *c = &pc->c;
    if (s->cap < s->n + c->n + 1) {
        size_t cap = 2 * s->cap > s->n + c->n + 1 ? 2 * s->cap : s->n + c->n + 1;
        entry *grown = realloc(s->e, cap * sizeof *grown);
        if (!grown) abort();
        s->e = grown;
        s->cap = cap;
    }
    s->gen++;
    for (size_t j = 0; j < c->n; j++)
        if (pc->plans[j] == PLAN_NEW) {
            entry_set(&s->e[s->n], &c->items[j], pc->addr[j]);
            s->e[s->n].count = s->count;
            s->e[s->n].gen = s->gen;
            index_entry(s, s->n++);
        }
}

/* Record the cell's new definitions in one pass. A directive or type
 * takes the place of the entry it redefines; a function, global or
 * prototype goes to the end, since it may use types defined after its old
 * place. Entries plan_cell dropped go, each with a note in NOTICES. */
static void commit_items(session *s, session_cell *pc, textbuf *notices) {
    const cell *c = &pc->c;
    /* A cell of statements only (the usual kind) changes no entry: the
     * arrays and index stay as they are, and their pages unwritten. */
    int changes = 0;
    for (size_t j = 0; j < c->n && !changes; j++) changes = pc->plans[j] == PLAN_NEW;
    for (size_t i = 0; pc->dropped && i < s->n && !changes; i++) changes = pc->dropped[i] != 0;
    if (!changes && pc->defined.n == 0) return;
    if (!pc->dropped) {                  /* only new names (plan_cell): they go at the end */
        append_items(s, pc);
        return;
    }
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
            textbuf_printf(notices, "note: '%s' is gone: it used a type or macro this cell changed (run its cell again)\n",
                       e->keys[0]);
        int in_place = by >= 0 && !placed[by] && unit_in_place(e->kind, c, (size_t)by, &pc->defined);
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
    long at = session_find(s, name);
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

/* %%cc: what the compiler gave for a cell: its object and remarks. */
typedef struct { unsigned char *obj; size_t len; char *remarks; } cc_output;

/* Compile SRC with the cell's %%cc compiler into OUT and link its object with U. */
static int compile_with_cc(const session *s, compile_unit *u, const char *src, diag_ctx *d,
                           const char *options, cc_output *out) {
    free(out->obj);
    free(out->remarks);
    memset(out, 0, sizeof *out);
    out->obj = cc_compile(s->cc, options, src, diag_on_message, d, &out->len, &out->remarks);
    return out->obj && !d->nerrors ? compile_object(u, out->obj, out->len) : -1;
}

/* What a compile said, taken out of a diag_ctx. */
typedef struct { char *errors, *warnings, *first_error; int nerrors; } messages;

static messages take_messages(diag_ctx *d) {
    messages m = { d->errors.s, d->warnings.s, d->first_error, d->nerrors };
    memset(&d->errors, 0, sizeof d->errors);
    memset(&d->warnings, 0, sizeof d->warnings);
    d->first_error = NULL;
    return m;
}

/* D says M instead (M is emptied). */
static void give_messages(diag_ctx *d, messages *m) {
    free(d->errors.s);
    free(d->warnings.s);
    free(d->first_error);
    size_t ne = m->errors ? strlen(m->errors) : 0, nw = m->warnings ? strlen(m->warnings) : 0;
    d->errors = (textbuf){ .s = m->errors, .len = ne, .cap = m->errors ? ne + 1 : 0 };
    d->warnings = (textbuf){ .s = m->warnings, .len = nw, .cap = m->warnings ? nw + 1 : 0 };
    d->first_error = m->first_error;
    d->nerrors = m->nerrors;
    memset(m, 0, sizeof *m);
}

static void messages_free(messages *m) {
    free(m->errors);
    free(m->warnings);
    free(m->first_error);
    memset(m, 0, sizeof *m);
}

/* Whether cell C defines a function (anew or again). */
static int defines_function(const cell *c, const plan *plans) {
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].kind == ITEM_FUNCTION && plans[j] == PLAN_NEW) return 1;
    return 0;
}

/* Compile cell C against S, showing its trailing value if SHOW; each
 * compile counts in *COMPILES; a %%cc cell's object goes to CC. The unit,
 * or NULL with D holding the messages. */
static compile_unit *compile_cell(session *s, const cell *c, const plan *plans, diag_ctx *d,
                                  int show, const char *options, int *compiles, cc_output *cc) {
    const char *readonly[c->n + 1];     /* the cell's const objects (layout.h) */
    size_t nro = 0;
    for (size_t j = 0; j < c->n; j++)
        if (c->items[j].readonly && c->items[j].nkeys &&
            ((c->items[j].kind == ITEM_GLOBAL && plans[j] == PLAN_NEW) || c->items[j].kind == ITEM_LITERAL))
            readonly[nro++] = c->items[j].keys[0];
    readonly[nro] = NULL;
    /* First with only the declarations the cell uses; if that says
     * anything at all, the guess may have been wrong: again with all. */
    messages first_try = {0};
    static int all_decls = -1;
    for (int some = s->cc ? UNIT_FOR_CC : !env_set("CKERNEL_ALL_DECLS", &all_decls); ;
         some = s->cc ? UNIT_FOR_CC_ALL : 0) {
        char *src = unit_build(s, c, plans, d, show, options, some);
        if (dump_unit()) fprintf(stderr, "%s", src);
        compile_unit *u = compile_new(options, diag_on_message, d);
        if (!u) return NULL;
        compile_set_cell(u, s->count);
        compile_set_readonly(u, readonly);
        for (size_t i = 0; i < s->nlibs; i++) compile_add_library(u, s->libs[i]);
        /* Bind earlier definitions the unit declares, except those this
         * cell defines anew. */
        for (size_t at = 0, n = d->need ? d->nneed : s->n; at < n; at++) {
            size_t i = d->need ? d->need[at] : at;
            const entry *e = &s->e[i];
            if (!e->addr || (d->dropped && d->dropped[i])) continue;
            if (strmap_get(d->defined, e->keys[0]) < 0) compile_add_symbol(u, e->keys[0], e->addr);
        }
        compile_add_symbol(u, "exit", (void *)nb__exit);    /* exit() in main ends the program */
        compile_add_symbol(u, "atexit", (void *)nb__atexit);      /* ... and runs its handlers */
        compile_add_symbol(u, "on_exit", (void *)nb__on_exit);
        for (const nb_checked_symbol *w = nb_internal_checked_symbols(options); w && w->name; w++)
            compile_add_symbol(u, w->name, w->addr);           /* %%check: printf's %s checked */
        int rc = s->cc ? compile_with_cc(s, u, src, d, options, cc) : compile_source(u, src);
        (*compiles)++;
        /* gcc's and clang's warnings are the cell's: only a failure retries,
         * and if the retry fails too, the first try's words are the cell's */
        if (some == UNIT_FOR_CC && (rc < 0 || d->nerrors)) first_try = take_messages(d);
        if ((some == 1 && (rc < 0 || d->ndiags)) || (some == UNIT_FOR_CC && (rc < 0 || d->nerrors))) {
            compile_free(u);
            diag_reset(d);
            continue;
        }
        if (first_try.nerrors && (rc < 0 || d->nerrors)) give_messages(d, &first_try);
        messages_free(&first_try);
        if (rc < 0 || d->nerrors) {
            compile_free(u);
            return NULL;
        }
        if (!s->cc && defines_function(c, plans)) checked_units_keep(s->count, src, options);  /* %%check */
        return u;
    }
}

/* ------------------------------------------------------------- split */

static const char *session_macro(void *ud, const char *name, size_t len) {
    char key[300];
    if (len + 2 > sizeof key) return NULL;
    snprintf(key, sizeof key, "#%.*s", (int)len, name);
    long e = session_find(ud, key);
    const entry *en = e >= 0 ? &((const session *)ud)->e[e] : NULL;
    return en && en->kind == ITEM_DIRECTIVE ? en->text : NULL;
}

/* The text that defines the session's macros, for the preprocessor:
 * nb.h, the system headers (preprocessed, their macros kept) and the
 * session's other directives, in order. A new string. */
static char *macro_context(const session *s, const char *options) {
    textbuf b = {0};
    textbuf_puts(&b, nb_header_text);
    long last = -1;
    const char *text = unit_cached_headers(s, options, &last);
    if (text) textbuf_puts(&b, text);
    for (size_t k = 0; k < s->ndirectives; k++)
        if (!unit_is_cached(s, last, s->directives[k])) {
            textbuf_puts(&b, s->e[s->directives[k]].text);
            textbuf_puts(&b, "\n");
        }
    return b.s;
}

/* Split CODE into OUT; preprocessed first where that decides what is a
 * definition (expand.h). CODE's tokens go to D (may be NULL) when the
 * split read them, not a preprocessed text's. */
static int split_cell(const session *s, const char *code, const char *options, cell *out,
                      diag_ctx *d) {
    size_t n = 0;
    int unterminated = 0;
    token *t = lexer_tokenize_with(code, &n, &unterminated, scratch_realloc);   /* once for all */
    if (!t) return -1;
    if (!expand_needed_tokens(t, n, session_macro, (void *)s)) {
        if (d) d->code_tokens = t, d->ncode_tokens = n;
        return cell_split_tokens(code, t, n, unterminated, out);
    }
    char *context = macro_context(s, options);
    char *expanded = expand_cell(context, code, options);
    free(context);
    if (expanded && dump_unit()) fprintf(stderr, "%s\n-- the cell, preprocessed --\n", expanded);
    int rc = cell_split(expanded ? expanded : code, out);
    free(expanded);
    return rc;
}

static void session_cell_free(session_cell *pc) {
    if (!pc) return;
    cell_free(&pc->c);
    strmap_free(&pc->defined);
    free(pc->dropped);
    free(pc->addr);                      /* the block of all four (session_prepare) */
    free(pc->code);
    free(pc->options);
    free(pc->label);
    free(pc->obj);
    free(pc);
}

/* %%cc: a system header tcc cannot read (gcc's own <immintrin.h>) stays
 * this cell's, with a note in R: in the session, every later tcc cell
 * would include it and fail. */
static void keep_cc_only_headers(const session *s, session_cell *pc, session_result *r) {
    for (size_t j = 0; j < pc->c.n; j++) {
        const cell_item *it = &pc->c.items[j];
        if (it->kind != ITEM_DIRECTIVE || pc->plans[j] != PLAN_NEW || !it->nkeys ||
            strncmp(it->keys[0], "#include <", 10) != 0)
            continue;
        char *text = compile_preprocess(it->text, s->options);
        if (text) { free(text); continue; }
        pc->plans[j] = PLAN_LOCAL;
        char *note = NULL;
        if (asprintf(&note, "%snote: '%s' stays this cell's: tcc cannot read it (a later %%%%cc cell "
                     "includes it again)\n", r->diagnostics ? r->diagnostics : "", it->keys[0] + 9) >= 0) {
            free(r->diagnostics);
            r->diagnostics = note;
        }
    }
}

/* %%cc: take the compiler's object CC into PC, name the compiler in R,
 * and print the remarks and listings the cell asked for. */
static void show_cc_output(const session *s, session_cell *pc, cc_output *cc, session_result *r) {
    pc->label = cc_label(s->cc);
    r->compiler = pc->label ? strdup(pc->label) : NULL;
    pc->obj = cc->obj;
    pc->obj_len = cc->len;
    cc->obj = NULL;
    if (s->cc->remarks) cc_print_remarks(pc->label, pc->code, cc->remarks, pc->obj, pc->obj_len);
    free(cc->remarks);
    cc->remarks = NULL;
    int functions = 0;
    for (size_t j = 0; s->cc->show_asm && j < pc->c.n; j++) {
        const cell_item *it = &pc->c.items[j];
        if (it->kind != ITEM_FUNCTION || !it->nkeys || pc->plans[j] != PLAN_NEW) continue;
        char *title = NULL;
        if (asprintf(&title, "%s: %s, this cell", it->keys[0], pc->label) < 0) title = NULL;
        functions += cc_print_asm(pc->obj, pc->obj_len, it->keys[0], pc->code, title ? title : "") == 0;
        free(title);
    }
    if (s->cc->show_asm && !functions) {
        char *title = NULL;
        if (asprintf(&title, "the cell's statements: %s", pc->label) < 0) title = NULL;
        cc_print_asm(pc->obj, pc->obj_len, "__ck_run", pc->code, title ? title : "");
        free(title);
    }
    fflush(stdout);
}

session_cell *session_prepare(session *s, const char *code, const char *cell_options, session_result *r) {
    memset(r, 0, sizeof *r);
    r->ok = 1;
    char *options = NULL;
    if (asprintf(&options, "%s %s", s->options ? s->options : "", cell_options ? cell_options : "") < 0)
        options = NULL;
    uint64_t t0 = monotime_ns();
    r->compiles = 0;
    session_cell *pc = calloc(1, sizeof *pc);
    diag_ctx d = { .s = s, .code = code };
    if (!pc || split_cell(s, code, options, &pc->c, &d) < 0) {
        free(pc);
        session_result_error(r, CK_OUT_OF_MEMORY, "out of memory splitting the cell", "out of memory\n");
        return NULL;
    }
    cell *c = &pc->c;
    /* one block for the four arrays: after the snapshot's fork each heap
     * page a cell writes first costs a fault */
    size_t n = c->n + 1;
    char *block = calloc(n, sizeof *pc->addr + sizeof *pc->length + sizeof *pc->size +
                                sizeof *pc->plans);
    if (!block) abort();
    pc->addr = (void **)block;
    pc->length = (unsigned long *)(block + n * sizeof *pc->addr);
    pc->size = pc->length + n;
    pc->plans = (plan *)(pc->size + n);
    plan_cell(s, c, pc->plans, &pc->defined, &pc->dropped);
    int has_expression = c->n && c->items[c->n - 1].kind == ITEM_EXPRESSION;

    d.c = c;
    d.defined = &pc->defined;
    d.dropped = pc->dropped;
    cc_output cc = {0};
    compile_unit *u = compile_cell(s, c, pc->plans, &d, has_expression, options, &r->compiles, &cc);
    if (!u && has_expression) {
        /* The value could not be shown (an array, a clashing type name):
         * run the expression as a plain statement instead. */
        diag_reset(&d);
        u = compile_cell(s, c, pc->plans, &d, 0, options, &r->compiles, &cc);
    }
    free(options);
    if (!u) {
        if (d.warnings.s) r->diagnostics = d.warnings.s, d.warnings.s = NULL;   /* tcc shows them too */
        session_result_error(r, CK_COMPILE_ERROR, d.first_error ? d.first_error : "the cell does not compile",
                  d.errors.s ? d.errors.s : "the cell does not compile\n");
        diag_reset(&d);
        session_cell_free(pc);
        free(cc.obj);
        free(cc.remarks);
        r->compile_ns = monotime_ns() - t0;
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
    pc->code = strdup(code);
    pc->options = cell_options ? strdup(cell_options) : NULL;
    if (s->cc) show_cc_output(s, pc, &cc, r);
    if (s->cc) keep_cc_only_headers(s, pc, r);
    return pc;
}

void session_commit_run(session *s, session_cell *pc, session_result *r) {
    /* Rebind the old definitions to the new, and say what changed type. */
    cell *c = &pc->c;
    textbuf notices = {0};
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (pc->plans[j] != PLAN_NEW || !it->nkeys) continue;
        if (it->kind != ITEM_FUNCTION && it->kind != ITEM_GLOBAL) continue;
        long old = session_find(s, it->keys[0]);
        if (old < 0) continue;
        if (it->kind == ITEM_FUNCTION && s->e[old].kind == ITEM_FUNCTION && s->e[old].addr && pc->addr[j])
            compile_redirect(s->e[old].addr, pc->addr[j]);
        if (it->kind == ITEM_GLOBAL && s->e[old].kind == ITEM_GLOBAL)
            textbuf_printf(&notices, "note: '%s' is now '%s' (new storage; code that used the old one keeps it)\n",
                       it->keys[0], it->type_text);
    }
    commit_items(s, pc, &notices);
    for (size_t j = 0; j < c->n; j++)            /* for %asm */
        if (pc->plans[j] == PLAN_NEW && c->items[j].kind == ITEM_FUNCTION) {
            cc_keep(s->count, pc->code, pc->options, pc->label, pc->obj, pc->obj_len);
            break;
        }
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *it = &c->items[j];
        if (pc->plans[j] != PLAN_NEW || it->kind != ITEM_GLOBAL || !it->nkeys) continue;
        long at = session_find(s, it->keys[0]);
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
    leaks_after_cell(&r->measure);
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
    compile_unit *u = compile_new(s->options, diag_on_message, &d);
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
int session_count(const session *s) { return s->count; }

/* A cell's unit built again against S, as session_prepare built it. */
typedef struct {
    cell c;
    plan *plans;
    unsigned char *dropped;
    strmap defined;
    diag_ctx d;
    char *options, *src;     /* SRC in scratch memory */
} rebuilt;

static int rebuild(session *s, const char *code, const char *cell_options, rebuilt *b) {
    memset(b, 0, sizeof *b);
    if (asprintf(&b->options, "%s %s", s->options ? s->options : "", cell_options ? cell_options : "") < 0)
        b->options = NULL;
    if (split_cell(s, code, b->options, &b->c, NULL) < 0) { free(b->options); return -1; }
    b->plans = calloc(b->c.n + 1, sizeof *b->plans);
    plan_cell(s, &b->c, b->plans, &b->defined, &b->dropped);
    int has_expression = b->c.n && b->c.items[b->c.n - 1].kind == ITEM_EXPRESSION;
    b->d = (diag_ctx){ .s = s, .c = &b->c, .code = code, .defined = &b->defined, .dropped = b->dropped };
    b->src = unit_build(s, &b->c, b->plans, &b->d, has_expression, b->options, s->cc ? UNIT_FOR_CC : 0);
    return 0;
}

static void rebuilt_free(rebuilt *b) {
    free(b->options);
    diag_reset(&b->d);
    strmap_free(&b->defined);
    free(b->dropped);
    free(b->plans);
    cell_free(&b->c);
}

static void ignore_message(void *opaque, const char *msg) { (void)opaque; (void)msg; }

/* The object of the unit B, compiled by the cell's %%cc compiler (with
 * -g, as always) or by tcc with -g: malloc'ed, LEN in *LEN, or NULL. */
static unsigned char *debug_object(const session *s, rebuilt *b, size_t *len) {
    if (!s->cc) return compile_debug_object(b->src, b->options, len);
    char *remarks = NULL;
    unsigned char *obj = cc_compile(s->cc, b->options, b->src, ignore_message, NULL, len, &remarks);
    free(remarks);
    scratch_reset();                     /* the unit's text */
    return obj;
}

/* The lines of frames I in functions that an earlier %%cc cell defined,
 * from its kept object, where LINES[i] is still 0; CELLS[i] that cell. */
static void lines_of_earlier_cc_cells(const session *s, const char *const *names,
                                      const unsigned long *offsets, int *lines, int *cells, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cells[i] = 0;
        long e = lines[i] ? -1 : session_find(s, names[i]);
        const char *code, *options, *label;
        const unsigned char *obj;
        size_t len;
        if (e < 0 || s->e[e].kind != ITEM_FUNCTION || !cc_kept(s->e[e].count, &code, &options, &label, &obj, &len) ||
            !obj)
            continue;
        unsigned long off = offsets[i];
        int line = 0;
        if (cc_lines(obj, len, &names[i], &off, &line, 1) == 0 && line > 0) {
            lines[i] = line;
            cells[i] = s->e[e].count;
        }
    }
}

/* The same for functions an earlier %%check cell defined, from its kept
 * unit (checked_units.c). */
static void lines_of_earlier_checked_cells(const session *s, const char *const *names,
                                           const unsigned long *offsets, int *lines, int *cells, size_t n) {
    for (size_t i = 0; i < n; i++) {
        long e = lines[i] ? -1 : session_find(s, names[i]);
        if (e < 0 || s->e[e].kind != ITEM_FUNCTION) continue;
        int line = checked_units_line(s->e[e].count, names[i], offsets[i]);
        if (line > 0) {
            lines[i] = line;
            cells[i] = s->e[e].count;
        }
    }
}

int session_lines(session *s, const char *code, const char *cell_options, const char *const *names,
                  const unsigned long *offsets, int returns, int *lines, int *cells, size_t n) {
    /* the unit exactly as session_prepare built it: same session, same cell */
    rebuilt b;
    if (rebuild(s, code, cell_options, &b) < 0) return -1;
    const char **fn = calloc(n + 1, sizeof *fn);
    for (size_t i = 0; i < n; i++)          /* the statements' function has a name of its own */
        fn[i] = strcmp(names[i], "the cell's statements") == 0 ? "__ck_run" : names[i];
    /* DWARF: a return address's line is its call's, one byte before */
    unsigned long *calls = calloc(n + 1, sizeof *calls);
    for (size_t i = 0; i < n; i++) calls[i] = offsets[i] - ((returns || i > 0) && offsets[i] > 0);
    int rc;
    if (s->cc) {
        size_t len = 0;
        unsigned char *obj = debug_object(s, &b, &len);
        rc = obj ? cc_lines(obj, len, fn, calls, lines, n) : -1;
        free(obj);
    } else {
        rc = compile_lines(b.src, b.options, fn, offsets, lines, n);
    }
    if (rc == 0 && cells) lines_of_earlier_cc_cells(s, names, calls, lines, cells, n);
    if (rc == 0 && cells) lines_of_earlier_checked_cells(s, names, calls, lines, cells, n);
    free(calls);
    free(fn);
    rebuilt_free(&b);
    return rc;
}

int session_line_table(session *s, const char *code, const char *cell_options,
                       compile_line_fn fn, void *opaque) {
    const struct cc_spec *saved = s->cc;  /* tcc's unit and stabs, whatever compiles the cell now */
    s->cc = NULL;
    rebuilt b;
    int rc = rebuild(s, code, cell_options, &b);
    if (rc == 0) {
        rc = compile_line_table(b.src, b.options, fn, opaque);
        rebuilt_free(&b);
    }
    s->cc = saved;
    return rc;
}

void session_set_cc(session *s, const struct cc_spec *cc) { s->cc = cc; }
const struct cc_spec *session_cc(const session *s) { return s->cc; }

int session_asm(session *s, const char *name) {
    long e = session_find(s, name);
    if (e < 0 || s->e[e].kind != ITEM_FUNCTION) {
        printf("%%asm: '%s' is not a function of this session\n", name);
        return -1;
    }
    const char *code, *options, *label;
    const unsigned char *kept_obj;
    size_t len = 0;
    int count = s->e[e].count;
    if (!cc_kept(count, &code, &options, &label, &kept_obj, &len)) {
        printf("%%asm: the cell that defined '%s' is not known\n", name);
        return -1;
    }
    unsigned char *obj = NULL;
    if (!kept_obj) {                      /* tcc's: compiled again, with -g */
        const struct cc_spec *saved = s->cc;
        s->cc = NULL;
        rebuilt b;
        if (rebuild(s, code, options, &b) == 0) {
            obj = debug_object(s, &b, &len);
            rebuilt_free(&b);
        }
        s->cc = saved;
    }
    char *title = NULL;
    if (asprintf(&title, "%s: %s, cell [%d]", name, label ? label : "tcc", count) < 0) title = NULL;
    int rc = kept_obj || obj ? cc_print_asm(kept_obj ? kept_obj : obj, len, name, code, title ? title : name) : -1;
    if (rc < 0) printf("%%asm: the code of '%s' could not be listed\n", name);
    free(title);
    free(obj);
    return rc;
}

/* Which earlier functions the analysis of CODE needs: those CODE names,
 * and those they name in turn (USE[i] for entry i). */
static void functions_used(const session *s, const char *code, const strmap *defined, unsigned char *use) {
    for (int grew = 1; grew;) {
        grew = 0;
        for (size_t i = 0; i < s->n; i++) {
            const entry *e = &s->e[i];
            if (use[i] || !e->body || !e->nkeys || strmap_get(defined, e->keys[0]) >= 0) continue;
            int named = mentions(code, e->keys[0]);
            for (size_t k = 0; k < s->n && !named; k++) named = use[k] && mentions(s->e[k].body, e->keys[0]);
            if (named) use[i] = grew = 1;
        }
    }
}

char *session_escape_unit(session *s, const char *code, const char *cell_options) {
    rebuilt r;
    if (rebuild(s, code, cell_options, &r) < 0) return NULL;
    textbuf b = {0};
    if (r.src) textbuf_puts(&b, r.src);
    /* earlier cells' functions in full, under "cell N", unless this cell
     * defines them again: their summaries are what a call to them does.
     * Only those the cell calls, directly or not: a long session stays cheap. */
    unsigned char *use = calloc(s->n + 1, 1);
    if (r.src && use) functions_used(s, code, &r.defined, use);
    for (size_t i = 0; r.src && use && i < s->n; i++) {
        const entry *e = &s->e[i];
        if (use[i]) textbuf_printf(&b, "\n#line %d \"cell %d\"\n%s\n", e->line, e->count, e->body);
    }
    free(use);
    rebuilt_free(&r);
    scratch_reset();                         /* the split's and the unit's scratch text */
    return b.s;
}

int session_cell_has_function(const session *s, int count) {
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].count == count && s->e[i].kind == ITEM_FUNCTION) return 1;
    return 0;
}

int session_where_defined(const session *s, const char *name, int *count, int *line) {
    long e = session_find(s, name);
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
    const char *text = unit_cached_headers(s, s->options, NULL);
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
    free(r->compiler);
    memset(r, 0, sizeof *r);
}
