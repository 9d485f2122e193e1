/* test_magics.c - unit tests of worker/magics.c: the `%` lines at the top
 * of a cell, what each gives, the errors, and that the cell keeps its line
 * numbers. Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "magics.h"

/* Parse CODE, which must succeed. */
static void parse_ok(const char *code, magics *m) {
    if (magics_parse(code, m) != 0) fail_msg("magics_parse(%s) failed: %s", code, m->error);
}

/* Parse CODE, which must fail with an error containing WANT. */
static void parse_fails(const char *code, const char *want) {
    magics m;
    if (magics_parse(code, &m) != -1) fail_msg("magics_parse(%s) succeeded", code);
    assert_non_null(m.error);
    if (!strstr(m.error, want)) fail_msg("error for %s: '%s', expected '%s'", code, m.error, want);
    magics_free(&m);
}

static void test_no_magics_leaves_the_cell(void **state) {
    (void)state;
    magics m;
    parse_ok("int x = 1;\nx++;", &m);
    assert_string_equal(m.code, "int x = 1;\nx++;");
    assert_null(m.cflags);
    assert_null(m.libs);
    assert_int_equal(m.measure, MEASURE_UNCHANGED);
    assert_true(m.timeout < 0 && m.memory_mib < 0 && m.output_mib < 0);
    assert_false(m.who || m.reset || m.help);
    magics_free(&m);
}

/* A magic line is blanked, not removed: the compiler's line numbers stay the cell's. */
static void test_magic_lines_are_blanked(void **state) {
    (void)state;
    magics m;
    parse_ok("%cflags -DN=3\n\n%who\nint a[N];", &m);
    assert_string_equal(m.cflags, "-DN=3");
    assert_true(m.who);
    assert_string_equal(m.code, "             \n\n    \nint a[N];");
    magics_free(&m);
}

static void test_values(void **state) {
    (void)state;
    magics m;
    parse_ok("%cflags --session -Wall\n%lib m  pthread\n%args a 'b'\n%measure verbose\n"
             "%timeout 2.5\n%memory 64\n%output 0\n%reset\n%help\n", &m);
    assert_null(m.cflags);
    assert_string_equal(m.session_cflags, "-Wall");
    assert_string_equal(m.libs[0], "m");
    assert_string_equal(m.libs[1], "pthread");
    assert_null(m.libs[2]);
    assert_string_equal(m.args[0], "a");
    assert_non_null(m.args[1]);
    assert_int_equal(m.measure, MEASURE_VERBOSE);
    assert_true(m.timeout == 2.5);
    assert_int_equal(m.memory_mib, 64);
    assert_int_equal(m.output_mib, 0);
    assert_true(m.reset && m.help);
    magics_free(&m);
}

/* A repeated magic: the last one counts (and the first is not leaked). */
static void test_repeated_magic_last_counts(void **state) {
    (void)state;
    magics m;
    parse_ok("%lib m\n%lib dl\n%measure off\n%measure on\n", &m);
    assert_string_equal(m.libs[0], "dl");
    assert_null(m.libs[1]);
    assert_int_equal(m.measure, MEASURE_ON);
    magics_free(&m);
}

static void test_file_takes_the_rest(void **state) {
    (void)state;
    magics m;
    parse_ok("%%file notes.txt\nline 1\n%not a magic\n", &m);
    assert_string_equal(m.file, "notes.txt");
    assert_string_equal(m.code, "line 1\n%not a magic\n");
    magics_free(&m);
}

static void test_errors(void **state) {
    (void)state;
    parse_fails("%nosuch\n", "unknown magic %nosuch");
    parse_fails("%measure loud\n", "%measure takes off, on or verbose, not 'loud'");
    parse_fails("%timeout soon\n", "%timeout takes seconds");
    parse_fails("%timeout -1\n", "%timeout takes seconds");
    parse_fails("%memory 1.5\n", "%memory takes MiB");
    parse_fails("%output\n", "%output takes MiB");
    parse_fails("%lib\n", "%lib needs library names");
    parse_fails("%%file\n", "%%file needs a file name");
    parse_fails("int x;\n%who\n", "line 2: %who: magics go at the top of the cell");
    parse_fails("%cflags -run\n", "%cflags -run: not supported");
    parse_fails("%cflags -O2 -o out\n", "%cflags -o: not supported");
    parse_fails("%escape now\n", "%escape takes nothing after it");
    parse_fails("%asm\n", "%asm takes one function name");
    parse_fails("%asm f g\n", "%asm takes one function name");
}

/* %%cc keeps what follows it for cc.c; %asm its one name. */
static void test_cc_and_asm(void **state) {
    (void)state;
    magics m;
    assert_int_equal(magics_parse("%%cc gcc -O2 --remarks\n%asm sum\nint x;\n", &m), 0);
    assert_string_equal(m.cc, "gcc -O2 --remarks");
    assert_string_equal(m.asm_name, "sum");
    magics_free(&m);
}

/* %escape analyses and runs, %%escape only analyses; the line is blanked. */
static void test_escape(void **state) {
    (void)state;
    magics m;
    assert_int_equal(magics_parse("%escape\nint x;\n", &m), 0);
    assert_int_equal(m.escape, 1);
    assert_string_equal(m.code, "       \nint x;\n");
    magics_free(&m);
    assert_int_equal(magics_parse("%%escape\nint y;\n", &m), 0);
    assert_int_equal(m.escape, 2);
    magics_free(&m);
    assert_int_equal(magics_parse("int z;\n", &m), 0);
    assert_int_equal(m.escape, 0);
    magics_free(&m);
}

/* %%check compiles the cell with tcc's -b (after any %cflags), which
 * %cflags itself refuses. */
static void test_check_adds_bounds_option(void **state) {
    (void)state;
    magics m;
    parse_ok("%%check\n%cflags -DN=2\nint a[N];", &m);
    assert_true(m.check);
    assert_string_equal(m.cflags, "-DN=2 -b");
    assert_string_equal(m.code, "       \n             \nint a[N];");
    magics_free(&m);
    parse_ok("%%check\nint x;", &m);
    assert_string_equal(m.cflags, " -b");
    magics_free(&m);
    parse_fails("%%check now\n", "%%check takes no arguments");
    parse_fails("%%check\n%%cc gcc -O2\nint y;", "%%check and %%cc do not combine");
    parse_fails("%cflags -b\n", "%cflags -b: not supported");
}

/* Every magic %help lists is one magics_parse knows, and the known ones are listed. */
static void test_help_lists_every_magic(void **state) {
    (void)state;
    static const char *const names[] = { "%cflags", "%lib", "%args", "%who", "%reset", "%measure",
                                         "%timeout", "%memory", "%output", "%%file", "%%cc", "%asm", "%%check",
                                         "%help", "%escape", "%%escape", NULL };
    const char *help = magics_help();
    for (int i = 0; names[i]; i++)
        if (!strstr(help, names[i])) fail_msg("%%help does not list %s", names[i]);
    int listed = 0;
    for (const char *line = strstr(help, "\n  %"); line; line = strstr(line + 1, "\n  %")) {
        char name[64];
        if (sscanf(line + 3, "%63s", name) != 1) continue;
        char code[80];
        snprintf(code, sizeof code, "%s\n", name);
        magics m;
        if (magics_parse(code, &m) != 0 && strstr(m.error, "unknown magic"))
            fail_msg("%%help lists %s, which magics_parse does not know", name);
        magics_free(&m);
        listed++;
    }
    assert_true(listed >= 13);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_magics_leaves_the_cell),
        cmocka_unit_test(test_magic_lines_are_blanked),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_repeated_magic_last_counts),
        cmocka_unit_test(test_file_takes_the_rest),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_check_adds_bounds_option),
        cmocka_unit_test(test_help_lists_every_magic),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_cc_and_asm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
