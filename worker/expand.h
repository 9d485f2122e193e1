/* expand.h - a cell as the preprocessor leaves it, line for line.
 *
 * What is a definition in C is decided after preprocessing: `main` inside
 * `#if 1`, a function that `DEF(1)` expands to. The splitter (cell.c) reads
 * tokens, not preprocessed text, so a cell where that matters is first run
 * through libtcc's preprocessor: conditionals are resolved, macros
 * expanded, and each line of the result stays on its line, so that
 * messages still name the cell's lines. The cell's own #define, #undef,
 * #include and #pragma lines that the preprocessor kept are put back as
 * written (later cells need them); what included files hold is not: the
 * #include stays, and brings it.
 *
 * Ownership: expand_cell returns a new string (free() it). Lives in the
 * worker (it runs libtcc). */
#ifndef CK_EXPAND_H
#define CK_EXPAND_H

#include <stddef.h>
#include "lexer.h"

/* The #define of the session's macro NAME (LEN bytes), or NULL. */
typedef const char *(*expand_macro_fn)(void *ud, const char *name, size_t len);

/* Whether CODE needs preprocessing to be split: a conditional or an
 * #include "x.c" at top level, or a macro (the cell's own, or MACRO's) at
 * top level outside brackets and initializers where it may make a
 * definition: inside a declaration, or starting a chunk when its
 * replacement does not begin as a statement (`SWAP(a, b);` does not); or
 * a macro with a compound literal in it, in an initializer at top level
 * (the literal gets static storage, literals.h). */
int expand_needed(const char *code, expand_macro_fn macro, void *ud);
/* The same from CODE's tokens T (N of them). */
int expand_needed_tokens(const token *t, size_t n, expand_macro_fn macro, void *ud);

/* CODE preprocessed after CONTEXT (the text that defines the session's
 * macros), with OPTIONS; NULL when it does not preprocess (the compile
 * then reports why). */
char *expand_cell(const char *context, const char *code, const char *options);

#endif
