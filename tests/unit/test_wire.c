/* test_wire.c - wire.c alone: signing against known vectors, framing round
 * trips, the messages that must be dropped, headers, UTF-8 cleaning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "replay.h"
#include "wire.h"

#define F(s) ((wire_frame){ (unsigned char *)(s), sizeof(s) - 1 })

/* RFC 4231 test case 2 (key "Jefe"), its data split over the four parts:
 * the signature covers their concatenation. */
static void sign_rfc4231_vector(void **state) {
    (void)state;
    wire_ctx w;
    assert_int_equal(wire_ctx_init(&w, "Jefe", 4, "s"), 0);
    wire_frame parts[4] = { F("what do "), F("ya want "), F("for "), F("nothing?") };
    char sig[65];
    assert_int_equal(wire_sign(&w, parts, sig), 0);
    assert_string_equal(sig, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_true(wire_verify(&w, (unsigned char *)sig, 64, parts));
    wire_ctx_free(&w);
}

/* A Jupyter-shaped message; expected value from
 * printf '%s' HEADER'{}{}{}' | openssl dgst -sha256 -hmac my-key */
#define HDR "{\"msg_id\":\"m1\",\"msg_type\":\"kernel_info_request\",\"session\":\"s1\"}"
#define HDR_SIG "3b9c387faf47462bd46b535b34f59a3ae5ea2015add2d12a41747734895d5d50"

static void sign_message_vector(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "my-key", 6, "s");
    wire_frame parts[4] = { F(HDR), F("{}"), F("{}"), F("{}") };
    char sig[65];
    assert_int_equal(wire_sign(&w, parts, sig), 0);
    assert_string_equal(sig, HDR_SIG);
    wire_ctx_free(&w);
}

static void verify_rejects(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "my-key", 6, "s");
    wire_frame parts[4] = { F(HDR), F("{}"), F("{}"), F("{}") };
    char bad[] = HDR_SIG;
    assert_true(wire_verify(&w, (unsigned char *)bad, 64, parts));
    bad[63] = bad[63] == '0' ? '1' : '0';
    assert_false(wire_verify(&w, (unsigned char *)bad, 64, parts));
    assert_false(wire_verify(&w, (unsigned char *)HDR_SIG, 63, parts));   /* truncated */
    assert_false(wire_verify(&w, (unsigned char *)"", 0, parts));         /* missing */
    char upper[] = HDR_SIG;
    for (char *p = upper; *p; p++) if (*p >= 'a' && *p <= 'f') *p -= 32;
    assert_false(wire_verify(&w, (unsigned char *)upper, 64, parts));
    parts[3] = F("{\"x\":1}");                                            /* tampered */
    assert_false(wire_verify(&w, (unsigned char *)HDR_SIG, 64, parts));
    wire_ctx_free(&w);

    wire_ctx none;                          /* empty key: nothing is signed */
    wire_ctx_init(&none, "", 0, "s");
    char sig[65];
    assert_int_equal(wire_sign(&none, parts, sig), 0);
    assert_string_equal(sig, "");
    assert_true(wire_verify(&none, (unsigned char *)"", 0, parts));
    wire_ctx_free(&none);
}

static void round_trip(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "k3y", 3, "0123");
    wire_frame ids[2] = { F("client-a"), F("\x00\x01\x02") };
    json_t *header = wire_header_new(&w, "execute_request");
    json_t *parent = json_pack("{s:s}", "msg_id", "p1");
    json_t *content = json_pack("{s:s, s:b}", "code", "int x = 1; /* \xc3\xa9 */", "silent", 0);
    wire_frame *frames;
    size_t n;
    assert_int_equal(wire_encode(&w, ids, 2, header, parent, NULL, content, &frames, &n), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(frames[2].data, WIRE_DELIM, frames[2].len);
    assert_int_equal(frames[3].len, 64);
    assert_memory_equal(frames[6].data, "{}", 2);      /* metadata {} not null */

    wire_msg m;
    const char *why = NULL;
    assert_int_equal(wire_decode(&w, frames, n, &m, &why), 0);
    assert_int_equal(m.n_ids, 2);
    assert_int_equal(m.ids[1].len, 3);
    assert_memory_equal(m.ids[1].data, "\x00\x01\x02", 3);
    assert_string_equal(m.msg_type, "execute_request");
    assert_string_equal(m.msg_id, json_string_value(json_object_get(header, "msg_id")));
    assert_true(json_equal(m.content, content));
    assert_true(json_equal(m.parent_header, parent));
    assert_int_equal(json_object_size(m.metadata), 0);
    assert_int_equal(m.n_buffers, 0);

    wire_msg moved;
    wire_msg_move(&moved, &m);
    assert_null(m.header);
    wire_msg_free(&m);
    wire_msg_free(&moved);
    wire_frames_free(frames, n);
    json_decref(header);
    json_decref(parent);
    json_decref(content);
    wire_ctx_free(&w);
}

/* The same signed message decoded twice: the second is a replay. */
static void replay_is_dropped(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "k3y", 3, "0123");
    assert_int_equal(wire_ctx_refuse_replays(&w), 0);
    json_t *header = wire_header_new(&w, "execute_request"), *content = json_object();
    wire_frame *frames;
    size_t n;
    assert_int_equal(wire_encode(&w, NULL, 0, header, NULL, NULL, content, &frames, &n), 0);
    wire_msg m;
    const char *why = NULL;
    assert_int_equal(wire_decode(&w, frames, n, &m, &why), 0);
    wire_msg_free(&m);
    assert_int_equal(wire_decode(&w, frames, n, &m, &why), -1);
    assert_non_null(strstr(why, "replayed"));
    wire_frames_free(frames, n);
    json_decref(header);
    json_decref(content);
    wire_ctx_free(&w);
}

/* The set forgets the oldest first, and only once it holds REPLAY_HISTORY;
 * what it holds is found again after removals moved entries in the table. */
static void replay_set_forgets_oldest(void **state) {
    (void)state;
    replay_set *r = replay_new();
    assert_non_null(r);
    char sig[65];
    for (int i = 0; i < REPLAY_HISTORY + 1000; i++) {
        snprintf(sig, sizeof sig, "%064d", i);
        assert_int_equal(replay_seen(r, (unsigned char *)sig, 64), 0);
    }
    for (int i = 0; i < 1000; i++) {              /* forgotten: new again */
        snprintf(sig, sizeof sig, "%064d", i);
        assert_int_equal(replay_seen(r, (unsigned char *)sig, 64), 0);
    }
    for (int i = 2000; i < REPLAY_HISTORY + 1000; i += 7) {   /* still held */
        snprintf(sig, sizeof sig, "%064d", i);
        assert_int_equal(replay_seen(r, (unsigned char *)sig, 64), 1);
    }
    replay_free(r);
}

static void buffers_after_content(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "my-key", 6, "s");
    wire_frame f[] = { F("id"), F(WIRE_DELIM), F(HDR_SIG), F(HDR), F("{}"), F("{}"), F("{}"),
                       F("buf1"), F("bu2") };
    wire_msg m;
    const char *why = NULL;
    assert_int_equal(wire_decode(&w, f, 9, &m, &why), 0);
    assert_int_equal(m.n_buffers, 2);
    assert_memory_equal(m.buffers[1].data, "bu2", 3);
    wire_msg_free(&m);
    wire_ctx_free(&w);
}

/* Decode F with key "k" after signing its four parts at P (if P >= 0). */
static int decode_signed(wire_frame *f, size_t n, int p) {
    wire_ctx w;
    wire_ctx_init(&w, "k", 1, "s");
    char sig[65];
    if (p >= 0) {
        wire_sign(&w, &f[p], sig);
        f[p - 1] = (wire_frame){ (unsigned char *)sig, 64 };
    }
    wire_msg m;
    const char *why = NULL;
    int rc = wire_decode(&w, f, n, &m, &why);
    if (rc == 0) wire_msg_free(&m);
    else assert_non_null(why);
    wire_ctx_free(&w);
    return rc;
}

static void rejects_bad_messages(void **state) {
    (void)state;
    /* No delimiter. */
    wire_frame a[] = { F("id"), F("sig"), F(HDR), F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(a, 6, -1), -1);
    /* Too few frames after the delimiter. */
    wire_frame b[] = { F(WIRE_DELIM), F("sig"), F(HDR), F("{}"), F("{}") };
    assert_int_equal(decode_signed(b, 5, -1), -1);
    /* Wrong and missing signature. */
    wire_frame c[] = { F(WIRE_DELIM), F(HDR_SIG), F(HDR), F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(c, 6, -1), -1);
    wire_frame d[] = { F(WIRE_DELIM), F(""), F(HDR), F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(d, 6, -1), -1);
    /* Correctly signed, yet not acceptable. */
    wire_frame e[] = { F(WIRE_DELIM), F(""), F("{\"msg_id\":"), F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(e, 6, 2), -1);          /* malformed JSON */
    wire_frame g[] = { F(WIRE_DELIM), F(""), F("{\"msg_id\":\"1\",\"session\":\"s\"}"),
                       F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(g, 6, 2), -1);          /* no msg_type */
    wire_frame h[] = { F(WIRE_DELIM), F(""), F("{\"msg_id\":1,\"msg_type\":\"x\",\"session\":\"s\"}"),
                       F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(h, 6, 2), -1);          /* msg_id not a string */
    wire_frame i[] = { F(WIRE_DELIM), F(""), F(HDR), F("{}"), F("{}"), F("[]") };
    assert_int_equal(decode_signed(i, 6, 2), -1);          /* content not an object */
    wire_frame j[] = { F(WIRE_DELIM), F(""), F("[]"), F("{}"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(j, 6, 2), -1);          /* header not an object */
    /* The same frames, well formed, pass: the checks above are the cause. */
    wire_frame ok[] = { F("id"), F(WIRE_DELIM), F(""), F(HDR), F("null"), F("{}"), F("{}") };
    assert_int_equal(decode_signed(ok, 7, 3), 0);
}

static void header_fields(void **state) {
    (void)state;
    wire_ctx w;
    wire_ctx_init(&w, "", 0, "9f1c");
    json_t *h = wire_header_new(&w, "status");
    assert_string_equal(json_string_value(json_object_get(h, "msg_type")), "status");
    assert_string_equal(json_string_value(json_object_get(h, "session")), "9f1c");
    assert_string_equal(json_string_value(json_object_get(h, "username")), "kernel");
    assert_string_equal(json_string_value(json_object_get(h, "version")), "5.3");
    /* session_pid_count, as jupyter_client makes its own */
    assert_int_equal(strncmp(json_string_value(json_object_get(h, "msg_id")), "9f1c_", 5), 0);
    const char *date = json_string_value(json_object_get(h, "date"));
    /* 2024-01-02T03:04:05.123456Z */
    assert_int_equal(strlen(date), 27);
    assert_int_equal(date[10], 'T');
    assert_int_equal(date[19], '.');
    assert_int_equal(date[26], 'Z');
    json_t *h2 = wire_header_new(&w, "status");
    assert_string_not_equal(json_string_value(json_object_get(h, "msg_id")),
                            json_string_value(json_object_get(h2, "msg_id")));
    json_decref(h);
    json_decref(h2);
    wire_ctx_free(&w);
}

static void utf8_clean(void **state) {
    (void)state;
    size_t used, len;
    char *s = wire_utf8_clean("caf\xc3\xa9 ok", 8, 0, &used, &len);
    assert_string_equal(s, "caf\xc3\xa9 ok");
    assert_int_equal(used, 8);
    free(s);
    /* A sequence cut by the end of a read waits for the next read. */
    s = wire_utf8_clean("caf\xc3", 4, 0, &used, &len);
    assert_string_equal(s, "caf");
    assert_int_equal(used, 3);
    free(s);
    s = wire_utf8_clean("\xe2\x82", 2, 0, &used, &len);
    assert_int_equal(used, 0);
    assert_int_equal(len, 0);
    free(s);
    /* ... unless this is the end. */
    s = wire_utf8_clean("caf\xc3", 4, 1, &used, &len);
    assert_string_equal(s, "caf\xef\xbf\xbd");
    assert_int_equal(used, 4);
    free(s);
    /* Invalid bytes, overlongs and surrogates become U+FFFD. */
    s = wire_utf8_clean("a\xff" "b\xc0\x80" "c\xed\xa0\x80" "d", 10, 0, &used, &len);
    assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d");
    free(s);
    /* A bad byte inside a sequence ends it; the byte is read afresh. */
    s = wire_utf8_clean("\xe2\x82x", 3, 0, &used, &len);
    assert_string_equal(s, "\xef\xbf\xbdx");
    free(s);
    /* NUL bytes pass through; the length says so. */
    s = wire_utf8_clean("a\0b", 3, 0, &used, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 3);
    json_t *j = json_stringn(s, len);      /* jansson accepts the result */
    assert_non_null(j);
    json_decref(j);
    free(s);
    s = wire_utf8_clean("\xf0\x9f\x98\x80", 4, 0, &used, &len);   /* 4-byte emoji */
    assert_int_equal(len, 4);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_rfc4231_vector),
        cmocka_unit_test(sign_message_vector),
        cmocka_unit_test(verify_rejects),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(replay_is_dropped),
        cmocka_unit_test(replay_set_forgets_oldest),
        cmocka_unit_test(buffers_after_content),
        cmocka_unit_test(rejects_bad_messages),
        cmocka_unit_test(header_fields),
        cmocka_unit_test(utf8_clean),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
