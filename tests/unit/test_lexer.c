/* test_lexer.c - unit tests of common/lexer.c: lexer_tokenize, lexer_tok_is and
 * lexer_is_complete (the judge behind is_complete_request).
 *
 * One cmocka group; every case checks one behaviour the header promises.
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lexer.h"

/* ---------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------- */

typedef struct {
    tok_kind kind;
    const char *text;
    int line;           /* 0: do not check */
} want_tok;

/* Tokenize SRC and compare with the N tokens in WANT, then the TOK_EOF. */
static void check_tokens(const char *src, const want_tok *want, size_t n) {
    size_t count = 99;
    int unterminated = -1;
    token *t = lexer_tokenize(src, &count, &unterminated);
    assert_non_null(t);
    if (count != n) {
        print_error("source: %s\n", src);
        for (size_t i = 0; i < count; i++)
            print_error("  token %zu: kind %d '%.*s' line %d\n", i, t[i].kind,
                        (int)t[i].len, t[i].start, t[i].line);
    }
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++) {
        if (t[i].kind != want[i].kind || !lexer_tok_is(&t[i], want[i].text) ||
            (want[i].line && t[i].line != want[i].line))
            print_error("token %zu: got kind %d '%.*s' line %d, want kind %d '%s' line %d\n",
                        i, t[i].kind, (int)t[i].len, t[i].start, t[i].line,
                        want[i].kind, want[i].text, want[i].line);
        assert_int_equal(t[i].kind, want[i].kind);
        assert_true(lexer_tok_is(&t[i], want[i].text));
        if (want[i].line) assert_int_equal(t[i].line, want[i].line);
    }
    assert_int_equal(t[n].kind, TOK_EOF);
    assert_int_equal(unterminated, 0);
    free(t);
}

#define CHECK_TOKENS(src, ...) do { \
        static const want_tok w_[] = { __VA_ARGS__ }; \
        check_tokens(src, w_, sizeof w_ / sizeof w_[0]); \
    } while (0)

static const char *status_name(lex_status s) {
    return s == LEX_COMPLETE ? "complete" : s == LEX_INCOMPLETE ? "incomplete"
         : s == LEX_INVALID ? "invalid" : "?";
}

static void expect_status(const char *src, lex_status want) {
    lex_status got = lexer_is_complete(src, NULL);
    if (got != want)
        print_error("is_complete(\"%s\") = %s, want %s\n", src, status_name(got),
                    status_name(want));
    assert_int_equal(got, want);
}

/* ---------------------------------------------------------------------
 * lexer_tokenize
 * ------------------------------------------------------------------- */

static void test_identifiers_and_punct(void **state) {
    (void)state;
    CHECK_TOKENS("int x_1 = _y2;",
        {TOK_IDENT, "int", 1}, {TOK_IDENT, "x_1", 1}, {TOK_PUNCT, "=", 1},
        {TOK_IDENT, "_y2", 1}, {TOK_PUNCT, ";", 1});
}

static void test_multichar_punct(void **state) {
    (void)state;
    CHECK_TOKENS("p->x <<= 2;",
        {TOK_IDENT, "p", 0}, {TOK_PUNCT, "->", 0}, {TOK_IDENT, "x", 0},
        {TOK_PUNCT, "<<=", 0}, {TOK_NUMBER, "2", 0}, {TOK_PUNCT, ";", 0});
    CHECK_TOKENS("i++ + ++j",
        {TOK_IDENT, "i", 0}, {TOK_PUNCT, "++", 0}, {TOK_PUNCT, "+", 0},
        {TOK_PUNCT, "++", 0}, {TOK_IDENT, "j", 0});
}

static void test_numbers(void **state) {
    (void)state;
    CHECK_TOKENS("42 0x1F 3.14 10UL .5 1e-3 2.5E+10f 0777",
        {TOK_NUMBER, "42", 0}, {TOK_NUMBER, "0x1F", 0}, {TOK_NUMBER, "3.14", 0},
        {TOK_NUMBER, "10UL", 0}, {TOK_NUMBER, ".5", 0}, {TOK_NUMBER, "1e-3", 0},
        {TOK_NUMBER, "2.5E+10f", 0}, {TOK_NUMBER, "0777", 0});
    /* A minus after a digit that is not an exponent is an operator. */
    CHECK_TOKENS("n-1",
        {TOK_IDENT, "n", 0}, {TOK_PUNCT, "-", 0}, {TOK_NUMBER, "1", 0});
    CHECK_TOKENS("a[1]-2",
        {TOK_IDENT, "a", 0}, {TOK_PUNCT, "[", 0}, {TOK_NUMBER, "1", 0},
        {TOK_PUNCT, "]", 0}, {TOK_PUNCT, "-", 0}, {TOK_NUMBER, "2", 0});
}

static void test_strings_with_escapes(void **state) {
    (void)state;
    CHECK_TOKENS("s = \"a\\\"b\\\\\";",
        {TOK_IDENT, "s", 0}, {TOK_PUNCT, "=", 0},
        {TOK_STRING, "\"a\\\"b\\\\\"", 0}, {TOK_PUNCT, ";", 0});
    /* Comment markers and brackets inside a string are just text. */
    CHECK_TOKENS("puts(\"/* { // \");",
        {TOK_IDENT, "puts", 0}, {TOK_PUNCT, "(", 0}, {TOK_STRING, "\"/* { // \"", 0},
        {TOK_PUNCT, ")", 0}, {TOK_PUNCT, ";", 0});
    CHECK_TOKENS("\"\" \"x\\n\"",
        {TOK_STRING, "\"\"", 0}, {TOK_STRING, "\"x\\n\"", 0});
    /* Encoding prefixes belong to the literal. */
    CHECK_TOKENS("L\"w\" u8\"u\"",
        {TOK_STRING, "L\"w\"", 0}, {TOK_STRING, "u8\"u\"", 0});
}

static void test_chars(void **state) {
    (void)state;
    CHECK_TOKENS("c = 'x'; q = '\\''; b = '\\\\'; d = '\"';",
        {TOK_IDENT, "c", 0}, {TOK_PUNCT, "=", 0}, {TOK_CHAR, "'x'", 0}, {TOK_PUNCT, ";", 0},
        {TOK_IDENT, "q", 0}, {TOK_PUNCT, "=", 0}, {TOK_CHAR, "'\\''", 0}, {TOK_PUNCT, ";", 0},
        {TOK_IDENT, "b", 0}, {TOK_PUNCT, "=", 0}, {TOK_CHAR, "'\\\\'", 0}, {TOK_PUNCT, ";", 0},
        {TOK_IDENT, "d", 0}, {TOK_PUNCT, "=", 0}, {TOK_CHAR, "'\"'", 0}, {TOK_PUNCT, ";", 0});
}

static void test_comments_dropped(void **state) {
    (void)state;
    CHECK_TOKENS("a /* b { */ c // d }\ne",
        {TOK_IDENT, "a", 1}, {TOK_IDENT, "c", 1}, {TOK_IDENT, "e", 2});
    CHECK_TOKENS("x/**/y /*/ still comment */ z",
        {TOK_IDENT, "x", 0}, {TOK_IDENT, "y", 0}, {TOK_IDENT, "z", 0});
    /* Division is not a comment. */
    CHECK_TOKENS("a / b",
        {TOK_IDENT, "a", 0}, {TOK_PUNCT, "/", 0}, {TOK_IDENT, "b", 0});
    check_tokens("// only a comment\n/* and another */", NULL, 0);
}

static void test_directive_one_token(void **state) {
    (void)state;
    CHECK_TOKENS("#include <stdio.h>\nint x;",
        {TOK_DIRECTIVE, "#include <stdio.h>", 1}, {TOK_IDENT, "int", 2},
        {TOK_IDENT, "x", 2}, {TOK_PUNCT, ";", 2});
    /* Leading blanks and a blank after '#' are allowed. */
    CHECK_TOKENS("  # define ONE 1\nONE",
        {TOK_DIRECTIVE, "# define ONE 1", 1}, {TOK_IDENT, "ONE", 2});
    /* Brackets in a directive are not counted as tokens of their own. */
    CHECK_TOKENS("#define BEGIN {\nBEGIN",
        {TOK_DIRECTIVE, "#define BEGIN {", 1}, {TOK_IDENT, "BEGIN", 2});
}

static void test_directive_continuation(void **state) {
    (void)state;
    const char *src = "#define M(a) \\\n    ((a) + 1)\nint y = M(2);";
    size_t count;
    int open;
    token *t = lexer_tokenize(src, &count, &open);
    assert_non_null(t);
    assert_int_equal(open, 0);
    assert_true(count >= 1);
    assert_int_equal(t[0].kind, TOK_DIRECTIVE);
    assert_int_equal(t[0].line, 1);
    /* The directive spans the continuation and stops at the line's end. */
    assert_int_equal(t[0].len, strlen("#define M(a) \\\n    ((a) + 1)"));
    assert_int_equal(t[1].kind, TOK_IDENT);
    assert_true(lexer_tok_is(&t[1], "int"));
    assert_int_equal(t[1].line, 3);
    free(t);
}

static void test_hash_not_at_line_start(void **state) {
    (void)state;
    /* Only a '#' that starts a line begins a directive. */
    CHECK_TOKENS("x # y",
        {TOK_IDENT, "x", 0}, {TOK_PUNCT, "#", 0}, {TOK_IDENT, "y", 0});
}

static void test_line_numbers(void **state) {
    (void)state;
    CHECK_TOKENS("a\n/* x\ny */ b\n\"s\"\n\n  c // z\n'\\n' d",
        {TOK_IDENT, "a", 1}, {TOK_IDENT, "b", 3}, {TOK_STRING, "\"s\"", 4},
        {TOK_IDENT, "c", 6}, {TOK_CHAR, "'\\n'", 7}, {TOK_IDENT, "d", 7});
    /* A backslash-newline inside a string, and a continued // comment. */
    CHECK_TOKENS("\"ab\\\ncd\" e\n// x \\\n y\nf",
        {TOK_STRING, "\"ab\\\ncd\"", 1}, {TOK_IDENT, "e", 2}, {TOK_IDENT, "f", 5});
    /* CRLF line ends count once. */
    CHECK_TOKENS("a\r\nb\r\n\r\nc",
        {TOK_IDENT, "a", 1}, {TOK_IDENT, "b", 2}, {TOK_IDENT, "c", 4});
}

static void test_eof_token_and_empty(void **state) {
    (void)state;
    size_t count = 99;
    int open = -1;
    token *t = lexer_tokenize("", &count, &open);
    assert_non_null(t);
    assert_int_equal(count, 0);
    assert_int_equal(t[0].kind, TOK_EOF);
    assert_int_equal(open, 0);
    free(t);
    /* NULL for the optional out-parameter is allowed. */
    t = lexer_tokenize("x", &count, NULL);
    assert_non_null(t);
    assert_int_equal(count, 1);
    assert_int_equal(t[1].kind, TOK_EOF);
    free(t);
}

static void test_unterminated(void **state) {
    (void)state;
    static const struct { const char *src; int kind; size_t before; } cases[] = {
        {"x = \"abc", 's', 2},
        {"x = \"abc\\\"", 's', 2},
        {"c = 'a", 'c', 2},
        {"a /* open", '*', 1},
        {"a /* open\n\n*", '*', 1},
        {"a \"line\nbreak\"", 's', 1},
        {"#define X 1 /* open", '*', 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t count = 99;
        int open = 0;
        token *t = lexer_tokenize(cases[i].src, &count, &open);
        assert_non_null(t);
        if (open != cases[i].kind || count != cases[i].before)
            print_error("source %s: unterminated %d count %zu, want %d %zu\n",
                        cases[i].src, open, count, cases[i].kind, cases[i].before);
        assert_int_equal(open, cases[i].kind);
        assert_int_equal(count, cases[i].before);
        assert_int_equal(t[count].kind, TOK_EOF);
        free(t);
    }
}

static void test_many_tokens(void **state) {
    (void)state;
    /* Far more tokens than any initial buffer: the array must grow. */
    size_t n = 20000;
    char *src = malloc(n * 2 + 1);
    assert_non_null(src);
    for (size_t i = 0; i < n; i++) { src[2 * i] = 'a'; src[2 * i + 1] = ';'; }
    src[2 * n] = '\0';
    size_t count;
    token *t = lexer_tokenize(src, &count, NULL);
    assert_non_null(t);
    assert_int_equal(count, 2 * n);
    assert_int_equal(t[2 * n - 1].kind, TOK_PUNCT);
    assert_int_equal(t[2 * n].kind, TOK_EOF);
    free(t);
    free(src);
}

static void test_tok_is(void **state) {
    (void)state;
    size_t count;
    token *t = lexer_tokenize("int intx", &count, NULL);
    assert_non_null(t);
    assert_int_equal(count, 2);
    assert_true(lexer_tok_is(&t[0], "int"));
    assert_false(lexer_tok_is(&t[0], "in"));
    assert_false(lexer_tok_is(&t[0], "intx"));
    assert_true(lexer_tok_is(&t[1], "intx"));
    assert_false(lexer_tok_is(&t[1], "int"));
    free(t);
}

/* ---------------------------------------------------------------------
 * lexer_is_complete
 * ------------------------------------------------------------------- */

static void test_complete(void **state) {
    (void)state;
    static const char *const samples[] = {
        "int x = 1;",
        "int f(void) { return 1; }",
        "",
        "   \n\n",
        "#include <stdio.h>",
        "#define BEGIN {",
        "printf(\"%d\\n\", 1);",
        "char *s = \"}\";",
        "char c = '{';",
        "char q = '\\'';",
        "/* { */ int y;",
        "// {\nint z;",
        "if (a) b(); else c();",
        "do x++; while (x < 3);",
        "f(x)",
        "n * 2",
        "int elsewhere;",
        "elsewhere",
        "x = a / b;",
        "int f(void) {\n    return 1;\n}\n\n",
        "struct s { int a[3]; };",
        "#define M(a) \\\n  ((a) + 1)",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        expect_status(samples[i], LEX_COMPLETE);
}

static void test_incomplete(void **state) {
    (void)state;
    static const char *const samples[] = {
        "int f(void) {",
        "/* open comment",
        "printf(\"%d\\n\",",
        "for (int i = 0; i < 3; i++)",
        "int a[] = {1, 2,",
        "x = 1 +",
        "x =",
        "if (x) foo(); else",
        "if (x) { foo(); } else",
        "do",
        "while (x)",
        "switch (c)",
        "if (f(x))",
        "int f(void) {\n    if (x) {\n",
        "#define X 1 \\",
        "int x = 1; \\",
        "#define X 1 /* open",
        "a[",
        "p->",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        expect_status(samples[i], LEX_INCOMPLETE);
}

/* lexer.h: "INCOMPLETE when a bracket, comment or string is still open". */
/* A literal cannot span lines, so no further line can complete it. */
static void test_open_string_is_invalid(void **state) {
    (void)state;
    expect_status("printf(\"abc", LEX_INVALID);
    expect_status("char *s = \"abc", LEX_INVALID);
    expect_status("char c = 'x", LEX_INVALID);
    expect_status("char *s = \"abc\\\n", LEX_INCOMPLETE);   /* backslash-newline continues it */
}

static void test_invalid(void **state) {
    (void)state;
    static const char *const samples[] = {
        "int x = 1; }",
        "f(]",
        "}",
        ")",
        "int a[3) ;",
        "{ ( }",
        "int f(void) { return 1; }}",
        "f(1));",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        expect_status(samples[i], LEX_INVALID);
}

static void test_deep_nesting(void **state) {
    (void)state;
    /* Deeper than any fixed bracket stack: must not overflow or crash, and
     * must not be called complete. */
    size_t n = 5000;
    char *src = malloc(n + 1);
    assert_non_null(src);
    memset(src, '(', n);
    src[n] = '\0';
    assert_int_not_equal(lexer_is_complete(src, NULL), LEX_COMPLETE);
    free(src);
    /* 100 levels, balanced: complete. */
    char buf[256];
    memset(buf, '(', 100);
    memset(buf + 100, ')', 100);
    buf[200] = '\0';
    expect_status(buf, LEX_COMPLETE);
}

static void test_indent(void **state) {
    (void)state;
    int indent = -1;
    assert_int_equal(lexer_is_complete("int f(void) {", &indent), LEX_INCOMPLETE);
    assert_int_equal(indent, 4);
    indent = -1;
    assert_int_equal(lexer_is_complete("int f(void) {\n    if (x) {", &indent), LEX_INCOMPLETE);
    assert_int_equal(indent, 8);
    indent = -1;
    assert_int_equal(lexer_is_complete("f(a,", &indent), LEX_INCOMPLETE);
    assert_int_equal(indent, 4);
    indent = -1;
    assert_int_equal(lexer_is_complete("{ f(a,\n", &indent), LEX_INCOMPLETE);
    assert_int_equal(indent, 8);
    /* Closed levels no longer count. */
    indent = -1;
    assert_int_equal(lexer_is_complete("int f(void) {\n    if (x) { y(); }\n", &indent),
                     LEX_INCOMPLETE);
    assert_int_equal(indent, 4);
    /* NULL is allowed for the indent. */
    assert_int_equal(lexer_is_complete("{", NULL), LEX_INCOMPLETE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers_and_punct),
        cmocka_unit_test(test_multichar_punct),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings_with_escapes),
        cmocka_unit_test(test_chars),
        cmocka_unit_test(test_comments_dropped),
        cmocka_unit_test(test_directive_one_token),
        cmocka_unit_test(test_directive_continuation),
        cmocka_unit_test(test_hash_not_at_line_start),
        cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_eof_token_and_empty),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_many_tokens),
        cmocka_unit_test(test_tok_is),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_open_string_is_invalid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_indent),
    };
    return cmocka_run_group_tests_name("lexer", tests, NULL, NULL);
}
