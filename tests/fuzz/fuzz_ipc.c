/* fuzz_ipc.c - libFuzzer target for the kernel's reader of worker events
 * (ipc.c, ipc_reader_next). The worker runs cell code, which can write
 * anything to fd 4, so the kernel must survive any byte stream there.
 * The input is what a cell wrote, handed to the reader in two pieces
 * (byte 0 says where to cut) to exercise frames split across reads, and
 * followed by a real frame: whatever came before, the reader must find it
 * (a lost "done" would hang the cell) and end with an empty buffer.
 * Seeds: corpus/ipc. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ipc.h"
#include "log.h"

static void quiet(const char *fmt, va_list ap) { char b[1024]; vsnprintf(b, sizeof b, fmt, ap); }
void log_set_role(const char *role) { (void)role; }
void log_info(const char *fmt, ...) { va_list ap; va_start(ap, fmt); quiet(fmt, ap); va_end(ap); }
void log_warn(const char *fmt, ...) { va_list ap; va_start(ap, fmt); quiet(fmt, ap); va_end(ap); }
void log_error(const char *fmt, ...) { va_list ap; va_start(ap, fmt); quiet(fmt, ap); va_end(ap); }

static void feed(ipc_reader *r, const uint8_t *p, size_t n) {
    if (!n) return;
    if (r->cap - r->len < n) {
        size_t cap = r->len + n + 1;
        r->buf = realloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t cut = data[0] < size - 1 ? data[0] : size - 1;
    data++;
    size--;
    ipc_reader r;
    ipc_reader_init(&r);
    json_t *m;
    feed(&r, data, cut);
    while ((m = ipc_reader_next(&r))) {
        if (!json_is_object(m)) abort();
        json_decref(m);
    }
    feed(&r, data + cut, size - cut);
    while ((m = ipc_reader_next(&r))) json_decref(m);
    static const char body[] = "{\"ev\":\"done\",\"status\":\"end-of-fuzz\"}";
    uint32_t len = sizeof body - 1;
    char head[IPC_HEADER] = IPC_MAGIC;
    memcpy(head + 4, &len, 4);
    feed(&r, (const uint8_t *)head, sizeof head);
    feed(&r, (const uint8_t *)body, len);
    const char *last = NULL;
    while ((m = ipc_reader_next(&r))) {
        last = json_string_value(json_object_get(m, "status"));
        last = last && !strcmp(last, "end-of-fuzz") ? "found" : NULL;
        json_decref(m);
    }
    if (!last || r.len != 0) abort();     /* the real frame was lost */
    ipc_reader_free(&r);
    return 0;
}
