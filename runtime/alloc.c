/* alloc.c - the process's malloc family, counted.
 *
 * The worker defines malloc, free, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc, so every
 * allocation in the process comes here: the cell's own, and those libc
 * makes on its behalf (strdup, fopen, printf's buffers, qsort). Each call
 * goes on to glibc's allocator (__libc_malloc and friends) unchanged: no
 * headers are added to blocks, so memory from either side may be freed by
 * the other. What this file adds is bookkeeping:
 *   - a table of live blocks (address -> requested size, allocating call
 *     site), which gives live bytes exactly and lets nb_where name a block;
 *   - a small ring of recently freed blocks per shard (use after free);
 *   - counters: allocations, frees, bytes, a size histogram, live bytes
 *     and their peak. They run for the whole process; a cell's figures
 *     are differences (measure.c).
 * The table is split in 64 shards by address, each with its own spinlock,
 * so threads rarely wait for each other; its memory comes from mmap, never
 * from malloc. Blocks allocated while the runtime itself works (rt_inside)
 * are marked, and neither they nor their frees are counted.
 *
 * Must not: call anything that may allocate while holding a shard lock. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include "rt.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void __libc_free(void *);

#define SHARD_BITS 6
#define SHARDS (1u << SHARD_BITS)
#define RING 16                        /* recently freed blocks per shard */
#define TABLE_MIN 256                  /* entries in a shard's first table */
#define INTERNAL ((uint64_t)1 << 63)   /* size flag: the runtime's own block */

typedef struct {
    uintptr_t addr;                    /* 0: empty slot */
    uint64_t size;                     /* requested size | INTERNAL */
    const void *site;
} entry;

typedef struct {
    uintptr_t addr;
    size_t size;
    const void *site, *free_site;
} freed;

typedef struct {
    int lock;
    entry *tab;
    size_t cap, used;
    uint64_t allocs, frees, reallocs, alloc_bytes, freed_bytes;
    uint64_t libc_allocs, libc_alloc_bytes, libc_frees;      /* of those, called from libc */
    uint64_t hist[NB_HIST_BUCKETS];
    freed ring[RING];
    unsigned ring_next;
} __attribute__((aligned(64))) shard;

static shard shards[SHARDS];

/* Blocks are recorded only while a cell runs (rt_alloc_track): what the
 * worker allocates between cells is not the cell's, and recording it
 * would write to the table's pages right after each snapshot is forked,
 * a copy-on-write fault each. Frees are always looked up (a read). */
static int tracking;

void rt_alloc_track(int on) { tracking = on; }
static int64_t live_bytes, peak_bytes;
static __thread int inside;

void rt_inside_begin(void) { inside++; }
void rt_inside_end(void) { inside--; }

/* ------------------------------------------------------------ locking */

/* Locked instructions cost some 20 ns each on this kind of virtual
 * machine, four times what glibc's malloc takes: while the process has one
 * thread (glibc keeps the flag; it stays clear once a thread was started)
 * the locks and atomic updates are skipped. */
static inline int threaded(void) { return !__libc_single_threaded; }

static inline void lock(int *l) {
    if (!threaded()) return;
    unsigned spins = 0;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
            if (++spins > 200) sched_yield();
            else __builtin_ia32_pause();
        }
    }
}

static inline void unlock(int *l) {
    if (threaded()) __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* fork() in one thread while another holds a shard lock would leave the
 * child's lock held forever: hold them all across fork. */
static void lock_all(void) {
    if (!threaded()) return;
    for (unsigned i = 0; i < SHARDS; i++) lock(&shards[i].lock);
}
static void unlock_all(void) {
    if (!threaded()) return;
    /* write only what is set: every page written after the worker's fork
     * costs a copy-on-write fault, and single-threaded nothing is locked */
    for (unsigned i = SHARDS; i-- > 0;)
        if (__atomic_load_n(&shards[i].lock, __ATOMIC_RELAXED))
            __atomic_store_n(&shards[i].lock, 0, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void alloc_init(void) {
    pthread_atfork(lock_all, unlock_all, unlock_all);
    /* Bind glibc's functions now: the dynamic linker's lazy resolver would
     * otherwise run (kilobytes of stack) inside the first cell to allocate. */
    __libc_free(__libc_malloc(1));
    __libc_free(__libc_calloc(1, 1));
    __libc_free(__libc_realloc(NULL, 1));
    __libc_free(__libc_memalign(16, 1));
    __libc_free(__libc_valloc(1));
    __libc_free(__libc_pvalloc(1));
}

/* -------------------------------------------------------------- table */

static inline uint64_t mix(uintptr_t a) { return (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull; }
static inline shard *shard_of(uintptr_t a) { return &shards[mix(a) >> (64 - SHARD_BITS)]; }
static inline size_t home(const shard *s, uintptr_t a) { return (size_t)(mix(a) >> 16) & (s->cap - 1); }

static int grow(shard *s) {
    size_t cap = s->cap ? s->cap * 2 : TABLE_MIN;
    entry *t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) return -1;
    entry *old = s->tab;
    size_t oldcap = s->cap;
    s->tab = t;
    s->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].addr) continue;
        size_t j = home(s, old[i].addr);
        while (t[j].addr) j = (j + 1) & (cap - 1);
        t[j] = old[i];
    }
    if (old) munmap(old, oldcap * sizeof *old);
    return 0;
}

/* Lock held. The slot of A, or -1. */
static long find(const shard *s, uintptr_t a) {
    if (!s->cap) return -1;
    for (size_t i = home(s, a);; i = (i + 1) & (s->cap - 1)) {
        if (s->tab[i].addr == a) return (long)i;
        if (!s->tab[i].addr) return -1;
    }
}

/* Lock held. Returns the old entry's size|flags if A was already there
 * (it should not be), else ~0. */
static uint64_t insert(shard *s, uintptr_t a, uint64_t size, const void *site) {
    if ((s->used + 1) * 2 > s->cap && grow(s) < 0 && s->used + 1 >= s->cap) return ~(uint64_t)0;
    size_t i = home(s, a);
    while (s->tab[i].addr && s->tab[i].addr != a) i = (i + 1) & (s->cap - 1);
    uint64_t old = ~(uint64_t)0;
    if (s->tab[i].addr) old = s->tab[i].size;
    else s->used++;
    s->tab[i] = (entry){ a, size, site };
    return old;
}

/* Lock held. Remove slot I (backward-shift deletion keeps probing exact). */
static void remove_at(shard *s, size_t i) {
    size_t mask = s->cap - 1;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!s->tab[j].addr) break;
        size_t k = home(s, s->tab[j].addr);
        /* can the entry at J move to the hole at I? */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            s->tab[i] = s->tab[j];
            i = j;
        }
    }
    s->tab[i].addr = 0;
    s->used--;
}

static inline unsigned bucket(size_t n) {
    unsigned b = n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return b < NB_HIST_BUCKETS ? b : NB_HIST_BUCKETS - 1;
}

static inline void live_add(int64_t d) {
    if (!threaded()) {
        live_bytes += d;
        if (live_bytes > peak_bytes) peak_bytes = live_bytes;
        return;
    }
    int64_t now = __atomic_add_fetch(&live_bytes, d, __ATOMIC_RELAXED);
    if (d <= 0) return;
    int64_t p = __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED);
    while (now > p && !__atomic_compare_exchange_n(&peak_bytes, &p, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

/* ---------------------------------------------------------- bookkeeping */

static void note_alloc(void *p, size_t n, const void *site, int is_realloc) {
    if (!tracking) return;
    uintptr_t a = (uintptr_t)p;
    shard *s = shard_of(a);
    int internal = inside > 0;
    lock(&s->lock);
    uint64_t old = insert(s, a, n | (internal ? INTERNAL : 0), site);
    if (!internal) {
        s->allocs++;
        s->alloc_bytes += n;
        s->reallocs += (uint64_t)is_realloc;
        s->hist[bucket(n)]++;
        if (rt_from_libc(site)) { s->libc_allocs++; s->libc_alloc_bytes += n; }
    }
    unlock(&s->lock);
    int64_t d = internal ? 0 : (int64_t)n;
    if (old != ~(uint64_t)0 && !(old & INTERNAL)) d -= (int64_t)old;   /* a stale entry */
    if (d) live_add(d);
}

/* Take A out of the table. Returns its size|flags, or ~0 if unknown. The
 * free is counted (if the block was) and remembered in the ring when
 * COUNT. */
static uint64_t note_free(void *p, const void *site, int count, const void **alloc_site) {
    uintptr_t a = (uintptr_t)p;
    shard *s = shard_of(a);
    lock(&s->lock);
    long i = find(s, a);
    if (i < 0) { unlock(&s->lock); return ~(uint64_t)0; }
    entry e = s->tab[i];
    if (alloc_site) *alloc_site = e.site;
    remove_at(s, (size_t)i);
    if (count) {
        if (!(e.size & INTERNAL)) {
            s->frees++;
            s->freed_bytes += e.size;
            s->libc_frees += (uint64_t)rt_from_libc(site);
            /* the runtime's own blocks are no answer to nb_where */
            s->ring[s->ring_next++ % RING] = (freed){ a, (size_t)e.size, e.site, site };
        }
    }
    unlock(&s->lock);
    if (count && !(e.size & INTERNAL)) live_add(-(int64_t)e.size);
    return e.size;
}

/* ------------------------------------------------------ the malloc family */

#define SITE __builtin_extract_return_addr(__builtin_return_address(0))

/* The size of the last request that failed, for the crash report: a cell
 * that runs into the memory limit usually dies on the NULL it got. */
static volatile size_t failed_size;

size_t nb_internal_failed_alloc(int reset) {
    size_t n = failed_size;
    if (reset) failed_size = 0;
    return n;
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) note_alloc(p, n, SITE, 0);
    else if (n) failed_size = n;
    return p;
}

void free(void *p) {
    if (!p) return;
    note_free(p, SITE, 1, NULL);
    __libc_free(p);
}

void *calloc(size_t k, size_t n) {
    void *p = __libc_calloc(k, n);
    if (p) note_alloc(p, k * n, SITE, 0);
    else if (k && n) failed_size = k * n;
    return p;
}

static void *do_realloc(void *p, size_t n, const void *site) {
    if (!p) {
        void *q = __libc_malloc(n);
        if (q) note_alloc(q, n, site, 0);
        return q;
    }
    if (n == 0) {                      /* glibc: frees P, returns NULL */
        note_free(p, site, 1, NULL);
        __libc_free(p);
        return NULL;
    }
    /* Out of the table before glibc may hand P to another thread. */
    const void *old_site = NULL;
    uint64_t old = note_free(p, site, 0, &old_site);
    void *q = __libc_realloc(p, n);
    if (!q) {
        failed_size = n;
        if (old != ~(uint64_t)0) {     /* P is untouched: put it back */
            shard *s = shard_of((uintptr_t)p);
            lock(&s->lock);
            insert(s, (uintptr_t)p, old, old_site);
            unlock(&s->lock);
        }
        return NULL;
    }
    /* Count the free of the old block, then the new allocation. */
    if (!tracking) return q;
    shard *s = shard_of((uintptr_t)q);
    int counted = old != ~(uint64_t)0 && !(old & INTERNAL);
    size_t oldsize = old == ~(uint64_t)0 ? 0 : (size_t)(old & ~INTERNAL);
    lock(&s->lock);
    if (counted) {
        s->frees++;
        s->freed_bytes += oldsize;
        s->libc_frees += (uint64_t)rt_from_libc(site);
    }
    if (q != p && old != ~(uint64_t)0) s->ring[s->ring_next++ % RING] = (freed){ (uintptr_t)p, oldsize, old_site, site };
    unlock(&s->lock);
    if (counted) live_add(-(int64_t)oldsize);
    note_alloc(q, n, site, 1);
    return q;
}

void *realloc(void *p, size_t n) { return do_realloc(p, n, SITE); }

void *reallocarray(void *p, size_t k, size_t n) {
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, total, SITE);
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (align % sizeof(void *) || (align & (align - 1)) || !align) return EINVAL;
    int saved = errno;
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    errno = saved;
    note_alloc(p, n, SITE, 0);
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    void *p = __libc_memalign(align, n);
    if (p) note_alloc(p, n, SITE, 0);
    return p;
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    if (p) note_alloc(p, n, SITE, 0);
    return p;
}

void *valloc(size_t n) {
    void *p = __libc_valloc(n);
    if (p) note_alloc(p, n, SITE, 0);
    return p;
}

void *pvalloc(size_t n) {
    void *p = __libc_pvalloc(n);
    if (p) note_alloc(p, n, SITE, 0);
    return p;
}

/* ----------------------------------------------------------- read back */

void rt_alloc_totals_get(rt_alloc_totals *t, int with_hist) {
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        t->allocs += __atomic_load_n(&s->allocs, __ATOMIC_RELAXED);
        t->frees += __atomic_load_n(&s->frees, __ATOMIC_RELAXED);
        t->reallocs += __atomic_load_n(&s->reallocs, __ATOMIC_RELAXED);
        t->alloc_bytes += __atomic_load_n(&s->alloc_bytes, __ATOMIC_RELAXED);
        t->freed_bytes += __atomic_load_n(&s->freed_bytes, __ATOMIC_RELAXED);
        t->libc_allocs += __atomic_load_n(&s->libc_allocs, __ATOMIC_RELAXED);
        t->libc_alloc_bytes += __atomic_load_n(&s->libc_alloc_bytes, __ATOMIC_RELAXED);
        t->libc_frees += __atomic_load_n(&s->libc_frees, __ATOMIC_RELAXED);
        if (with_hist)
            for (unsigned b = 0; b < NB_HIST_BUCKETS; b++) t->hist[b] += __atomic_load_n(&s->hist[b], __ATOMIC_RELAXED);
    }
    t->live = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    t->peak = __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED);
}

int64_t rt_alloc_mark_peak(void) {
    int64_t now = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_bytes, now, __ATOMIC_RELAXED);
    return now;
}

static int holds(uintptr_t lo, size_t size, uintptr_t p) {
    return p == lo || (p > lo && p - lo < size);
}

int rt_alloc_find(const void *ptr, rt_block *b) {
    uintptr_t p = (uintptr_t)ptr;
    memset(b, 0, sizeof *b);
    /* the common case: the start of a block */
    shard *s = shard_of(p);
    lock(&s->lock);
    long i = find(s, p);
    if (i >= 0) {
        *b = (rt_block){ (const void *)p, (size_t)(s->tab[i].size & ~INTERNAL), s->tab[i].site, NULL };
        unlock(&s->lock);
        return 1;
    }
    unlock(&s->lock);
    /* inside a block: look through every shard */
    int found = 0;
    for (unsigned k = 0; k < SHARDS && !found; k++) {
        s = &shards[k];
        lock(&s->lock);
        for (size_t j = 0; j < s->cap; j++) {
            const entry *e = &s->tab[j];
            if (e->addr && holds(e->addr, (size_t)(e->size & ~INTERNAL), p)) {
                *b = (rt_block){ (const void *)e->addr, (size_t)(e->size & ~INTERNAL), e->site, NULL };
                found = 1;
                break;
            }
        }
        unlock(&s->lock);
    }
    if (found) return 1;
    /* recently freed: the newest match wins */
    unsigned best_age = ~0u;
    for (unsigned k = 0; k < SHARDS; k++) {
        s = &shards[k];
        lock(&s->lock);
        for (unsigned r = 1; r <= RING && r <= s->ring_next; r++) {
            const freed *f = &s->ring[(s->ring_next - r) % RING];
            if (f->addr && holds(f->addr, f->size, p) && r < best_age) {
                best_age = r;
                *b = (rt_block){ (const void *)f->addr, f->size, f->site, f->free_site };
                found = 2;
                break;
            }
        }
        unlock(&s->lock);
    }
    return found;
}
