/* textbuf.c - a growing string (textbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scratch.h"
#include "textbuf.h"

/* Room in B for N more bytes and a NUL. */
static void reserve(textbuf *b, size_t n) {
    if (b->len + n + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = b->scratch ? scratch_realloc(b->s, cap) : realloc(b->s, cap);
    if (!p) abort();
    b->s = p;
    b->cap = cap;
}

void textbuf_add(textbuf *b, const char *s, size_t n) {
    reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void textbuf_puts(textbuf *b, const char *s) { textbuf_add(b, s, strlen(s)); }

/* Formatted straight into the buffer: a unit writes thousands of lines. */
void textbuf_printf(textbuf *b, const char *fmt, ...) {
    va_list ap;
    size_t room = b->cap - b->len;        /* 0 for a new buffer */
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    if ((size_t)n >= room) {
        reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}
