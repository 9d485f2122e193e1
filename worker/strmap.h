/* strmap.h - a small hash map from strings to indexes.
 *
 * Keys are borrowed: they must outlive the map. Used by the session to
 * find entries by name without scanning, so a cell with thousands of
 * definitions compiles in linear time. */
#ifndef CK_STRMAP_H
#define CK_STRMAP_H

#include <stddef.h>

typedef struct {
    const char **keys;
    long *values;
    unsigned *hashes;       /* each key's hash, low 32 bits (strmap.c) */
    size_t cap, n;
} strmap;

/* Set KEY to VALUE unless KEY is there already (the first one wins). */
void strmap_put(strmap *m, const char *key, long value);
/* The value of KEY, or -1. */
long strmap_get(const strmap *m, const char *key);
/* The value of the key PREFIX (a byte; 0: none) followed by the N bytes at
 * S, or -1: a name read out of a text, looked up where it lies. */
long strmap_get_n(const strmap *m, char prefix, const char *s, size_t n);
/* Room for N keys without growing (a map about to take many). */
void strmap_reserve(strmap *m, size_t n);
void strmap_clear(strmap *m);
void strmap_free(strmap *m);

#endif
