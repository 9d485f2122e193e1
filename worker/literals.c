/* literals.c - compound literals in a global's initializer get static
 * storage (literals.h).
 *
 * Each literal becomes a static object of the unit, __ck_lit<k>_<global>,
 * of the literal's own type (__typeof__ of its type name, or of the literal
 * when its initializer gives the size: `(int[]){1, 2, 3}` is int[3]), in
 * one of two ways:
 *   - filled where the literal is, when the global's initializer runs, as
 *     the global itself is: the literal as written is copied in and the
 *     static is the value, `(*(__typeof__(S) *)({ nb__assign(&S,
 *     &(int[]){...}, sizeof S); &S; }))`. Any initializer works, as for
 *     the global, in its order;
 *   - defined with its initializer at file scope, as C has it, when its
 *     type is const (its pages are then read-only, as gcc and clang put it
 *     in .rodata), when the global's own initializer stays at file scope
 *     (a const object, an array of unknown size), or when it is inside such
 *     a literal: its initializer must then be constant, as C says.
 * A literal inside a literal gets its own object first.
 * Knows nothing of the session: it reads and rewrites a cell's items. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lexer.h"
#include "literals.h"
#include "textbuf.h"

/* One compound literal of an initializer, by token: '(' at OPEN, its
 * braces from BRACE to END (the index after the '}'). */
typedef struct { size_t open, brace, end; char *name; int at_file_scope; } literal;

typedef struct {
    const token *t;
    size_t n;
    literal *v;
    size_t nv, cap;
    long *at;                /* per token: the literal that opens there, or -1 */
    int counter;             /* literals named so far in the cell */
    const char *global;
} scan;

static int is(const scan *s, size_t i, const char *text) {
    return i < s->n && lexer_tok_is(&s->t[i], text);
}

/* Index after the bracket that closes the one at I, or (size_t)-1. */
static size_t group_end(const scan *s, size_t i) {
    int depth = 0;
    for (; i < s->n; i++) {
        const token *t = &s->t[i];
        if (t->kind != TOK_PUNCT || t->len != 1) continue;
        char ch = t->start[0];
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        else if ((ch == ')' || ch == ']' || ch == '}') && --depth == 0) return i + 1;
    }
    return (size_t)-1;
}

static int is_unevaluated(const token *t) {
    static const char *const words[] = {
        "sizeof", "_Alignof", "alignof", "__alignof__", "__alignof", "typeof", "__typeof__",
        "__typeof", "typeof_unqual", NULL
    };
    if (t->kind != TOK_IDENT) return 0;
    for (int i = 0; words[i]; i++) if (lexer_tok_is(t, words[i])) return 1;
    return 0;
}

static int add_literal(scan *s, size_t open, size_t brace, size_t end) {
    if (s->nv == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        literal *v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    literal *l = &s->v[s->nv++];
    *l = (literal){ open, brace, end, NULL, 0 };
    if (asprintf(&l->name, LITERAL_PREFIX "%d_%s", ++s->counter, s->global) < 0) l->name = NULL;
    return l->name ? 0 : -1;
}

/* The compound literals among tokens [A, B), inner ones first. An operand
 * of sizeof and the like is skipped (not evaluated: no object), and so is
 * a statement expression (a block: its literals are automatic). So is
 * what does not close: the compiler says what is wrong. */
static int find_literals(scan *s, size_t a, size_t b) {
    for (size_t i = a; i < b;) {
        if (is_unevaluated(&s->t[i])) {
            size_t j = is(s, i + 1, "(") ? group_end(s, i + 1) : i + 1;
            if (j != (size_t)-1 && is(s, j, "{")) j = group_end(s, j);   /* sizeof (int[]){ 1 } */
            if (j == (size_t)-1 || j > b) return 0;
            i = j;
            continue;
        }
        if (!is(s, i, "(") || (i > a && s->t[i - 1].kind == TOK_IDENT)) { i++; continue; }
        if (is(s, i + 1, "{")) {                   /* ({ ... }) */
            size_t j = group_end(s, i);
            if (j == (size_t)-1 || j > b) return 0;
            i = j;
            continue;
        }
        size_t brace = group_end(s, i);
        if (brace == (size_t)-1 || brace > b) return 0;
        if (brace == b || !is(s, brace, "{")) {     /* a cast, a parenthesis: look inside */
            i++;
            continue;
        }
        size_t end = group_end(s, brace);
        if (end == (size_t)-1 || end > b) return 0;
        if (find_literals(s, brace + 1, end - 1) < 0 || add_literal(s, i, brace, end) < 0)
            return -1;
        i = end;
    }
    return 0;
}

/* Whether the literal's type, from OPEN to BRACE, is itself const:
 * `(const int[]){...}`, `(char *const[]){...}`, not `(const char *[]){...}`.
 * A const that a typedef hides is not seen: such a literal stays writable. */
static int literal_is_const(const scan *s, size_t open, size_t brace) {
    for (size_t k = brace - 1; k-- > open + 1;) {
        const token *t = &s->t[k];
        if (t->kind == TOK_PUNCT && t->len == 1 && strchr(")]}", t->start[0])) {
            int depth = 0;             /* back to the bracket that opens it */
            for (; k > open; k--) {
                const token *u = &s->t[k];
                if (u->kind != TOK_PUNCT || u->len != 1) continue;
                if (strchr(")]}", u->start[0])) depth++;
                else if (strchr("([{", u->start[0]) && --depth == 0) break;
            }
            continue;
        }
        if (is(s, k, "*")) return 0;
        if (is(s, k, "const") || is(s, k, "__const") || is(s, k, "__const__")) return 1;
    }
    return 0;
}

/* Which literals are defined at file scope (see the top): those of G's
 * initializer if it stays there, const ones, and those inside them. */
static void place_literals(scan *s, const cell_item *g) {
    for (size_t k = 0; k < s->nv; k++) {
        literal *l = &s->v[k];
        l->at_file_scope = g->readonly || g->unsized || literal_is_const(s, l->open, l->brace);
    }
    for (size_t k = s->nv; k-- > 0;)          /* outer ones last: from them inwards */
        for (size_t j = 0; j < k && s->v[k].at_file_scope; j++)
            if (s->v[j].open > s->v[k].brace && s->v[j].end <= s->v[k].end)
                s->v[j].at_file_scope = 1;
}

static void put_text(textbuf *out, const scan *s, size_t a, size_t b, const literal *self,
                     int fill);

/* Literal L where it stands, FILL: its object filled from it there, if
 * that is where it is filled; else the object's name, and the newlines
 * the literal spanned. */
static void put_literal(textbuf *out, const scan *s, const literal *l, int fill) {
    if (fill && !l->at_file_scope) {
        /* the cast: tcc's messages would call the value's type 'static T' */
        textbuf_printf(out, "(*(__typeof__(%s) *)({ nb__assign((void *)&%s, &", l->name, l->name);
        put_text(out, s, l->open, l->end, l, fill);
        textbuf_printf(out, ", sizeof %s); &%s; }))", l->name, l->name);
        return;
    }
    textbuf_puts(out, l->name);
    const char *e = s->t[l->end - 1].start + s->t[l->end - 1].len;
    for (const char *p = s->t[l->open].start; p < e; p++)
        if (*p == '\n') textbuf_add(out, "\n", 1);
}

/* Tokens [A, B) of SRC as written (newlines kept, so lines stay right),
 * each literal that starts inside them, other than SELF, as put_literal
 * writes it. */
static void put_text(textbuf *out, const scan *s, size_t a, size_t b, const literal *self,
                     int fill) {
    if (a >= b) return;
    const char *from = s->t[a].start;
    for (size_t i = a; i < b;) {
        const literal *l = s->at[i] >= 0 ? &s->v[s->at[i]] : NULL;
        if (!l || l == self) { i++; continue; }
        textbuf_add(out, from, (size_t)(s->t[i].start - from));
        put_literal(out, s, l, fill);
        from = s->t[l->end - 1].start + s->t[l->end - 1].len;
        i = l->end;
    }
    const char *e = s->t[b - 1].start + s->t[b - 1].len;
    if (e > from) textbuf_add(out, from, (size_t)(e - from));
}

/* A heap copy of B's text, just its size (B's buffer is pages big). */
static char *take(textbuf *b) {
    char *s = b->s ? strdup(b->s) : NULL;
    free(b->s);
    return s;
}

/* The type of literal L (on LINE), for __typeof__: its type name; when
 * an array's size comes from the initializer, the whole literal, in a copy
 * whose warnings are not said twice (LITERAL_COPY_FILE). */
static void put_type(textbuf *out, const scan *s, const literal *l, int line) {
    int sized = 1;
    for (size_t k = l->open + 1; k + 1 < l->brace && sized; k++)
        sized = !(is(s, k, "[") && is(s, k + 1, "]"));
    if (sized) {
        put_text(out, s, l->open + 1, l->brace - 1, l, 0);
        return;
    }
    /* what follows stays on its last line: tcc warns with the file name
     * of the token it looks ahead to, and the next #line is after it */
    textbuf_printf(out, "\n#line %d \"" LITERAL_COPY_FILE "\"\n", line);
    put_text(out, s, l->open, l->end, l, 0);
}

/* The item for literal L of global G: its definition at file scope, or
 * a static of the run function that G's initializer fills. */
static void literal_item(cell_item *it, const scan *s, const literal *l, const cell_item *g) {
    int line = g->init_line + s->t[l->open].line - 1;
    int brace_line = g->init_line + s->t[l->brace].line - 1;
    textbuf type = {0}, braces = {0}, out = {0};
    put_type(&type, s, l, line);
    put_text(&braces, s, l->brace, l->end, l, 0);
    memset(it, 0, sizeof *it);
    it->kind = ITEM_LITERAL;
    it->line = it->init_line = line;
    const char *name = l->name;
    it->keys[it->nkeys++] = strdup(name);
    if (l->at_file_scope) {
        textbuf_printf(&out, "static __typeof__(%s) %s =\n#line %d \"cell\"\n%s;", type.s, name,
                       brace_line, braces.s);
        it->text = take(&out);
        it->readonly = literal_is_const(s, l->open, l->brace);
    } else {
        /* = {0}: in .data, where a compiled program has it, not in .bss */
        textbuf_printf(&out, "static __typeof__(%s) %s = {0};", type.s, name);
        it->init = take(&out);
    }
    free(type.s);
    free(braces.s);
}

/* G's initializer (and, when it stays at file scope, its text) naming
 * the literals' objects. */
static void rewrite_global(cell_item *g, const scan *s) {
    textbuf init = {0};
    put_text(&init, s, 0, s->n, NULL, 1);
    if (g->unsized && g->text) {       /* "specs decl = INIT;" (cell.c) */
        size_t keep = strlen(g->text) - strlen(g->init) - 1;
        textbuf text = {0};
        textbuf_add(&text, g->text, keep);
        textbuf_printf(&text, "%s;", init.s);
        free(g->text);
        g->text = take(&text);
    }
    free(g->init);
    g->init = take(&init);
}

/* The literals of global J of C, as items before it; how many. */
static long hoist_global(cell *c, size_t j, int *counter) {
    cell_item *g = &c->items[j];
    scan s = { .counter = *counter, .global = g->keys[0] };
    token *t = lexer_tokenize(g->init, &s.n, NULL);
    s.t = t;
    long added = -1;
    if (t && find_literals(&s, 0, s.n) == 0 && (s.at = malloc((s.n + 1) * sizeof *s.at))) {
        for (size_t i = 0; i <= s.n; i++) s.at[i] = -1;
        for (size_t k = 0; k < s.nv; k++) s.at[s.v[k].open] = (long)k;
        place_literals(&s, g);
        added = (long)s.nv;
        cell_item *items = s.nv ? realloc(c->items, (c->n + s.nv) * sizeof *items) : c->items;
        if (!items) added = -1;
        if (s.nv && items) {
            c->items = items;
            c->cap = c->n + s.nv;
            memmove(&items[j + s.nv], &items[j], (c->n - j) * sizeof *items);
            c->n += s.nv;
            g = &items[j + s.nv];
            for (size_t k = 0; k < s.nv; k++) literal_item(&items[j + k], &s, &s.v[k], g);
            rewrite_global(g, &s);
        }
    }
    for (size_t k = 0; k < s.nv; k++) free(s.v[k].name);
    free(s.v);
    free(s.at);
    free(t);
    *counter = s.counter;
    return added;
}

int literals_hoist(cell *c) {
    int counter = 0;
    for (size_t j = 0; j < c->n; j++) {
        const cell_item *g = &c->items[j];
        if (g->kind != ITEM_GLOBAL || !g->init || !g->nkeys || !strchr(g->init, '{') ||
            !strchr(g->init, '('))
            continue;
        long added = hoist_global(c, j, &counter);
        if (added < 0) return -1;
        j += (size_t)added;
    }
    return 0;
}

int literals_is_object(const char *name, const char **global) {
    size_t n = strlen(LITERAL_PREFIX);
    if (strncmp(name, LITERAL_PREFIX, n) != 0) return 0;
    const char *p = name + n;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    if (*p != '_') return 0;
    *global = p + 1;
    return 1;
}
