/* ipc.c - length-prefixed JSON messages between kernel and worker (ipc.h).
 *
 * Owns framing only; what the messages mean is documented in ipc.h and
 * handled by kernel/worker.c (kernel side) and worker/main.c (worker side). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "ipc.h"
#include "log.h"

static int read_all(int fd, char *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r == 0) return -EPIPE;
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Every frame starts with IPC_MAGIC. Its bytes 0xFF and 0xFE never occur
 * in UTF-8, so never inside a JSON body: after garbage (a cell can write to
 * the event pipe) the reader finds the next real frame by looking for them. */
static const char magic[4] = IPC_MAGIC;

int ipc_send_text(int fd, const char *json, size_t n) {
    char head[IPC_HEADER];
    uint32_t len = (uint32_t)n;
    memcpy(head, magic, 4);
    memcpy(head + 4, &len, 4);      /* x86_64 and friends: little-endian */
    struct iovec iov[2] = { { head, sizeof head }, { (void *)json, n } };
    size_t left = sizeof head + n;
    /* one writev keeps a frame whole in the pipe (below PIPE_BUF, or as
     * the only writer); the loop finishes one that was cut short */
    while (left > 0) {
        ssize_t w = writev(fd, iov, 2);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        left -= (size_t)w;
        for (int i = 0; i < 2 && w > 0; i++) {
            size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + k;
            iov[i].iov_len -= k;
            w -= (ssize_t)k;
        }
    }
    return 0;
}

int ipc_send(int fd, json_t *msg) {
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return -ENOMEM;
    int rc = ipc_send_text(fd, text, strlen(text));
    json_free_t release;                /* jansson's allocator made it (jsonmem.c) */
    json_get_alloc_funcs(NULL, &release);
    release(text);
    return rc;
}

json_t *ipc_recv(int fd) {
    char head[IPC_HEADER];
    uint32_t len;
    if (read_all(fd, head, IPC_HEADER) < 0) return NULL;
    memcpy(&len, head + 4, 4);
    if (memcmp(head, magic, 4) || len > IPC_MAX_MESSAGE) {
        log_error("ipc: broken frame from the kernel");
        return NULL;
    }
    char *text = malloc(len ? len : 1);
    if (!text) return NULL;
    if (read_all(fd, text, len) < 0) { free(text); return NULL; }
    json_error_t err;
    json_t *msg = json_loadb(text, len, 0, &err);
    free(text);
    if (!msg) log_warn("ipc: bad message: %s", err.text);
    return msg;
}

void ipc_reader_init(ipc_reader *r) { memset(r, 0, sizeof *r); }

void ipc_reader_free(ipc_reader *r) {
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int ipc_reader_fill(ipc_reader *r, int fd) {
    int got = 0;
    for (;;) {
        if (r->cap - r->len < 65536) {
            size_t cap = r->cap ? r->cap * 2 : 131072;
            char *b = realloc(r->buf, cap);
            if (!b) return -1;
            r->buf = b;
            r->cap = cap;
        }
        ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
        if (n > 0) { r->len += (size_t)n; got = 1; continue; }
        if (n == 0) return got ? 1 : -1;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return got;
        return -1;
    }
}

static void drop(ipc_reader *r, size_t n) {
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
    r->checked = 0;
}

/* Skip what cannot be a frame: up to the next IPC_MAGIC after the first
 * byte, or all but a tail that may be the start of one. */
static void skip_garbage(ipc_reader *r) {
    const char *next = r->len > 1 ? memmem(r->buf + 1, r->len - 1, magic, 4) : NULL;
    size_t n = next ? (size_t)(next - r->buf) : (r->len > 3 ? r->len - 3 : 1);
    if (!next)
        while (n < r->len && (unsigned char)r->buf[n] != 0xFF) n++;
    log_error("ipc: %zu bytes that are not a frame from the worker, skipped", n);
    drop(r, n);
}

json_t *ipc_reader_next(ipc_reader *r) {
    while (r->len > 0) {
        if (memcmp(r->buf, magic, r->len < 4 ? r->len : 4)) { skip_garbage(r); continue; }
        if (r->len < IPC_HEADER) return NULL;
        uint32_t len;
        memcpy(&len, r->buf + 4, 4);
        if (len > IPC_MAX_MESSAGE) { skip_garbage(r); continue; }
        /* a body is a JSON object in UTF-8: a 0xFF in it is a new frame
         * begun inside a broken one (checked: the part already looked at) */
        size_t body = r->len - IPC_HEADER < len ? r->len - IPC_HEADER : len;
        if ((body > 0 && r->buf[IPC_HEADER] != '{') ||
            memchr(r->buf + IPC_HEADER + r->checked, 0xFF, body - r->checked)) { skip_garbage(r); continue; }
        r->checked = body;
        if (body < len) return NULL;
        json_error_t err;
        json_t *msg = json_loadb(r->buf + IPC_HEADER, len, 0, &err);
        drop(r, IPC_HEADER + len);
        if (json_is_object(msg)) return msg;
        log_warn("ipc: bad message: %s", msg ? "not an object" : err.text);
        json_decref(msg);
    }
    return NULL;
}
