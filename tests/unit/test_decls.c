/* test_decls.c - unit tests of worker/decls.c: which chunks of a header
 * text decls_select keeps for a piece of code.
 *
 * Each case indexes a small text in the shapes glibc's preprocessed headers
 * have and checks what a use keeps and what it leaves out; the last one
 * checks that a selection from real headers compiles with tcc.
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decls.h"
#include "strmap.h"

typedef struct { char *s; size_t len; } out;

static void collect(void *ud, const char *text, size_t len) {
    out *o = ud;
    o->s = realloc(o->s, o->len + len + 1);
    memcpy(o->s + o->len, text, len);
    o->len += len;
    o->s[o->len] = 0;
}

/* The selection from TEXT for CODE (caller frees). */
static char *select_for(const char *text, const char *code) {
    decls *ix = decls_for(text);
    assert_non_null(ix);
    out o = { calloc(1, 1), 0 };
    decls_select(ix, (const char *[]){ code }, 1, collect, &o);
    return o.s;
}

static void expect(const char *text, const char *code, const char *const *kept, const char *const *dropped) {
    char *got = select_for(text, code);
    for (; kept && *kept; kept++)
        if (!strstr(got, *kept)) fail_msg("for '%s', '%s' should be kept; got:\n%s", code, *kept, got);
    for (; dropped && *dropped; dropped++)
        if (strstr(got, *dropped)) fail_msg("for '%s', '%s' should be left out; got:\n%s", code, *dropped, got);
    free(got);
}

static const char *const none[] = { NULL };

static const char stdio_like[] =
    "typedef unsigned long size_t;\n"
    "struct _IO_FILE;\n"
    "typedef struct _IO_FILE FILE;\n"
    "struct _IO_FILE { int _flags; char *_IO_read_ptr; };\n"
    "extern FILE *stdin;\n"
    "extern FILE *stdout;\n"
    "#define stdout stdout\n"
    "#define EOF (-1)\n"
    "extern int printf (const char *__restrict __format, ...);\n"
    "extern int fprintf (FILE *__restrict __stream, const char *__restrict __format, ...);\n"
    "extern size_t strlen (const char *__s) __attribute__ ((__pure__));\n"
    "extern int remove (const char *__filename) __attribute__ ((__nothrow__ , __leaf__));\n";

static void test_nothing_for_code_that_names_nothing(void **state) {
    (void)state;
    char *got = select_for(stdio_like, "n++;");
    assert_string_equal(got, "");
    free(got);
}

static void test_a_function_and_no_more(void **state) {
    (void)state;
    expect(stdio_like, "printf(\"%d\\n\", 1);",
           (const char *[]){ "extern int printf", NULL },
           (const char *[]){ "fprintf", "FILE", "strlen", "size_t", NULL });
}

static void test_what_a_declaration_needs_comes_along(void **state) {
    (void)state;
    /* fprintf needs FILE, FILE needs the tag: declaration and definition */
    expect(stdio_like, "fprintf(0, \"x\");",
           (const char *[]){ "extern int fprintf", "typedef struct _IO_FILE FILE;", "struct _IO_FILE;",
                             "struct _IO_FILE { int _flags;", NULL },
           (const char *[]){ "extern int printf", "strlen", NULL });
    expect(stdio_like, "strlen(\"abc\")",
           (const char *[]){ "extern size_t strlen", "typedef unsigned long size_t;", NULL }, none);
}

static void test_macros_and_what_they_name(void **state) {
    (void)state;
    expect(stdio_like, "fputc('x', stdout);",
           (const char *[]){ "#define stdout stdout", "extern FILE *stdout;", "typedef struct _IO_FILE FILE;", NULL },
           (const char *[]){ "stdin", NULL });
    expect(stdio_like, "#if EOF < 0\nint e;\n#endif", (const char *[]){ "#define EOF (-1)", NULL }, none);
}

static void test_strings_and_comments_name_nothing(void **state) {
    (void)state;
    char *got = select_for(stdio_like, "char *s = \"printf strlen\"; // remove\n/* FILE */ 'x';");
    assert_string_equal(got, "");
    free(got);
}

static void test_order_is_the_texts(void **state) {
    (void)state;
    char *got = select_for(stdio_like, "fprintf(stdout, \"\");");
    char *file = strstr(got, "typedef struct _IO_FILE FILE;"), *fn = strstr(got, "extern int fprintf");
    assert_non_null(file);
    assert_non_null(fn);
    assert_true(file < fn);
    free(got);
}

static void test_declarators_of_every_shape(void **state) {
    (void)state;
    static const char text[] =
        "typedef void (*__sighandler_t) (int);\n"
        "extern __sighandler_t signal (int __sig, __sighandler_t __handler);\n"
        "extern void (*bsd_signal (int __sig, void (*__h) (int))) (int);\n"
        "extern char *tab[16], **env;\n"
        "extern int counter __asm__ (\"\" \"counter64\");\n"
        "static const int limit = 4, width = 8;\n"
        "struct stat { long st_size; };\n"
        "extern int stat (const char *__file, struct stat *__buf);\n";
    expect(text, "signal(2, 0);", (const char *[]){ "extern __sighandler_t signal", "typedef void (*__sighandler_t)", NULL },
           (const char *[]){ "bsd_signal", NULL });
    expect(text, "bsd_signal(2, 0);", (const char *[]){ "bsd_signal", NULL }, (const char *[]){ "__sighandler_t", NULL });
    expect(text, "env[0]", (const char *[]){ "**env", NULL }, none);
    expect(text, "counter", (const char *[]){ "counter64", NULL }, none);
    expect(text, "width", (const char *[]){ "width = 8", NULL }, none);
    /* a struct and a function of the same name: both */
    expect(text, "struct stat st; stat(\"/\", &st);",
           (const char *[]){ "struct stat { long", "extern int stat", NULL }, none);
    /* parameter names declare nothing */
    expect(text, "__file", none, (const char *[]){ "extern int stat", NULL });
}

static void test_enums_with_macros_inside(void **state) {
    (void)state;
    /* glibc defines a macro after many enumerators, inside the enum */
    static const char text[] =
        "enum\n  {\n    _SC_ARG_MAX,\n#define _SC_ARG_MAX _SC_ARG_MAX\n    _SC_CHILD_MAX = 1 << 1\n"
        "#define _SC_CHILD_MAX _SC_CHILD_MAX\n  };\n"
        "enum color { RED, GREEN };\n"
        "extern long int sysconf (int __name);\n";
    expect(text, "sysconf(_SC_CHILD_MAX)",
           (const char *[]){ "_SC_ARG_MAX,\n#define _SC_ARG_MAX", "};", "extern long int sysconf", NULL },
           (const char *[]){ "RED", NULL });
    expect(text, "GREEN", (const char *[]){ "enum color { RED, GREEN };", NULL }, (const char *[]){ "_SC_", NULL });
    expect(text, "enum color c;", (const char *[]){ "enum color", NULL }, none);
}

static void test_function_definitions_end_at_their_brace(void **state) {
    (void)state;
    static const char text[] =
        "typedef int myint;\n"
        "static inline int twice (int x) { return x * 2; }\n"
        "static inline __attribute__ ((__always_inline__)) myint thrice (myint x) { myint y = x; return 3 * y; }\n"
        "extern int after (void);\n";
    expect(text, "twice(2)", (const char *[]){ "return x * 2; }", NULL },
           (const char *[]){ "thrice", "after", "myint", NULL });
    expect(text, "thrice(2)", (const char *[]){ "thrice", "typedef int myint;", NULL },
           (const char *[]){ "twice", "after", NULL });
    expect(text, "after()", (const char *[]){ "extern int after", NULL }, (const char *[]){ "twice", NULL });
}

/* Conditionals and pragmas stay where they are, with the macros they test. */
static void test_directives_that_declare_nothing_stay(void **state) {
    (void)state;
    static const char text[] =
        "#ifndef GUARD\n#define GUARD\n#pragma pack(push, 1)\nint packed_thing;\n#pragma pack(pop)\n#endif\n";
    expect(text, "x",
           (const char *[]){ "#ifndef GUARD", "#pragma pack(push, 1)", "#pragma pack(pop)", "#endif", NULL },
           (const char *[]){ "packed_thing", NULL });
}

static void test_one_index_per_text(void **state) {
    (void)state;
    decls *a = decls_for(stdio_like);
    char *copy = strdup(stdio_like);
    assert_ptr_equal(decls_for(copy), a);   /* by content, not by address */
    free(copy);
}

/* A unit's distinct names, read once for both selections (unit.c): each
 * identifier once, in order, none from strings or comments; and a
 * selection from them is the selection from the text. */
static void test_names_once_select_the_same(void **state) {
    (void)state;
    const char *code = "FILE *f = fopen(\"size_t\", 0); /* EOF */ size_t n = strlen(0); FILE *g = f;";
    const char *names = decls_names(code);
    assert_non_null(names);
    const char *want[] = { "FILE", "f", "fopen", "size_t", "n", "strlen", "g", NULL };
    const char *u = names;
    for (int i = 0; want[i]; i++, u += strlen(u) + 1) assert_string_equal(u, want[i]);
    assert_string_equal(u, "");
    decls *ix = decls_for(stdio_like);
    out a = { calloc(1, 1), 0 }, b = { calloc(1, 1), 0 };
    decls_select(ix, (const char *[]){ code }, 1, collect, &a);
    decls_select_names(ix, names, NULL, 0, collect, &b);
    assert_string_equal(a.s, b.s);
    assert_non_null(strstr(a.s, "strlen"));
    assert_null(strstr(a.s, "EOF"));
    free(a.s);
    free(b.s);
}

/* strmap_get_n finds a name where it lies in a text, with a prefix byte
 * for the session's macro keys ("#N"). */
static void test_lookup_in_place(void **state) {
    (void)state;
    strmap m = {0};
    strmap_put(&m, "N", 1);
    strmap_put(&m, "#N", 2);
    strmap_put(&m, "Nx", 3);
    const char *text = "N + Nx + Ny";
    assert_int_equal(strmap_get_n(&m, 0, text, 1), 1);
    assert_int_equal(strmap_get_n(&m, '#', text, 1), 2);
    assert_int_equal(strmap_get_n(&m, 0, text + 4, 2), 3);
    assert_int_equal(strmap_get_n(&m, '#', text + 4, 2), -1);
    assert_int_equal(strmap_get_n(&m, 0, text + 9, 2), -1);
    assert_int_equal(strmap_get_n(&m, 0, text, 0), -1);
    strmap_free(&m);
}

/* The selections from real headers, preprocessed the way headers.c does
 * it, compile with tcc: each code's own needs are there. */
static void test_real_headers_compile(void **state) {
    (void)state;
    FILE *p = popen("printf '#include <stdio.h>\\n#include <stdlib.h>\\n#include <string.h>\\n"
                    "#include <time.h>\\n#include <stdint.h>\\n#include <signal.h>\\n#include <pthread.h>\\n'"
                    " | tcc -E -dD -P - 2>/dev/null | sed 's/<a6>/##/g'", "r");   /* as headers.c */
    assert_non_null(p);
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, p)) > 0;) n += got;
    text[n] = 0;
    assert_int_equal(pclose(p), 0);
    assert_true(n > 10000);
    static const char *const codes[] = {
        "int f(void) { printf(\"%d\\n\", 1); return EXIT_SUCCESS; }",
        "void g(void) { time_t t = time(0); struct tm *tm = localtime(&t); fprintf(stderr, \"%d\", tm->tm_year); }",
        "uint64_t h(const char *s) { return strlen(s) + UINT64_MAX; }",
        "void k(void) { signal(SIGINT, SIG_IGN); struct sigaction sa; sa.sa_handler = SIG_DFL; (void)sa; }",
        "pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; void l(void) { pthread_mutex_lock(&m); }",
        "void q(int *a) { qsort(a, 3, sizeof *a, 0); FILE *f = fopen(\"x\", \"r\"); if (f) fclose(f); }",
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char *sel = select_for(text, codes[i]);
        char path[] = "/tmp/ckernel-test-decls-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fprintf(f, "%s\n%s\n", sel, codes[i]);
        fclose(f);
        /* never "-o /dev/null": tcc unlinks its output file first, and
         * would leave a plain file where the device was */
        char cmd[256];
        snprintf(cmd, sizeof cmd, "tcc -x c -Werror -c -o %s.o %s", path, path);
        int rc = system(cmd);
        if (rc != 0) fail_msg("the selection for '%s' does not compile (kept in %s)", codes[i], path);
        unlink(path);
        snprintf(cmd, sizeof cmd, "%s.o", path);
        unlink(cmd);
        assert_true(strlen(sel) < n / 2);            /* and it is a selection */
        free(sel);
    }
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_for_code_that_names_nothing),
        cmocka_unit_test(test_a_function_and_no_more),
        cmocka_unit_test(test_what_a_declaration_needs_comes_along),
        cmocka_unit_test(test_macros_and_what_they_name),
        cmocka_unit_test(test_strings_and_comments_name_nothing),
        cmocka_unit_test(test_order_is_the_texts),
        cmocka_unit_test(test_declarators_of_every_shape),
        cmocka_unit_test(test_enums_with_macros_inside),
        cmocka_unit_test(test_function_definitions_end_at_their_brace),
        cmocka_unit_test(test_directives_that_declare_nothing_stay),
        cmocka_unit_test(test_one_index_per_text),
        cmocka_unit_test(test_names_once_select_the_same),
        cmocka_unit_test(test_lookup_in_place),
        cmocka_unit_test(test_real_headers_compile),
    };
    return cmocka_run_group_tests_name("decls", tests, NULL, NULL);
}
