/* nb.c - the runtime cells link against (see nb.h).
 *
 * Owns the state a cell leaves for the worker to report: the text of the
 * trailing expression's value and main()'s exit status. The rest of the
 * runtime lives in one file a subsystem: alloc.c (the counted malloc
 * family), stack.c, measure.c (the line under every cell), bench.c,
 * where.c, svg.c (pictures), display.c and buf.c (strings). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "nb.h"
#include "nb_internal.h"
#include "rt.h"
#include "version.h"

const char *nb_version(void) { return CK_VERSION; }

void nb__assign(void *dst, const void *src, unsigned long n) { memmove(dst, src, n); }

void nb__zero(void *dst, unsigned long n) { memset(dst, 0, n); }

/* ------------------------------------------------------ trailing values */

static char *result_text;
static int main_ran, main_status;

char *nb_internal_take_result(void) {
    char *t = result_text;
    result_text = NULL;
    return t;
}

int nb_internal_main_status(int *status) {
    *status = main_status;
    int ran = main_ran;
    main_ran = 0;
    return ran;
}

/* Copy up to N bytes at P without faulting on a bad pointer. */
static size_t safe_read(const void *p, char *out, size_t n) {
    struct iovec local = { out, n }, remote = { (void *)p, n };
    ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (r > 0) return (size_t)r;
    /* a string near the end of a mapping: retry byte by byte */
    size_t got = 0;
    for (; got < n; got++) {
        struct iovec l1 = { out + got, 1 }, r1 = { (char *)p + got, 1 };
        if (process_vm_readv(getpid(), &l1, 1, &r1, 1, 0) != 1) break;
    }
    return got;
}

static void quote_string(FILE *f, const char *s) {
    char buf[201];
    size_t n = safe_read(s, buf, 200);
    if (n == 0) { fprintf(f, "%p (unreadable)", (const void *)s); return; }
    buf[n] = 0;
    size_t len = strnlen(buf, n);
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 32 || c == 127) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('"', f);
    if (len == n && n == 200) fputs("...", f);
}

RT_BODY void show(const char *named, const char *kind, unsigned long size, va_list ap);

void nb__show(const char *kind, unsigned long size, ...) {
    RT_STACK_ENTER();
    va_list ap;
    va_start(ap, size);
    show(NULL, kind, size, ap);
    va_end(ap);
    RT_STACK_LEAVE();
}

void nb__show_as(const char *type, const char *kind, unsigned long size, ...) {
    RT_STACK_ENTER();
    va_list ap;
    va_start(ap, size);
    show(type, kind, size, ap);
    va_end(ap);
    RT_STACK_LEAVE();
}

/* KIND says how to read the value; NAMED, when given, is the type's name
 * as the declaration spelled it (size_t rather than unsigned long). */
RT_BODY void show(const char *named, const char *kind, unsigned long size, va_list ap) {
    if (kind[0] == '?' && !kind[1] && size == 1) return;   /* void, or a function: no value */
    char *text = NULL;
    size_t len = 0;
    rt_inside_begin();                   /* the runtime's memory, not the cell's */
    FILE *f = open_memstream(&text, &len);
    if (!f) { rt_inside_end(); return; }
    char k = kind[0];
    const char *type = named ? named : kind[1] == ':' ? kind + 2 : kind;
    if (k != '?') fprintf(f, "(%s) ", type);
    switch (k) {
    case 'i':
        if (size <= sizeof(int)) fprintf(f, "%d", va_arg(ap, int));
        else fprintf(f, "%lld", va_arg(ap, long long));
        break;
    case 'u':
        if (size <= sizeof(int)) fprintf(f, "%u", va_arg(ap, unsigned));
        else fprintf(f, "%llu", va_arg(ap, unsigned long long));
        break;
    case 'b': fputs(va_arg(ap, int) ? "true" : "false", f); break;
    case 'c': {
        int c = va_arg(ap, int);
        if (isprint(c)) fprintf(f, "'%c' (%d)", c, c);
        else fprintf(f, "%d", c);
        break;
    }
    case 'f': fprintf(f, "%.17g", va_arg(ap, double)); break;
    case 'F': fprintf(f, "%.21Lg", va_arg(ap, long double)); break;
    case 's': {
        const char *s = va_arg(ap, const char *);
        if (s) quote_string(f, s); else fputs("NULL", f);
        break;
    }
    case 'p': {
        void *p = va_arg(ap, void *);
        if (p) fprintf(f, "%p", p); else fputs("NULL", f);
        break;
    }
    default:
        if (*type && strcmp(type, "?") != 0) fprintf(f, "(%s) ", type);
        fprintf(f, "{ %lu bytes }", size);
        break;
    }
    fclose(f);
    free(result_text);
    result_text = text;
    rt_inside_end();
}

/* ---------------------------------------------------------------- main */

static jmp_buf main_exit;
static int in_main;

static char *default_argv[] = { "cell", NULL };
static char **main_argv = default_argv;

void nb_internal_set_args(char **argv) { main_argv = argv ? argv : default_argv; }

static int count_args(char **argv) {
    int n = 0;
    while (argv[n]) n++;
    return n;
}

void nb__run_main(int (*main_fn)(int, char **)) {
    main_ran = 1;
    if (setjmp(main_exit) == 0) {
        in_main = 1;
        main_status = main_fn(count_args(main_argv), main_argv);
    }
    in_main = 0;
    fflush(stdout);
}

/* The program's exit handlers. Registering writes these statics, after
 * the snapshot fork; a cell that registers none leaves their page alone. */
#define NB_EXIT_HANDLERS 64             /* POSIX asks for at least 32 */
static struct { void (*fn)(void); void (*on)(int, void *); void *arg; } exit_handlers[NB_EXIT_HANDLERS];
static int nexit_handlers;

int nb__atexit(void (*fn)(void)) {
    if (nexit_handlers == NB_EXIT_HANDLERS) return -1;
    exit_handlers[nexit_handlers].fn = fn;
    exit_handlers[nexit_handlers].on = NULL;
    nexit_handlers++;
    return 0;
}

int nb__on_exit(void (*fn)(int, void *), void *arg) {
    if (nexit_handlers == NB_EXIT_HANDLERS) return -1;
    exit_handlers[nexit_handlers].fn = NULL;
    exit_handlers[nexit_handlers].on = fn;
    exit_handlers[nexit_handlers].arg = arg;
    nexit_handlers++;
    return 0;
}

static void run_exit_handlers(int status) {
    while (nexit_handlers > 0) {           /* a handler may register another */
        int i = --nexit_handlers;
        if (exit_handlers[i].on) exit_handlers[i].on(status, exit_handlers[i].arg);
        else exit_handlers[i].fn();
    }
    fflush(stdout);
}

void nb__program_end(void) {
    if (nexit_handlers) run_exit_handlers(main_ran ? main_status : 0);
}

void nb__exit(int status) {
    if (!in_main) {
        run_exit_handlers(status);
        exit(status);
    }
    main_status = status;
    longjmp(main_exit, 1);
}
