/* fuzz_connection.c - libFuzzer target for the connection file parser
 * (connection.c): the input is the file's text. Seeds: corpus/connection.
 *
 * Checks beyond "no crash, no leak, no undefined behaviour": an accepted
 * file has transport tcp or ipc, a non-empty ip, ports 1..65535, a key of
 * key_len bytes, and endpoints that fit; a rejected one says why and
 * leaves the struct empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "connection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    connection c;
    char err[256];
    err[0] = 0;
    if (connection_parse((const char *)data, size, &c, err, sizeof err) == 0) {
        if (strcmp(c.transport, "tcp") && strcmp(c.transport, "ipc")) abort();
        if (!c.ip[0] || strlen(c.ip) >= sizeof c.ip) abort();
        for (int i = 0; i < CONN_NPORTS; i++)
            if (c.port[i] < 1 || c.port[i] > 65535) abort();
        if (!c.key || strlen(c.key) != c.key_len) abort();
        char ep[512];
        for (int i = 0; i < CONN_NPORTS; i++)
            if (connection_endpoint(&c, i, ep, sizeof ep) < 0) abort();
        if (connection_endpoint(&c, CONN_NPORTS, ep, sizeof ep) == 0) abort();
        connection_free(&c);
    } else {
        if (!err[0] || c.key || c.port[0]) abort();
    }
    return 0;
}
