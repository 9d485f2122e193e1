/* lexer.c - a C tokenizer for splitting cells and judging completeness.
 *
 * Owns: tokens (kind, span, line) and lexer_is_complete. It does not parse:
 * cell.c builds its splitter on these tokens. Directives are kept whole, so
 * the preprocessor's own syntax never confuses the bracket counting. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "lexer.h"

const char *const lexer_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
    "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
    "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Alignas",
    "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Noreturn",
    "_Static_assert", "_Thread_local", NULL
};

size_t lexer_byte_offset(const char *s, size_t cp) {
    size_t i = 0;
    for (; s[i] && cp; cp--)
        do i++; while (((unsigned char)s[i] & 0xC0) == 0x80);
    return i;
}

size_t lexer_code_points(const char *s, size_t bytes) {
    size_t cp = 0;
    for (size_t i = 0; i < bytes && s[i]; i++) cp += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cp;
}

int lexer_tok_is(const token *t, const char *text) {
    /* the first byte first: the splitter asks this of every token, many times */
    if (!t->len || t->start[0] != text[0]) return 0;
    size_t n = strlen(text);
    return t->len == n && memcmp(t->start, text, n) == 0;
}

/* Three- and two-character punctuators, longest first. */
static const char *const punct_long[] = {
    "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
    "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=", "##", NULL
};

/* Skip a quoted literal starting at P (the quote). Returns the position after
 * the closing quote, or NULL if the line or text ends first. */
static const char *skip_quoted(const char *p, char quote, int *line) {
    for (p++; *p; p++) {
        if (*p == '\\' && p[1]) {
            if (p[1] == '\n') (*line)++;
            p++;
        } else if (*p == quote) {
            return p + 1;
        } else if (*p == '\n') {
            return NULL;
        }
    }
    return NULL;
}

token *lexer_tokenize(const char *src, size_t *count, int *unterminated) {
    return lexer_tokenize_with(src, count, unterminated, realloc);
}

/* The end of the comment at P (// or a block comment), counting its
 * lines; NULL when a block comment never ends. */
static const char *comment_end(const char *p, int *line) {
    if (p[1] == '/') {
        while (*p && *p != '\n') {
            if (*p == '\\' && p[1] == '\n') { p++; (*line)++; }
            p++;
        }
        return p;
    }
    const char *end = strstr(p + 2, "*/");
    if (!end) return NULL;
    for (const char *q = p; q < end; q++) if (*q == '\n') (*line)++;
    return end + 2;
}

/* The end of the directive that starts at P: the end of the line, through
 * backslash continuations; a block comment may not hide its end. */
static const char *directive_end(const char *p, int *line) {
    while (*p && *p != '\n') {
        if (*p == '\\' && p[1] == '\n') { p += 2; (*line)++; continue; }
        if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end) break;
            for (const char *q = p; q < end; q++) if (*q == '\n') (*line)++;
            p = end + 2;
            continue;
        }
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
            break;
        }
        p++;
    }
    return p;
}

/* The end of the pp-number at P, as the standard defines it: 0x1e+5 is one token. */
static const char *pp_number_end(const char *q) {
    while (lexer_ident_char((unsigned char)*q) || *q == '.' ||
           ((*q == '+' || *q == '-') && strchr("eEpP", q[-1])))
        q++;
    return q;
}

/* The length of the punctuator at P: the longest that matches. */
static size_t punct_len(const char *p) {
    for (int i = 0; punct_long[i]; i++) {
        if (punct_long[i][0] != *p) continue;
        size_t l = strlen(punct_long[i]);
        if (strncmp(p, punct_long[i], l) == 0) return l;
    }
    return 1;
}

token *lexer_tokenize_with(const char *src, size_t *count, int *unterminated,
                           void *(*grow)(void *, size_t)) {
    size_t n = 0, cap = 64;
    token *toks = grow(NULL, cap * sizeof *toks);
    if (!toks) return NULL;
    if (unterminated) *unterminated = 0;
    const char *p = src;
    int line = 1, at_line_start = 1;

    while (*p) {
        if (*p == '\n') { line++; p++; at_line_start = 1; continue; }
        if (isspace((unsigned char)*p)) { p++; continue; }
        if (*p == '\\' && p[1] == '\n') { p += 2; line++; continue; }
        if (p[0] == '/' && (p[1] == '/' || p[1] == '*')) {
            const char *end = comment_end(p, &line);
            if (!end) { if (unterminated) *unterminated = '*'; break; }   /* never ends */
            p = end;
            continue;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            token *t = grow(toks, cap * sizeof *toks);
            if (!t) { if (grow == realloc) free(toks); return NULL; }
            toks = t;
        }
        token *t = &toks[n];
        t->start = p;
        t->line = line;

        if (*p == '#' && at_line_start) {
            /* A directive runs to the end of the line, through backslash
             * continuations; a block comment may not hide its end. */
            t->kind = TOK_DIRECTIVE;
            p = directive_end(p, &line);
            t->len = (size_t)(p - t->start);
            while (t->len && isspace((unsigned char)t->start[t->len - 1])) t->len--;
            n++;
            continue;
        }
        at_line_start = 0;

        if (lexer_ident_start((unsigned char)*p)) {
            const char *q = p;
            while (lexer_ident_char((unsigned char)*q)) q++;
            size_t len = (size_t)(q - p);
            int prefix = (len == 1 && (*p == 'L' || *p == 'u' || *p == 'U')) ||
                         (len == 2 && p[0] == 'u' && p[1] == '8');
            if (prefix && (*q == '"' || *q == '\'')) {
                p = q;              /* an encoding prefix: lex the literal */
            } else {
                t->kind = TOK_IDENT;
                t->len = len;
                p = q;
                n++;
                continue;
            }
        }
        if (*p == '"' || *p == '\'') {
            char quote = *p;
            const char *end = skip_quoted(p, quote, &line);
            if (!end) { if (unterminated) *unterminated = quote == '"' ? 's' : 'c'; break; }
            t->kind = quote == '"' ? TOK_STRING : TOK_CHAR;
            p = end;
            t->len = (size_t)(p - t->start);
            n++;
            continue;
        }
        if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
            const char *q = pp_number_end(p);
            t->kind = TOK_NUMBER;
            t->len = (size_t)(q - p);
            p = q;
            n++;
            continue;
        }
        t->kind = TOK_PUNCT;
        t->len = punct_len(p);
        p += t->len;
        n++;
    }
    toks[n].kind = TOK_EOF;
    toks[n].start = p;
    toks[n].len = 0;
    toks[n].line = line;
    if (count) *count = n;
    return toks;
}

/* Tokens after which a C cell cannot end. */
static int ends_open(const token *t) {
    static const char *const ops[] = {
        "+", "-", "*", "/", "%", "=", "<", ">", "&", "|", "^", "!", "~", "?",
        ":", ",", ".", "->", "&&", "||", "==", "!=", "<=", ">=", "<<", ">>",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", NULL
    };
    if (t->kind == TOK_IDENT) return lexer_tok_is(t, "else") || lexer_tok_is(t, "do");
    if (t->kind != TOK_PUNCT) return 0;
    for (int i = 0; ops[i]; i++) if (lexer_tok_is(t, ops[i])) return 1;
    return 0;
}

lex_status lexer_is_complete(const char *src, int *indent) {
    size_t n;
    int open = 0;
    token *toks = lexer_tokenize(src, &n, &open);
    if (!toks) return LEX_INVALID;
    char stack[256];
    size_t stack_opener[256];          /* token index of each open bracket */
    int depth = 0;
    lex_status st = LEX_COMPLETE;
    size_t head_close = (size_t)-1;    /* ')' that closes an if/for/while/switch head */

    for (size_t i = 0; i < n && st == LEX_COMPLETE; i++) {
        const token *t = &toks[i];
        if (t->kind != TOK_PUNCT || t->len != 1) continue;
        char c = t->start[0];
        if (c == '(' || c == '[' || c == '{') {
            if (depth == (int)sizeof stack) { st = LEX_INVALID; break; }
            stack_opener[depth] = i;
            stack[depth++] = c;
        } else if (c == ')' || c == ']' || c == '}') {
            char want = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (depth == 0 || stack[depth - 1] != want) { st = LEX_INVALID; break; }
            depth--;
            size_t o = stack_opener[depth];
            if (c == ')' && o > 0 && toks[o - 1].kind == TOK_IDENT &&
                (lexer_tok_is(&toks[o - 1], "if") || lexer_tok_is(&toks[o - 1], "for") ||
                 lexer_tok_is(&toks[o - 1], "while") || lexer_tok_is(&toks[o - 1], "switch")))
                head_close = i;
        }
    }
    int level = depth;
    if (st == LEX_COMPLETE) {
        size_t len = strlen(src);
        while (len && strchr(" \t\r\n", src[len - 1])) len--;
        int continued = len && src[len - 1] == '\\';
        if ((open == 's' || open == 'c') && !continued) {
            st = LEX_INVALID;          /* C literals cannot span lines */
        } else if (open || depth > 0 || continued) {
            st = LEX_INCOMPLETE;
        } else if (n > 0 && (ends_open(&toks[n - 1]) || head_close == n - 1)) {
            /* `while (x)` after a do-body also lands here: it still needs `;`. */
            st = LEX_INCOMPLETE;
            level++;
        }
    }
    if (indent) *indent = st == LEX_INCOMPLETE ? 4 * level : 0;
    free(toks);
    return st;
}
