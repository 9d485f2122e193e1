/* expand.c - a cell as the preprocessor leaves it, line for line (expand.h).
 *
 * Owns the choice of which cells are preprocessed before splitting and the
 * mapping of the preprocessor's output back onto the cell's lines. Knows
 * nothing of the session: its macros come as a callback and a context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"
#include "expand.h"
#include "lexer.h"
#include "scratch.h"

/* The directive's name ("if" for "#  if X") and its length. */
static size_t directive_name(const token *t, const char **name) {
    const char *p = t->start + 1, *e = t->start + t->len;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    *name = p;
    while (p < e && lexer_ident_char((unsigned char)*p)) p++;
    return (size_t)(p - *name);
}

static int name_is(const char *name, size_t n, const char *word) {
    return n == strlen(word) && memcmp(name, word, n) == 0;
}

static int is_conditional(const token *t) {
    const char *w;
    size_t n = directive_name(t, &w);
    return name_is(w, n, "if") || name_is(w, n, "ifdef") || name_is(w, n, "ifndef") ||
           name_is(w, n, "elif") || name_is(w, n, "else") || name_is(w, n, "endif");
}

/* The name a #define defines, or 0. */
static size_t defined_name(const token *t, const char **name) {
    const char *w;
    size_t n = directive_name(t, &w);
    if (!name_is(w, n, "define")) return 0;
    const char *p = w + n, *e = t->start + t->len;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    *name = p;
    while (p < e && lexer_ident_char((unsigned char)*p)) p++;
    return (size_t)(p - *name);
}

/* Whether T is #include "x.c": a file of the program, not a header. */
static int includes_c_file(const token *t) {
    const char *w;
    size_t n = directive_name(t, &w);
    if (!name_is(w, n, "include")) return 0;
    const char *q = memchr(w, '"', t->len - (size_t)(w - t->start));
    const char *e = q ? memchr(q + 1, '"', t->len - (size_t)(q + 1 - t->start)) : NULL;
    return e && e - q > 2 && e[-2] == '.' && e[-1] == 'c';
}

/* ------------------------------------------------------------ the choice */

typedef struct {
    const token *t;
    size_t n;
    expand_macro_fn macro;
    void *ud;
    const token **defines;  /* the cell's #define lines so far */
    size_t ndefines;
} scan;

/* Whether a macro whose #define is DEF (LEN bytes) may expand to a
 * definition where it starts a top-level chunk: its replacement does not
 * begin as a statement does (do, if, a call, a bracket). */
static int may_define(const char *def, size_t len) {
    const char *p = def + 1, *e = def + len;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    if (e - p < 6 || memcmp(p, "define", 6) != 0) return 0;
    p += 6;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    while (p < e && lexer_ident_char((unsigned char)*p)) p++;
    if (p < e && *p == '(') p = memchr(p, ')', (size_t)(e - p));
    if (!p) return 0;
    char *body = strndup(p + (*p == ')'), (size_t)(e - p) - (*p == ')'));
    size_t n = 0;
    token *t = body ? lexer_tokenize(body, &n, NULL) : NULL;
    static const char *const statements[] = {
        "do", "if", "for", "while", "switch", "return", "break", "continue", "goto", NULL
    };
    int define = t && n > 0 && t[0].kind == TOK_IDENT && !(n > 1 && lexer_tok_is(&t[1], "("));
    for (int i = 0; define && statements[i]; i++) define = !lexer_tok_is(&t[0], statements[i]);
    free(t);
    free(body);
    return define;
}

/* The #define of the identifier T (*LEN bytes) if it is a macro: defined
 * by a directive of the cell before it, or by the session; else NULL. */
static const char *macro_def(const scan *sc, const token *t, size_t *len) {
    const char *def = NULL;
    *len = 0;
    for (size_t i = 0; i < sc->ndefines; i++) {
        const token *d = sc->defines[i];
        const char *name = NULL;
        size_t n = defined_name(d, &name);
        if (n == t->len && memcmp(name, t->start, n) == 0) def = d->start, *len = d->len;
    }
    if (!def && sc->macro) def = sc->macro(sc->ud, t->start, t->len);
    if (def && !*len) *len = strcspn(def, "\n");
    return def;
}

/* Whether the identifier T is a macro that matters to splitting; at the
 * start of a chunk (AT_START) only one that may expand to a definition. */
static int is_macro(const scan *sc, const token *t, int at_start) {
    size_t len;
    const char *def = macro_def(sc, t, &len);
    return def && (!at_start || may_define(def, len));
}

/* Whether the identifier T, in a global's initializer, is a macro with a
 * compound literal in it, `) {`: the splitter must see the literal to give
 * it static storage (literals.h). */
static int makes_literal(const scan *sc, const token *t) {
    size_t len;
    const char *def = macro_def(sc, t, &len);
    for (const char *p = def, *e = def + len; def && p < e; p++) {
        if (*p != ')') continue;
        const char *q = p + 1;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\\' || *q == '\n')) q++;
        if (q < e && *q == '{') return 1;
    }
    return 0;
}

int expand_needed(const char *code, expand_macro_fn macro, void *ud) {
    size_t n = 0;
    token *t = lexer_tokenize_with(code, &n, NULL, scratch_realloc);
    return t ? expand_needed_tokens(t, n, macro, ud) : 0;
}

int expand_needed_tokens(const token *t, size_t n, expand_macro_fn macro, void *ud) {
    scan sc = { t, n, macro, ud, NULL, 0 };
    sc.defines = scratch_realloc(NULL, (sc.n + 1) * sizeof *sc.defines);
    if (!sc.defines) return 0;
    int depth = 0, in_init = 0, needed = 0;
    const token *checked = NULL;     /* the last name makes_literal judged */
    for (size_t i = 0; i < sc.n && !needed; i++) {
        const token *k = &t[i];
        if (k->kind == TOK_DIRECTIVE) {
            const char *name;
            if (defined_name(k, &name)) sc.defines[sc.ndefines++] = k, checked = NULL;
            needed = depth == 0 && (is_conditional(k) || includes_c_file(k));
        } else if (k->kind == TOK_PUNCT && k->len == 1 && strchr("([{", k->start[0])) {
            depth++;
        } else if (k->kind == TOK_PUNCT && k->len == 1 && strchr(")]}", k->start[0])) {
            if (depth > 0 && --depth == 0 && k->start[0] == '}') in_init = 0;
        } else if (depth == 0 && lexer_tok_is(k, "=")) {
            in_init = 1;
        } else if (depth == 0 && lexer_tok_is(k, ";")) {
            in_init = 0;
        } else if (depth == 0 && !in_init && k->kind == TOK_IDENT) {
            int at_start = i == 0 || lexer_tok_is(&t[i - 1], ";") || lexer_tok_is(&t[i - 1], "}") ||
                           t[i - 1].kind == TOK_DIRECTIVE;
            needed = is_macro(&sc, k, at_start);
        } else if (in_init && k->kind == TOK_IDENT) {
            /* a table names the same few names again and again: ask once */
            int same = checked && checked->len == k->len && !memcmp(checked->start, k->start, k->len);
            needed = !same && makes_literal(&sc, k);
            checked = k;
        }
    }
    return needed;
}

/* ------------------------------------------------------- the expansion */

typedef struct {
    char **text;            /* per cell line (1-based): the preprocessed text */
    unsigned char *kept;    /* per cell line: its directive is in effect */
    int n;
    int *orig;              /* per input line of the cell part: its cell line,
                               negated for a directive's marker */
    int nin;
    unsigned char *spliced; /* per cell line: an #include "x.c" whose text is there */
    unsigned char *free_line;   /* per cell line: blank at top level, no directive */
    char *sys_includes;     /* "#include <x>" lines the spliced files need, '\n' after each */
    size_t sys_len;
} lines;

static void line_append(lines *l, int at, const char *s, size_t len) {
    if (at < 1 || at > l->n || len == 0) return;
    char *old = l->text[at];
    size_t ol = old ? strlen(old) : 0;
    char *t = realloc(old, ol + len + 2);
    if (!t) return;
    if (ol) t[ol++] = ' ';
    memcpy(t + ol, s, len);
    t[ol + len] = 0;
    l->text[at] = t;
}

static void put_input_line(lines *l, int in, const char *s, size_t len) {
    if (in < 1 || in > l->nin) return;
    int at = l->orig[in];
    if (at > 0) line_append(l, at, s, len);
    else if (at < 0 && len >= 14 && memcmp(s + len - 14, "__ck_directive", 14) == 0) l->kept[-at] = 1;
}

/* Where the preprocessor is: the cell, a file the cell includes with
 * #include "x.c" (spliced: its text goes onto the include's line), a
 * system header such a file includes (the cell needs the #include), or
 * any other file (its text is not the cell's). */
enum { IN_CELL, IN_SPLICED, IN_SYSTEM_OF_SPLICED, IN_OTHER };

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The name a system header is included by: its path less the directory
 * libtcc found it in. */
static const char *header_name(const char *path) {
    static const char *const dirs[] = {
        "/usr/lib/x86_64-linux-gnu/tcc/include/", "/usr/local/include/x86_64-linux-gnu/",
        "/usr/local/include/", "/usr/include/x86_64-linux-gnu/", "/usr/include/", NULL
    };
    for (int i = 0; dirs[i]; i++)
        if (strncmp(path, dirs[i], strlen(dirs[i])) == 0) return path + strlen(dirs[i]);
    return NULL;
}

static void need_system_include(lines *l, const char *path) {
    const char *name = header_name(path);
    char line[600];
    int n = name ? snprintf(line, sizeof line, "#include <%s>\n", name) : 0;
    if (n <= 0 || (size_t)n >= sizeof line || (l->sys_includes && strstr(l->sys_includes, line))) return;
    char *t = realloc(l->sys_includes, l->sys_len + (size_t)n + 1);
    if (!t) return;
    memcpy(t + l->sys_len, line, (size_t)n + 1);
    l->sys_includes = t;
    l->sys_len += (size_t)n;
}

/* The kind of file PATH entered from a file of kind FROM. */
static int entered(lines *l, int from, const char *path) {
    if (from == IN_CELL) return ends_with(path, ".c") ? IN_SPLICED : IN_OTHER;
    if (from != IN_SPLICED) return IN_OTHER;
    if (path[0] != '/' || ends_with(path, ".c")) return IN_SPLICED;
    need_system_include(l, path);
    return IN_SYSTEM_OF_SPLICED;
}

/* Sort the preprocessor's OUT onto the cell's lines. The cell part starts
 * after the line __ck_cell_begins; a line marker (# N "file" flags) says
 * which input line comes next, and flag 1 or 2 that a file was entered or
 * left (libtcc writes none for #line, hence the sentinel). */
static void map_output(const char *out, lines *l) {
    int line = 0, depth = -1, anchor = 0;
    int kind[64];
    for (const char *p = out; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int n, flag = 0;
        char file[512];
        if (p[0] == '#' && sscanf(p, "# %d \"%511[^\"]\" %d", &n, file, &flag) >= 2) {
            if (flag == 1 && depth >= 0 && depth < 63) {
                if (depth == 0 && line >= 1 && line <= l->nin) anchor = l->orig[line];
                depth++;
                kind[depth] = entered(l, kind[depth - 1], file);
                if (kind[depth] == IN_SPLICED && anchor > 0) l->spliced[anchor] = 1;
            } else if (flag == 2 && depth > 0) {
                depth--;
            }
            line = n;
        } else if (len == 16 && memcmp(p, "__ck_cell_begins", 16) == 0) {
            line = 2;
            depth = 0;
            kind[0] = IN_CELL;
        } else {
            if (depth == 0) put_input_line(l, line, p, len);
            else if (depth > 0 && kind[depth] == IN_SPLICED && anchor > 0) line_append(l, anchor, p, len);
            line++;
        }
        p += len + (e != NULL);
    }
}

/* The #include <x> lines spliced files need go on blank top-level lines
 * before the first splice: there the cell's numbering stays as it was. */
static void place_system_includes(lines *l) {
    int first = 0;
    for (int i = 1; i <= l->n && !first; i++) if (l->spliced[i]) first = i;
    for (char *p = l->sys_includes; p && *p;) {
        char *e = strchr(p, '\n');
        int at = 0;
        for (int i = first - 1; i >= 1 && !at; i--)
            if (l->free_line[i] && !l->text[i]) at = i;
        if (!at) break;                   /* no room: the compile will say what is missing */
        l->text[at] = strndup(p, (size_t)(e - p));
        p = e + 1;
    }
}

/* The input: CONTEXT, a sentinel, then CODE with a marker line before each
 * directive that is not a conditional: the marker comes out only where the
 * directive is in effect. Records in L which cell line each input line is. */
static char *marked_input(const char *context, const char *code, const token *t, size_t n, lines *l) {
    char *in = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&in, &len);
    if (!f) return NULL;
    fprintf(f, "%s\n#line 1 \"cell\"\n__ck_cell_begins\n", context ? context : "");
    int inl = 2, line = 1;           /* the next input line, and its cell line */
    const char *at = code;
    for (size_t i = 0; i <= n; i++) {
        int marker = i < n && t[i].kind == TOK_DIRECTIVE && !is_conditional(&t[i]);
        if (i < n && !marker) continue;
        const char *upto = i < n ? t[i].start : code + strlen(code);
        for (const char *p = at; p < upto; p++)
            if (*p == '\n' && inl <= l->nin) l->orig[inl++] = line++;
        fwrite(at, 1, (size_t)(upto - at), f);
        if (i == n) break;
        fputs("__ck_directive\n", f);
        if (inl <= l->nin) l->orig[inl++] = -line;
        at = upto;
    }
    if (inl <= l->nin) l->orig[inl] = line;
    fclose(f);
    return in;
}

/* The cell again: each directive in effect as written, every other line
 * as the preprocessor left it. */
static char *rebuild(const token *t, size_t n, lines *l) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    int line = 1;
    for (size_t i = 0; i <= n; i++) {
        int marked = i < n && t[i].kind == TOK_DIRECTIVE && !is_conditional(&t[i]);
        if (i < n && !marked) continue;
        int upto = marked ? t[i].line : l->n + 1;
        for (; line < upto && line <= l->n; line++)
            fprintf(f, "%s%s", l->text[line] ? l->text[line] : "", line < l->n ? "\n" : "");
        if (upto > l->n) break;
        int span = 1;
        for (size_t k = 0; k < t[i].len; k++) span += t[i].start[k] == '\n';
        if (l->spliced[upto]) fputs(l->text[upto] ? l->text[upto] : "", f);
        else if (l->kept[upto]) fwrite(t[i].start, 1, t[i].len, f);     /* its newlines with it */
        else for (int k = 1; k < span; k++) fputc('\n', f);
        line = upto + span;
        if (line <= l->n) fputc('\n', f);
    }
    fclose(f);
    return out;
}

/* Which lines hold nothing at top level: no token, outside braces. */
static void find_free_lines(lines *l, const token *t, size_t n) {
    int depth = 0, line = 1;
    for (size_t i = 0; i <= n; i++) {
        int upto = i < n ? t[i].line : l->n + 1;
        for (; line < upto && line <= l->n; line++) l->free_line[line] = depth == 0;
        if (i == n) break;
        line = t[i].line + 1;
        for (size_t k = 0; k < t[i].len; k++) line += t[i].start[k] == '\n';
        if (t[i].kind == TOK_PUNCT && lexer_tok_is(&t[i], "{")) depth++;
        if (t[i].kind == TOK_PUNCT && lexer_tok_is(&t[i], "}") && depth > 0) depth--;
    }
}

static int lines_init(lines *l, const char *code, const token *t, size_t n) {
    l->n = 1;
    for (const char *p = code; *p; p++) l->n += *p == '\n';
    l->nin = l->n + (int)n + 1;
    l->text = calloc((size_t)l->n + 2, sizeof *l->text);
    l->kept = calloc((size_t)l->n + 2, 1);
    l->spliced = calloc((size_t)l->n + 2, 1);
    l->free_line = calloc((size_t)l->n + 2, 1);
    l->orig = calloc((size_t)l->nin + 2, sizeof *l->orig);
    if (!l->text || !l->kept || !l->spliced || !l->free_line || !l->orig) return -1;
    find_free_lines(l, t, n);
    return 0;
}

static void lines_free(lines *l) {
    for (int i = 0; l->text && i <= l->n; i++) free(l->text[i]);
    free(l->text);
    free(l->kept);
    free(l->orig);
    free(l->spliced);
    free(l->free_line);
    free(l->sys_includes);
}

char *expand_cell(const char *context, const char *code, const char *options) {
    size_t n = 0;
    token *t = lexer_tokenize(code, &n, NULL);
    if (!t) return NULL;
    lines l = {0};
    char *result = NULL;
    char *in = lines_init(&l, code, t, n) == 0 ? marked_input(context, code, t, n, &l) : NULL;
    char *out = in ? compile_preprocess(in, options) : NULL;
    if (out) {
        map_output(out, &l);
        place_system_includes(&l);
        result = rebuild(t, n, &l);
    }
    free(in);
    free(out);
    lines_free(&l);
    free(t);
    return result;
}
