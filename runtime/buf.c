/* buf.c - growable strings and number formatting for the runtime.
 *
 * Every allocation here is the runtime's own (rt_inside), so building a
 * picture or a display never shows up in a cell's heap figures. A buffer
 * that fails to grow is marked failed and keeps what it had. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rt.h"

void rt_buf_add(rt_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        rt_inside_begin();
        char *p = realloc(b->s, cap);
        rt_inside_end();
        if (!p) { b->failed = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void rt_buf_puts(rt_buf *b, const char *s) { rt_buf_add(b, s, strlen(s)); }

void rt_buf_vprintf(rt_buf *b, const char *fmt, va_list ap) {
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) { va_end(ap2); return; }
    if ((size_t)n < sizeof small) {
        rt_buf_add(b, small, (size_t)n);
    } else {
        rt_inside_begin();
        char *big = malloc((size_t)n + 1);
        rt_inside_end();
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            rt_buf_add(b, big, (size_t)n);
            rt_inside_begin();
            free(big);
            rt_inside_end();
        } else {
            b->failed = 1;
        }
    }
    va_end(ap2);
}

void rt_buf_printf(rt_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rt_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void rt_buf_xml(rt_buf *b, const char *s) {
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&': rt_buf_puts(b, "&amp;"); break;
        case '<': rt_buf_puts(b, "&lt;"); break;
        case '>': rt_buf_puts(b, "&gt;"); break;
        case '"': rt_buf_puts(b, "&quot;"); break;
        case '\'': rt_buf_puts(b, "&#39;"); break;
        default:
            /* XML 1.0 forbids most control characters, even escaped */
            if (c < 32 && c != '\n' && c != '\t') rt_buf_puts(b, "?");
            else rt_buf_add(b, p, 1);
        }
    }
}

void rt_buf_free(rt_buf *b) {
    rt_inside_begin();
    free(b->s);
    rt_inside_end();
    memset(b, 0, sizeof *b);
}

void rt_buf_fmt_bytes(char *out, size_t n, double v) {
    const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    double a = v < 0 ? -v : v;
    while (a >= 1024 && u < 4) { a /= 1024; v /= 1024; u++; }
    if (u == 0) snprintf(out, n, "%.0f B", v);
    else snprintf(out, n, a < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void rt_buf_fmt_ns(char *out, size_t n, double ns) {
    if (ns < 1e3) snprintf(out, n, "%.0f ns", ns);
    else if (ns < 1e4) snprintf(out, n, "%.1f \xc2\xb5s", ns / 1e3);
    else if (ns < 1e7) snprintf(out, n, "%.2f ms", ns / 1e6);
    else if (ns < 1e8) snprintf(out, n, "%.1f ms", ns / 1e6);
    else if (ns < 1e9) snprintf(out, n, "%.0f ms", ns / 1e6);
    else snprintf(out, n, "%.2f s", ns / 1e9);
}

uint64_t rt_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
