/* cell.c - split a cell into top-level items (see cell.h).
 *
 * Owns the rules that tell a declaration from a statement at file scope and
 * find where each ends. Knows nothing of libtcc or of the session. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "lexer.h"
#include "literals.h"
#include "scratch.h"

typedef struct {
    const char *src;
    token *t;
    size_t n;
    /* per token: leave it out of a declaration's text (static, a tag's
     * body); kept all zero between declarations, so that each one clears
     * only its own range: a cell of thousands stays linear */
    unsigned char *drop, *tdrop;
} toks;

static int is(const toks *ts, size_t i, const char *text) {
    return i < ts->n && lexer_tok_is(&ts->t[i], text);
}

static int is_kind(const toks *ts, size_t i, tok_kind k) {
    return i < ts->n && ts->t[i].kind == k;
}

static int word_in(const token *t, const char *const *words) {
    if (t->kind != TOK_IDENT) return 0;
    for (int i = 0; words[i]; i++) if (lexer_tok_is(t, words[i])) return 1;
    return 0;
}

static const char *const basic_types[] = {
    "void", "char", "short", "int", "long", "float", "double", "signed",
    "unsigned", "_Bool", "_Complex", "__int128", NULL
};
static const char *const qualifiers[] = {
    "typedef", "extern", "static", "auto", "register", "inline", "__inline",
    "__inline__", "_Noreturn", "const", "volatile", "restrict", "__restrict",
    "__restrict__", "_Thread_local", "__thread", "__extension__", "__const",
    "__volatile__", NULL
};
static const char *const paren_specs[] = {
    "__attribute__", "__attribute", "_Alignas", "__typeof__", "__typeof",
    "typeof", "_Atomic", "__declspec", "__asm__", "asm", NULL
};
static const char *const tags[] = { "struct", "union", "enum", NULL };

/* Index after the bracket that closes the one at I (or ts->n, and
 * *CLOSED 0, when none does; CLOSED may be NULL). */
static size_t group_end(const toks *ts, size_t i, int *closed) {
    int depth = 0;
    if (closed) *closed = 1;
    for (; i < ts->n; i++) {
        const token *t = &ts->t[i];
        if (t->kind != TOK_PUNCT || t->len != 1) continue;
        char c = t->start[0];
        if (c == '(' || c == '[' || c == '{') depth++;
        else if (c == ')' || c == ']' || c == '}') {
            if (--depth == 0) return i + 1;
        }
    }
    if (closed) *closed = 0;
    return ts->n;
}

static size_t skip_group(const toks *ts, size_t i) { return group_end(ts, i, NULL); }

/* Index of the '(' that opens the group whose ')' is at I. */
static size_t skip_group_back(const toks *ts, size_t i) {
    int depth = 0;
    for (;; i--) {
        if (is(ts, i, ")")) depth++;
        else if (is(ts, i, "(") && --depth == 0) return i;
        if (i == 0) return 0;
    }
}

/* ---------------------------------------------------------------- strings */

static char *xstrndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *xprintf(const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* Source text of tokens [a, b), as written (newlines kept, so the compiler's
 * line numbers stay right), with the tokens for which DROP is set blanked. */
static char *span(const toks *ts, size_t a, size_t b, const unsigned char *drop) {
    if (a >= b) return xstrndup("", 0);
    const char *s = ts->t[a].start;
    const char *e = ts->t[b - 1].start + ts->t[b - 1].len;
    char *out = xstrndup(s, (size_t)(e - s));
    if (!out || !drop) return out;
    for (size_t i = a; i < b; i++)
        if (drop[i]) memset(out + (ts->t[i].start - s), ' ', ts->t[i].len);
    return out;
}

/* Tokens [a, b) joined by single spaces, skipping those DROP marks. */
/* Whether a blank goes between tokens A and B when declarations are
 * written out: `char **argv`, `int f(int a, int b)`, `void (*cb)(int)`. */
static int blank_between(const token *a, const token *b) {
    if (b->kind == TOK_PUNCT && (lexer_tok_is(b, ",") || lexer_tok_is(b, ";") ||
                                 lexer_tok_is(b, ")") || lexer_tok_is(b, "]") || lexer_tok_is(b, "[")))
        return 0;
    if (a->kind == TOK_PUNCT &&
        (lexer_tok_is(a, "(") || lexer_tok_is(a, "[") || lexer_tok_is(a, "*")))
        return 0;
    if (lexer_tok_is(b, "(")) return a->kind == TOK_IDENT && (word_in(a, basic_types) || word_in(a, qualifiers));
    return 1;
}

static char *joined(const toks *ts, size_t a, size_t b, const unsigned char *drop) {
    size_t len = 1;
    for (size_t i = a; i < b; i++) len += ts->t[i].len + 1;
    char *out = malloc(len), *p = out;
    if (!out) return NULL;
    const token *prev = NULL;
    for (size_t i = a; i < b; i++) {
        if (drop && drop[i]) continue;
        if (prev && blank_between(prev, &ts->t[i])) *p++ = ' ';
        memcpy(p, ts->t[i].start, ts->t[i].len);
        p += ts->t[i].len;
        prev = &ts->t[i];
    }
    *p = 0;
    return out;
}

static cell_item *add_item(cell *c, item_kind kind, int line) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        cell_item *it = realloc(c->items, cap * sizeof *it);
        if (!it) return NULL;
        c->items = it;
        c->cap = cap;
    }
    cell_item *it = &c->items[c->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = line;
    return it;
}

static void add_key(cell_item *it, char *key) {
    if (key && it->nkeys < ITEM_MAX_KEYS) it->keys[it->nkeys++] = key;
    else free(key);
}

/* ------------------------------------------------------------- directives */

/* The directive's name: "include" for "#  include <x>". */
static void directive_word(const token *t, const char **w, size_t *wl, const char **rest) {
    const char *p = t->start + 1, *e = t->start + t->len;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    *w = p;
    while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) p++;
    *wl = (size_t)(p - *w);
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    *rest = p;
}

static int directive_is(const token *t, const char *word) {
    const char *w, *rest;
    size_t wl;
    directive_word(t, &w, &wl, &rest);
    return wl == strlen(word) && memcmp(w, word, wl) == 0;
}

/* A directive at token I. #if groups are kept whole, with whatever code
 * they hold, since their branches cannot be judged before preprocessing.
 * Returns the index after the item. */
static size_t split_directive(const toks *ts, size_t i, cell *c) {
    const token *t = &ts->t[i];
    const char *w, *rest;
    size_t wl;
    directive_word(t, &w, &wl, &rest);
    const char *end = t->start + t->len;

    if (directive_is(t, "if") || directive_is(t, "ifdef") || directive_is(t, "ifndef")) {
        int depth = 0;
        size_t j = i;
        for (; j < ts->n; j++) {
            if (ts->t[j].kind != TOK_DIRECTIVE) continue;
            const token *d = &ts->t[j];
            if (directive_is(d, "if") || directive_is(d, "ifdef") || directive_is(d, "ifndef")) depth++;
            else if (directive_is(d, "endif") && --depth == 0) break;
        }
        size_t stop = j < ts->n ? j + 1 : ts->n;
        cell_item *it = add_item(c, ITEM_DIRECTIVE, t->line);
        if (!it) return ts->n;
        it->text = span(ts, i, stop, NULL);
        it->proto = span(ts, i, stop, NULL);
        add_key(it, xprintf("#%s", it->text));
        return stop;
    }

    int keep = 1;
    char *key = NULL;
    if (directive_is(t, "include")) {
        key = xprintf("#include %.*s", (int)(end - rest), rest);
    } else if (directive_is(t, "define") || directive_is(t, "undef")) {
        const char *n = rest;
        while (n < end && ((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
                           (*n >= '0' && *n <= '9') || *n == '_')) n++;
        key = xprintf("#%.*s", (int)(n - rest), rest);
    } else {
        keep = 0;                      /* #pragma, #error, #line, ...: this cell only */
    }
    cell_item *it = add_item(c, keep ? ITEM_DIRECTIVE : ITEM_OTHER, t->line);
    if (!it) { free(key); return ts->n; }
    it->text = xstrndup(t->start, t->len);
    if (keep) it->proto = xstrndup(t->start, t->len);
    add_key(it, key);
    return i + 1;
}

/* ------------------------------------------------------------ statements */

/* Index after the statement starting at I. Sets *OPEN when the text ended
 * before the statement's ';' (a trailing expression, or an error). */
static size_t statement_end(const toks *ts, size_t i, int *open) {
    if (i >= ts->n) { *open = 1; return i; }
    if (is(ts, i, "{")) return skip_group(ts, i);
    if (is(ts, i, ";")) return i + 1;
    if (is(ts, i, "if")) {
        size_t j = statement_end(ts, skip_group(ts, i + 1), open);
        if (!*open && is(ts, j, "else")) j = statement_end(ts, j + 1, open);
        return j;
    }
    if (is(ts, i, "for") || is(ts, i, "while") || is(ts, i, "switch"))
        return statement_end(ts, skip_group(ts, i + 1), open);
    if (is(ts, i, "do")) {
        size_t j = statement_end(ts, i + 1, open);
        if (*open) return j;
        if (is(ts, j, "while")) j = skip_group(ts, j + 1);
        if (is(ts, j, ";")) return j + 1;
        *open = 1;
        return j;
    }
    if (is_kind(ts, i, TOK_IDENT) && is(ts, i + 1, ":") && !is(ts, i, "default"))
        return statement_end(ts, i + 2, open);      /* a label */
    /* An expression statement: up to ';' outside brackets. */
    for (size_t j = i; j < ts->n;) {
        if (is(ts, j, ";")) return j + 1;
        const token *t = &ts->t[j];
        if (t->kind == TOK_PUNCT && t->len == 1 && strchr("([{", t->start[0])) j = skip_group(ts, j);
        else if (t->kind == TOK_DIRECTIVE) break;
        else j++;
    }
    *open = 1;
    size_t j = i;
    while (j < ts->n && ts->t[j].kind != TOK_DIRECTIVE) {
        const token *t = &ts->t[j];
        if (t->kind == TOK_PUNCT && t->len == 1 && strchr("([{", t->start[0])) j = skip_group(ts, j);
        else j++;
    }
    return j;
}

/* ----------------------------------------------------------- declarations */

/* Does the chunk at I start a declaration? Keywords say so; so does a
 * name followed by a name (`size_t n`), or by stars and a name and then
 * = ; , [ ( ) (`FILE *f = ...`): as an expression, `a * b;` would be
 * useless, so C programmers read it as a declaration too. */
static int starts_declaration(const toks *ts, size_t i) {
    const token *t = &ts->t[i];
    if (t->kind != TOK_IDENT) return 0;
    if (word_in(t, basic_types) || word_in(t, qualifiers) || word_in(t, tags) ||
        word_in(t, paren_specs) || lexer_tok_is(t, "_Static_assert") ||
        lexer_tok_is(t, "static_assert"))
        return 1;
    static const char *const stmt_words[] = {
        "if", "for", "while", "do", "switch", "return", "break", "continue",
        "goto", "case", "default", "else", "sizeof", "_Alignof", "_Generic", NULL
    };
    if (word_in(t, stmt_words)) return 0;
    size_t j = i + 1;
    if (is_kind(ts, j, TOK_IDENT) && !word_in(&ts->t[j], stmt_words)) return 1;
    if (!is(ts, j, "*")) {
        /* `name(...) {`: a function definition with an implicit int */
        if (is(ts, j, "(")) {
            size_t k = skip_group(ts, j);
            return is(ts, k, "{");
        }
        return 0;
    }
    while (is(ts, j, "*") || is(ts, j, "const")) j++;
    if (!is_kind(ts, j, TOK_IDENT)) return 0;
    j++;
    return is(ts, j, "=") || is(ts, j, ";") || is(ts, j, ",") || is(ts, j, "[") ||
           is(ts, j, "(") || is(ts, j, ")");
}

/* Index after the declaration specifiers starting at I. *TAG_BODY gets the
 * range of a struct/union/enum tag with a body, *TYPEDEF whether `typedef`
 * is among them. */
static size_t specifiers_end(const toks *ts, size_t i, size_t *tag_at, size_t *tag_end, int *is_typedef) {
    int saw_type = 0;
    *tag_at = *tag_end = (size_t)-1;
    *is_typedef = 0;
    while (i < ts->n) {
        const token *t = &ts->t[i];
        if (t->kind != TOK_IDENT) break;
        if (lexer_tok_is(t, "typedef")) { *is_typedef = 1; i++; continue; }
        if (word_in(t, qualifiers)) { i++; continue; }
        if (word_in(t, basic_types)) { saw_type = 1; i++; continue; }
        if (word_in(t, paren_specs)) {
            i++;
            if (is(ts, i, "(")) i = skip_group(ts, i);
            if (lexer_tok_is(t, "__typeof__") || lexer_tok_is(t, "typeof") || lexer_tok_is(t, "__typeof")) saw_type = 1;
            continue;
        }
        if (word_in(t, tags)) {
            size_t at = i++;
            while (is(ts, i, "__attribute__")) i = skip_group(ts, i + 1);
            if (is_kind(ts, i, TOK_IDENT)) i++;
            if (is(ts, i, "{")) {
                i = skip_group(ts, i);
                *tag_at = at;
                *tag_end = i;
            }
            saw_type = 1;
            continue;
        }
        if (!saw_type && !is(ts, i + 1, "(")) { saw_type = 1; i++; continue; }   /* a typedef name */
        break;
    }
    return i;
}

/* The name a declarator [a, b) declares: its first identifier that is not
 * a qualifier or attribute. */
static size_t declarator_name(const toks *ts, size_t a, size_t b) {
    for (size_t i = a; i < b; i++) {
        const token *t = &ts->t[i];
        if (t->kind != TOK_IDENT) continue;
        if (word_in(t, qualifiers)) continue;
        if (word_in(t, paren_specs)) { i = skip_group(ts, i + 1) - 1; continue; }
        return i;
    }
    return (size_t)-1;
}

static char *tag_key(const toks *ts, size_t tag_at) {
    size_t i = tag_at + 1;
    while (is(ts, i, "__attribute__")) i = skip_group(ts, i + 1);
    if (!is_kind(ts, i, TOK_IDENT)) return NULL;             /* anonymous */
    return xprintf("%.*s %.*s", (int)ts->t[tag_at].len, ts->t[tag_at].start,
                   (int)ts->t[i].len, ts->t[i].start);
}

/* Enum constants are ordinary identifiers: list them as keys of the type. */
static void add_enum_keys(const toks *ts, size_t tag_at, size_t tag_end, cell_item *it) {
    if (!lexer_tok_is(&ts->t[tag_at], "enum")) return;
    size_t i = tag_at;
    while (i < tag_end && !is(ts, i, "{")) i++;
    int expect_name = 1;
    for (i++; i + 1 < tag_end; i++) {
        if (expect_name && is_kind(ts, i, TOK_IDENT)) {
            add_key(it, xstrndup(ts->t[i].start, ts->t[i].len));
            expect_name = 0;
        } else if (is(ts, i, ",")) {
            expect_name = 1;
        } else if (ts->t[i].kind == TOK_PUNCT && strchr("([{", ts->t[i].start[0])) {
            i = skip_group(ts, i) - 1;
        }
    }
}

/* A K&R definition, `int add(a, b) int a, b; { ... }`: J follows a
 * parameter list of names only, and declarations of them come before the
 * body. The index of the body's '{', or (size_t)-1. */
static size_t knr_body(const toks *ts, size_t j) {
    if (j == 0 || !is(ts, j - 1, ")") || !is_kind(ts, j, TOK_IDENT) || word_in(&ts->t[j], paren_specs))
        return (size_t)-1;
    if (!word_in(&ts->t[j], basic_types) && !word_in(&ts->t[j], qualifiers) && !word_in(&ts->t[j], tags) &&
        !is_kind(ts, j + 1, TOK_IDENT) && !is(ts, j + 1, "*"))
        return (size_t)-1;                     /* not a declaration of a parameter */
    size_t open = j - 1;
    while (open > 0 && !is(ts, open, "(")) {
        const token *t = &ts->t[open];
        if (t->kind == TOK_IDENT ? word_in(t, basic_types) || word_in(t, qualifiers)
                                 : !is(ts, open, ",") && !is(ts, open, ")"))
            return (size_t)-1;
        open--;
    }
    if (open == 0 || !is_kind(ts, open - 1, TOK_IDENT)) return (size_t)-1;
    for (size_t k = j; k < ts->n; k++) {
        if (is(ts, k, "{")) return k;
        if (is(ts, k, "=") || is(ts, k, "}") || ts->t[k].kind == TOK_DIRECTIVE) return (size_t)-1;
        if (is(ts, k, "(") || is(ts, k, "[")) k = skip_group(ts, k) - 1;
    }
    return (size_t)-1;
}

/* A function definition from I (specifiers end at DSTART) whose body
 * opens at BODY, KNR when it is a K&R one (the parameter declarations
 * start at J). The index after the body. */
static size_t split_function(const toks *ts, size_t i, size_t dstart, size_t j, size_t body, int knr,
                             cell *c) {
    int closed;
    size_t body_end = group_end(ts, body, &closed);
    unsigned char *drop = ts->drop;
    for (size_t k = i; k < dstart; k++)
        if (is(ts, k, "static")) drop[k] = 1;    /* persists: needs external linkage */
    cell_item *it = add_item(c, ITEM_FUNCTION, ts->t[i].line);
    if (it) {
        it->open_end = !closed;
        it->text = span(ts, i, body_end, drop);
        size_t head_end = knr ? skip_group_back(ts, j - 1) : j;
        char *head = joined(ts, i, head_end, drop);
        /* a K&R one is known to later cells as `int add();` */
        it->proto = head ? xprintf(knr ? "%s();" : "%s;", head) : NULL;
        free(head);
        size_t name = declarator_name(ts, dstart, j);
        if (name != (size_t)-1) add_key(it, xstrndup(ts->t[name].start, ts->t[name].len));
    }
    memset(drop + i, 0, dstart - i);
    return body_end;
}

/* A typedef, or a tag declared alone (`struct P { ... };`), from I to END:
 * one type item, keyed by the tag and by each typedef name. */
static void split_type(const toks *ts, size_t i, size_t dstart, size_t decl_end, size_t end,
                       size_t tag_at, size_t tag_end, int is_typedef, char *tag, cell *c) {
    cell_item *it = add_item(c, ITEM_TYPE, ts->t[i].line);
    if (!it) { free(tag); return; }
    it->text = span(ts, i, end, NULL);
    if (dstart == decl_end && end == decl_end) {       /* missing ';' */
        char *t = it->text;
        it->text = xprintf("%s;", t);
        free(t);
    }
    it->proto = xstrndup(it->text, strlen(it->text));
    if (tag) add_key(it, tag);
    if (tag_at != (size_t)-1) add_enum_keys(ts, tag_at, tag_end, it);
    if (!is_typedef) return;
    size_t a = dstart;                   /* each declarator names a type */
    for (size_t k = dstart; k <= decl_end; k++) {
        if (k == decl_end || is(ts, k, ",")) {
            size_t name = declarator_name(ts, a, k);
            if (name != (size_t)-1) add_key(it, xstrndup(ts->t[name].start, ts->t[name].len));
            a = k + 1;
        } else if (ts->t[k].kind == TOK_PUNCT && strchr("([{", ts->t[k].start[0])) {
            k = skip_group(ts, k) - 1;
        }
    }
}

/* Whether the object a declarator names (NAME, the declarator starting at
 * A, specifiers from I) is itself const: `const int k`, `char *const p`,
 * `const char msg[]`, not `const char *p` (a pointer to const). A type made
 * const by a typedef is not seen: such an object stays writable. */
static int object_is_const(const toks *ts, size_t i, size_t a, size_t name) {
    for (size_t k = name; k-- > a;) {
        if (is(ts, k, "const")) return 1;
        if (is(ts, k, "*")) return 0;
    }
    for (size_t k = i; k < a; k++) {
        if (is(ts, k, "const")) return 1;
        /* a const member (`struct { const int x; int y; } s`), typeof(const T),
         * _Alignas(...): not the object's own qualifier */
        if (ts->t[k].kind == TOK_PUNCT && (is(ts, k, "{") || is(ts, k, "(")))
            k = skip_group(ts, k) - 1;
    }
    return 0;
}

/* One declarator, from A to K (a ',' or the end), of a declaration whose
 * specifiers run from I to DSTART: a global, or a declaration of a function
 * or an extern. SPECS is the specifiers' text; ts->tdrop marks what the
 * type's text leaves out. 0, or -1 when out of memory. */
static int split_declarator(const toks *ts, size_t i, size_t dstart, size_t a, size_t k,
                            const char *specs, int is_extern, cell *c) {
    size_t name = declarator_name(ts, a, k);
    size_t eq = a;
    while (eq < k && !is(ts, eq, "=")) {
        if (ts->t[eq].kind == TOK_PUNCT && ts->t[eq].len == 1 && strchr("([{", ts->t[eq].start[0]))
            eq = skip_group(ts, eq);
        else eq++;
    }
    int is_func = name != (size_t)-1 && is(ts, name + 1, "(");
    int line = ts->t[a < ts->n ? a : i].line;
    char *decl = span(ts, a, eq, NULL);
    if (name == (size_t)-1 && !is_extern) {
        /* no name to keep (`int x = 1, 2;`): file scope as written, so
         * the compiler says what is wrong; nothing of it persists */
        cell_item *bad = add_item(c, ITEM_OTHER, line);
        if (bad && decl) bad->text = xprintf("%s %s;", specs, decl);
        free(decl);
        return 0;
    }
    cell_item *it = add_item(c, is_func || is_extern ? ITEM_DECLARATION : ITEM_GLOBAL, line);
    if (!it || !decl) { free(decl); return -1; }
    if (name != (size_t)-1) add_key(it, xstrndup(ts->t[name].start, ts->t[name].len));
    if (it->kind == ITEM_DECLARATION) {
        it->text = xprintf("%s %s;", specs, decl);
        it->proto = xstrndup(it->text, strlen(it->text));
        free(decl);
        return 0;
    }
    char *tspecs = joined(ts, i, dstart, ts->tdrop);
    char *tdecl = joined(ts, a, eq, NULL);
    it->type_text = xprintf("%s %s", tspecs ? tspecs : "", tdecl ? tdecl : "");
    free(tspecs);
    free(tdecl);
    it->unsized = 0;
    for (size_t m = a; m + 1 < eq; m++)
        if (is(ts, m, "[") && is(ts, m + 1, "]")) it->unsized = 1;
    if (eq < k) {
        it->init = span(ts, eq + 1, k, NULL);
        it->init_line = ts->t[eq + 1 < ts->n ? eq + 1 : eq].line;
        it->readonly = object_is_const(ts, i, a, name);
    }
    if (it->unsized && it->init) it->text = xprintf("%s %s = %s;", specs, decl, it->init);
    else it->text = xprintf("%s %s;", specs, decl);
    it->proto = xprintf("extern %s;", it->type_text);
    free(decl);
    return 0;
}

/* Variables and prototypes from I to DECL_END: one item per declarator.
 * The specifiers are repeated for each; a tag body already emitted (at
 * TAG_AT) is replaced by the tag. */
static void split_declarators(const toks *ts, size_t i, size_t dstart, size_t decl_end,
                              size_t tag_at, size_t tag_end, cell *c) {
    unsigned char *drop = ts->drop;
    int is_extern = 0;
    for (size_t k = i; k < dstart; k++) {
        if (is(ts, k, "static")) drop[k] = 1;
        if (is(ts, k, "extern")) is_extern = 1;
    }
    char *named_tag = tag_at != (size_t)-1 ? tag_key(ts, tag_at) : NULL;
    if (named_tag) {
        /* keep `struct P`, drop `{ ... }` */
        for (size_t k = tag_at; k < tag_end; k++)
            if (is(ts, k, "{")) { for (size_t m = k; m < tag_end; m++) drop[m] = 1; break; }
    }
    free(named_tag);
    char *specs = span(ts, i, dstart, drop);
    unsigned char *tdrop = ts->tdrop;             /* for the type text: no storage class */
    if (specs) {
        memcpy(tdrop + i, drop + i, dstart - i);
        for (size_t k = i; k < dstart; k++)
            if (is(ts, k, "extern") || is(ts, k, "register") || is(ts, k, "auto")) tdrop[k] = 1;
        size_t a = dstart;
        for (size_t k = dstart; k <= decl_end; k++) {
            if (k < decl_end && !is(ts, k, ",")) {
                if (ts->t[k].kind == TOK_PUNCT && ts->t[k].len == 1 && strchr("([{", ts->t[k].start[0]))
                    k = skip_group(ts, k) - 1;
                continue;
            }
            if (split_declarator(ts, i, dstart, a, k, specs, is_extern, c) < 0) break;
            a = k + 1;
        }
        free(specs);
    }
    memset(drop + i, 0, dstart - i);
    memset(tdrop + i, 0, dstart - i);
}

/* A declaration or function definition starting at I. */
static size_t split_declaration(const toks *ts, size_t i, cell *c) {
    size_t tag_at, tag_end;
    int is_typedef;
    size_t dstart = specifiers_end(ts, i, &tag_at, &tag_end, &is_typedef);

    /* Find the end: ';' outside brackets, or a function body. */
    size_t j = dstart;
    int saw_assign = 0;
    while (j < ts->n) {
        const token *t = &ts->t[j];
        if (is(ts, j, ";")) break;
        if (is(ts, j, "=")) saw_assign = 1;
        if (t->kind == TOK_DIRECTIVE) break;
        size_t knr = saw_assign ? (size_t)-1 : knr_body(ts, j);
        if (knr != (size_t)-1)
            return split_function(ts, i, dstart, j, knr, 1, c);
        if (is(ts, j, "{") && !saw_assign && j > dstart && is(ts, j - 1, ")"))
            return split_function(ts, i, dstart, j, j, 0, c);
        if (t->kind == TOK_PUNCT && t->len == 1 && strchr("([{", t->start[0])) j = skip_group(ts, j);
        else j++;
    }
    size_t end = j < ts->n && is(ts, j, ";") ? j + 1 : j;
    size_t decl_end = j;                       /* the ';' or where it should be */

    if (is(ts, i, "_Static_assert") || is(ts, i, "static_assert")) {
        cell_item *it = add_item(c, ITEM_OTHER, ts->t[i].line);
        if (it) it->text = span(ts, i, end, NULL);
        return end;
    }
    /* A tag with a body and declarators: the type is an item of its own so
     * a later cell can replace it; the declarators then name it by tag. */
    char *tag = tag_at != (size_t)-1 ? tag_key(ts, tag_at) : NULL;
    if (is_typedef || dstart == decl_end) {
        split_type(ts, i, dstart, decl_end, end, tag_at, tag_end, is_typedef, tag, c);
        return end;
    }
    if (tag) {
        cell_item *it = add_item(c, ITEM_TYPE, ts->t[i].line);
        if (!it) { free(tag); return end; }
        char *body = span(ts, i, tag_end, NULL);
        it->text = xprintf("%s;", body);
        free(body);
        it->proto = xstrndup(it->text, strlen(it->text));
        add_key(it, tag);
        add_enum_keys(ts, tag_at, tag_end, it);
    }
    split_declarators(ts, i, dstart, decl_end, tag_at, tag_end, c);
    return end;
}

/* The comment right above AT (only blank space between), without its
 * markers: a block comment, or a run of // lines. NULL if there is none. */
static char *leading_comment(const char *src, const char *at) {
    const char *p = at;
    while (p > src && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r')) p--;
    const char *end = p, *start = NULL;
    if (p - src >= 2 && p[-1] == '/' && p[-2] == '*') {
        for (const char *q = p - 2; q > src; q--)
            if (q[-1] == '/' && q[0] == '*') { start = q - 1; break; }
    } else {
        /* // lines, each alone on its line */
        const char *line_end = p;
        while (line_end > src) {
            const char *ls = line_end;
            while (ls > src && ls[-1] != '\n') ls--;
            const char *t = ls;
            while (t < line_end && (*t == ' ' || *t == '\t')) t++;
            if (line_end - t >= 2 && t[0] == '/' && t[1] == '/') {
                start = t;
                line_end = ls > src ? ls - 1 : ls;
                if (ls == src) break;
            } else {
                break;
            }
        }
    }
    if (!start) return NULL;
    char *out = malloc((size_t)(end - start) + 1), *o = out;
    if (!out) return NULL;
    for (const char *q = start; q < end; q++) {
        if (q[0] == '/' && (q[1] == '*' || q[1] == '/')) { q++; continue; }
        if (q[0] == '*' && q[1] == '/') { q++; continue; }
        *o++ = *q;
    }
    *o = 0;
    /* trim blank space and leading '*' of block comment lines */
    char *r = out, *w = out;
    int at_line_start = 1;
    for (; *r; r++) {
        if (at_line_start && (*r == ' ' || *r == '\t' || *r == '*')) continue;
        at_line_start = *r == '\n';
        *w++ = *r;
    }
    while (w > out && (w[-1] == '\n' || w[-1] == ' ')) w--;
    *w = 0;
    if (!*out) { free(out); return NULL; }
    return out;
}

/* ------------------------------------------------------------------- split */

/* The token arrays, megabytes for a long cell, are scratch memory of the
 * compiler's (compile.h): heap pages would each cost a fault after every
 * snapshot fork. They go with the next compile_free. */
static void *zeroed_scratch(size_t n) {
    void *p = scratch_realloc(NULL, n);
    if (p) memset(p, 0, n);
    return p;
}

int cell_split(const char *code, cell *out) {
    size_t n = 0;
    int unterminated = 0;
    token *t = lexer_tokenize_with(code, &n, &unterminated, scratch_realloc);
    return t ? cell_split_tokens(code, t, n, unterminated, out) : -1;
}

int cell_split_tokens(const char *code, token *t, size_t n, int unterminated, cell *out) {
    toks ts = { code, t, n, NULL, NULL };
    if (unterminated == '*') {
        /* a comment that never ends: the compiler says so, as for tcc */
        cell_item *it = add_item(out, ITEM_OTHER, 1);
        if (it) it->text = xstrndup(code, strlen(code));
        if (it) it->open_end = 1;
        return it ? 0 : -1;
    }
    ts.drop = zeroed_scratch(ts.n + 1);
    ts.tdrop = zeroed_scratch(ts.n + 1);
    if (!ts.drop || !ts.tdrop) return -1;
    size_t i = 0;
    while (i < ts.n) {
        const token *t = &ts.t[i];
        if (t->kind == TOK_DIRECTIVE) {
            size_t before = out->n;
            const char *at = t->start;
            i = split_directive(&ts, i, out);
            if (out->n > before) out->items[before].doc = leading_comment(code, at);
            continue;
        }
        if (is(&ts, i, ";")) { i++; continue; }
        if (starts_declaration(&ts, i)) {
            size_t before = out->n;
            const char *at = t->start;
            i = split_declaration(&ts, i, out);
            if (out->n > before) out->items[before].doc = leading_comment(code, at);
            continue;
        }
        int open = 0;
        size_t j = statement_end(&ts, i, &open);
        if (j <= i) j = i + 1;
        int line = t->line;
        cell_item *it;
        static const char *const not_expr[] = {
            "if", "for", "while", "do", "switch", "return", "break", "continue", "goto", NULL
        };
        if (open && j >= ts.n && !word_in(t, not_expr) && !is(&ts, i, "{")) {
            it = add_item(out, ITEM_EXPRESSION, line);
        } else {
            it = add_item(out, ITEM_STATEMENT, line);
        }
        if (!it) break;
        it->text = span(&ts, i, j, NULL);
        i = j;
    }
    return literals_hoist(out);
}

void cell_free(cell *c) {
    for (size_t i = 0; i < c->n; i++) {
        cell_item *it = &c->items[i];
        free(it->text);
        free(it->proto);
        free(it->doc);
        free(it->type_text);
        free(it->init);
        for (int k = 0; k < it->nkeys; k++) free(it->keys[k]);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}
