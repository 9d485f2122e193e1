/* wire.h - Jupyter messages on the wire (messaging protocol 5.3, "The Wire
 * Protocol"): framing, HMAC-SHA256 signing and verification, headers.
 *
 * The pure functions (wire_sign, wire_verify, wire_decode, wire_encode,
 * wire_utf8_clean) work on frames in memory and are tested alone in
 * tests/unit/test_wire.c; wire_recv and wire_send move frames through a
 * ZeroMQ socket.
 *
 * Ownership: a wire_msg owns its identity and buffer frames (copies) and one
 * reference to each of its four JSON objects; wire_msg_free releases them.
 * wire_encode returns frames the caller frees with wire_frames_free. JSON
 * arguments are borrowed unless a function says it steals them. */
#ifndef CK_WIRE_H
#define CK_WIRE_H

#include <stddef.h>
#include <jansson.h>

#define WIRE_DELIM "<IDS|MSG>"
#define WIRE_PROTOCOL_VERSION "5.3"

typedef struct wire_frame {
    unsigned char *data;
    size_t len;
} wire_frame;

/* What signs and stamps messages: the connection's key and the kernel's
 * session id. */
typedef struct wire_ctx {
    unsigned char *key;         /* owned; key_len 0 = messages are not signed */
    size_t key_len;
    char session[37];           /* uuid of this kernel run */
    struct crypto_auth_hmacsha256_state *keyed;   /* HMAC-SHA256 keyed once, copied per message */
    struct replay_set *seen;    /* signatures seen (replay.h), or NULL: replays not checked */
} wire_ctx;

typedef struct wire_msg {
    wire_frame *ids;            /* routing identities before <IDS|MSG> */
    size_t n_ids;
    json_t *header, *parent_header, *metadata, *content;   /* always objects */
    wire_frame *buffers;        /* extra binary frames after content */
    size_t n_buffers;
    const char *msg_type;       /* borrowed from header */
    const char *msg_id;
} wire_msg;

/* Copy KEY (KEY_LEN bytes) and SESSION into W. 0 or -1 (out of memory). */
int wire_ctx_init(wire_ctx *w, const char *key, size_t key_len, const char *session);
void wire_ctx_free(wire_ctx *w);
/* From now on wire_decode drops a signed message whose signature it has
 * seen before (a replay), as jupyter_client does. 0 or -1. */
int wire_ctx_refuse_replays(wire_ctx *w);

/* HMAC-SHA256 over the four JSON frames PARTS (header, parent_header,
 * metadata, content), as lowercase hex in OUT (65 bytes, NUL-terminated).
 * With no key OUT is "". 0 or -1. */
int wire_sign(const wire_ctx *w, const wire_frame parts[4], char out[65]);
/* 1 if SIG (SIG_LEN bytes) is the signature of PARTS, compared in constant
 * time; always 1 when W has no key. */
int wire_verify(const wire_ctx *w, const unsigned char *sig, size_t sig_len,
                const wire_frame parts[4]);

/* Parse the N frames of one multipart message into *OUT, checking the
 * signature before any JSON is parsed. 0 on success; -1 if the message must
 * be dropped, with the reason in WHY (a static string). */
int wire_decode(const wire_ctx *w, const wire_frame *frames, size_t n,
                wire_msg *out, const char **why);
/* Build the frames of a message: IDS, delimiter, signature, the four JSON
 * objects (a NULL parent_header or metadata is sent as {}), BUFFERS.
 * *OUT is new; 0 or -1. */
int wire_encode(const wire_ctx *w, const wire_frame *ids, size_t n_ids,
                json_t *header, json_t *parent_header, json_t *metadata,
                json_t *content, wire_frame **out, size_t *n_out);
void wire_frames_free(wire_frame *frames, size_t n);
void wire_msg_free(wire_msg *m);
/* Move *SRC into *DST (DST's old contents are not freed); SRC becomes empty. */
void wire_msg_move(wire_msg *dst, wire_msg *src);

/* A new header: msg_id (session_pid_count), session, username "kernel", date (ISO 8601
 * UTC with microseconds and Z), MSG_TYPE, version 5.3. New reference. */
json_t *wire_header_new(const wire_ctx *w, const char *msg_type);

/* Receive one message from SOCK. FLAGS may be ZMQ_DONTWAIT. 0 and *OUT
 * filled; -EAGAIN if nothing waits; -EBADMSG if a message came and was
 * dropped (already logged); another -errno on socket errors. */
int wire_recv(void *sock, const wire_ctx *w, int flags, wire_msg *out);
/* Send a new message of MSG_TYPE on SOCK to IDS (for PUB: the topic). The
 * JSON arguments are borrowed; PARENT and METADATA may be NULL ({}).
 * 0 or -errno. */
int wire_send(void *sock, const wire_ctx *w, const wire_frame *ids, size_t n_ids,
              const char *msg_type, json_t *parent, json_t *metadata, json_t *content);

/* Make LEN bytes of process output valid UTF-8 for a JSON string: invalid
 * bytes become U+FFFD. An incomplete multi-byte sequence at the very end is
 * left out of the result unless FINAL; *CONSUMED (may be NULL) gets how
 * many input bytes were used, so the caller keeps the rest for the next
 * read. Returns a new NUL-terminated string (*OUT_LEN bytes, may hold NUL
 * bytes) or NULL when out of memory. */
char *wire_utf8_clean(const char *in, size_t len, int final, size_t *consumed, size_t *out_len);

#endif
