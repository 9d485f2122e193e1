/* wire.c - the Jupyter wire protocol: frames, signatures, headers.
 *
 * Owns turning multipart ZeroMQ messages into wire_msg values and back
 * (messaging 5.3, "The Wire Protocol"). It knows no message types beyond
 * what every header must hold; handlers.c gives them meaning. A message
 * that fails any check here is dropped with one log line, never acted on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <zmq.h>
#include <sodium.h>
#include "log.h"
#include "replay.h"
#include "wire.h"

#define WIRE_MAX_FRAMES 4096

int wire_ctx_init(wire_ctx *w, const char *key, size_t key_len, const char *session) {
    memset(w, 0, sizeof *w);
    if (key_len) {
        w->key = malloc(key_len);
        if (!w->key) return -1;
        memcpy(w->key, key, key_len);
        w->key_len = key_len;
    }
    snprintf(w->session, sizeof w->session, "%s", session ? session : "");
    return 0;
}

int wire_ctx_refuse_replays(wire_ctx *w) {
    if (!w->seen) w->seen = replay_new();
    return w->seen ? 0 : -1;
}

static void parent_cache_free(void);

void wire_ctx_free(wire_ctx *w) {
    parent_cache_free();
    replay_free(w->seen);
    if (w->keyed) sodium_memzero(w->keyed, sizeof *w->keyed);
    free(w->keyed);
    if (w->key) sodium_memzero(w->key, w->key_len);
    free(w->key);
    memset(w, 0, sizeof *w);
}

/* ---------------------------------------------------------------- signing */

/* HMAC-SHA256 with W's key, keyed once (libsodium, which libzmq loads
 * anyway: the kernel needs no libcrypto); each message hashes a copy. */
static crypto_auth_hmacsha256_state *keyed_state(const wire_ctx *w) {
    if (w->keyed) return w->keyed;
    if (sodium_init() < 0) return NULL;
    crypto_auth_hmacsha256_state *st = malloc(sizeof *st);
    if (st && crypto_auth_hmacsha256_init(st, w->key, w->key_len) != 0) {
        free(st);
        st = NULL;
    }
    ((wire_ctx *)w)->keyed = st;        /* a cache: the key is what it is */
    return st;
}

/* Raw HMAC-SHA256 of the four parts. */
static int hmac_parts(const wire_ctx *w, const wire_frame parts[4], unsigned char mac[32]) {
    const crypto_auth_hmacsha256_state *keyed = keyed_state(w);
    if (!keyed) return -1;
    crypto_auth_hmacsha256_state st = *keyed;
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++)
        ok = crypto_auth_hmacsha256_update(&st, parts[i].data, parts[i].len) == 0;
    ok = ok && crypto_auth_hmacsha256_final(&st, mac) == 0;
    sodium_memzero(&st, sizeof st);
    return ok ? 0 : -1;
}

int wire_sign(const wire_ctx *w, const wire_frame parts[4], char out[65]) {
    out[0] = '\0';
    if (!w->key_len) return 0;
    unsigned char mac[32];
    if (hmac_parts(w, parts, mac) < 0) return -1;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

/* Messaging 5.3: the signature is the hex HMAC of header, parent_header,
 * metadata and content. Compared with sodium_memcmp so the time taken
 * does not reveal how many leading characters were right. */
int wire_verify(const wire_ctx *w, const unsigned char *sig, size_t sig_len,
                const wire_frame parts[4]) {
    if (!w->key_len) return 1;
    char expect[65];
    if (sig_len != 64 || wire_sign(w, parts, expect) < 0) return 0;
    return sodium_memcmp(expect, sig, 64) == 0;
}

/* ---------------------------------------------------------------- framing */

static int copy_frames(const wire_frame *src, size_t n, wire_frame **out) {
    *out = NULL;
    if (!n) return 0;
    wire_frame *f = calloc(n, sizeof *f);
    if (!f) return -1;
    for (size_t i = 0; i < n; i++) {
        f[i].data = malloc(src[i].len ? src[i].len : 1);
        if (!f[i].data) { wire_frames_free(f, i); return -1; }
        memcpy(f[i].data, src[i].data, src[i].len);
        f[i].len = src[i].len;
    }
    *out = f;
    return 0;
}

void wire_frames_free(wire_frame *frames, size_t n) {
    if (!frames) return;
    for (size_t i = 0; i < n; i++) free(frames[i].data);
    free(frames);
}

void wire_msg_free(wire_msg *m) {
    wire_frames_free(m->ids, m->n_ids);
    wire_frames_free(m->buffers, m->n_buffers);
    json_decref(m->header);
    json_decref(m->parent_header);
    json_decref(m->metadata);
    json_decref(m->content);
    memset(m, 0, sizeof *m);
}

void wire_msg_move(wire_msg *dst, wire_msg *src) {
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static int header_string_ok(json_t *header, const char *field) {
    return json_is_string(json_object_get(header, field));
}

int wire_decode(const wire_ctx *w, const wire_frame *frames, size_t n,
                wire_msg *out, const char **why) {
    memset(out, 0, sizeof *out);
    size_t d = 0;
    while (d < n && !(frames[d].len == strlen(WIRE_DELIM) &&
                      memcmp(frames[d].data, WIRE_DELIM, frames[d].len) == 0))
        d++;
    if (d == n) { *why = "no <IDS|MSG> delimiter"; return -1; }
    if (n - d - 1 < 5) { *why = "too few frames after <IDS|MSG>"; return -1; }
    const wire_frame *parts = &frames[d + 2];
    /* Verify before parsing: an unsigned message is never even parsed. */
    if (!wire_verify(w, frames[d + 1].data, frames[d + 1].len, parts)) {
        *why = frames[d + 1].len ? "bad signature" : "missing signature";
        return -1;
    }
    if (w->key_len && w->seen) {
        int seen = replay_seen(w->seen, frames[d + 1].data, frames[d + 1].len);
        if (seen) { *why = seen > 0 ? "replayed: its signature was seen before" : "out of memory"; return -1; }
    }
    json_t *j[4] = {0};
    for (int i = 0; i < 4; i++) {
        j[i] = json_loadb((const char *)parts[i].data, parts[i].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!j[i]) { *why = "malformed JSON"; goto fail; }
    }
    if (!json_is_object(j[0])) { *why = "header is not an object"; goto fail; }
    if (!header_string_ok(j[0], "msg_type") || !header_string_ok(j[0], "msg_id") ||
        !header_string_ok(j[0], "session")) {
        *why = "header lacks string msg_type, msg_id or session";
        goto fail;
    }
    if (!json_is_object(j[3])) { *why = "content is not an object"; goto fail; }
    /* Lenient where the spec's clients differ: a null parent_header or
     * metadata is read as {}. */
    for (int i = 1; i <= 2; i++)
        if (!json_is_object(j[i])) { json_decref(j[i]); j[i] = json_object(); }
    if (copy_frames(frames, d, &out->ids) < 0 ||
        copy_frames(frames + d + 6, n - d - 6, &out->buffers) < 0) {
        *why = "out of memory";
        goto fail;
    }
    out->n_ids = d;
    out->n_buffers = n - d - 6;
    out->header = j[0];
    out->parent_header = j[1];
    out->metadata = j[2];
    out->content = j[3];
    out->msg_type = json_string_value(json_object_get(j[0], "msg_type"));
    out->msg_id = json_string_value(json_object_get(j[0], "msg_id"));
    return 0;
fail:
    for (int i = 0; i < 4; i++) json_decref(j[i]);
    wire_frames_free(out->ids, d);
    memset(out, 0, sizeof *out);
    return -1;
}

static int set_frame(wire_frame *f, const void *data, size_t len) {
    f->data = malloc(len ? len : 1);
    if (!f->data) return -1;
    memcpy(f->data, data, len);
    f->len = len;
    return 0;
}

/* The frames of a message whose four JSON parts are TEXT already (their
 * ownership passes to the frames, freed or not). 0 or -1. */
static int encode_text(const wire_ctx *w, const wire_frame *ids, size_t n_ids, char *text[4],
                       wire_frame **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    size_t n = n_ids + 6;
    wire_frame *f = calloc(n, sizeof *f);
    char sig[65];
    int rc = -1;
    for (int i = 0; i < 4 && f; i++) {
        f[n_ids + 2 + i].data = (unsigned char *)text[i];
        f[n_ids + 2 + i].len = text[i] ? strlen(text[i]) : 0;
        text[i] = NULL;
    }
    if (!f) goto out;
    for (int i = 0; i < 4; i++)
        if (!f[n_ids + 2 + i].data) goto out;
    for (size_t i = 0; i < n_ids; i++)
        if (set_frame(&f[i], ids[i].data, ids[i].len) < 0) goto out;
    if (set_frame(&f[n_ids], WIRE_DELIM, strlen(WIRE_DELIM)) < 0) goto out;
    if (wire_sign(w, &f[n_ids + 2], sig) < 0) goto out;
    if (set_frame(&f[n_ids + 1], sig, strlen(sig)) < 0) goto out;
    rc = 0;
out:
    for (int i = 0; i < 4; i++) free(text[i]);
    if (rc < 0) {
        wire_frames_free(f, f ? n : 0);
        return -1;
    }
    *out = f;
    *n_out = n;
    return 0;
}

/* OBJ as compact JSON text (messaging 5.3: a missing part is {}). */
static char *dump_or_empty(json_t *obj) {
    return obj ? json_dumps(obj, JSON_COMPACT) : strdup("{}");
}

int wire_encode(const wire_ctx *w, const wire_frame *ids, size_t n_ids,
                json_t *header, json_t *parent_header, json_t *metadata,
                json_t *content, wire_frame **out, size_t *n_out) {
    /* Messaging 5.3: parent_header and metadata are {} when empty, never null. */
    char *text[4] = { json_dumps(header, JSON_COMPACT), dump_or_empty(parent_header),
                      dump_or_empty(metadata), dump_or_empty(content) };
    return encode_text(w, ids, n_ids, text, out, n_out);
}

/* ---------------------------------------------------------------- headers */

/* A message's id: the session's uuid, our pid and a count, as
 * jupyter_client makes its own (a uuid each cost a getrandom call). */
static void new_msg_id(const wire_ctx *w, char *id, size_t n) {
    static unsigned long long count;
    static pid_t pid;
    if (!pid) pid = getpid();
    snprintf(id, n, "%s_%d_%llu", w->session, (int)pid, count++);
}

/* The header's date: ISO 8601, UTC, microseconds. */
static void header_date(char *date, size_t n) {
    char base[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(date, n, "%s.%06dZ", base, (int)(ts.tv_nsec / 1000));
}

json_t *wire_header_new(const wire_ctx *w, const char *msg_type) {
    char id[96], date[64];
    new_msg_id(w, id, sizeof id);
    header_date(date, sizeof date);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                     "msg_id", id, "session", w->session, "username", "kernel",
                     "date", date, "msg_type", msg_type,
                     "version", WIRE_PROTOCOL_VERSION);
}

static int plain(const char *s) {
    for (; *s; s++)
        if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
              (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    return 1;
}

/* wire_header_new's header as JSON text, written directly where no string
 * needs escaping (every message the kernel sends, but a reply named after
 * an unknown request). New string or NULL. */
static char *header_text(const wire_ctx *w, const char *msg_type) {
    if (!plain(msg_type) || !plain(w->session)) {
        json_t *h = wire_header_new(w, msg_type);
        char *text = h ? json_dumps(h, JSON_COMPACT) : NULL;
        json_decref(h);
        return text;
    }
    char id[96], date[64], *text = NULL;
    new_msg_id(w, id, sizeof id);
    header_date(date, sizeof date);
    if (asprintf(&text, "{\"msg_id\":\"%s\",\"session\":\"%s\",\"username\":\"kernel\","
                 "\"date\":\"%s\",\"msg_type\":\"%s\",\"version\":\"%s\"}", id, w->session,
                 date, msg_type, WIRE_PROTOCOL_VERSION) < 0) text = NULL;
    return text;
}

/* The last parent header sent, as text: every message of a cell has the
 * same one (six or more a cell), so it is written once. Headers are never
 * changed once parsed; the reference held keeps the pointer from being
 * reused. */
static struct { json_t *obj; char *text; } parent_cache;

static char *parent_text(json_t *parent) {
    if (!parent) return strdup("{}");
    if (parent_cache.obj != parent) {
        char *t = json_dumps(parent, JSON_COMPACT);
        if (!t) return NULL;
        json_decref(parent_cache.obj);
        free(parent_cache.text);
        parent_cache.obj = json_incref(parent);
        parent_cache.text = t;
    }
    return strdup(parent_cache.text);
}

static void parent_cache_free(void) {
    json_decref(parent_cache.obj);
    free(parent_cache.text);
    parent_cache.obj = NULL;
    parent_cache.text = NULL;
}

/* ---------------------------------------------------------------- sockets */

int wire_recv(void *sock, const wire_ctx *w, int flags, wire_msg *out) {
    zmq_msg_t *parts = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, more = 1;
    while (more) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            zmq_msg_t *p = realloc(parts, cap * sizeof *p);
            if (!p) { rc = -ENOMEM; break; }
            parts = p;
        }
        zmq_msg_init(&parts[n]);
        if (zmq_msg_recv(&parts[n], sock, n ? 0 : flags) < 0) {
            rc = -errno;
            zmq_msg_close(&parts[n]);
            break;
        }
        more = zmq_msg_more(&parts[n]);
        n++;
        if (n > WIRE_MAX_FRAMES) rc = -EBADMSG;   /* keep reading to drain it */
    }
    if (rc == 0) {
        wire_frame *f = calloc(n ? n : 1, sizeof *f);
        if (!f) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 0; i < n; i++) {
                f[i].data = zmq_msg_data(&parts[i]);
                f[i].len = zmq_msg_size(&parts[i]);
            }
            const char *why = NULL;
            if (wire_decode(w, f, n, out, &why) < 0) {
                log_warn("dropped a message of %zu frames: %s", n, why);
                rc = -EBADMSG;
            }
            free(f);
        }
    } else if (rc == -EBADMSG) {
        log_warn("dropped a message of more than %d frames", WIRE_MAX_FRAMES);
    }
    for (size_t i = 0; i < n; i++) zmq_msg_close(&parts[i]);
    free(parts);
    return rc;
}

int wire_send(void *sock, const wire_ctx *w, const wire_frame *ids, size_t n_ids,
              const char *msg_type, json_t *parent, json_t *metadata, json_t *content) {
    char *text[4] = { header_text(w, msg_type), parent_text(parent), dump_or_empty(metadata),
                      dump_or_empty(content) };
    wire_frame *f;
    size_t n;
    int rc = encode_text(w, ids, n_ids, text, &f, &n);
    if (rc < 0) return -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (zmq_send(sock, f[i].data, f[i].len, i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            rc = -errno;
    wire_frames_free(f, n);
    if (rc) log_warn("could not send %s: %s", msg_type, zmq_strerror(-rc));
    return rc;
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid prefix of a UTF-8 sequence starting at S (AVAIL bytes
 * there), and whether it is complete: returns the full length if the
 * sequence is complete and valid, else -(valid bytes) (at least -1), with
 * *TRUNCATED set when it was only cut short by the end of the input. */
static int utf8_seq(const unsigned char *s, size_t avail, int *truncated) {
    unsigned char b = s[0];
    int need;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    *truncated = 0;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) need = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0) lo = 0xA0;          /* no overlongs */
        if (b == 0xED) hi = 0x9F;          /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;          /* nothing above U+10FFFF */
    } else return -1;
    for (int k = 1; k < need; k++) {
        if ((size_t)k >= avail) { *truncated = 1; return -k; }
        unsigned char c = s[k];
        if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return -k;
    }
    return need;
}

char *wire_utf8_clean(const char *in, size_t len, int final, size_t *consumed, size_t *out_len) {
    const unsigned char *s = (const unsigned char *)in;
    char *out = malloc(3 * len + 1);
    if (!out) return NULL;
    size_t i = 0, o = 0;
    while (i < len) {
        int truncated;
        int k = utf8_seq(s + i, len - i, &truncated);
        if (k > 0) {
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
            continue;
        }
        if (truncated && !final) break;    /* wait for the rest */
        memcpy(out + o, "\xEF\xBF\xBD", 3);   /* U+FFFD for the maximal invalid prefix */
        o += 3;
        i += (size_t)-k;
    }
    out[o] = '\0';
    if (consumed) *consumed = i;
    if (out_len) *out_len = o;
    return out;
}
