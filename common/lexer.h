/* lexer.h - a C tokenizer that knows strings, chars, comments, preprocessor
 * lines and bracket nesting; enough to split cells and judge completeness,
 * not a parser.
 *
 * Ownership: tokens point into the caller's source text, which must outlive
 * them; lexer_tokenize returns an array the caller frees with free(). */
#ifndef CK_LEXER_H
#define CK_LEXER_H

#include <ctype.h>
#include <stddef.h>

typedef enum {
    TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_CHAR, TOK_PUNCT,
    TOK_DIRECTIVE,          /* a whole preprocessor line, continuations included */
    TOK_EOF
} tok_kind;

typedef struct {
    tok_kind kind;
    const char *start;      /* into the source */
    size_t len;
    int line;               /* 1-based line of the first character */
} token;

/* Tokenize SRC (NUL-terminated). Comments and whitespace are dropped.
 * *COUNT gets the number of tokens before the final TOK_EOF (which is
 * always present). Returns NULL only when out of memory. An unterminated
 * string, char or comment ends the token stream and sets *UNTERMINATED
 * (may be NULL) to the kind of thing left open: 's', 'c', '*' or 0. */
token *lexer_tokenize(const char *src, size_t *count, int *unterminated);
/* The same with the array grown by GROW (realloc's contract; the caller
 * frees the array as GROW's memory wants). */
token *lexer_tokenize_with(const char *src, size_t *count, int *unterminated,
                           void *(*grow)(void *, size_t));

int lexer_tok_is(const token *t, const char *text);
/* Whether byte C (as unsigned char) may start or continue an identifier.
 * Bytes of UTF-8 sequences (0x80 and up) may, as tcc 0.9.27 accepts them:
 * `int Lefèvre;` is one name. */
static inline int lexer_ident_start(int c) { return isalpha(c) || c == '_' || c == '$' || c >= 0x80; }
static inline int lexer_ident_char(int c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* C's keywords, NULL-terminated (completion offers them). */
extern const char *const lexer_keywords[];

/* Jupyter counts cursor positions in code points, C strings in bytes:
 * the byte offset of code point CP of UTF-8 text S (clamped to its end),
 * and the number of code points in its first BYTES bytes. */
size_t lexer_byte_offset(const char *s, size_t cp);
size_t lexer_code_points(const char *s, size_t bytes);

typedef enum { LEX_COMPLETE, LEX_INCOMPLETE, LEX_INVALID } lex_status;

/* Jupyter's is_complete for C. INCOMPLETE when a bracket or comment is
 * still open, a line ends in a backslash, or the text ends where C cannot
 * end (after an operator, a comma, `else`, `do`, or the `)` of an
 * if/for/while/switch head). INVALID when a closing bracket does not
 * match, or a string or char literal is left open: a literal cannot span
 * lines, so no further input completes it. On INCOMPLETE, *INDENT (may be NULL) gets the
 * suggested indentation: four spaces per open brace/paren level. */
lex_status lexer_is_complete(const char *src, int *indent);

#endif
