/* profile_pprof.c - `%%profile --export NAME` also writes NAME.pb.gz:
 * pprof's profile.proto, gzipped, which `pprof -http` opens.
 *
 * The message is small and fixed (github.com/google/pprof, proto/
 * profile.proto): a string table, one Function and one Location per
 * function of the profile (its line: where it is defined), one Sample per
 * distinct stack (innermost location first) with its samples and CPU time,
 * or its bytes for --heap. Protobuf's wire format is written here
 * directly (varints and length-delimited fields), zlib gzips it. zlib is
 * loaded when a profile is first exported (dlopen): the worker does not
 * map it for sessions that never export one. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile_impl.h"

/* zlib's gzip file functions (zlib.h), found at run time. */
static struct {
    void *(*open)(const char *path, const char *mode);
    int (*write)(void *file, const void *buf, unsigned len);
    int (*close)(void *file);
} gz;

static int load_zlib(void) {
    if (gz.open) return 0;
    void *lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return -1;
    *(void **)&gz.write = dlsym(lib, "gzwrite");
    *(void **)&gz.close = dlsym(lib, "gzclose");
    *(void **)&gz.open = dlsym(lib, "gzopen");
    return gz.open && gz.write && gz.close ? 0 : -1;
}

typedef struct { unsigned char *b; size_t len, cap; } pbuf;

static void put(pbuf *p, const void *s, size_t n) {
    if (p->len + n > p->cap) {
        p->cap = (p->len + n) * 2 + 256;
        p->b = realloc(p->b, p->cap);
    }
    memcpy(p->b + p->len, s, n);
    p->len += n;
}

static void varint(pbuf *p, uint64_t v) {
    unsigned char c[10];
    int n = 0;
    do {
        c[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(p, c, (size_t)n);
}

static void field_varint(pbuf *p, int field, uint64_t v) {
    varint(p, (uint64_t)field << 3);
    varint(p, v);
}

static void field_bytes(pbuf *p, int field, const void *s, size_t n) {
    varint(p, (uint64_t)field << 3 | 2);
    varint(p, n);
    put(p, s, n);
}

static void field_message(pbuf *p, int field, pbuf *m) {
    field_bytes(p, field, m->b, m->len);
    m->len = 0;
}

/* The string table: index of S, added if new. */
typedef struct { char **v; size_t n; } strings;

static uint64_t str_id(strings *t, const char *s) {
    for (size_t i = 0; i < t->n; i++) if (!strcmp(t->v[i], s)) return i;
    t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
    t->v[t->n] = strdup(s);
    return t->n++;
}

static void value_type(pbuf *p, int field, strings *t, const char *type, const char *unit) {
    pbuf m = { 0 };
    field_varint(&m, 1, str_id(t, type));
    field_varint(&m, 2, str_id(t, unit));
    field_message(p, field, &m);
    free(m.b);
}

typedef struct { const profile_data *d; pbuf *out; int hz; int path[PROF_DEPTH + 2]; } walk;

/* One Sample per node with samples of its own: its stack, innermost first. */
static void samples(walk *w, int node, int depth) {
    const profile_data *d = w->d;
    double self = d->t[node].value;
    for (int c = d->t[node].child; c; c = d->t[c].next) self -= d->t[c].value;
    if (node && self > 0.5) {
        pbuf s = { 0 }, ids = { 0 }, vals = { 0 };
        for (int i = depth - 1; i >= 0; i--) varint(&ids, (uint64_t)w->path[i] + 1);
        field_bytes(&s, 1, ids.b, ids.len);
        varint(&vals, (uint64_t)(self + 0.5));
        if (!d->heap) varint(&vals, (uint64_t)(self * 1e9 / (w->hz > 0 ? w->hz : 1000) + 0.5));
        field_bytes(&s, 2, vals.b, vals.len);
        field_message(w->out, 2, &s);
        free(s.b);
        free(ids.b);
        free(vals.b);
    }
    for (int c = d->t[node].child; c && depth < PROF_DEPTH + 1; c = d->t[c].next) {
        w->path[depth] = d->t[c].func;
        samples(w, c, depth + 1);
    }
}

static void functions(const profile_data *d, pbuf *out, strings *t) {
    pbuf m = { 0 }, line = { 0 };
    for (size_t i = 0; i < d->nf; i++) {
        const pfunc *f = &d->f[i];
        char file[32] = "";
        if (f->kind == PF_CELL) snprintf(file, sizeof file, "cell [%d]", f->cell);
        field_varint(&m, 1, i + 1);
        field_varint(&m, 2, str_id(t, f->label));
        field_varint(&m, 3, str_id(t, f->name));
        field_varint(&m, 4, str_id(t, file));
        field_varint(&m, 5, (uint64_t)f->def_line);
        field_message(out, 5, &m);
        field_varint(&m, 1, i + 1);                     /* its Location */
        field_varint(&line, 1, i + 1);
        field_varint(&line, 2, (uint64_t)f->def_line);
        field_message(&m, 4, &line);
        field_message(out, 4, &m);
    }
    free(m.b);
    free(line.b);
}

int profile_export_pprof(const profile_data *d, int hz, const char *path, char **error) {
    pbuf out = { 0 };
    strings t = { 0 };
    str_id(&t, "");
    if (d->heap) {
        value_type(&out, 1, &t, "alloc_space", "bytes");
    } else {
        value_type(&out, 1, &t, "samples", "count");
        value_type(&out, 1, &t, "cpu", "nanoseconds");
    }
    walk w = { d, &out, hz, { 0 } };
    samples(&w, 0, 0);
    functions(d, &out, &t);
    if (!d->heap) {
        value_type(&out, 11, &t, "cpu", "nanoseconds");
        field_varint(&out, 12, (uint64_t)(1e9 / (hz > 0 ? hz : 1000)));
    }
    for (size_t i = 0; i < t.n; i++) {
        field_bytes(&out, 6, t.v[i], strlen(t.v[i]));
        free(t.v[i]);
    }
    free(t.v);
    if (load_zlib() < 0) {
        if (asprintf(error, "%%%%profile --export: zlib (libz.so.1) is missing: %s not written", path) < 0)
            *error = NULL;
        free(out.b);
        return -1;
    }
    void *z = gz.open(path, "wb");
    int rc = z && gz.write(z, out.b, (unsigned)out.len) == (int)out.len ? 0 : -1;
    if (z && gz.close(z) != 0) rc = -1;
    if (rc < 0 && asprintf(error, "%%%%profile --export: cannot write %s: %s", path, strerror(errno)) < 0)
        *error = NULL;
    free(out.b);
    return rc;
}
