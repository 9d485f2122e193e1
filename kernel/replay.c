/* replay.c - the signatures seen last: a ring in arrival order (the oldest
 * is overwritten first) and an open-addressing hash table of ring slots. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"

#define SIG_MAX 64                       /* hex HMAC-SHA256 */
#define TABLE_SIZE (2 * REPLAY_HISTORY)  /* load factor at most 1/2 */
#define EMPTY 0                          /* the table holds ring index + 1 */

typedef struct { unsigned char sig[SIG_MAX]; uint8_t len; } entry;

struct replay_set {
    entry *ring;        /* REPLAY_HISTORY entries; calloc'd: pages come as used */
    uint32_t *table;    /* TABLE_SIZE ring indices + 1, or EMPTY; calloc'd too */
    uint32_t next, count;
};

replay_set *replay_new(void) {
    replay_set *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->ring = calloc(REPLAY_HISTORY, sizeof *r->ring);
    r->table = calloc(TABLE_SIZE, sizeof *r->table);
    if (!r->ring || !r->table) { replay_free(r); return NULL; }
    return r;
}

void replay_free(replay_set *r) {
    if (!r) return;
    free(r->ring);
    free(r->table);
    free(r);
}

static uint32_t hash(const unsigned char *s, size_t len) {   /* FNV-1a */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

static int same(const entry *e, const unsigned char *sig, size_t len) {
    return e->len == len && memcmp(e->sig, sig, len) == 0;
}

/* The table slot holding ring index I (which must be there). */
static uint32_t slot_of(const replay_set *r, uint32_t i) {
    uint32_t s = hash(r->ring[i].sig, r->ring[i].len) % TABLE_SIZE;
    while (r->table[s] != i + 1) s = (s + 1) % TABLE_SIZE;
    return s;
}

/* Take ring index I out of the table, moving later entries of its probe
 * run back so every lookup still finds them (deletion without tombstones). */
static void table_remove(replay_set *r, uint32_t i) {
    uint32_t hole = slot_of(r, i), s = hole;
    r->table[hole] = EMPTY;
    for (;;) {
        s = (s + 1) % TABLE_SIZE;
        if (r->table[s] == EMPTY) return;
        uint32_t j = r->table[s] - 1;
        uint32_t home = hash(r->ring[j].sig, r->ring[j].len) % TABLE_SIZE;
        /* J may move into the hole if its home is not between hole and s */
        int stays = hole <= s ? (home > hole && home <= s) : (home > hole || home <= s);
        if (!stays) { r->table[hole] = j + 1; r->table[s] = EMPTY; hole = s; }
    }
}

int replay_seen(replay_set *r, const unsigned char *sig, size_t len) {
    if (!r) return -1;
    if (len > SIG_MAX) len = SIG_MAX;
    uint32_t s = hash(sig, len) % TABLE_SIZE;
    for (; r->table[s] != EMPTY; s = (s + 1) % TABLE_SIZE)
        if (same(&r->ring[r->table[s] - 1], sig, len)) return 1;
    uint32_t i = r->next;
    if (r->count == REPLAY_HISTORY) {        /* full: forget the oldest */
        table_remove(r, i);
        s = hash(sig, len) % TABLE_SIZE;     /* the removal may have moved slots */
        while (r->table[s] != EMPTY) s = (s + 1) % TABLE_SIZE;
    } else {
        r->count++;
    }
    memcpy(r->ring[i].sig, sig, len);
    r->ring[i].len = (uint8_t)len;
    r->table[s] = i + 1;
    r->next = (i + 1) % REPLAY_HISTORY;
    return 0;
}
