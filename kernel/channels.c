/* channels.c - ZeroMQ sockets, the poll loop and the heartbeat thread.
 *
 * Owns the five sockets of the connection file and the single loop that
 * waits on them and on raw file descriptors. It knows no message types:
 * messages go to one callback (handlers.c), readable fds to theirs. The
 * heartbeat is served on its own thread so it answers even while the main
 * thread is busy (messaging 5.3, "Heartbeat for kernels"). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <zmq.h>
#include "channels.h"
#include "log.h"

#define MAX_FDS 16
#define LINGER_MS 1000

static struct {
    void *ctx;
    void *sock[5];                  /* indexed by channel */
    pthread_t hb_thread;
    int hb_started;
    const wire_ctx *w;
    channels_msg_fn on_msg;
    void *on_msg_ud;
    struct { int fd; channels_fd_fn fn; void *ud; } fds[MAX_FDS];
    int n_fds;
    int hold_shell;
    int running;
} ch_state;

static const char *const ch_names[] = { "shell", "control", "stdin", "iopub", "hb" };

/* The heartbeat: a REP socket echoing every ping. zmq_ctx_term in
 * channels_close makes the blocking receive fail with ETERM, which ends
 * the thread. */
static void *heartbeat_main(void *arg) {
    void *sock = arg;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            if (errno == EINTR) continue;
            break;                              /* ETERM: shutting down */
        }
        if (zmq_msg_send(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            if (errno == ETERM) break;
        }
    }
    zmq_close(sock);
    return NULL;
}

int channels_open(const connection *conn, const wire_ctx *w) {
    static const int types[] = { ZMQ_ROUTER, ZMQ_ROUTER, ZMQ_ROUTER, ZMQ_PUB, ZMQ_REP };
    static const int ports[] = { CONN_SHELL, CONN_CONTROL, CONN_STDIN, CONN_IOPUB, CONN_HB };
    memset(&ch_state, 0, sizeof ch_state);
    ch_state.w = w;
    ch_state.ctx = zmq_ctx_new();
    if (!ch_state.ctx) { log_error("zmq_ctx_new: %s", zmq_strerror(errno)); return -1; }
    int linger = LINGER_MS, ipv6 = strchr(conn->ip, ':') != NULL;
    for (int i = 0; i < 5; i++) {
        char ep[300];
        ch_state.sock[i] = zmq_socket(ch_state.ctx, types[i]);
        if (!ch_state.sock[i] || connection_endpoint(conn, ports[i], ep, sizeof ep) < 0) {
            log_error("cannot create the %s socket", ch_names[i]);
            return -1;
        }
        zmq_setsockopt(ch_state.sock[i], ZMQ_LINGER, &linger, sizeof linger);
        /* PUB and ROUTER drop what is sent past the high-water mark (1000
         * messages): a slow client would lose outputs and replies of a Run
         * All. Unlimited: they wait in memory until it reads them. */
        zmq_setsockopt(ch_state.sock[i], ZMQ_SNDHWM, &(int){ 0 }, sizeof(int));
        if (ipv6) zmq_setsockopt(ch_state.sock[i], ZMQ_IPV6, &ipv6, sizeof ipv6);
        if (zmq_bind(ch_state.sock[i], ep) < 0) {
            log_error("cannot bind %s to %s: %s", ch_names[i], ep, zmq_strerror(errno));
            return -1;
        }
    }
    /* The thread owns the heartbeat socket from here on. */
    if (pthread_create(&ch_state.hb_thread, NULL, heartbeat_main, ch_state.sock[CH_HB])) {
        log_error("cannot start the heartbeat thread");
        return -1;
    }
    ch_state.hb_started = 1;
    ch_state.running = 1;
    return 0;
}

void channels_close(void) {
    if (!ch_state.ctx) return;
    for (int i = 0; i < 4; i++)
        if (ch_state.sock[i]) zmq_close(ch_state.sock[i]);
    if (!ch_state.hb_started && ch_state.sock[CH_HB]) zmq_close(ch_state.sock[CH_HB]);
    zmq_ctx_term(ch_state.ctx);   /* waits for lingering sends; ends the heartbeat */
    if (ch_state.hb_started) pthread_join(ch_state.hb_thread, NULL);
    memset(&ch_state, 0, sizeof ch_state);
}

void channels_on_message(channels_msg_fn fn, void *ud) {
    ch_state.on_msg = fn;
    ch_state.on_msg_ud = ud;
}

int channels_watch_fd(int fd, channels_fd_fn fn, void *ud) {
    channels_unwatch_fd(fd);
    if (ch_state.n_fds == MAX_FDS) return -1;
    ch_state.fds[ch_state.n_fds].fd = fd;
    ch_state.fds[ch_state.n_fds].fn = fn;
    ch_state.fds[ch_state.n_fds].ud = ud;
    ch_state.n_fds++;
    return 0;
}

void channels_unwatch_fd(int fd) {
    for (int i = 0; i < ch_state.n_fds; i++) {
        if (ch_state.fds[i].fd != fd) continue;
        memmove(&ch_state.fds[i], &ch_state.fds[i + 1],
                (size_t)(ch_state.n_fds - i - 1) * sizeof ch_state.fds[0]);
        ch_state.n_fds--;
        return;
    }
}

void channels_hold_shell(int hold) { ch_state.hold_shell = hold; }

int channels_next_shell(wire_msg *out, int timeout_ms) {
    for (;;) {
        zmq_pollitem_t item = { ch_state.sock[CH_SHELL], 0, ZMQ_POLLIN, 0 };
        if (timeout_ms > 0 && zmq_poll(&item, 1, timeout_ms) <= 0) return 0;
        int rc = wire_recv(ch_state.sock[CH_SHELL], ch_state.w, ZMQ_DONTWAIT, out);
        if (rc == 0) return 1;
        if (rc != -EBADMSG) return 0;
    }
}

static void dispatch_socket(channel ch) {
    wire_msg m;
    if (wire_recv(ch_state.sock[ch], ch_state.w, ZMQ_DONTWAIT, &m) < 0) return;
    if (ch_state.on_msg) ch_state.on_msg(ch, &m, ch_state.on_msg_ud);
    wire_msg_free(&m);
}

int channels_poll(int timeout_ms) {
    zmq_pollitem_t items[3 + MAX_FDS];
    channel socks[3];
    int n = 0;
    /* Control first: it is served even while a cell holds shell. */
    socks[n] = CH_CONTROL; items[n++] = (zmq_pollitem_t){ ch_state.sock[CH_CONTROL], 0, ZMQ_POLLIN, 0 };
    socks[n] = CH_STDIN;   items[n++] = (zmq_pollitem_t){ ch_state.sock[CH_STDIN], 0, ZMQ_POLLIN, 0 };
    if (!ch_state.hold_shell) {
        socks[n] = CH_SHELL; items[n++] = (zmq_pollitem_t){ ch_state.sock[CH_SHELL], 0, ZMQ_POLLIN, 0 };
    }
    int n_socks = n;
    for (int i = 0; i < ch_state.n_fds; i++)
        items[n++] = (zmq_pollitem_t){ NULL, ch_state.fds[i].fd, ZMQ_POLLIN, 0 };

    if (zmq_poll(items, n, timeout_ms) < 0) {
        if (errno == EINTR) return 0;
        log_error("zmq_poll: %s", zmq_strerror(errno));
        return -1;
    }
    /* Fds first: a signal (SIGINT sent while idle) or the end of a cell
     * must be taken before a request that arrived in the same turn, or an
     * idle interrupt would stop the next cell. Callbacks may unwatch fds
     * (a worker restart does): look each up again. */
    for (int i = n_socks; i < n && ch_state.running; i++) {
        if (!(items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) continue;
        for (int j = 0; j < ch_state.n_fds; j++) {
            if (ch_state.fds[j].fd == items[i].fd) {
                ch_state.fds[j].fn(items[i].fd, ch_state.fds[j].ud);
                break;
            }
        }
    }
    /* One message per socket per turn keeps control ahead of a busy shell,
     * and lets a handler hold shell before the next request is read. */
    for (int i = 0; i < n_socks && ch_state.running; i++) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        if (socks[i] == CH_SHELL && ch_state.hold_shell) continue;
        dispatch_socket(socks[i]);
    }
    return 0;
}

void channels_stop(void) { ch_state.running = 0; }
int channels_running(void) { return ch_state.running; }

int channels_reply(channel ch, const wire_msg *req, const char *msg_type,
                   json_t *content, json_t *metadata) {
    int rc = wire_send(ch_state.sock[ch], ch_state.w, req->ids, req->n_ids, msg_type,
                       req->header, metadata, content);
    json_decref(content);
    json_decref(metadata);
    return rc;
}

int channels_publish(const char *msg_type, json_t *parent, json_t *content) {
    char topic[128];
    snprintf(topic, sizeof topic, "kernel.%s.%s", ch_state.w->session, msg_type);
    wire_frame t = { (unsigned char *)topic, strlen(topic) };
    int rc = wire_send(ch_state.sock[CH_IOPUB], ch_state.w, &t, 1, msg_type, parent, NULL, content);
    json_decref(content);
    return rc;
}
