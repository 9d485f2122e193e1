/* cell.h - split a cell's C text into top-level items.
 *
 * A cell is C as a person writes it in a scratch file: directives, types,
 * functions, prototypes, globals and statements in any order. cell_split
 * sorts them into items that session.c can persist, replace and compile:
 * definitions go to file scope, statements into the cell's run function.
 * It is a splitter on lexer tokens, not a parser: what it cannot classify
 * it leaves to the compiler, whose message then names the cell line.
 *
 * Ownership: every string in a cell is owned by it; cell_free frees them. */
#ifndef CK_CELL_H
#define CK_CELL_H

#include <stddef.h>
#include "lexer.h"

typedef enum {
    ITEM_DIRECTIVE,     /* #include, #define, #undef, or a whole #if..#endif group */
    ITEM_TYPE,          /* typedef, struct/union/enum definition */
    ITEM_FUNCTION,      /* function definition */
    ITEM_DECLARATION,   /* prototype or extern declaration: no storage */
    ITEM_GLOBAL,        /* one variable definition (one declarator) */
    ITEM_OTHER,         /* file scope, not persisted: _Static_assert, #pragma, ';' */
    ITEM_STATEMENT,     /* runs in order in the cell's run function */
    ITEM_EXPRESSION,    /* the cell's last statement when it has no ';' */
    ITEM_LITERAL        /* a compound literal of a global's initializer, made a
                           static object of the unit (literals.h), not persisted */
} item_kind;

#define ITEM_MAX_KEYS 8

typedef struct {
    item_kind kind;
    int line;           /* cell line (1-based) of the item's first token */
    char *text;         /* C text to compile; for a global, the definition
                           without its initializer (kept when unsized) */
    char *doc;          /* the comment just above the item, or NULL */
    char *proto;        /* what later cells need: a prototype, an extern, the
                           type itself or the directive (NULL for statements) */
    char *keys[ITEM_MAX_KEYS];  /* names it defines: "f", "struct P", "#N", "#include <x>" */
    int nkeys;
    /* ITEM_GLOBAL only (ITEM_LITERAL: init, init_line, readonly) */
    char *type_text;    /* normalised type and name: equal text = same storage */
    char *init;         /* initializer text, or NULL */
    int init_line;
    int unsized;        /* declared with [] : initializer stays at file scope */
    int readonly;       /* a const object with an initializer: defined with it at
                           file scope and laid out on read-only pages (layout.h) */
    int open_end;       /* runs to the cell's end unclosed (a comment, a function
                           body): nothing may follow it, as nothing does for tcc */
} cell_item;

typedef struct {
    cell_item *items;
    size_t n, cap;
} cell;

/* Split CODE into OUT (which the caller zero-initialises). 0 on success,
 * -1 when out of memory. Never fails on bad C: the compiler judges that.
 * Its working memory is the compiler's scratch (scratch_realloc, scratch.h),
 * given back by the next compile_free: split a cell just before its
 * compile. */
int cell_split(const char *code, cell *out);
/* The same from CODE's tokens T (N of them, from lexer_tokenize_with in
 * scratch memory, UNTERMINATED as it said), which the splitter may mark:
 * a caller that read them first spares the lexer a second pass. */
int cell_split_tokens(const char *code, token *t, size_t n, int unterminated, cell *out);
void cell_free(cell *c);

#endif
