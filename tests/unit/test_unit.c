/* test_unit.c - unit tests of worker/unit.c: the translation unit built
 * for a cell against a session: the prelude of earlier definitions, the
 * cell's own items with their #line marks, and __ck_run. The session is
 * built by hand (session_impl.h), so nothing is compiled or run here.
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "session_impl.h"

/* A session holding one entry per (kind, key, text, type_text). */
typedef struct { item_kind kind; const char *key, *text, *type_text; } fake_entry;

static session *fake_session(const fake_entry *fe, size_t n) {
    session *s = calloc(1, sizeof *s);
    s->e = calloc(n + 1, sizeof *s->e);
    for (size_t i = 0; i < n; i++) {
        entry *e = &s->e[i];
        e->kind = fe[i].kind;
        e->keys[0] = strdup(fe[i].key);
        e->nkeys = 1;
        e->text = strdup(fe[i].text);
        e->type_text = fe[i].type_text ? strdup(fe[i].type_text) : NULL;
        e->uses = unit_uses(e->type_text ? e->type_text : e->text);
        strmap_put(&s->index, e->keys[0], (long)i);
        if (e->kind == ITEM_DIRECTIVE) {          /* the session's list of directives */
            s->directives = realloc(s->directives, (s->ndirectives + 1) * sizeof *s->directives);
            s->directives[s->ndirectives++] = i;
        }
    }
    s->n = n;
    return s;
}

static void fake_session_free(session *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].keys[0]);
        free(s->e[i].text);
        free(s->e[i].type_text);
        free(s->e[i].uses);
    }
    strmap_free(&s->index);
    free(s->directives);
    free(s->e);
    free(s);
}

/* The unit for CODE against S, every item planned PLAN (or PLAN_LOCAL for
 * statements and expressions); what the cell defines anew in D.defined. */
typedef struct { cell c; plan plans[32]; strmap defined; diag_ctx d; char *unit; } built;

static void build_some(built *b, session *s, const char *code, plan p, int show, int some);

static void build(built *b, session *s, const char *code, plan p, int show) {
    build_some(b, s, code, p, show, 0);
}

static void build_some(built *b, session *s, const char *code, plan p, int show, int some) {
    memset(b, 0, sizeof *b);
    assert_int_equal(cell_split(code, &b->c), 0);
    assert_true(b->c.n < 32);
    for (size_t j = 0; j < b->c.n; j++) {
        item_kind k = b->c.items[j].kind;
        b->plans[j] = k == ITEM_STATEMENT || k == ITEM_EXPRESSION ? PLAN_LOCAL : p;
        if (b->plans[j] == PLAN_NEW)          /* as session.c's plan_cell: what it defines anew */
            for (int i = 0; i < b->c.items[j].nkeys; i++) strmap_put(&b->defined, b->c.items[j].keys[i], (long)j);
    }
    b->d = (diag_ctx){ .s = s, .c = &b->c, .code = code, .defined = &b->defined };
    b->unit = unit_build(s, &b->c, b->plans, &b->d, show, "", some);
    assert_non_null(b->unit);
}

static void built_free(built *b) {
    free(b->d.entry_line);
    free(b->d.entry_of);
    free(b->d.need);
    strmap_free(&b->defined);
    cell_free(&b->c);
}

static void contains(const char *unit, const char *want) {
    if (!strstr(unit, want)) fail_msg("the unit lacks\n%s\n--- unit (from <session>):\n%s", want,
                                      strstr(unit, "<session>") ? strstr(unit, "<session>") : unit);
}

static const char *after(const char *unit, const char *a, const char *b) {
    const char *pa = strstr(unit, a), *pb = pa ? strstr(pa, b) : NULL;
    if (!pb) fail_msg("'%s' is not followed by '%s' in the unit", a, b);
    return pb;
}

static const fake_entry earlier[] = {
    { ITEM_TYPE, "struct P", "struct P { int x; };", NULL },
    { ITEM_GLOBAL, "counter", "int counter;", "int counter" },
    { ITEM_FUNCTION, "twice", "int twice(int x);", NULL },
};

/* Earlier definitions come as a prelude: globals as hidden externs (see
 * unit.c on libtcc's PLT), functions as prototypes; then the cell. */
static void test_prelude_declares_earlier_definitions(void **state) {
    (void)state;
    session *s = fake_session(earlier, 3);
    built b;
    build(&b, s, "counter += twice(2);", PLAN_NEW, 0);
    contains(b.unit, "#line 1 \"<session>\"\nstruct P { int x; };\n");
    contains(b.unit, "extern int counter __attribute((visibility(\"hidden\")));\n");
    contains(b.unit, "int twice(int x);\n");
    after(b.unit, "int twice(int x);", "void __ck_run(void) {\n#line 1 \"cell\"\ncounter += twice(2);\n");
    /* the map of the unit's lines: each prelude entry's first line */
    assert_int_equal(b.d.nprelude, 3);
    for (size_t k = 0; k < 3; k++) assert_int_equal(b.d.entry_of[k], k);
    assert_int_equal(b.d.entry_line[0], 1);
    assert_int_equal(b.d.entry_line[1], 2);
    assert_int_equal(b.d.entry_line[2], 3);
    built_free(&b);
    fake_session_free(s);
}

/* A type the cell redefines takes the old one's place in the prelude, with
 * the cell's line, since later entries may use it; a function it
 * redefines is left out of the prelude. */
static void test_redefinitions_replace_entries(void **state) {
    (void)state;
    session *s = fake_session(earlier, 3);
    built b;
    build(&b, s, "struct P { long x, y; };\nint twice(int x) { return 2 * x; }", PLAN_NEW, 0);
    contains(b.unit, "#line 1 \"cell\"\nstruct P { long x, y; };\n#line 1 \"<session>\"\nextern int counter");
    assert_null(strstr(b.unit, "struct P { int x; };"));
    assert_null(strstr(b.unit, "int twice(int x);\n"));
    contains(b.unit, "#line 2 \"cell\"\nint twice(int x) { return 2 * x; }\n");
    assert_int_equal(b.d.nprelude, 1);           /* counter only */
    assert_int_equal(b.d.entry_of[0], 1);
    built_free(&b);
    fake_session_free(s);
}

/* A global's initializer runs in __ck_run, where its cell line is; a
 * trailing expression is shown through nb__show when SHOW, and is a plain
 * statement otherwise; main runs last. */
static void test_run_function(void **state) {
    (void)state;
    session *s = fake_session(earlier, 0);
    built b;
    build(&b, s, "int g = 40;\nint main(void) { return g; }\ng + 2", PLAN_NEW, 1);
    const char *run = strstr(b.unit, "void __ck_run(void) {");
    assert_non_null(run);
    after(run, "#line 1 \"cell\"\n{ __typeof__(g) __ck_v = 40; nb__assign((void *)&g", "#line 3 \"cell\"\nnb__show");
    after(run, "nb__show", "nb__run_main((int (*)(int, char **))main);\n}\n");
    contains(b.unit, "void __ck_fini(void) {\n}\n");
    contains(b.unit, "void __ck_text_end(void) {}\n");
    built_free(&b);
    build(&b, s, "int g = 40;\ng + 2", PLAN_NEW, 0);
    run = strstr(b.unit, "void __ck_run(void) {");
    contains(run, "#line 2 \"cell\"\ng + 2;\n");
    assert_null(strstr(run, "nb__show"));
    built_free(&b);
    fake_session_free(s);
}

/* A global planned PLAN_REINIT keeps its storage: the prelude declares it,
 * the cell only assigns; with no initializer it is zeroed again. */
static void test_reinit_keeps_storage(void **state) {
    (void)state;
    session *s = fake_session(earlier, 3);
    built b;
    build(&b, s, "int counter;", PLAN_REINIT, 0);
    contains(b.unit, "extern int counter __attribute((visibility(\"hidden\")));\n");
    contains(b.unit, "nb__zero((void *)&counter, sizeof counter);\n");
    built_free(&b);
    fake_session_free(s);
}

/* With SOME, the prelude holds only what the cell names, and what that
 * names in turn (a session's length must not slow its cells down). */
static void test_prelude_selects_what_the_cell_uses(void **state) {
    (void)state;
    static const fake_entry more[] = {
        { ITEM_TYPE, "struct P", "struct P { int x; };", NULL },
        { ITEM_GLOBAL, "origin", "extern struct P origin;", "struct P origin" },
        { ITEM_GLOBAL, "unused", "extern int unused;", "int unused" },
        { ITEM_FUNCTION, "twice", "int twice(int x);", NULL },
        { ITEM_DIRECTIVE, "#N", "#define N 3", NULL },
    };
    session *s = fake_session(more, 5);
    built b;
    build_some(&b, s, "origin.x = twice(N);", PLAN_NEW, 0, 1);
    contains(b.unit, "struct P { int x; };\n");                 /* origin's type */
    contains(b.unit, "extern struct P origin __attribute");
    contains(b.unit, "int twice(int x);\n");
    contains(b.unit, "#define N 3\n");                           /* directives always */
    assert_null(strstr(b.unit, "unused"));
    assert_int_equal(b.d.nprelude, 4);
    assert_non_null(b.d.need);                 /* selected: all but `unused`, in order */
    assert_int_equal(b.d.nneed, 4);
    size_t want[] = { 0, 1, 3, 4 };
    for (size_t k = 0; k < 4; k++) assert_int_equal(b.d.need[k], want[k]);
    built_free(&b);
    build(&b, s, "origin.x = twice(N);", PLAN_NEW, 0);            /* without SOME: all */
    contains(b.unit, "extern int unused __attribute");
    built_free(&b);
    /* a cell that defines a new name walks only what it names; one that
     * defines a name again walks the whole session: the same selection */
    build_some(&b, s, "int fresh(void) { return twice(N); }", PLAN_NEW, 0, 1);
    contains(b.unit, "int twice(int x);\n#define N 3\n");
    assert_null(strstr(b.unit, "unused"));
    assert_null(strstr(b.unit, "origin"));
    assert_int_equal(b.d.nprelude, 2);
    built_free(&b);
    build_some(&b, s, "int twice(int x) { return x * N; }", PLAN_NEW, 0, 1);
    assert_null(strstr(b.unit, "int twice(int x);"));              /* redefined: not declared */
    contains(b.unit, "#define N 3\n");
    assert_null(strstr(b.unit, "unused"));
    assert_int_equal(b.d.nprelude, 1);
    built_free(&b);
    fake_session_free(s);
}

/* The unit begins with nb.h, so every cell can call the runtime. */
static void test_unit_starts_with_nb_h(void **state) {
    (void)state;
    session *s = fake_session(earlier, 0);
    built b;
    build(&b, s, "1;", PLAN_NEW, 0);
    assert_int_equal(strncmp(b.unit, "#line 1 \"<ckernel>\"\n", 20), 0);
    contains(b.unit, "nb_where");
    built_free(&b);
    fake_session_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prelude_declares_earlier_definitions),
        cmocka_unit_test(test_redefinitions_replace_entries),
        cmocka_unit_test(test_run_function),
        cmocka_unit_test(test_reinit_keeps_storage),
        cmocka_unit_test(test_prelude_selects_what_the_cell_uses),
        cmocka_unit_test(test_unit_starts_with_nb_h),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
