/* decls.h - only the declarations and macros a unit uses.
 *
 * libtcc parses every declaration it is given: the preprocessed text of
 * five common headers (55 KB, 600 macros) costs it about 0.3 ms a cell,
 * most of a small cell's compile. A decls index cuts such a text into
 * chunks (one top-level declaration, function definition or directive
 * line each) and notes, for each chunk, the names it declares (functions,
 * variables, typedefs, tags, enumerators, macros) and the names it uses.
 * decls_select then keeps, in their order, the chunks that declare a name
 * the unit's own code uses, and the chunks those need, and so on.
 *
 * This is a heuristic reading of C, not a parser: the caller compiles the
 * selection, and if that gives any diagnostic at all, compiles again with
 * the whole text (session.c), so a wrong guess costs time, never meaning.
 *
 * Lives in the worker. Indexes are cached by text (decls_for); building
 * one uses the compiler's scratch memory, so it happens before a compile. */
#ifndef CK_DECLS_H
#define CK_DECLS_H

#include <stddef.h>

typedef struct decls decls;

/* The index of TEXT (a NUL-terminated preprocessed header text), built
 * on first use and kept for the last few texts seen. NULL if out of
 * memory. Owned by the cache. */
decls *decls_for(const char *text);

/* Call EMIT with each chunk of IX that the identifiers of the texts in
 * CODE (N of them; NULL ones are skipped) need, in the text's
 * order (each chunk ends with a newline). */
void decls_select(const decls *ix, const char *const *code, size_t n,
                  void (*emit)(void *ud, const char *text, size_t len), void *ud);

/* The distinct identifiers of TEXT, each once, NUL-separated and ended by
 * an empty one: a long unit names `int` and `x` thousands of times. In
 * scratch memory (scratch.h). */
char *decls_names(const char *text);
/* decls_select with the identifiers of NAMES (from decls_names) too. */
void decls_select_names(const decls *ix, const char *names, const char *const *code, size_t n,
                        void (*emit)(void *ud, const char *text, size_t len), void *ud);

#endif
