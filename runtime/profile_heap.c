/* profile_heap.c - `%%profile --heap`: every allocation charged to its
 * call stack (see prof_record.h).
 *
 * The allocator (alloc.c) calls prof_heap_note for each block a cell
 * allocates, frees or reallocates while a heap profile is on. A site is a
 * distinct stack; it counts allocations, bytes and the bytes still live.
 * Which site a live block belongs to is kept in a table of blocks of its
 * own (an open-addressing hash in mapped memory: nothing here may call
 * malloc), so that a free takes its bytes off the right site. */
#include <string.h>
#include <sys/mman.h>
#include "prof_record.h"
#include "rt.h"

#define BLOCKS ((size_t)1 << 21)    /* live blocks followed at once */

typedef struct { uintptr_t addr; uint32_t site; uint64_t size; } block;

volatile int prof_heap_on;
static block *blocks;
static int lock_word;

static void lock(void) {
    while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&lock_word, __ATOMIC_RELAXED)) __builtin_ia32_pause();
}
static void unlock(void) { __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE); }

static uint64_t hash_words(const uintptr_t *w, int n) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h | 1;
}

/* The site of stack PCS (made if new); -1 when the table is full. */
static long site_of(prof_region *r, const uintptr_t *pcs, int n, uint32_t flags) {
    uint64_t h = hash_words(pcs, n) ^ flags;
    h |= 1;
    for (uint64_t i = h, k = 0; k < PROF_SITES; i++, k++) {
        prof_site *s = &r->sites[i % PROF_SITES];
        if (s->hash == h && s->depth == (uint32_t)n && !memcmp(s->pcs, pcs, (size_t)n * sizeof *pcs))
            return (long)(i % PROF_SITES);
        if (s->hash) continue;
        s->hash = h;
        s->depth = (uint32_t)n;
        s->flags = flags;
        memcpy(s->pcs, pcs, (size_t)n * sizeof *pcs);
        return (long)(i % PROF_SITES);
    }
    return -1;
}

static size_t slot_hash(uintptr_t a) { return (size_t)((a >> 4) * 0x9e3779b97f4a7c15ull >> 43) % BLOCKS; }

static void block_put(uintptr_t a, uint32_t site, uint64_t size) {
    for (size_t i = slot_hash(a), k = 0; k < BLOCKS; i = (i + 1) % BLOCKS, k++)
        if (!blocks[i].addr || blocks[i].addr == a) { blocks[i] = (block){ a, site, size }; return; }
}

/* Take A out (backward-shift deletion keeps probe chains whole). */
static int block_take(uintptr_t a, block *out) {
    size_t i = slot_hash(a);
    for (size_t k = 0; blocks[i].addr != a; i = (i + 1) % BLOCKS, k++)
        if (!blocks[i].addr || k == BLOCKS) return 0;
    *out = blocks[i];
    for (size_t j = (i + 1) % BLOCKS; blocks[j].addr; j = (j + 1) % BLOCKS) {
        size_t home = slot_hash(blocks[j].addr);
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            blocks[i] = blocks[j];
            i = j;
        }
    }
    blocks[i].addr = 0;
    return 1;
}

void prof_heap_note(const void *old, const void *new_block, size_t n, const void *site) {
    prof_region *r = prof_region_get();
    if (!prof_heap_on || !r || !blocks) return;
    uintptr_t pcs[PROF_DEPTH];
    uint32_t flags = 0;
    int depth = new_block ? prof_walk_alloc((uintptr_t)site, pcs, PROF_DEPTH, &flags) : 0;
    for (int i = 0; i < depth; i++) prof_frame_of(pcs[i]);
    lock();
    block b;
    if (old && block_take((uintptr_t)old, &b)) r->sites[b.site].live_bytes -= (int64_t)b.size;
    if (new_block) {
        long s = site_of(r, pcs, depth, flags);
        if (s < 0) {
            r->heap_untracked++;
        } else {
            r->sites[s].allocs++;
            r->sites[s].bytes += n;
            r->sites[s].live_bytes += (int64_t)n;
            block_put((uintptr_t)new_block, (uint32_t)s, n);
        }
    }
    unlock();
}

int prof_heap_reserve(void) {
    if (blocks) return 0;
    void *p = mmap(NULL, BLOCKS * sizeof *blocks, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    blocks = p;
    return 0;
}

void prof_heap_begin(void) {
    prof_region *r = prof_region_get();
    if (!blocks) return;
    r->heap = 1;
    prof_heap_on = 1;
}

/* The table's pages go back: a profile's blocks are not the next one's. */
void prof_heap_end(void) {
    prof_heap_on = 0;
    lock();
    if (blocks) madvise(blocks, BLOCKS * sizeof *blocks, MADV_DONTNEED);
    unlock();
}
