/* strmap.c - open addressing, FNV-1a, power-of-two capacity (strmap.h).
 *
 * Each slot keeps the low 32 bits of its key's hash, which are also where
 * the key lives: a lookup in a large map (a long session's index is
 * megabytes) reads a key's text only when the hashes agree, and growing
 * never reads the keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

#define FNV_BASIS 1469598103934665603u
#define FNV_PRIME 1099511628211u

static uint32_t hash(const char *s) {
    size_t h = FNV_BASIS;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return (uint32_t)h;
}

static void grow_to(strmap *m, size_t cap) {
    const char **keys = calloc(cap, sizeof *keys);
    long *values = calloc(cap, sizeof *values);
    unsigned *hashes = calloc(cap, sizeof *hashes);
    if (!keys || !values || !hashes) abort();
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = m->hashes[i] & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
        hashes[j] = m->hashes[i];
    }
    free(m->keys);
    free(m->values);
    free(m->hashes);
    m->keys = keys;
    m->values = values;
    m->hashes = hashes;
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
    uint32_t h = hash(key);
    size_t j = h & (m->cap - 1);
    for (; m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (m->hashes[j] == h && strcmp(m->keys[j], key) == 0) return;
    m->keys[j] = key;
    m->values[j] = value;
    m->hashes[j] = h;
    m->n++;
}

long strmap_get(const strmap *m, const char *key) {
    if (!m->cap) return -1;
    uint32_t h = hash(key);
    for (size_t j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (m->hashes[j] == h && strcmp(m->keys[j], key) == 0) return m->values[j];
    return -1;
}

long strmap_get_n(const strmap *m, char prefix, const char *s, size_t n) {
    if (!m->cap) return -1;
    size_t full = FNV_BASIS;
    if (prefix) full = (full ^ (unsigned char)prefix) * FNV_PRIME;
    for (size_t i = 0; i < n; i++) full = (full ^ (unsigned char)s[i]) * FNV_PRIME;
    uint32_t h = (uint32_t)full;
    size_t at = prefix != 0;
    for (size_t j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
        const char *k = m->keys[j];
        if (m->hashes[j] == h && (!prefix || k[0] == prefix) && strncmp(k + at, s, n) == 0 &&
            k[at + n] == 0)
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
    free(m->hashes);
    memset(m, 0, sizeof *m);
}
