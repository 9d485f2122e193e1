/* textbuf.h - a growing string, in the heap or in the compiler's scratch
 * memory, for the text the worker writes: translation units, messages.
 *
 * Ownership: S belongs to the buffer. A heap buffer's S is the caller's to
 * free(); a scratch one (.scratch = 1) lives in scratch_realloc's
 * memory and is gone at the next compile_free. Out of memory aborts: the
 * snapshot takes over. */
#ifndef CK_TEXTBUF_H
#define CK_TEXTBUF_H

#include <stddef.h>

typedef struct { char *s; size_t len, cap; int scratch; } textbuf;

void textbuf_add(textbuf *b, const char *s, size_t n);
void textbuf_puts(textbuf *b, const char *s);
void textbuf_printf(textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
