/* test_cell.c - unit tests of worker/cell.c: a cell cut into top-level
 * items, each with its kind, line, keys and the text later cells need.
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cell.h"

static const char *const code =
    "#include <stdio.h>\n"                          /* 1 */
    "#define N 3\n"                                 /* 2 */
    "typedef struct P { int x; } P;\n"              /* 3 */
    "static int sq(int v) { return v * v; }\n"      /* 4 */
    "int f(int);\n"                                 /* 5 */
    "int a = 4, b;\n"                               /* 6 */
    "int arr[] = {1, 2};\n"                         /* 7 */
    "/* doc */\n"                                   /* 8 */
    "long g(void) { return 1; }\n"                  /* 9 */
    "for (int i = 0; i < N; i++)\n"                 /* 10 */
    "    printf(\"%d\\n\", sq(i));\n"               /* 11 */
    "a + b";                                        /* 12 */

static void expect(const cell_item *it, item_kind kind, int line, const char *key, const char *proto) {
    assert_int_equal(it->kind, kind);
    assert_int_equal(it->line, line);
    if (key) {
        assert_true(it->nkeys >= 1);
        assert_string_equal(it->keys[0], key);
    } else {
        assert_int_equal(it->nkeys, 0);
    }
    if (proto) assert_string_equal(it->proto, proto);
    else assert_null(it->proto);
}

static void test_items_of_a_cell(void **state) {
    (void)state;
    cell c = {0};
    assert_int_equal(cell_split(code, &c), 0);
    assert_int_equal(c.n, 11);
    expect(&c.items[0], ITEM_DIRECTIVE, 1, "#include <stdio.h>", "#include <stdio.h>");
    expect(&c.items[1], ITEM_DIRECTIVE, 2, "#N", "#define N 3");
    expect(&c.items[2], ITEM_TYPE, 3, "struct P", "typedef struct P { int x; } P;");
    assert_int_equal(c.items[2].nkeys, 2);
    assert_string_equal(c.items[2].keys[1], "P");
    /* static goes: later cells must see the function */
    expect(&c.items[3], ITEM_FUNCTION, 4, "sq", "int sq(int v);");
    assert_null(strstr(c.items[3].text, "static"));
    expect(&c.items[4], ITEM_DECLARATION, 5, "f", "int f(int);");
    expect(&c.items[8], ITEM_FUNCTION, 9, "g", "long g(void);");
    assert_string_equal(c.items[8].doc, "doc");
    expect(&c.items[9], ITEM_STATEMENT, 10, NULL, NULL);
    assert_string_equal(c.items[9].text, "for (int i = 0; i < N; i++)\n    printf(\"%d\\n\", sq(i));");
    expect(&c.items[10], ITEM_EXPRESSION, 12, NULL, NULL);
    assert_string_equal(c.items[10].text, "a + b");
    cell_free(&c);
}

/* One item a declarator; the initializer apart, since it runs with the
 * statements; an unsized array keeps its initializer, which gives its size. */
static void test_globals(void **state) {
    (void)state;
    cell c = {0};
    assert_int_equal(cell_split(code, &c), 0);
    expect(&c.items[5], ITEM_GLOBAL, 6, "a", "extern int a;");
    assert_string_equal(c.items[5].text, "int a;");
    assert_string_equal(c.items[5].type_text, "int a");
    assert_string_equal(c.items[5].init, "4");
    expect(&c.items[6], ITEM_GLOBAL, 6, "b", "extern int b;");
    assert_null(c.items[6].init);
    expect(&c.items[7], ITEM_GLOBAL, 7, "arr", "extern int arr[];");
    assert_true(c.items[7].unsized);
    assert_string_equal(c.items[7].text, "int arr[] = {1, 2};");
    cell_free(&c);
}

/* A compound literal in a global's initializer becomes a static object of
 * the unit (literals.h), an item just before its global, which names it;
 * inner literals first. A const one, or one in an initializer that stays
 * at file scope, is defined there with its initializer; the others are
 * filled when the global's initializer runs. Statements, sizeof and
 * statement expressions keep theirs. */
static void test_compound_literals(void **state) {
    (void)state;
    static const char *const lits =
        "int *p = (int[]){ 1, 2,\n"                                  /* 1 */
        "  3 };\n"                                                   /* 2 */
        "struct node *l = &(struct node){ 1, &(struct node){ 2, 0 } };\n"   /* 3 */
        "const int *k = (const int[]){ 4 };\n"                       /* 4 */
        "int *ps[] = { (int[]){ 5 } };\n"                            /* 5 */
        "long n = sizeof (int[]){ 1, 2 } + sizeof((char[]){ \"ab\" });\n"   /* 6 */
        "int *se = ({ int *t = (int[]){ 9 }; t; });\n"               /* 7 */
        "p = (int[]){ 7 };\n"                                        /* 8 */
        "int *c = (int *)(char[]){ \"x\" };\n"                      /* 9 */
        "const struct node *cn = &(const struct node){ 1, &(struct node){ 2, 0 } }";  /* 10 */
    cell c = {0};
    assert_int_equal(cell_split(lits, &c), 0);
    assert_int_equal(c.n, 17);
    expect(&c.items[0], ITEM_LITERAL, 1, "__ck_lit1_p", NULL);
    assert_null(c.items[0].text);
    /* its type from a copy of it (the size is the initializer's), whose
     * warnings the compile does not say twice */
    assert_string_equal(c.items[0].init,
                        "static __typeof__(\n#line 1 \"cell-copy\"\n"
                        "(int[]){ 1, 2,\n  3 }) __ck_lit1_p = {0};");
    /* filled where it stands, when the initializer runs; its lines kept */
    expect(&c.items[1], ITEM_GLOBAL, 1, "p", "extern int *p;");
    assert_string_equal(c.items[1].init,
                        "(*(__typeof__(__ck_lit1_p) *)({ nb__assign((void *)&__ck_lit1_p, "
                        "&(int[]){ 1, 2,\n  3 }, sizeof __ck_lit1_p); &__ck_lit1_p; }))");
    expect(&c.items[2], ITEM_LITERAL, 3, "__ck_lit2_l", NULL);      /* the inner one */
    assert_string_equal(c.items[2].init, "static __typeof__(struct node) __ck_lit2_l = {0};");
    expect(&c.items[3], ITEM_LITERAL, 3, "__ck_lit3_l", NULL);
    assert_non_null(strstr(c.items[4].init,
                           "&(struct node){ 1, &(*(__typeof__(__ck_lit2_l) *)({ "
                           "nb__assign((void *)&__ck_lit2_l, &(struct node){ 2, 0 }, "
                           "sizeof __ck_lit2_l); &__ck_lit2_l; })) }"));
    /* const: file scope, read-only */
    expect(&c.items[5], ITEM_LITERAL, 4, "__ck_lit4_k", NULL);
    assert_true(c.items[5].readonly);
    assert_null(c.items[5].init);
    assert_string_equal(c.items[5].text,
                        "static __typeof__(\n#line 4 \"cell-copy\"\n(const int[]){ 4 }) "
                        "__ck_lit4_k =\n#line 4 \"cell\"\n{ 4 };");
    expect(&c.items[7], ITEM_LITERAL, 5, "__ck_lit5_ps", NULL);     /* unsized: file scope */
    assert_false(c.items[7].readonly);
    assert_non_null(c.items[7].text);
    assert_string_equal(c.items[8].text, "int *ps[] = { __ck_lit5_ps };");
    expect(&c.items[9], ITEM_GLOBAL, 6, "n", "extern long n;");       /* sizeof: no object */
    expect(&c.items[10], ITEM_GLOBAL, 7, "se", "extern int *se;");    /* a block's literal */
    expect(&c.items[11], ITEM_STATEMENT, 8, NULL, NULL);              /* block scope */
    assert_string_equal(c.items[11].text, "p = (int[]){ 7 };");
    expect(&c.items[12], ITEM_LITERAL, 9, "__ck_lit6_c", NULL);     /* after a cast */
    assert_string_equal(c.items[13].init,
                        "(int *)(*(__typeof__(__ck_lit6_c) *)({ nb__assign((void *)&__ck_lit6_c, "
                        "&(char[]){ \"x\" }, sizeof __ck_lit6_c); &__ck_lit6_c; }))");
    /* inside a const literal, defined at file scope with it */
    expect(&c.items[14], ITEM_LITERAL, 10, "__ck_lit7_cn", NULL);
    assert_false(c.items[14].readonly);
    assert_string_equal(c.items[14].text, "static __typeof__(struct node) __ck_lit7_cn =\n"
                                          "#line 10 \"cell\"\n{ 2, 0 };");
    expect(&c.items[15], ITEM_LITERAL, 10, "__ck_lit8_cn", NULL);
    assert_true(c.items[15].readonly);
    assert_string_equal(c.items[16].init, "&__ck_lit8_cn");
    cell_free(&c);
}

/* Bad C is not the splitter's to judge: it still splits, and the compiler speaks. */
static void test_bad_c_still_splits(void **state) {
    (void)state;
    cell c = {0};
    assert_int_equal(cell_split("int f( {\n", &c), 0);
    assert_true(c.n >= 1);
    cell_free(&c);
    cell e = {0};
    assert_int_equal(cell_split("", &e), 0);
    assert_int_equal(e.n, 0);
    cell_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_of_a_cell),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_compound_literals),
        cmocka_unit_test(test_bad_c_still_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
