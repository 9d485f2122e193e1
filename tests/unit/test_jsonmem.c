/* test_jsonmem.c - unit tests of worker/jsonmem.c, jansson's memory in the
 * worker: memory is reused once a request's JSON is all freed, and never
 * while a block above the request's mark still lives (a display a cell's
 * thread is building when the request ends).
 * Built and run by `make test-unit`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "jsonmem.h"

static int setup(void **state) {
    (void)state;
    jsonmem_install();
    return 0;
}

static json_t *event(int i) {
    return json_pack("{s:s, s:i, s:[s, s]}", "ev", "display", "i", i, "data", "some text", "more text");
}

static void test_a_request_s_json_is_reused(void **state) {
    (void)state;
    json_t *req = json_pack("{s:s, s:s}", "op", "execute", "code", "n++;");
    jsonmem_request_begin();
    json_t *a = event(1);
    void *first = a;
    json_decref(a);
    for (int i = 0; i < 1000; i++) {     /* a million would do the same */
        json_t *e = event(i);
        assert_ptr_equal(e, first);      /* the same place, every time */
        json_decref(e);
    }
    assert_string_equal(json_string_value(json_object_get(req, "code")), "n++;");
    json_decref(req);
    json_t *next = json_pack("{s:s}", "op", "complete");
    assert_non_null(next);
    json_decref(next);
}

static void test_a_block_that_lives_on_is_not_reused(void **state) {
    (void)state;
    /* a request of many blocks, a display of few: counting blocks alone
     * would take the request's end for the end of everything */
    json_t *req = json_pack("{s:s, s:s, s:i, s:[s, s, s], s:{s:s}}", "op", "execute", "code", "n++;",
                            "count", 3, "args", "a", "b", "c", "meta", "k", "v");
    jsonmem_request_begin();
    json_t *thread_event = json_pack("{s:i}", "i", 42);    /* a cell's thread, still building */
    json_decref(req);                     /* the request ends meanwhile */
    json_t *other = event(7);
    for (int i = 0; i < 100; i++) json_decref(event(i));
    assert_int_equal(json_integer_value(json_object_get(thread_event, "i")), 42);
    assert_int_equal(json_object_size(thread_event), 1);
    assert_int_equal(json_integer_value(json_object_get(other, "i")), 7);
    json_decref(other);
    json_decref(thread_event);
}

static void test_dumps_and_big_blocks(void **state) {
    (void)state;
    jsonmem_request_begin();
    size_t n = 300u << 20;               /* more than the region: malloc's */
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'x', n - 1);
    big[n - 1] = 0;
    json_t *s = json_string(big);
    free(big);
    if (s) {                             /* a machine without the memory may say no */
        assert_int_equal(json_string_length(s), n - 1);
        json_decref(s);
    }
    json_t *small = event(3);
    char *text = json_dumps(small, JSON_COMPACT);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"i\":3"));
    json_free_t release;
    json_get_alloc_funcs(NULL, &release);
    release(text);
    json_decref(small);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_request_s_json_is_reused),
        cmocka_unit_test(test_a_block_that_lives_on_is_not_reused),
        cmocka_unit_test(test_dumps_and_big_blocks),
    };
    return cmocka_run_group_tests_name("jsonmem", tests, setup, NULL);
}
