/* ast.c - libclang helpers for the escape analyser (see ast.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"

unsigned ast_offset(CXCursor c, int end) {
    CXSourceRange r = clang_getCursorExtent(c);
    unsigned off = 0;
    clang_getFileLocation(end ? clang_getRangeEnd(r) : clang_getRangeStart(r), NULL, NULL, NULL, &off);
    return off;
}

static int by_offset(const void *a, const void *b) {
    unsigned x = ((const ast_token *)a)->offset, y = ((const ast_token *)b)->offset;
    return x < y ? -1 : x > y;
}

void ast_tokens_of(ast_tokens *t, CXTranslationUnit tu, CXCursor cursor) {
    memset(t, 0, sizeof *t);
    t->tu = tu;
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(tu, clang_getCursorExtent(cursor), &toks, &n);
    t->tok = calloc(n + 1, sizeof *t->tok);
    for (unsigned i = 0; i < n; i++) {
        CXString s = clang_getTokenSpelling(tu, toks[i]);
        clang_getFileLocation(clang_getTokenLocation(tu, toks[i]), NULL, NULL, NULL, &t->tok[i].offset);
        t->tok[i].text = strdup(clang_getCString(s));
        clang_disposeString(s);
    }
    t->n = n;
    if (toks) clang_disposeTokens(tu, toks, n);
    qsort(t->tok, t->n, sizeof *t->tok, by_offset);
}

void ast_tokens_free(ast_tokens *t) {
    for (size_t i = 0; i < t->n; i++) free(t->tok[i].text);
    free(t->tok);
    memset(t, 0, sizeof *t);
}

/* The index of the first token at or after OFFSET. */
static size_t first_at(const ast_tokens *t, unsigned offset) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->tok[mid].offset < offset) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int is_operator(const char *s) {
    static const char *ops[] = { "&", "*", "!", "-", "+", "~", "++", "--", NULL };
    for (int i = 0; ops[i]; i++) if (!strcmp(s, ops[i])) return 1;
    return 0;
}

const char *ast_operator(const ast_tokens *t, CXCursor e) {
    enum CXCursorKind k = clang_getCursorKind(e);
    if (k == CXCursor_UnaryOperator) {
        unsigned start = ast_offset(e, 0), end = ast_offset(e, 1);
        size_t i = first_at(t, start);
        if (i < t->n && t->tok[i].offset == start && is_operator(t->tok[i].text)) return t->tok[i].text;
        size_t j = first_at(t, end);              /* postfix: the last token */
        if (j > 0 && t->tok[j - 1].offset >= start) return t->tok[j - 1].text;
        return "";
    }
    /* the token just before the right operand: its start is found at once,
     * where the left operand's extent takes a walk down a long a + b + c */
    CXCursor kids[2];
    if (ast_children(e, kids, 2) < 2) return "";
    size_t i = first_at(t, ast_offset(kids[1], 0));
    return i > 0 ? t->tok[i - 1].text : "";
}

int ast_for_has_condition(const ast_tokens *t, CXCursor stmt) {
    size_t i = first_at(t, ast_offset(stmt, 0));
    while (i < t->n && strcmp(t->tok[i].text, "(")) i++;
    int depth = 0;
    for (; i < t->n; i++) {
        const char *s = t->tok[i].text;
        if (!strcmp(s, "(")) depth++;
        else if (!strcmp(s, ")") && --depth == 0) return 1;
        else if (!strcmp(s, ";") && depth == 1)
            return i + 1 < t->n && strcmp(t->tok[i + 1].text, ";") != 0;
    }
    return 1;
}

int ast_always_true(CXCursor cond) {
    CXEvalResult r = clang_Cursor_Evaluate(cond);
    int yes = r && clang_EvalResult_getKind(r) == CXEval_Int && clang_EvalResult_getAsLongLong(r) != 0;
    if (r) clang_EvalResult_dispose(r);
    return yes;
}

int ast_has_init(const ast_tokens *t, CXCursor var) {
    unsigned start = ast_offset(var, 0), end = ast_offset(var, 1);
    unsigned name = 0;
    clang_getFileLocation(clang_getCursorLocation(var), NULL, NULL, NULL, &name);
    int depth = 0;
    for (size_t i = first_at(t, start); i < t->n && t->tok[i].offset < end; i++) {
        const char *s = t->tok[i].text;
        if (!strcmp(s, "(") || !strcmp(s, "[") || !strcmp(s, "{")) depth++;
        else if (!strcmp(s, ")") || !strcmp(s, "]") || !strcmp(s, "}")) depth--;
        else if (!strcmp(s, "=") && depth == 0 && t->tok[i].offset > name) return 1;
    }
    return 0;
}

int ast_line(CXCursor c, const char **file) {
    static char name[256];
    CXString f;
    unsigned line = 0, col = 0;
    clang_getPresumedLocation(clang_getCursorLocation(c), &f, &line, &col);
    const char *s = clang_getCString(f);
    snprintf(name, sizeof name, "%s", s ? s : "");
    clang_disposeString(f);
    if (file) *file = name;
    return (int)line;
}

typedef struct { CXCursor *out; unsigned n, max; } gather;

static enum CXChildVisitResult gather_child(CXCursor c, CXCursor parent, CXClientData d) {
    (void)parent;
    gather *g = d;
    if (g->n < g->max) g->out[g->n] = c;
    g->n++;
    return CXChildVisit_Continue;
}

unsigned ast_children(CXCursor c, CXCursor *out, unsigned max) {
    gather g = { out, 0, max };
    clang_visitChildren(c, gather_child, &g);
    return g.n < max ? g.n : max;
}

CXCursor ast_strip(CXCursor c) {
    for (;;) {
        enum CXCursorKind k = clang_getCursorKind(c);
        CXCursor kid[2];
        if ((k == CXCursor_ParenExpr || k == CXCursor_UnexposedExpr) && ast_children(c, kid, 2) == 1)
            c = kid[0];
        else
            return c;
    }
}

char *ast_spelling(CXCursor c) {
    CXString s = clang_getCursorSpelling(c);
    char *r = strdup(clang_getCString(s) ? clang_getCString(s) : "");
    clang_disposeString(s);
    return r;
}

char *ast_text(const ast_tokens *t, CXCursor c, size_t max) {
    unsigned start = ast_offset(c, 0), end = ast_offset(c, 1);
    char *out = malloc(max + 4);
    size_t len = 0;
    const char *prev = NULL;
    for (size_t i = first_at(t, start); i < t->n && t->tok[i].offset < end; i++) {
        const char *s = t->tok[i].text;
        int glue = !prev || strchr("([.", prev[0]) || !strcmp(prev, "->") || strchr(")],.[", s[0]) ||
                   (s[0] == '(' && (prev[0] == '_' || (prev[0] | 32) >= 'a')) || !strcmp(s, "->") ||
                   (!strcmp(prev, "*") && i >= 2 && !strcmp(t->tok[i - 2].text, "sizeof"));
        size_t n = strlen(s) + !glue;
        if (len + n > max) { memcpy(out + len, "...", 4); return out; }
        if (!glue) out[len++] = ' ';
        memcpy(out + len, s, strlen(s));
        len += strlen(s);
        prev = s;
    }
    out[len] = 0;
    return out;
}

static CXType canonical(CXType t) { return clang_getCanonicalType(t); }

int ast_type_is_pointer(CXType t) {
    enum CXTypeKind k = canonical(t).kind;
    return k == CXType_Pointer || k == CXType_BlockPointer;
}

int ast_type_is_array(CXType t) {
    enum CXTypeKind k = canonical(t).kind;
    return k == CXType_ConstantArray || k == CXType_IncompleteArray || k == CXType_VariableArray ||
           k == CXType_DependentSizedArray;
}

int ast_type_is_function_pointer(CXType t) {
    if (!ast_type_is_pointer(t)) return 0;
    enum CXTypeKind k = canonical(clang_getPointeeType(canonical(t))).kind;
    return k == CXType_FunctionProto || k == CXType_FunctionNoProto;
}

int ast_type_carries_address(CXType t) {
    enum CXTypeKind k = canonical(t).kind;
    return ast_type_is_pointer(t) || ast_type_is_array(t) || k == CXType_Record;
}

int ast_type_is_integer(CXType t) {
    enum CXTypeKind k = canonical(t).kind;
    return k >= CXType_Bool && k <= CXType_Int128 && k != CXType_Void;
}

int ast_is_null_constant(CXCursor e) {
    for (;;) {
        enum CXCursorKind k = clang_getCursorKind(e);
        CXCursor kid[4];
        unsigned n = ast_children(e, kid, 4);
        int wraps = k == CXCursor_ParenExpr || k == CXCursor_UnexposedExpr || k == CXCursor_CStyleCastExpr;
        if (wraps && n)
            e = kid[n - 1];
        else break;
    }
    if (clang_getCursorKind(e) != CXCursor_IntegerLiteral) return 0;
    CXEvalResult r = clang_Cursor_Evaluate(e);
    int zero = r && clang_EvalResult_getKind(r) == CXEval_Int && clang_EvalResult_getAsLongLong(r) == 0;
    if (r) clang_EvalResult_dispose(r);
    return zero;
}
