/* strmap.c - open addressing, FNV-1a, power-of-two capacity (strmap.h). */
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

#define FNV_BASIS 1469598103934665603u
#define FNV_PRIME 1099511628211u

static size_t hash(const char *s) {
    size_t h = FNV_BASIS;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return h;
}

static void grow_to(strmap *m, size_t cap) {
    const char **keys = calloc(cap, sizeof *keys);
    long *values = calloc(cap, sizeof *values);
    if (!keys || !values) abort();
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash(m->keys[i]) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
}

static void grow(strmap *m) { grow_to(m, m->cap ? m->cap * 2 : 64); }

void strmap_reserve(strmap *m, size_t n) {
    size_t cap = m->cap ? m->cap : 64;
    while (2 * n > cap) cap *= 2;
    if (cap > m->cap) grow_to(m, cap);
}

void strmap_put(strmap *m, const char *key, long value) {
    if (2 * (m->n + 1) > m->cap) grow(m);
    size_t j = hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) return;
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->values[j] = value;
    m->n++;
}

long strmap_get(const strmap *m, const char *key) {
    if (!m->cap) return -1;
    size_t j = hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) return m->values[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

long strmap_get_n(const strmap *m, char prefix, const char *s, size_t n) {
    if (!m->cap) return -1;
    size_t h = FNV_BASIS;
    if (prefix) h = (h ^ (unsigned char)prefix) * FNV_PRIME;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    size_t at = prefix != 0;
    for (size_t j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
        const char *k = m->keys[j];
        if ((!prefix || k[0] == prefix) && strncmp(k + at, s, n) == 0 && k[at + n] == 0)
            return m->values[j];
    }
    return -1;
}

void strmap_clear(strmap *m) {
    if (m->cap) memset(m->keys, 0, m->cap * sizeof *m->keys);
    m->n = 0;
}

void strmap_free(strmap *m) {
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}
