/* connection.h - the Jupyter connection file: where to bind and how to sign.
 *
 * Ownership: connection_load/connection_parse fill a caller's struct whose
 * key is heap memory; connection_free releases it. Nothing else allocates. */
#ifndef CK_CONNECTION_H
#define CK_CONNECTION_H

#include <stddef.h>

enum { CONN_SHELL, CONN_CONTROL, CONN_STDIN, CONN_IOPUB, CONN_HB, CONN_NPORTS };

typedef struct connection {
    char transport[8];          /* "tcp" or "ipc" */
    char ip[256];               /* address, or path prefix for ipc */
    int port[CONN_NPORTS];      /* indexed by CONN_SHELL ... CONN_HB */
    char *key;                  /* owned, NUL-terminated; "" = no signing */
    size_t key_len;
    char signature_scheme[32];  /* "hmac-sha256" (or "" with an empty key) */
} connection;

/* Parse the JSON text of a connection file into *C. 0 on success; on
 * failure -1 and a one-line reason in ERR (ERRLEN bytes), *C left empty. */
int connection_parse(const char *text, size_t len, connection *c, char *err, size_t errlen);
/* Read and parse the file at PATH; same contract as connection_parse. */
int connection_load(const char *path, connection *c, char *err, size_t errlen);
void connection_free(connection *c);
/* The ZeroMQ endpoint for port WHICH (CONN_*): "tcp://IP:PORT", or for ipc
 * "ipc://IP-PORT" as jupyter_client names it. 0, or -1 if it does not fit. */
int connection_endpoint(const connection *c, int which, char *buf, size_t n);

#endif
