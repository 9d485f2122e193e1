/* ipc.c - length-prefixed JSON messages between kernel and worker (ipc.h).
 *
 * Owns framing only; what the messages mean is documented in ipc.h and
 * handled by worker.c (kernel side) and worker_main.c (worker side). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipc.h"
#include "log.h"

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

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

int ipc_send(int fd, json_t *msg) {
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return -ENOMEM;
    size_t n = strlen(text);
    char *frame = malloc(4 + n);
    if (!frame) { free(text); return -ENOMEM; }
    uint32_t len = (uint32_t)n;
    memcpy(frame, &len, 4);          /* x86_64 and friends: little-endian */
    memcpy(frame + 4, text, n);
    int rc = write_all(fd, frame, 4 + n);   /* one write: keeps frames whole */
    free(frame);
    free(text);
    return rc;
}

json_t *ipc_recv(int fd) {
    uint32_t len;
    if (read_all(fd, (char *)&len, 4) < 0) return NULL;
    if (len > IPC_MAX_MESSAGE) return NULL;
    char *text = malloc(len);
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

json_t *ipc_reader_next(ipc_reader *r) {
    while (r->len >= 4) {
        uint32_t len;
        memcpy(&len, r->buf, 4);
        if (len > IPC_MAX_MESSAGE) {         /* a broken peer: drop it all */
            log_error("ipc: frame of %u bytes, dropping buffer", len);
            r->len = 0;
            return NULL;
        }
        if (r->len < 4 + (size_t)len) return NULL;
        json_error_t err;
        json_t *msg = json_loadb(r->buf + 4, len, 0, &err);
        memmove(r->buf, r->buf + 4 + len, r->len - 4 - len);
        r->len -= 4 + len;
        if (msg) return msg;
        log_warn("ipc: bad message: %s", err.text);
    }
    return NULL;
}
