/* fuzz_wire.c - libFuzzer target for the kernel's message parsing (wire.c).
 *
 * Built and run by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * the seed corpus is tests/fuzz/corpus/wire (written by gen_corpus.py).
 *
 * Input format (so that seeds can be whole, validly signed messages):
 *   byte 0      flags: bit 0 = sign with FUZZ_KEY (else no key: every
 *               signature passes, so the fuzzer reaches the JSON checks);
 *               bit 1 = go through a real ZeroMQ socket and wire_recv
 *               instead of calling wire_decode directly;
 *               bit 2 = huge frames: honour the pad bytes below
 *   then frames, each: u16 little-endian length L, u8 pad P, then L bytes
 *               (fewer if the input ends); with flags bit 2, P > 0 appends
 *               P * 64 KiB of spaces, so a small input stands for a huge
 *               frame (JSON allows trailing blanks, and the signature
 *               covers them); at most 2 MiB of padding in all, so that
 *               most inputs stay fast.
 *
 * Checks beyond "no crash, no leak, no undefined behaviour":
 *   - a decoded message has object header/parent/metadata/content, string
 *     msg_type and msg_id, and ids + delimiter + 6 + buffers == frames;
 *   - with a key, the message really carries the right signature;
 *   - re-encoding a decoded message and decoding that gives the same JSON;
 *   - wire_utf8_clean of any frame is valid UTF-8 (checked by jansson). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <zmq.h>
#include <jansson.h>
#include "wire.h"
#include "log.h"

#define FUZZ_KEY "fuzz-key-0123456789abcdef"
#define PAD_UNIT 65536
#define MAX_FRAMES 5000           /* a little over wire.c's WIRE_MAX_FRAMES */
#define MAX_PAD (2u << 20)        /* all padding of one input together */

/* log.c prints every dropped message to stderr; here the format strings
 * are still exercised (under ASan) but nothing is printed. */
static void log_quiet(const char *fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
}
void log_set_role(const char *role) { (void)role; }
void log_info(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_quiet(fmt, ap); va_end(ap); }
void log_warn(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_quiet(fmt, ap); va_end(ap); }
void log_error(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_quiet(fmt, ap); va_end(ap); }

static wire_ctx keyed, unkeyed;
static void *zctx, *zin, *zout;

static void setup(void) {
    static int done;
    if (done) return;
    done = 1;
    wire_ctx_init(&keyed, FUZZ_KEY, strlen(FUZZ_KEY), "fuzz-session");
    wire_ctx_init(&unkeyed, NULL, 0, "fuzz-session");
    zctx = zmq_ctx_new();
    zin = zmq_socket(zctx, ZMQ_PAIR);
    zout = zmq_socket(zctx, ZMQ_PAIR);
    int hwm = 0;                   /* no high-water mark: never block on send */
    zmq_setsockopt(zout, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(zin, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(zin, "inproc://fuzz") || zmq_connect(zout, "inproc://fuzz")) abort();
}

static void check_decoded(const wire_ctx *w, const wire_frame *frames, size_t n, wire_msg *m) {
    if (!json_is_object(m->header) || !json_is_object(m->parent_header) ||
        !json_is_object(m->metadata) || !json_is_object(m->content)) abort();
    if (!m->msg_type || !m->msg_id) abort();
    if (strcmp(m->msg_type, json_string_value(json_object_get(m->header, "msg_type")))) abort();
    if (m->n_ids + 6 + m->n_buffers != n) abort();
    for (size_t i = 0; i < m->n_ids; i++)
        if (m->ids[i].len != frames[i].len || memcmp(m->ids[i].data, frames[i].data, frames[i].len)) abort();
    const wire_frame *delim = &frames[m->n_ids];
    if (delim->len != strlen(WIRE_DELIM) || memcmp(delim->data, WIRE_DELIM, delim->len)) abort();
    if (w->key_len) {                     /* accepted => the signature was right */
        char sig[65];
        if (wire_sign(w, &frames[m->n_ids + 2], sig) < 0) abort();
        if (frames[m->n_ids + 1].len != 64 || memcmp(sig, frames[m->n_ids + 1].data, 64)) abort();
    }

    /* Round trip: what we would send must decode to the same message. */
    wire_frame *f;
    size_t nf;
    if (wire_encode(w, m->ids, m->n_ids, m->header, m->parent_header, m->metadata,
                    m->content, &f, &nf) < 0) return;   /* out of memory only */
    wire_msg back;
    const char *why = NULL;
    if (wire_decode(w, f, nf, &back, &why) < 0) {
        fprintf(stderr, "re-encoded message rejected: %s\n", why);
        abort();
    }
    if (!json_equal(back.header, m->header) || !json_equal(back.parent_header, m->parent_header) ||
        !json_equal(back.metadata, m->metadata) || !json_equal(back.content, m->content) ||
        back.n_ids != m->n_ids || back.n_buffers != 0)
        abort();
    wire_msg_free(&back);
    wire_frames_free(f, nf);
}

static void check_utf8(const wire_frame *f) {
    size_t used, out_len;
    for (int final = 0; final <= 1; final++) {
        char *s = wire_utf8_clean((const char *)f->data, f->len, final, &used, &out_len);
        if (!s) return;
        if (used > f->len || (final && used != f->len) || f->len - used > 3) abort();
        if (strlen(s) == out_len) {       /* no NUL inside: jansson checks UTF-8 */
            json_t *j = json_string(s);
            if (!j) abort();
            json_decref(j);
        }
        free(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size < 1) return 0;
    uint8_t flags = data[0];
    const wire_ctx *w = (flags & 1) ? &keyed : &unkeyed;
    size_t pos = 1, n = 0, padded = 0;
    wire_frame *frames = calloc(MAX_FRAMES, sizeof *frames);
    while (pos + 3 <= size && n < MAX_FRAMES) {
        size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
        size_t pad = (flags & 4) ? (size_t)data[pos + 2] * PAD_UNIT : 0;
        if (padded + pad > MAX_PAD) pad = 0;
        padded += pad;
        pos += 3;
        if (len > size - pos) len = size - pos;
        unsigned char *buf = malloc(len + pad + 1);
        memcpy(buf, data + pos, len);
        memset(buf + len, ' ', pad);
        frames[n].data = buf;
        frames[n].len = len + pad;
        n++;
        pos += len;
    }

    wire_msg m;
    if (flags & 2) {
        /* Through a socket, as the kernel receives: wire_recv owns the
         * frame-count limit and the zmq message handling. */
        for (size_t i = 0; i < n; i++)
            if (zmq_send(zout, frames[i].data, frames[i].len, i + 1 < n ? ZMQ_SNDMORE : 0) < 0) abort();
        if (n) {
            int rc = wire_recv(zin, w, 0, &m);
            if (rc == 0) {
                if (n > 4096) abort();
                check_decoded(w, frames, n, &m);
                wire_msg_free(&m);
            } else if (rc != -EBADMSG) {
                abort();
            }
            /* nothing may be left behind in the socket */
            zmq_msg_t left;
            zmq_msg_init(&left);
            if (zmq_msg_recv(&left, zin, ZMQ_DONTWAIT) >= 0) abort();
            zmq_msg_close(&left);
        }
    } else {
        const char *why = NULL;
        if (wire_decode(w, frames, n, &m, &why) == 0) {
            check_decoded(w, frames, n, &m);
            wire_msg_free(&m);
        } else if (!why) {
            abort();                         /* a rejection must say why */
        }
    }
    for (size_t i = 0; i < n && i < 8; i++)
        if (frames[i].len < (1u << 20)) check_utf8(&frames[i]);

    for (size_t i = 0; i < n; i++) free(frames[i].data);
    free(frames);
    return 0;
}
