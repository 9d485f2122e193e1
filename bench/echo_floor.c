/* echo_floor.c - the smallest "kernel" the benchmark client can drive.
 *
 * bench/bench.py drives it exactly as it drives a real kernel, with the same
 * number of messages, so that each figure the benchmark prints can be read
 * as overhead above what the client (Python, jupyter_client's Session,
 * pyzmq) and ZeroMQ cost on their own. It does no work: it answers every
 * shell or control request with "<type>_reply", framed in busy/idle on
 * iopub, and for execute_request also publishes execute_input and, when the
 * code contains "print" or "puts", one stream line, as a kernel running
 * `print(i)` would. It signs what it sends (HMAC-SHA256, as the client
 * expects) but trusts what it receives, and it does not parse JSON beyond
 * what it needs; it is a measuring stick, not a kernel.
 *
 * Usage: echo_floor -f CONNECTION_FILE */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_FRAMES 64

static void *shell, *control, *iopub, *hb;
static char key[256];
static size_t keylen;
static unsigned long counter;
static int exec_count;

static void die(const char *what) {
    fprintf(stderr, "echo_floor: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void *bind_socket(void *ctx, int type, json_t *cf, const char *port_key) {
    void *s = zmq_socket(ctx, type);
    char ep[256];
    snprintf(ep, sizeof ep, "%s://%s:%lld",
             json_string_value(json_object_get(cf, "transport")),
             json_string_value(json_object_get(cf, "ip")),
             (long long)json_integer_value(json_object_get(cf, port_key)));
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &(int){ 0 }, sizeof(int));   /* as the kernel: drop nothing */
    if (!s || zmq_bind(s, ep) != 0) die(ep);
    return s;
}

/* Send one message: IDENTS (may be none), then the delimiter, the HMAC and
 * the four JSON frames. PARENT is the request's header, copied verbatim. */
static void send_msg(void *sock, zmq_msg_t *idents, int nidents, const char *msg_type,
                     const char *parent, size_t parentlen, const char *content) {
    char header[512], date[64], sig[65] = "";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(date + n, sizeof date - n, ".%06ldZ", (long)tv.tv_usec);
    snprintf(header, sizeof header,
             "{\"msg_id\":\"echo-%d-%lu\",\"session\":\"echo-%d\",\"username\":\"echo\","
             "\"date\":\"%s\",\"msg_type\":\"%s\",\"version\":\"5.3\"}",
             (int)getpid(), ++counter, (int)getpid(), date, msg_type);
    const char *frames[4] = { header, parent, "{}", content };
    size_t lens[4] = { strlen(header), parentlen, 2, strlen(content) };
    if (keylen) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;            /* as the kernel signs (kernel/wire.c) */
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, keylen);
        for (int i = 0; i < 4; i++) crypto_auth_hmacsha256_update(&st, (const unsigned char *)frames[i], lens[i]);
        crypto_auth_hmacsha256_final(&st, mac);
        for (unsigned i = 0; i < sizeof mac; i++) sprintf(sig + 2 * i, "%02x", mac[i]);
    }
    for (int i = 0; i < nidents; i++)
        zmq_send(sock, zmq_msg_data(&idents[i]), zmq_msg_size(&idents[i]), ZMQ_SNDMORE);
    if (sock == iopub) zmq_send(sock, "kernel.echo", 11, ZMQ_SNDMORE);
    zmq_send(sock, "<IDS|MSG>", 9, ZMQ_SNDMORE);
    zmq_send(sock, sig, strlen(sig), ZMQ_SNDMORE);
    for (int i = 0; i < 4; i++) zmq_send(sock, frames[i], lens[i], i < 3 ? ZMQ_SNDMORE : 0);
}

static void status(const char *state, const char *parent, size_t parentlen) {
    char content[64];
    snprintf(content, sizeof content, "{\"execution_state\":\"%s\"}", state);
    send_msg(iopub, NULL, 0, "status", parent, parentlen, content);
}

/* Serve one request from SOCK. Returns 0 when it was a shutdown. */
static int serve(void *sock) {
    zmq_msg_t f[MAX_FRAMES];
    int n = 0, more = 1;
    while (more && n < MAX_FRAMES) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], sock, 0) < 0) die("recv");
        more = zmq_msg_more(&f[n]);
        n++;
    }
    int delim = -1;
    for (int i = 0; i < n; i++)
        if (zmq_msg_size(&f[i]) == 9 && !memcmp(zmq_msg_data(&f[i]), "<IDS|MSG>", 9)) { delim = i; break; }
    int keep_going = 1;
    if (delim >= 0 && n >= delim + 6) {
        const char *hdr = zmq_msg_data(&f[delim + 2]);
        size_t hdrlen = zmq_msg_size(&f[delim + 2]);
        char *h = strndup(hdr, hdrlen);
        char type[128] = "unknown_request";
        json_t *hj = json_loads(h, 0, NULL);
        const char *t = json_string_value(json_object_get(hj, "msg_type"));
        if (t) snprintf(type, sizeof type, "%s", t);
        json_decref(hj);
        free(h);
        char reply_type[140];
        size_t tl = strlen(type);
        if (tl > 8 && !strcmp(type + tl - 8, "_request"))
            snprintf(reply_type, sizeof reply_type, "%.*s_reply", (int)(tl - 8), type);
        else
            snprintf(reply_type, sizeof reply_type, "%s_reply", type);

        status("busy", hdr, hdrlen);
        char *content;
        if (!strcmp(type, "execute_request")) {
            json_t *c = json_loadb(zmq_msg_data(&f[delim + 5]), zmq_msg_size(&f[delim + 5]), 0, NULL);
            const char *code = json_string_value(json_object_get(c, "code"));
            code = code ? code : "";
            exec_count++;
            json_t *in = json_pack("{s:s, s:i}", "code", code, "execution_count", exec_count);
            char *ins = json_dumps(in, JSON_COMPACT);
            send_msg(iopub, NULL, 0, "execute_input", hdr, hdrlen, ins);
            free(ins);
            json_decref(in);
            if (strstr(code, "print") || strstr(code, "puts"))
                send_msg(iopub, NULL, 0, "stream", hdr, hdrlen, "{\"name\":\"stdout\",\"text\":\"1\\n\"}");
            json_decref(c);
            if (asprintf(&content, "{\"status\":\"ok\",\"execution_count\":%d,"
                         "\"user_expressions\":{},\"payload\":[]}", exec_count) < 0) die("asprintf");
        } else if (!strcmp(type, "kernel_info_request")) {
            content = strdup("{\"status\":\"ok\",\"protocol_version\":\"5.3\","
                             "\"implementation\":\"echo_floor\",\"implementation_version\":\"0\","
                             "\"language_info\":{\"name\":\"echo\",\"version\":\"0\","
                             "\"mimetype\":\"text/plain\",\"file_extension\":\".txt\"},"
                             "\"banner\":\"echo floor\",\"help_links\":[]}");
        } else if (!strcmp(type, "shutdown_request")) {
            content = strdup("{\"status\":\"ok\",\"restart\":false}");
            keep_going = 0;
        } else {
            content = strdup("{\"status\":\"ok\"}");
        }
        send_msg(sock, f, delim, reply_type, hdr, hdrlen, content);
        free(content);
        status("idle", hdr, hdrlen);
    }
    for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
    return keep_going;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) return 1;
    if (argc != 3 || strcmp(argv[1], "-f")) {
        fprintf(stderr, "usage: echo_floor -f CONNECTION_FILE\n");
        return 2;
    }
    json_error_t err;
    json_t *cf = json_load_file(argv[2], 0, &err);
    if (!cf) { fprintf(stderr, "echo_floor: %s: %s\n", argv[2], err.text); return 1; }
    const char *k = json_string_value(json_object_get(cf, "key"));
    snprintf(key, sizeof key, "%s", k ? k : "");
    keylen = strlen(key);

    void *ctx = zmq_ctx_new();
    shell = bind_socket(ctx, ZMQ_ROUTER, cf, "shell_port");
    control = bind_socket(ctx, ZMQ_ROUTER, cf, "control_port");
    iopub = bind_socket(ctx, ZMQ_PUB, cf, "iopub_port");
    hb = bind_socket(ctx, ZMQ_REP, cf, "hb_port");
    void *stdin_sock = bind_socket(ctx, ZMQ_ROUTER, cf, "stdin_port");
    json_decref(cf);

    zmq_pollitem_t items[3] = {
        { shell, 0, ZMQ_POLLIN, 0 }, { control, 0, ZMQ_POLLIN, 0 }, { hb, 0, ZMQ_POLLIN, 0 },
    };
    for (int running = 1; running;) {
        if (zmq_poll(items, 3, -1) < 0) die("poll");
        if (items[2].revents & ZMQ_POLLIN) {
            char buf[256];
            int len = zmq_recv(hb, buf, sizeof buf, 0);
            if (len >= 0) zmq_send(hb, buf, len > (int)sizeof buf ? (int)sizeof buf : len, 0);
        }
        if (items[1].revents & ZMQ_POLLIN) running = serve(control);
        if (running && (items[0].revents & ZMQ_POLLIN)) running = serve(shell);
    }
    zmq_close(shell);
    zmq_close(control);
    zmq_close(iopub);
    zmq_close(hb);
    zmq_close(stdin_sock);
    zmq_ctx_term(ctx);
    return 0;
}
