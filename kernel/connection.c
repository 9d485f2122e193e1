/* connection.c - reads the connection file Jupyter hands the kernel (-f).
 *
 * Owns validation of that file only: it does not open sockets (channels.c)
 * and does not sign anything (wire.c). Spec: jupyter_client "Connection
 * files": transport, ip, shell_port, control_port, stdin_port, iopub_port,
 * hb_port, key, signature_scheme. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <jansson.h>
#include "connection.h"

static const char *const port_names[CONN_NPORTS] = {
    "shell_port", "control_port", "stdin_port", "iopub_port", "hb_port",
};

static int fail(char *err, size_t errlen, const char *fmt, const char *arg) {
    if (err && errlen) snprintf(err, errlen, fmt, arg);
    return -1;
}

int connection_parse(const char *text, size_t len, connection *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) return fail(err, errlen, "not valid JSON: %s", jerr.text);
    int rc = -1;
    if (!json_is_object(root)) { fail(err, errlen, "%s", "not a JSON object"); goto out; }

    /* transport and ip default as jupyter_client's do. */
    json_t *v = json_object_get(root, "transport");
    const char *transport = v ? json_string_value(v) : "tcp";
    if (!transport || (strcmp(transport, "tcp") && strcmp(transport, "ipc"))) {
        fail(err, errlen, "%s", "transport must be \"tcp\" or \"ipc\"");
        goto out;
    }
    strcpy(c->transport, transport);

    v = json_object_get(root, "ip");
    const char *ip = v ? json_string_value(v) : "127.0.0.1";
    if (!ip || !*ip || strlen(ip) >= sizeof c->ip) {
        fail(err, errlen, "%s", "ip must be a non-empty string");
        goto out;
    }
    strcpy(c->ip, ip);

    for (int i = 0; i < CONN_NPORTS; i++) {
        v = json_object_get(root, port_names[i]);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 65535) {
            fail(err, errlen, "%s must be an integer from 1 to 65535", port_names[i]);
            goto out;
        }
        c->port[i] = (int)json_integer_value(v);
    }

    v = json_object_get(root, "key");
    const char *key = v ? json_string_value(v) : "";
    if (!key) { fail(err, errlen, "%s", "key must be a string"); goto out; }

    v = json_object_get(root, "signature_scheme");
    const char *scheme = v ? json_string_value(v) : "hmac-sha256";
    if (!scheme) { fail(err, errlen, "%s", "signature_scheme must be a string"); goto out; }
    /* Only hmac-sha256 is implemented; with an empty key nothing is signed,
     * so the scheme does not matter. */
    if (*key && strcmp(scheme, "hmac-sha256")) {
        fail(err, errlen, "unsupported signature_scheme \"%s\" (only hmac-sha256)", scheme);
        goto out;
    }
    if (strlen(scheme) >= sizeof c->signature_scheme) scheme = "";
    strcpy(c->signature_scheme, scheme);

    c->key = strdup(key);
    if (!c->key) { fail(err, errlen, "%s", "out of memory"); goto out; }
    c->key_len = strlen(key);
    rc = 0;
out:
    json_decref(root);
    if (rc) connection_free(c);
    return rc;
}

int connection_load(const char *path, connection *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "cannot open %s: %m", path);
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            char *t = realloc(text, cap);
            if (!t) { free(text); fclose(f); return fail(err, errlen, "%s", "out of memory"); }
            text = t;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(text); return fail(err, errlen, "cannot read %s", path); }
    int rc = connection_parse(text ? text : "", len, c, err, errlen);
    free(text);
    return rc;
}

void connection_free(connection *c) {
    free(c->key);
    memset(c, 0, sizeof *c);
}

int connection_endpoint(const connection *c, int which, char *buf, size_t n) {
    if (which < 0 || which >= CONN_NPORTS) return -1;
    int w = strcmp(c->transport, "ipc") == 0
        ? snprintf(buf, n, "ipc://%s-%d", c->ip, c->port[which])
        : snprintf(buf, n, "tcp://%s:%d", c->ip, c->port[which]);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}
