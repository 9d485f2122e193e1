/* complete.c - completion and inspection (see complete.h).
 *
 * Owns an index of the names the headers declare, rebuilt when the
 * session's preprocessed headers change; knows nothing of the protocol. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "complete.h"
#include "lexer.h"

/* A byte of a C identifier (UTF-8 ones included, as for tcc). */
static int is_word(int c) { return lexer_ident_char(c) && c != '$'; }


/* ------------------------------------------------------- header index */

typedef struct {
    char *name;
    char *decl;             /* its declaration, one line */
} header_name;

static struct {
    const char *source;     /* the session headers text it was built from */
    char *copy;
    header_name *names;
    size_t n;
} hidx;

static int cmp_header_name(const void *a, const void *b) {
    return strcmp(((const header_name *)a)->name, ((const header_name *)b)->name);
}

static void hidx_add(const char *name, size_t nlen, const char *decl, size_t dlen) {
    if (nlen == 0 || name[0] == '_') return;            /* internals */
    header_name *v = realloc(hidx.names, (hidx.n + 1) * sizeof *v);
    if (!v) return;
    hidx.names = v;
    v[hidx.n].name = strndup(name, nlen);
    char *d = strndup(decl, dlen);
    for (char *q = d; *q; q++) if (*q == '\n' || *q == '\t') *q = ' ';
    v[hidx.n].decl = d;
    hidx.n++;
}

/* Index the functions, typedefs and macros of the preprocessed headers. */
static void hidx_build(const char *text) {
    for (size_t i = 0; i < hidx.n; i++) { free(hidx.names[i].name); free(hidx.names[i].decl); }
    free(hidx.names);
    free(hidx.copy);
    memset(&hidx, 0, sizeof hidx);
    if (!text) return;
    hidx.source = text;
    hidx.copy = strdup(text);
    size_t n;
    token *t = lexer_tokenize(hidx.copy, &n, NULL);
    if (!t) return;
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].kind == TOK_DIRECTIVE) {
            const char *p = t[i].start + 1;
            while (*p == ' ') p++;
            if (strncmp(p, "define ", 7) == 0) {
                const char *nm = p + 7, *e = nm;
                while (is_word((unsigned char)*e)) e++;
                hidx_add(nm, (size_t)(e - nm), t[i].start, t[i].len);
            }
            start = i + 1;
            continue;
        }
        if (t[i].kind == TOK_PUNCT && t[i].len == 1) {
            char c = t[i].start[0];
            if (c == '(' || c == '{' || c == '[') depth++;
            else if (c == ')' || c == '}' || c == ']') depth--;
        }
        if (depth != 0 || !(lexer_tok_is(&t[i], ";"))) continue;
        /* a declaration [start, i] */
        int is_typedef = 0;
        for (size_t k = start; k < i; k++) if (lexer_tok_is(&t[k], "typedef")) is_typedef = 1;
        const char *ds = t[start].start, *de = t[i].start + 1;
        if (is_typedef) {
            for (size_t k = i; k > start; k--)
                if (t[k - 1].kind == TOK_IDENT) { hidx_add(t[k - 1].start, t[k - 1].len, ds, (size_t)(de - ds)); break; }
        } else {
            int d = 0;
            for (size_t k = start; k + 1 < i; k++) {
                if (t[k].kind == TOK_PUNCT && t[k].len == 1 && strchr("({[", t[k].start[0])) d++;
                if (t[k].kind == TOK_PUNCT && t[k].len == 1 && strchr(")}]", t[k].start[0])) d--;
                if (d == 0 && t[k].kind == TOK_IDENT && lexer_tok_is(&t[k + 1], "(") &&
                    !lexer_tok_is(&t[k], "__attribute__") && !lexer_tok_is(&t[k], "__asm__") && !lexer_tok_is(&t[k], "__typeof__")) {
                    hidx_add(t[k].start, t[k].len, ds, (size_t)(de - ds));
                    break;
                }
            }
        }
        start = i + 1;
    }
    free(t);
    qsort(hidx.names, hidx.n, sizeof *hidx.names, cmp_header_name);
}

static void hidx_update(session *s) {
    const char *h = session_headers(s);
    if (h != hidx.source) hidx_build(h);
}

static const header_name *hidx_find(const char *name) {
    header_name key = { (char *)name, NULL };
    return hidx.n ? bsearch(&key, hidx.names, hidx.n, sizeof *hidx.names, cmp_header_name) : NULL;
}

/* --------------------------------------------------------------- matches */

typedef struct { char **v; size_t n, cap; } strlist;

static void add_match(strlist *l, const char *s, size_t len, const char *prefix, size_t plen) {
    if (len < plen || strncmp(s, prefix, plen) != 0) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strndup(s, len);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }


/* The type name a declaration gives NAME in TEXT: "struct node" or "Point". */
static int type_of(const char *text, const char *name, char *out, size_t n) {
    size_t nt;
    token *t = lexer_tokenize(text, &nt, NULL);
    if (!t) return 0;
    int found = 0;
    for (size_t i = 1; i < nt && !found; i++) {
        if (t[i].kind != TOK_IDENT || !lexer_tok_is(&t[i], name)) continue;
        size_t j = i;
        while (j > 0 && (lexer_tok_is(&t[j - 1], "*") || lexer_tok_is(&t[j - 1], "const"))) j--;
        if (j == 0 || t[j - 1].kind != TOK_IDENT) continue;
        if (i + 1 < nt && !(lexer_tok_is(&t[i + 1], "=") || lexer_tok_is(&t[i + 1], ";") || lexer_tok_is(&t[i + 1], ",") ||
                            lexer_tok_is(&t[i + 1], ")") || lexer_tok_is(&t[i + 1], "[")))
            continue;
        if (j >= 2 && (lexer_tok_is(&t[j - 2], "struct") || lexer_tok_is(&t[j - 2], "union")))
            snprintf(out, n, "%.*s %.*s", (int)t[j - 2].len, t[j - 2].start, (int)t[j - 1].len, t[j - 1].start);
        else
            snprintf(out, n, "%.*s", (int)t[j - 1].len, t[j - 1].start);
        found = 1;
    }
    free(t);
    return found;
}

/* The members of the struct or union defined in TEXT (its first body). */
static void add_members(strlist *l, const char *text, const char *prefix, size_t plen) {
    size_t nt;
    token *t = lexer_tokenize(text, &nt, NULL);
    if (!t) return;
    size_t i = 0;
    while (i < nt && !lexer_tok_is(&t[i], "{")) i++;
    int depth = 0;
    const token *last = NULL;
    for (i++; i < nt; i++) {
        if (lexer_tok_is(&t[i], "{") || lexer_tok_is(&t[i], "(") || lexer_tok_is(&t[i], "[")) {
            depth++;
            continue;
        }
        if (lexer_tok_is(&t[i], ")") || lexer_tok_is(&t[i], "]")) { depth--; continue; }
        if (lexer_tok_is(&t[i], "}")) { if (depth-- == 0) break; continue; }
        if (t[i].kind == TOK_IDENT && depth <= 1 && !lexer_tok_is(&t[i], "const") &&
            !lexer_tok_is(&t[i], "struct") && !lexer_tok_is(&t[i], "union") &&
            !lexer_tok_is(&t[i], "unsigned"))
            last = &t[i];
        if (depth == 0 && (lexer_tok_is(&t[i], ";") || lexer_tok_is(&t[i], ",") || lexer_tok_is(&t[i], ":"))) {
            if (last) add_match(l, last->start, last->len, prefix, plen);
            last = NULL;
            if (lexer_tok_is(&t[i], ":")) while (i + 1 < nt && !lexer_tok_is(&t[i + 1], ";") && !lexer_tok_is(&t[i + 1], ",")) i++;
        }
    }
    free(t);
}

/* The definition text of the struct type TYPE: the session's, or the headers'. */
static const char *struct_text(session *s, const char *type, char **owned) {
    *owned = NULL;
    size_t n = session_size(s);
    for (size_t i = 0; i < n; i++) {
        session_view v;
        session_get(s, i, &v);
        if (v.kind != ITEM_TYPE) continue;
        for (int k = 0; k < v.nkeys; k++) if (strcmp(v.keys[k], type) == 0) return v.text;
    }
    const char *h = session_headers(s);
    if (h && strncmp(type, "struct ", 7) == 0) {
        char pat[256];
        snprintf(pat, sizeof pat, "%s {", type);
        const char *at = strstr(h, pat);
        if (at) {
            const char *e = strstr(at, "};");
            if (e) return *owned = strndup(at, (size_t)(e - at) + 2);
        }
    }
    return NULL;
}

void complete_at(session *s, const char *code, size_t cursor, completion *out) {
    memset(out, 0, sizeof *out);
    size_t len = strlen(code);
    if (cursor > len) cursor = len;
    size_t start = cursor;
    while (start > 0 && is_word((unsigned char)code[start - 1])) start--;
    out->start = start;
    out->end = cursor;
    const char *prefix = code + start;
    size_t plen = cursor - start;
    strlist l = { 0 };
    hidx_update(s);

    /* after `.` or `->`: the members of the variable's struct */
    size_t p = start;
    while (p > 0 && (code[p - 1] == ' ' || code[p - 1] == '\t')) p--;
    int member = 0;
    if (p >= 1 && code[p - 1] == '.') member = 1, p -= 1;
    else if (p >= 2 && code[p - 1] == '>' && code[p - 2] == '-') member = 1, p -= 2;
    if (member) {
        size_t we = p;
        while (we > 0 && code[we - 1] == ' ') we--;
        size_t ws = we;
        while (ws > 0 && is_word((unsigned char)code[ws - 1])) ws--;
        char var[128], type[160];
        snprintf(var, sizeof var, "%.*s", (int)(we - ws), code + ws);
        int known = type_of(code, var, type, sizeof type);
        for (size_t i = 0, n = session_size(s); !known && i < n; i++) {
            session_view v;
            session_get(s, i, &v);
            if (v.kind == ITEM_GLOBAL && v.nkeys && strcmp(v.keys[0], var) == 0)
                known = type_of(v.text, var, type, sizeof type);
        }
        if (known) {
            char *owned;
            const char *text = struct_text(s, type, &owned);
            if (text) add_members(&l, text, prefix, plen);
            free(owned);
        }
    } else {
        for (int i = 0; lexer_keywords[i]; i++) add_match(&l, lexer_keywords[i], strlen(lexer_keywords[i]), prefix, plen);
        for (size_t i = 0, n = session_size(s); i < n; i++) {
            session_view v;
            session_get(s, i, &v);
            for (int k = 0; k < v.nkeys; k++) {
                const char *key = v.keys[k];
                if (key[0] == '#') {
                    if (key[1] != '#' && strncmp(key, "#include", 8) != 0)
                        add_match(&l, key + 1, strlen(key + 1), prefix, plen);
                } else if (!strchr(key, ' ')) {
                    add_match(&l, key, strlen(key), prefix, plen);
                }
            }
        }
        for (size_t i = 0; i < hidx.n; i++)
            add_match(&l, hidx.names[i].name, strlen(hidx.names[i].name), prefix, plen);
        /* names the cell itself uses */
        size_t nt;
        token *t = lexer_tokenize(code, &nt, NULL);
        for (size_t i = 0; t && i < nt; i++)
            if (t[i].kind == TOK_IDENT && t[i].start != prefix)
                add_match(&l, t[i].start, t[i].len, prefix, plen);
        free(t);
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (w && strcmp(l.v[w - 1], l.v[i]) == 0) { free(l.v[i]); continue; }
        l.v[w++] = l.v[i];
    }
    out->matches = l.v;
    out->n = w;
}

void complete_free(completion *c) {
    for (size_t i = 0; i < c->n; i++) free(c->matches[i]);
    free(c->matches);
    memset(c, 0, sizeof *c);
}

char *complete_inspect_at(session *s, const char *code, size_t cursor) {
    size_t len = strlen(code);
    if (cursor > len) cursor = len;
    size_t a = cursor, b = cursor;
    while (a > 0 && is_word((unsigned char)code[a - 1])) a--;
    while (b < len && is_word((unsigned char)code[b])) b++;
    if (a == b) return NULL;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(b - a), code + a);
    char *out = NULL;
    for (size_t i = 0, n = session_size(s); i < n && !out; i++) {
        session_view v;
        session_get(s, i, &v);
        for (int k = 0; k < v.nkeys && !out; k++) {
            const char *key = v.keys[k];
            if (strcmp(key, name) != 0 && !(key[0] == '#' && strcmp(key + 1, name) == 0)) continue;
            const char *decl = v.kind == ITEM_GLOBAL && v.type_text ? v.type_text : v.text;
            if (asprintf(&out, "%s%s\n%s%s", decl, v.kind == ITEM_GLOBAL ? ";" : "",
                         v.doc ? "\n" : "", v.doc ? v.doc : "") < 0)
                out = NULL;
        }
    }
    if (!out) {
        hidx_update(s);
        const header_name *h = hidx_find(name);
        if (h && asprintf(&out, "%s\n\n(declared in the included headers)", h->decl) < 0) out = NULL;
    }
    for (int i = 0; lexer_keywords[i] && !out; i++)
        if (strcmp(lexer_keywords[i], name) == 0 && asprintf(&out, "%s: a C keyword", name) < 0) out = NULL;
    return out;
}
