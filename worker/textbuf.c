/* textbuf.c - a growing string (textbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scratch.h"
#include "textbuf.h"

void textbuf_add(textbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = b->scratch ? scratch_realloc(b->s, cap) : realloc(b->s, cap);
        if (!p) abort();
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void textbuf_puts(textbuf *b, const char *s) { textbuf_add(b, s, strlen(s)); }

void textbuf_printf(textbuf *b, const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    textbuf_add(b, s, (size_t)n);
    free(s);
}
