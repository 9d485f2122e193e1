/* checked_lib.c - the library functions a `%%check` cell calls, checked
 * (see checked.h): tcc's -b sends memcpy, strcpy and friends to
 * __bound_* wrappers; printf, puts, sprintf, fgets and a few more are
 * bound to ours in a checked unit (nb_internal_checked_symbols). Each
 * checks the memory the call will read and write through checked.c,
 * then calls the real one.
 *
 * Each wrapper's stub notes where the cell called from (the frame
 * pointer, the return address, the stack pointer), for the report, and
 * jumps to its C body. Must not: check anything while no checked cell
 * runs (checked.c's helpers pass then). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "checked.h"
#include "checked_impl.h"
#include "rt.h"

/* (r11 only: rax holds a variadic call's count of vector registers) */
__asm__(
    ".text\n"
#define WRAP(name) \
    ".globl __bound_" #name "\n.type __bound_" #name ",@function\n" \
    "__bound_" #name ":\n  mov %rbp, ck_call_fp(%rip)\n  mov (%rsp), %r11\n" \
    "  mov %r11, ck_call_pc(%rip)\n  lea 8(%rsp), %r11\n  mov %r11, ck_call_sp(%rip)\n" \
    "  jmp rt_bound_" #name "\n"
    WRAP(memcpy) WRAP(memmove) WRAP(memset) WRAP(memcmp) WRAP(strlen) WRAP(strcpy)
    WRAP(strncpy) WRAP(strcmp) WRAP(strncmp) WRAP(strcat) WRAP(strchr) WRAP(strdup)
    WRAP(printf) WRAP(fprintf) WRAP(puts) WRAP(fputs) WRAP(sprintf) WRAP(snprintf) WRAP(fgets)
);

int __bound_printf(const char *, ...), __bound_fprintf(FILE *, const char *, ...);
int __bound_puts(const char *), __bound_fputs(const char *, FILE *);
int __bound_sprintf(char *, const char *, ...), __bound_snprintf(char *, size_t, const char *, ...);
char *__bound_fgets(char *, int, FILE *);

void __bound_setjmp(void *jb) { (void)jb; }
void __bound_longjmp(void *jb, int v) { longjmp(*(jmp_buf *)jb, v); }
void *__bound_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off) {
    return mmap(a, n, prot, flags, fd, off);
}
int __bound_munmap(void *a, size_t n) { return munmap(a, n); }

/* ------------------------------------------------- library wrappers */

RT_HIDDEN void *rt_bound_memcpy(void *d, const void *s, size_t n) {
    rt_checked_range(s, n, CK_READ);
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
    return memcpy(d, s, n);
}
RT_HIDDEN void *rt_bound_memmove(void *d, const void *s, size_t n) {
    rt_checked_range(s, n, CK_READ);
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
    return memmove(d, s, n);
}
RT_HIDDEN void *rt_bound_memset(void *d, int c, size_t n) {
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
    return memset(d, c, n);
}
RT_HIDDEN int rt_bound_memcmp(const void *a, const void *b, size_t n) {
    rt_checked_range(a, n, CK_READ);
    rt_checked_range(b, n, CK_READ);
    return memcmp(a, b, n);
}
RT_HIDDEN size_t rt_bound_strlen(const char *s) { return rt_checked_string(s, SIZE_MAX); }
RT_HIDDEN char *rt_bound_strcpy(char *d, const char *s) {
    size_t n = rt_checked_string(s, SIZE_MAX) + 1;
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
    return memcpy(d, s, n);
}
RT_HIDDEN char *rt_bound_strncpy(char *d, const char *s, size_t n) {
    rt_checked_string(s, n);
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
    return strncpy(d, s, n);
}
RT_HIDDEN int rt_bound_strcmp(const char *a, const char *b) {
    rt_checked_string(a, SIZE_MAX);
    rt_checked_string(b, SIZE_MAX);
    return strcmp(a, b);
}
RT_HIDDEN int rt_bound_strncmp(const char *a, const char *b, size_t n) {
    rt_checked_string(a, n);
    rt_checked_string(b, n);
    return strncmp(a, b, n);
}
RT_HIDDEN char *rt_bound_strcat(char *d, const char *s) {
    size_t ld = rt_checked_string(d, SIZE_MAX), ls = rt_checked_string(s, SIZE_MAX);
    rt_checked_range(d + ld, ls + 1, CK_WRITE);
    rt_checked_wrote(d + ld, ls + 1);
    return strcat(d, s);
}
RT_HIDDEN char *rt_bound_strchr(const char *s, int c) {
    rt_checked_string(s, SIZE_MAX);
    return strchr(s, c);
}
RT_HIDDEN char *rt_bound_strdup(const char *s) {
    rt_checked_string(s, SIZE_MAX);
    char *copy = strdup(s);
    if (copy) rt_checked_name_site(copy, (const void *)ck_call_pc);   /* the cell's call, not libc's */
    return copy;
}

/* The strings a printf format reads (%s), checked as strlen's: freed,
 * dangling, uninitialised or unterminated. The other arguments are taken
 * as the format says, to reach them; a positional or unknown conversion
 * ends the check there. */
static void check_format(const char *f, va_list ap) {
    if (!rt_checking) return;
    rt_checked_string(f, SIZE_MAX);
    for (; *f; f++) {
        if (*f != '%' || *++f == '%') continue;
        while (*f && strchr("-+ #0'", *f)) f++;
        if (*f == '*') { (void)va_arg(ap, int); f++; }
        while (*f >= '0' && *f <= '9') f++;
        long prec = -1;
        if (*f == '.' && *++f == '*') { prec = va_arg(ap, int); f++; }
        else if (f[-1] == '.') for (prec = 0; *f >= '0' && *f <= '9'; f++) prec = prec * 10 + (*f - '0');
        int longer = 0, ld = 0;
        for (; *f && strchr("hlLjztq", *f); f++) {
            longer |= *f == 'l' || *f == 'j' || *f == 'z' || *f == 't';
            ld |= *f == 'L' || *f == 'q';
        }
        switch (*f) {
        case 'd': case 'i': case 'o': case 'u': case 'x': case 'X': case 'c':
            if (longer) (void)va_arg(ap, long); else (void)va_arg(ap, int);
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            if (ld) (void)va_arg(ap, long double); else (void)va_arg(ap, double);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (str && !longer) rt_checked_string(str, prec < 0 ? SIZE_MAX : (size_t)prec);
            break;
        }
        case 'p': case 'n': (void)va_arg(ap, void *); break;
        case 'm': break;
        default: return;
        }
    }
}

RT_HIDDEN int rt_bound_printf(const char *fmt, ...) {
    va_list ap, scan;
    va_start(ap, fmt);
    va_copy(scan, ap);
    check_format(fmt, scan);
    va_end(scan);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

RT_HIDDEN int rt_bound_fprintf(FILE *f, const char *fmt, ...) {
    va_list ap, scan;
    va_start(ap, fmt);
    va_copy(scan, ap);
    check_format(fmt, scan);
    va_end(scan);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

/* sprintf and snprintf: the strings they read, and room for what they
 * write (measured first, by vsnprintf into nothing). */
static void check_print_into(char *d, size_t room, const char *fmt, va_list ap) {
    va_list scan;
    va_copy(scan, ap);
    check_format(fmt, scan);
    va_end(scan);
    va_copy(scan, ap);
    int len = vsnprintf(NULL, 0, fmt, scan);
    va_end(scan);
    if (len < 0) return;
    size_t n = (size_t)len + 1 < room ? (size_t)len + 1 : room;
    rt_checked_range(d, n, CK_WRITE);
    rt_checked_wrote(d, n);
}

RT_HIDDEN int rt_bound_sprintf(char *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    check_print_into(d, SIZE_MAX, fmt, ap);
    int n = vsprintf(d, fmt, ap);
    va_end(ap);
    return n;
}

RT_HIDDEN int rt_bound_snprintf(char *d, size_t room, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    check_print_into(d, room, fmt, ap);
    int n = vsnprintf(d, room, fmt, ap);
    va_end(ap);
    return n;
}

/* fgets: what it wrote must have fitted (checked after the fact: the
 * cell ends there, and the snapshot undoes the damage). */
RT_HIDDEN char *rt_bound_fgets(char *d, int n, FILE *f) {
    char *r = fgets(d, n, f);
    if (r) {
        size_t len = strlen(d) + 1;
        rt_checked_range(d, len, CK_WRITE);
        rt_checked_wrote(d, len);
    }
    return r;
}

RT_HIDDEN int rt_bound_puts(const char *s) {
    rt_checked_string(s, SIZE_MAX);
    return puts(s);
}

RT_HIDDEN int rt_bound_fputs(const char *s, FILE *f) {
    rt_checked_string(s, SIZE_MAX);
    return fputs(s, f);
}

/* What a unit compiled with -b links in place of the library's own. */
static const nb_checked_symbol checked_symbols[] = {
    { "printf", (const void *)__bound_printf }, { "fprintf", (const void *)__bound_fprintf },
    { "puts", (const void *)__bound_puts }, { "fputs", (const void *)__bound_fputs },
    { "sprintf", (const void *)__bound_sprintf }, { "snprintf", (const void *)__bound_snprintf },
    { "fgets", (const void *)__bound_fgets },
    { NULL, NULL }
};

const nb_checked_symbol *nb_internal_checked_symbols(const char *options) {
    for (const char *o = options; o && (o = strstr(o, "-b")); o += 2)
        if ((o == options || o[-1] == ' ') && (o[2] == 0 || o[2] == ' ')) return checked_symbols;
    return NULL;
}

