/* check.c - claims that show the figures they compare.
 *
 * nb_check_lt(a, b, "claim") and its siblings (nb.h) compare two numbers
 * and print, whether the claim holds or not, both expressions as written
 * with their values:
 *     ✓ the heap buffer costs more: on_heap.cpu_ns_per_op = 27.9 > 1.2 * on_stack.cpu_ns_per_op = 12.1
 * A claim that does not hold fails the cell as nb_check does (bench.c),
 * with the same figures in its message.
 *
 * Owns nothing; must not count its output's buffer as the cell's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "nb.h"
#include "rt.h"

static int holds(const char *op, double a, double b) {
    if (!strcmp(op, "<")) return a < b;
    if (!strcmp(op, "<=")) return a <= b;
    if (!strcmp(op, ">")) return a > b;
    if (!strcmp(op, ">=")) return a >= b;
    if (!strcmp(op, "==")) return a == b;
    if (!strcmp(op, "!=")) return a != b;
    return 0;
}

/* Whole numbers exactly (counts, bytes), others to four figures, never
 * in exponent form below 1e15. */
static void fmt_value(char *out, size_t n, double v) {
    if (v == (double)(long long)v && v > -1e15 && v < 1e15) snprintf(out, n, "%lld", (long long)v);
    else if (v >= 1e4 && v < 1e15) snprintf(out, n, "%.0f", v);
    else snprintf(out, n, "%.4g", v);
}

/* "expr = value", or just "value" when the expression is that number. */
static void side(rt_buf *b, const char *text, double v) {
    char val[48];
    fmt_value(val, sizeof val, v);
    if (!text || !strcmp(text, val)) rt_buf_puts(b, val);
    else rt_buf_printf(b, "%s = %s", text, val);
}

RT_BODY void check_cmp(const char *op, double a, double b, const char *a_text, const char *b_text,
                       int line, const char *fmt, va_list ap) {
    rt_buf claim = {0}, figures = {0};
    if (fmt && *fmt) rt_buf_vprintf(&claim, fmt, ap);
    side(&figures, a_text, a);
    rt_buf_printf(&figures, " %s ", op);
    side(&figures, b_text, b);
    int ok = holds(op, a, b);
    if (ok) {
        rt_inside_begin();
        printf("\xe2\x9c\x93 %s%s%s\n", claim.s ? claim.s : "", claim.s ? ": " : "", figures.s ? figures.s : "");
        fflush(stdout);
        rt_inside_end();
    }
    if (!ok) nb__check_failed(figures.s ? figures.s : "", line, "%s", claim.s ? claim.s : "");
    rt_buf_free(&claim);
    rt_buf_free(&figures);
}

void nb__check_cmp(const char *op, double a, double b, const char *a_text, const char *b_text,
                   int line, const char *fmt, ...) {
    RT_STACK_ENTER();
    va_list ap;
    va_start(ap, fmt);
    check_cmp(op, a, b, a_text, b_text, line, fmt, ap);
    va_end(ap);
    RT_STACK_LEAVE();
}
