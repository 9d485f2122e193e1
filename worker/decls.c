/* decls.c - an index of a header text's declarations, to give each unit
 * only those it uses (decls.h).
 *
 * Owns: the chunks of a text, the names each declares and uses, and a
 * small cache of indexes by text. Reads tokens from lexer.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "decls.h"
#include "lexer.h"
#include "scratch.h"
#include "strmap.h"

typedef struct { size_t start, end; } span;
typedef struct { size_t name, chunk; int tag; } decl_pair;

struct decls {
    char *text;                      /* a copy: the cache's key, and the chunks' text */
    span *chunk;
    size_t nchunks, capchunks;
    unsigned char *always;           /* per chunk: declares no name, so always kept */
    strmap ids;                      /* name -> id */
    char **name;                     /* id -> name (owned; the map's keys) */
    unsigned char *is_typedef;       /* per id */
    size_t nnames, capnames;
    size_t *use_start, *use;         /* chunk c uses ids use[use_start[c] .. use_start[c+1]) */
    size_t nuse, capuse;
    size_t *decl_start, *decl;       /* id i is declared by chunks decl[decl_start[i] .. ) */
    decl_pair *pairs;                /* while building */
    size_t npairs, cappairs;
};

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap * 2 : 256;
    while (cap2 < need) cap2 *= 2;
    void *q = realloc(*p, cap2 * size);
    if (!q) return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

/* ------------------------------------------------------------- names */

/* Words that are never the name a declaration declares. */
static const char *const not_names[] = {
    "__attribute__", "__attribute", "__asm__", "__asm", "asm", "__extension__", "__inline",
    "__inline__", "__restrict", "__restrict__", "__const", "__const__", "__volatile",
    "__volatile__", "__signed", "__signed__", "__typeof__", "__typeof", "typeof",
    "__alignof__", "__builtin_va_list", "_Float128", "__int128", NULL
};

/* Words whose parenthesis holds no declarator: attributes, asm labels,
 * typeof, alignment, sizeof in array bounds. */
static const char *const paren_words[] = {
    "__attribute__", "__attribute", "__asm__", "__asm", "asm", "__typeof__", "__typeof",
    "typeof", "_Alignas", "__alignof__", "_Alignof", "sizeof", "_Static_assert", NULL
};

static int in_list(const char *const *list, const char *s, size_t n) {
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0) return 1;
    return 0;
}

static int is_keyword(const char *s, size_t n) {
    static strmap words;                 /* both lists, for one lookup a token */
    if (!words.n) {
        for (const char *const *w = lexer_keywords; *w; w++) strmap_put(&words, *w, 1);
        for (const char *const *w = not_names; *w; w++) strmap_put(&words, *w, 1);
    }
    char key[32];
    if (n >= sizeof key) return 0;
    memcpy(key, s, n);
    key[n] = 0;
    return strmap_get(&words, key) >= 0;
}

/* The id of name S[0..N), added if new; (size_t)-1 if out of memory. */
static size_t intern(decls *ix, const char *s, size_t n) {
    char key[256];
    if (n >= sizeof key) n = sizeof key - 1;
    memcpy(key, s, n);
    key[n] = 0;
    long id = strmap_get(&ix->ids, key);
    if (id >= 0) return (size_t)id;
    if (grow((void **)&ix->name, &ix->capnames, ix->nnames + 1, sizeof *ix->name) < 0) return (size_t)-1;
    size_t cap = ix->capnames;          /* is_typedef follows name's capacity */
    unsigned char *t = realloc(ix->is_typedef, cap);
    if (!t) return (size_t)-1;
    ix->is_typedef = t;
    ix->is_typedef[ix->nnames] = 0;
    if (!(ix->name[ix->nnames] = strdup(key))) return (size_t)-1;
    strmap_put(&ix->ids, ix->name[ix->nnames], (long)ix->nnames);
    return ix->nnames++;
}

static void add_use(decls *ix, size_t id) {
    if (id == (size_t)-1 || grow((void **)&ix->use, &ix->capuse, ix->nuse + 1, sizeof *ix->use) < 0) return;
    ix->use[ix->nuse++] = id;
}

static void add_decl(decls *ix, size_t id, size_t chunk, int tag) {
    if (id == (size_t)-1 || grow((void **)&ix->pairs, &ix->cappairs, ix->npairs + 1, sizeof *ix->pairs) < 0)
        return;
    ix->pairs[ix->npairs++] = (decl_pair){ id, chunk, tag };
}

/* Call FN with each identifier of TEXT[0..LEN), skipping comments,
 * string and character literals and numbers. */
static void each_identifier(const char *p, size_t len, void (*fn)(void *ud, const char *s, size_t n), void *ud) {
    const char *end = p + len;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (lexer_ident_start(c)) {
            const char *s = p;
            while (p < end && lexer_ident_char((unsigned char)*p)) p++;
            fn(ud, s, (size_t)(p - s));
        } else if (isdigit(c) || (c == '.' && p + 1 < end && isdigit((unsigned char)p[1]))) {
            while (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '_' ||
                               ((*p == '+' || *p == '-') && strchr("eEpP", p[-1]))))
                p++;
        } else if (c == '"' || c == '\'') {
            for (p++; p < end && *p != (char)c && *p != '\n'; p++)
                if (*p == '\\' && p + 1 < end) p++;
            p++;
        } else if (c == '/' && p + 1 < end && p[1] == '/') {
            while (p < end && *p != '\n') p++;
        } else if (c == '/' && p + 1 < end && p[1] == '*') {
            const char *e = p + 2 < end ? strstr(p + 2, "*/") : NULL;
            p = e && e < end ? e + 2 : end;
        } else {
            p++;
        }
    }
}

/* ------------------------------------------------------------- chunks */

typedef struct {
    decls *ix;
    size_t chunk;
} directive_ctx;

static void directive_use(void *ud, const char *s, size_t n) {
    directive_ctx *c = ud;
    if (!is_keyword(s, n)) add_use(c->ix, intern(c->ix, s, n));
}

/* A #define or #undef declares its macro and uses what its body names;
 * another directive (#pragma) declares nothing. */
static void index_directive(decls *ix, const token *t, size_t chunk) {
    const char *p = t->start + 1, *end = t->start + t->len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *w = p;
    while (p < end && isalpha((unsigned char)*p)) p++;
    size_t wn = (size_t)(p - w);
    if ((wn == 6 && !memcmp(w, "define", 6)) || (wn == 5 && !memcmp(w, "undef", 5))) {
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        const char *n = p;
        while (p < end && lexer_ident_char((unsigned char)*p)) p++;
        if (p > n) add_decl(ix, intern(ix, n, (size_t)(p - n)), chunk, 0);
    }
    directive_ctx c = { ix, chunk };
    each_identifier(p, (size_t)(end - p), directive_use, &c);
}

/* Close the chunk from token FIRST to LAST, whose declarations are the
 * pairs from PAIRS_BEFORE on: their names are types when it is a typedef;
 * a chunk that declares nothing is always kept. */
static int end_chunk(decls *ix, const token *first, const token *last, size_t pairs_before, int typedef_chunk) {
    size_t chunk = ix->nchunks;
    ix->chunk[chunk] = (span){ (size_t)(first->start - ix->text), (size_t)(last->start + last->len - ix->text) };
    if (typedef_chunk)
        for (size_t p = pairs_before; p < ix->npairs; p++)
            if (!ix->pairs[p].tag) ix->is_typedef[ix->pairs[p].name] = 1;
    ix->nchunks++;
    ix->use_start[ix->nchunks] = ix->nuse;
    unsigned char *a = realloc(ix->always, ix->nchunks);
    if (!a) return -1;
    ix->always = a;
    ix->always[chunk] = ix->npairs == pairs_before;
    return 0;
}

/* Cut the tokens into chunks and read what each declares and uses. The
 * name a declaration declares is an identifier outside braces, brackets,
 * initializers and parameter lists that is no keyword and no typedef
 * name already known; a tag after struct/union/enum counts when a body or
 * a `;` follows; enumerators are the names at the start of each item of
 * an enum's body. */
static int index_tokens(decls *ix, const token *t, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t chunk = ix->nchunks, first = i;
        if (grow((void **)&ix->chunk, &ix->capchunks, ix->nchunks + 1, sizeof *ix->chunk) < 0) return -1;
        ix->use_start = realloc(ix->use_start, (ix->nchunks + 2) * sizeof *ix->use_start);
        if (!ix->use_start) return -1;
        ix->use_start[chunk] = ix->nuse;
        size_t pairs_before = ix->npairs;
        char parens[64];                 /* 'g' grouping, 'p' parameters or attribute */
        int np = 0, skip = 0;            /* skip: enclosing 'p' parens */
        int braces = 0, brackets = 0, in_init = 0, typedef_chunk = 0, fn_body = 0, enum_body = 0;
        int agg = 0;                     /* the last struct/union/enum keyword: 'e' for enum */
        for (; i < n; i++) {
            const token *k = &t[i];
            const token *prev = i > first ? &t[i - 1] : NULL;
            if (k->kind == TOK_DIRECTIVE) {
                index_directive(ix, k, chunk);
                if (i == first) { i++; break; }       /* a chunk of its own */
                continue;                             /* inside a declaration (enum bodies) */
            }
            if (k->kind == TOK_IDENT) {
                int kw = is_keyword(k->start, k->len);
                if (kw) {
                    if (lexer_tok_is(k, "typedef") && !braces) typedef_chunk = 1;
                    if (!braces && (lexer_tok_is(k, "struct") || lexer_tok_is(k, "union")))
                        agg = 's';
                    if (!braces && lexer_tok_is(k, "enum")) agg = 'e';
                    continue;
                }
                size_t id = intern(ix, k->start, k->len);
                add_use(ix, id);
                int after_tag = prev && (lexer_tok_is(prev, "struct") || lexer_tok_is(prev, "union") || lexer_tok_is(prev, "enum"));
                const token *next = i + 1 < n ? &t[i + 1] : NULL;
                if (after_tag) {
                    if (!braces && next && (lexer_tok_is(next, "{") || lexer_tok_is(next, ";"))) add_decl(ix, id, chunk, 1);
                } else if (enum_body && braces == 1 && !np && prev && (lexer_tok_is(prev, "{") || lexer_tok_is(prev, ","))) {
                    add_decl(ix, id, chunk, 0);             /* an enumerator */
                } else if (!braces && !brackets && !skip && !in_init && !(prev && (lexer_tok_is(prev, ".") || lexer_tok_is(prev, "->"))) &&
                           (id == (size_t)-1 || !ix->is_typedef[id])) {
                    add_decl(ix, id, chunk, 0);
                }
                continue;
            }
            if (k->kind != TOK_PUNCT) continue;
            if (lexer_tok_is(k, "(")) {
                /* after a name (not a type's) or a `)`: parameters; after
                 * an attribute word: no declarator; else grouping */
                size_t pid = prev && prev->kind == TOK_IDENT && !is_keyword(prev->start, prev->len)
                             ? intern(ix, prev->start, prev->len) : (size_t)-1;
                int params = prev && (lexer_tok_is(prev, ")") || in_list(paren_words, prev->start, prev->len) ||
                                      (pid != (size_t)-1 && !ix->is_typedef[pid]));
                if (np < (int)sizeof parens) parens[np] = params ? 'p' : 'g';
                if (params) skip++;
                np++;
            } else if (lexer_tok_is(k, ")")) {
                if (np > 0) {
                    np--;
                    if (np < (int)sizeof parens && parens[np] == 'p') skip--;
                }
            } else if (lexer_tok_is(k, "[")) {
                brackets++;
            } else if (lexer_tok_is(k, "]")) {
                if (brackets) brackets--;
            } else if (lexer_tok_is(k, "{")) {
                if (!braces && !np) {
                    fn_body = !in_init && prev && lexer_tok_is(prev, ")");
                    enum_body = agg == 'e' && !fn_body && !in_init;
                }
                braces++;
            } else if (lexer_tok_is(k, "}")) {
                if (braces) braces--;
                if (!braces && fn_body) { i++; break; }   /* a function definition ends here */
                if (!braces) enum_body = 0;
            } else if (!braces && !np && !brackets) {
                if (lexer_tok_is(k, "=")) in_init = 1;
                else if (lexer_tok_is(k, ",")) in_init = 0;
                else if (lexer_tok_is(k, ";")) { i++; break; }
            }
        }
        if (end_chunk(ix, &t[first], &t[i - 1], pairs_before, typedef_chunk) < 0) return -1;
    }
    return 0;
}

/* Turn the (name, chunk) pairs into per-name lists of chunks. */
static int index_pairs(decls *ix) {
    ix->decl_start = calloc(ix->nnames + 1, sizeof *ix->decl_start);
    ix->decl = malloc((ix->npairs + 1) * sizeof *ix->decl);
    if (!ix->decl_start || !ix->decl) return -1;
    for (size_t p = 0; p < ix->npairs; p++) ix->decl_start[ix->pairs[p].name + 1]++;
    for (size_t id = 0; id < ix->nnames; id++) ix->decl_start[id + 1] += ix->decl_start[id];
    size_t *fill = calloc(ix->nnames + 1, sizeof *fill);
    if (!fill) return -1;
    for (size_t p = 0; p < ix->npairs; p++) {
        size_t id = ix->pairs[p].name;
        ix->decl[ix->decl_start[id] + fill[id]++] = ix->pairs[p].chunk;
    }
    free(fill);
    free(ix->pairs);
    ix->pairs = NULL;
    return 0;
}

static void decls_free(decls *ix) {
    if (!ix) return;
    for (size_t i = 0; i < ix->nnames; i++) free(ix->name[i]);
    free(ix->name);
    free(ix->is_typedef);
    strmap_free(&ix->ids);
    free(ix->chunk);
    free(ix->always);
    free(ix->use_start);
    free(ix->use);
    free(ix->decl_start);
    free(ix->decl);
    free(ix->pairs);
    free(ix->text);
    free(ix);
}

static decls *decls_new(const char *text) {
    decls *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->text = strdup(text))) { free(ix); return NULL; }
    size_t n = 0;       /* the tokens are the compiler's scratch (cell.c says why) */
    token *t = lexer_tokenize_with(ix->text, &n, NULL, scratch_realloc);
    int rc = t ? index_tokens(ix, t, n) : -1;
    if (rc < 0 || index_pairs(ix) < 0) { decls_free(ix); return NULL; }
    return ix;
}

#define CACHE 4
static decls *cache[CACHE];
static size_t cache_next;

decls *decls_for(const char *text) {
    for (size_t i = 0; i < CACHE; i++)
        if (cache[i] && strcmp(cache[i]->text, text) == 0) return cache[i];
    decls *ix = decls_new(text);
    if (!ix) return NULL;
    decls_free(cache[cache_next]);
    cache[cache_next] = ix;
    cache_next = (cache_next + 1) % CACHE;
    return ix;
}

/* ------------------------------------------------------------- selection */

typedef struct {
    const decls *ix;
    unsigned char *seen;             /* per id */
    size_t *stack, nstack;
} walk;

static void need(walk *w, size_t id) {
    if (w->seen[id]) return;
    w->seen[id] = 1;
    w->stack[w->nstack++] = id;      /* each id once: the stack holds them all */
}

static void seed(void *ud, const char *s, size_t n) {
    walk *w = ud;
    if (n >= 256) return;                /* as long as any name indexed */
    long id = strmap_get_n(&w->ix->ids, 0, s, n);
    if (id >= 0) need(w, (size_t)id);
}

void decls_select(const decls *ix, const char *const *code, size_t n,
                  void (*emit)(void *ud, const char *text, size_t len), void *ud) {
    decls_select_names(ix, NULL, code, n, emit, ud);
}

typedef struct { strmap seen; char *end; } names_out;

static void add_name(void *ud, const char *s, size_t n) {
    names_out *o = ud;
    if (n >= 256 || strmap_get_n(&o->seen, 0, s, n) >= 0) return;
    memcpy(o->end, s, n);
    o->end[n] = 0;
    strmap_put(&o->seen, o->end, 1);
    o->end += n + 1;
}

char *decls_names(const char *text) {
    size_t len = strlen(text);
    char *out = scratch_realloc(NULL, len + 2);    /* the names take at most the text's room */
    if (!out) return NULL;
    names_out o = { {0}, out };
    strmap_reserve(&o.seen, len / 100);      /* a name in 100 bytes or so: few rehashes */
    each_identifier(text, len, add_name, &o);
    *o.end = 0;
    strmap_free(&o.seen);
    return out;
}

void decls_select_names(const decls *ix, const char *names, const char *const *code, size_t n,
                        void (*emit)(void *ud, const char *text, size_t len), void *ud) {
    unsigned char *keep = calloc(ix->nchunks + 1, 1);
    walk w = { ix, calloc(ix->nnames + 1, 1), malloc((ix->nnames + 1) * sizeof(size_t)), 0 };
    if (!keep || !w.seen || !w.stack) {      /* out of memory: everything */
        for (size_t c = 0; c < ix->nchunks; c++) {
            emit(ud, ix->text + ix->chunk[c].start, ix->chunk[c].end - ix->chunk[c].start);
            emit(ud, "\n", 1);
        }
        free(keep); free(w.seen); free(w.stack);
        return;
    }
    for (size_t c = 0; c < ix->nchunks; c++)
        if (ix->always[c]) {
            keep[c] = 1;
            for (size_t u = ix->use_start[c]; u < ix->use_start[c + 1]; u++) need(&w, ix->use[u]);
        }
    for (const char *u = names; u && *u; u += strlen(u) + 1) seed(&w, u, strlen(u));
    for (size_t i = 0; i < n; i++)
        if (code[i]) each_identifier(code[i], strlen(code[i]), seed, &w);
    while (w.nstack) {
        size_t id = w.stack[--w.nstack];
        for (size_t d = ix->decl_start[id]; d < ix->decl_start[id + 1]; d++) {
            size_t c = ix->decl[d];
            if (keep[c]) continue;
            keep[c] = 1;
            for (size_t u = ix->use_start[c]; u < ix->use_start[c + 1]; u++) need(&w, ix->use[u]);
        }
    }
    for (size_t c = 0; c < ix->nchunks; c++)
        if (keep[c]) {
            emit(ud, ix->text + ix->chunk[c].start, ix->chunk[c].end - ix->chunk[c].start);
            emit(ud, "\n", 1);
        }
    free(keep);
    free(w.seen);
    free(w.stack);
}
