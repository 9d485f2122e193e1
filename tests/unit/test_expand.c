/* test_expand.c - unit tests of worker/expand.c: which cells are
 * preprocessed before splitting, and that the result keeps every line on
 * its line, with the directives in effect as written.
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "expand.h"

static const char *no_session_macro(void *ud, const char *name, size_t len) {
    (void)ud;
    return len == 4 && memcmp(name, "SWAP", 4) == 0 ? "#define SWAP(a, b) do { a ^= b; } while (0)"
         : len == 3 && memcmp(name, "DEF", 3) == 0 ? "#define DEF(n) int f##n(void) { return n; }"
         : len == 2 && memcmp(name, "PT", 2) == 0 ? "#define PT(x, y) ((struct pt) { x, y })"
         : NULL;
}

static void needed(const char *code, int expected) {
    int got = expand_needed(code, no_session_macro, NULL);
    if (got != expected) fail_msg("expand_needed(%s) = %d, not %d", code, got, expected);
}

static void test_what_needs_preprocessing(void **state) {
    (void)state;
    needed("int x = 1;\nx++;", 0);
    needed("#if 1\nint main(void) { return 0; }\n#endif", 1);
    needed("void f(void) {\n#ifdef X\n  g();\n#endif\n}", 0);      /* inside a body: the compiler's */
    needed("DEF(1)\nDEF(2)", 1);                                   /* a session macro that defines */
    needed("SWAP(a, b);", 0);                                      /* one that is a statement */
    needed("#define N 3\nint a[N];\nint x = N;", 0);               /* in brackets, in initializers */
    needed("#define CAT(a, b) a##b\nint CAT(v, 1) = 2;", 1);       /* in a declarator */
    /* a macro that makes a compound literal, in an initializer: the
     * splitter must see the literal (literals.h) */
    needed("struct pt *o = &PT(1, 2);", 1);
    needed("#define ORIGIN (int[]){ 0, 0 }\nint *o = ORIGIN;", 1);
    needed("#define TWO(x) (x) + (x)\nint t = TWO(1) + TWO(2);", 0);
    needed("void g(void) { struct pt *o = &PT(1, 2); }", 0);        /* in a body: automatic */
    needed("#include \"other.c\"", 1);
    needed("#include \"other.h\"\n#include <stdio.h>", 0);
}

static void test_branches_and_directives_stay_on_their_lines(void **state) {
    (void)state;
    const char *code = "/* c */\n#define A 1\n#if A\nint a = A;\n#define B 2\n#else\nint b;\n#define C 3\n#endif\nint z;";
    char *out = expand_cell("", code, "");
    assert_non_null(out);
    assert_string_equal(out, "\n#define A 1\n\nint a = 1;\n#define B 2\n\n\n\n\nint z;");
    free(out);
}

static void test_macros_are_expanded_in_place(void **state) {
    (void)state;
    const char *code = "#define DEF(n) int f##n(void) \\\n  { return n; }\nDEF(1)\nDEF(\n2\n)\nint y;";
    char *out = expand_cell("", code, "");
    assert_non_null(out);
    /* the continued #define stays whole; the expansion lands on the line
     * the invocation ends on */
    assert_string_equal(out, "#define DEF(n) int f##n(void) \\\n  { return n; }\n"
                             "int f1(void) { return 1; }\n\n\nint f2(void) { return 2; }\nint y;");
    free(out);
}

static void test_context_macros_decide(void **state) {
    (void)state;
    char *out = expand_cell("#define FAST 1\n", "#ifdef FAST\nint fast;\n#else\nint slow;\n#endif", "");
    assert_non_null(out);
    assert_string_equal(out, "\nint fast;\n\n\n");
    free(out);
}

static void test_an_error_gives_null(void **state) {
    (void)state;
    assert_null(expand_cell("", "#error no\nint x;", ""));
    assert_null(expand_cell("", "#include \"no-such-file.c\"", ""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_needs_preprocessing),
        cmocka_unit_test(test_branches_and_directives_stay_on_their_lines),
        cmocka_unit_test(test_macros_are_expanded_in_place),
        cmocka_unit_test(test_context_macros_decide),
        cmocka_unit_test(test_an_error_gives_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
