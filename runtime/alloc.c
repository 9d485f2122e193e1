/* alloc.c - the process's malloc family, counted and guarded.
 *
 * The worker defines malloc, free, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc and
 * malloc_usable_size, so every allocation in the process comes here: the
 * cell's own, and those libc makes on its behalf (strdup, fopen, printf's
 * buffers, qsort). Each goes on to glibc's allocator (__libc_malloc and
 * friends) for a little more room:
 *   - a 32-byte header before the block (header, below): the requested
 *     size and flags, the allocating call site, the block's slot in the
 *     live list, its distance from glibc's block, a word for a helper, and
 *     a tag (from TAG and the address) that tells our blocks from any
 *     other pointer handed to free;
 *   - 16 guard bytes after its last byte, checked when it is freed or
 *     reallocated and, for every live block, when a cell ends
 *     (nb_internal_heap_check): a write past the end is caught in the cell
 *     that made it, and ends that cell as a crash does.
 * Blocks allocated while a cell runs are also kept in a dense live list
 * (the header holds the slot; free swaps the last entry in), which gives
 * nb_where its blocks and the cell-end check its work. Counters (
 * allocations, frees, bytes, a size histogram, live bytes and their peak)
 * run for the whole process; a cell's figures are differences
 * (measure.c). A small ring remembers recently freed blocks (use after
 * free, double free). Blocks allocated while the runtime itself works
 * (rt_inside) are marked, and neither they nor their frees are counted.
 *
 * Speed (README, Speed): the header replaces a hash table of live blocks,
 * which cost about twice glibc's own malloc+free. While the process has
 * one thread nothing is locked, and small blocks are freed into a cache
 * of our own and handed out again, as glibc's tcache does (the block
 * cache, below): malloc+free then skips glibc's calls, which pays for the
 * bookkeeping. Once a thread was started, one spinlock guards the list and
 * the counters, and blocks go back to glibc.
 *
 * Must not: call anything that may allocate while holding the lock. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <unistd.h>
#include "checked.h"
#include "nb_internal.h"
#include "prof_record.h"
#include "rt.h"

/* %%profile --heap (profile_heap.c): each cell block charged to its stack. */
#define HEAP_PROFILE(old, new, n, site) \
    do { if (__builtin_expect(prof_heap_on, 0)) prof_heap_note(old, new, n, site); } while (0)

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define HDR 32
#define GUARD 16
#define TAG 0x6e6b636b616c6c63ull           /* "ckkernel-ish": any odd pattern */
#define FREED_TAG 0x6465657266216b63ull
#define NO_SLOT 0xffffffffu
#define INTERNAL ((uint64_t)1 << 63)        /* size flag: the runtime's own block */
#define TRACKED ((uint64_t)1 << 62)         /* size flag: allocated while a cell ran */
#define REPORTED ((uint64_t)1 << 61)        /* size flag: reported as a leak once (leaks.c) */
#define CACHEABLE ((uint64_t)1 << 60)       /* size flag: glibc's block holds the size rounded up to 16 */
#define SIZE_MASK (CACHEABLE - 1)
#define RING 64                             /* recently freed blocks remembered */
#define G0 0xfdfdfdfd5aa5c33cull            /* the guard's two words */
#define G1 0x3cc3a55afdfdfdfdull

/* The block record. Room for more per block: flag bits in SIZE (below
 * CACHEABLE's, above any size), and EXTRA, 32 bits for one helper's datum
 * (a heap profile's stack id, a checked cell's state); SITE, the
 * allocating call's return address, names the block for every report. */
typedef struct {
    uint64_t size;                          /* requested | flags */
    const void *site;                       /* return address of the allocating call (cached: the next) */
    uint32_t slot;                          /* in the live list, or NO_SLOT */
    uint32_t offset;                        /* from glibc's block to ours */
    uint32_t extra;                         /* 0, unless a helper sets it */
    uint32_t tag;                           /* tag_of(TAG, address); tag_of(FREED_TAG, ...) once freed */
} header;
_Static_assert(sizeof(header) == HDR, "the header keeps blocks 16-byte aligned");

/* A freed block remembered. ADDR is kept as addr ^ HIDDEN, which is no
 * pointer: the leak scan reads the runtime's data for pointers, and a
 * freed block's address, reused by a new block, would keep it alive. */
typedef struct {
    uintptr_t addr;
    size_t size;
    const void *site, *free_site;
} freed;
#define HIDDEN ((uintptr_t)0xa5a5000000000000ull)

static struct {
    int lock;
    uintptr_t *live;                        /* tracked live blocks */
    size_t nlive, cap;
    uint64_t allocs, frees, reallocs, alloc_bytes, freed_bytes;
    uint64_t libc_allocs, libc_alloc_bytes, libc_frees;      /* of those, called from libc */
    uint64_t hist[NB_HIST_BUCKETS];
    int64_t peak_bytes;                     /* of alloc_bytes - freed_bytes */
    freed ring[RING];
    unsigned ring_next;
} A;

/* Blocks are listed only while a cell runs (rt_alloc_track): what the
 * worker allocates between cells is not the cell's, and listing it would
 * write to the list's pages right after each snapshot is forked, a
 * copy-on-write fault each. */
static int tracking;
static __thread int inside;

void rt_alloc_track(int on) {
    tracking = on;
    if (on) rt_protect_reset();          /* the cell's mprotect calls, for the end-of-cell check */
}
int rt_alloc_tracking(void) { return tracking; }
void rt_inside_begin(void) { inside++; }
void rt_inside_end(void) { inside--; }

/* ------------------------------------------------------------ locking */

/* Locked instructions cost some 20 ns each on this kind of virtual
 * machine, more than glibc's malloc takes: while the process has one
 * thread (glibc keeps the flag; it stays clear once a thread was started)
 * nothing is locked. */
static inline int threaded(void) { return !__libc_single_threaded; }

static inline void lock(void) {
    if (!threaded()) return;
    unsigned spins = 0;
    while (__atomic_exchange_n(&A.lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&A.lock, __ATOMIC_RELAXED)) {
            if (++spins > 200) sched_yield();
            else __builtin_ia32_pause();
        }
    }
}

static inline void unlock(void) {
    if (threaded()) __atomic_store_n(&A.lock, 0, __ATOMIC_RELEASE);
}

/* fork() in one thread while another holds the lock would leave the
 * child's lock held forever: hold it across fork. */
static void before_fork(void) { lock(); }
static void after_fork(void) {
    /* write only if set: every page written after the worker's fork costs
     * a copy-on-write fault */
    if (__atomic_load_n(&A.lock, __ATOMIC_RELAXED)) __atomic_store_n(&A.lock, 0, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void alloc_init(void) {
    pthread_atfork(before_fork, after_fork, after_fork);
    /* Bind glibc's functions now: the dynamic linker's lazy resolver would
     * otherwise run (kilobytes of stack) inside the first cell to allocate. */
    __libc_free(__libc_malloc(1));
    __libc_free(__libc_calloc(1, 1));
    __libc_free(__libc_realloc(NULL, 1));
    __libc_free(__libc_memalign(64, 1));
}

/* ------------------------------------------------------- blocks' parts */

static inline header *hdr(const void *p) { return (header *)((char *)p - HDR); }
/* The low half of TAG ^ P: never 0 (TAG's low bits are odd, P's even),
 * where glibc's own blocks hold 0 (the high half of their size). */
static inline uint32_t tag_of(uint64_t tag, const void *p) { return (uint32_t)(tag ^ (uintptr_t)p); }
static inline int ours(const void *p) { return hdr(p)->tag == tag_of(TAG, p); }
static inline size_t size_of(const header *h) { return (size_t)(h->size & SIZE_MASK); }

/* Two 8-byte stores, read back as two 8-byte loads: a 16-byte store read
 * in halves is not forwarded on this kind of CPU (a stall of some 15
 * cycles, as long as all the bookkeeping). */
static inline void guard_put(char *end) {
    uint64_t g0 = G0, g1 = G1;
    memcpy(end, &g0, 8);
    __asm__ volatile("" ::: "memory");      /* keep the stores apart */
    memcpy(end + 8, &g1, 8);
}

/* How many of the guard bytes at END differ from the pattern. */
static __attribute__((noinline)) int guard_changed(const unsigned char *end) {
    uint64_t want[2] = { G0, G1 };
    const unsigned char *w = (const unsigned char *)want;
    int last = 0;
    for (int i = 0; i < GUARD; i++)
        if (end[i] != w[i]) last = i + 1;
    return last;
}

/* How many guard bytes after P's block were changed (0: intact). */
static inline int guard_damage(const void *p, const header *h) {
    const char *end = (const char *)p + size_of(h);
    uint64_t g0, g1;
    memcpy(&g0, end, 8);
    __asm__ volatile("" ::: "memory");      /* two loads, as stored */
    memcpy(&g1, end + 8, 8);
    if (__builtin_expect(g0 == G0 && g1 == G1, 1)) return 0;
    return guard_changed((const unsigned char *)end);
}

static inline unsigned bucket(size_t n) {
    unsigned b = n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return b < NB_HIST_BUCKETS ? b : NB_HIST_BUCKETS - 1;
}

/* ---------------------------------------------------------- the live list */

static int list_grow(void) {
    size_t cap = A.cap ? A.cap * 2 : 4096;
    uintptr_t *v = A.live ? mremap(A.live, A.cap * sizeof *v, cap * sizeof *v, MREMAP_MAYMOVE)
                          : mmap(NULL, cap * sizeof *v, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED) return -1;
    A.live = v;
    A.cap = cap;
    return 0;
}

/* Lock held. */
static inline void list_add(uintptr_t p, header *h) {
    if (A.nlive == A.cap && list_grow() < 0) { h->slot = NO_SLOT; return; }
    h->slot = (uint32_t)A.nlive;
    A.live[A.nlive++] = p;
}

/* Lock held. */
static inline void list_remove(header *h) {
    uint32_t i = h->slot;
    if (i == NO_SLOT || i >= A.nlive) return;
    uintptr_t last = A.live[--A.nlive];
    if (i < A.nlive) {
        A.live[i] = last;
        hdr((void *)last)->slot = i;
    }
    h->slot = NO_SLOT;
}

/* ---------------------------------------------------------- bookkeeping */

/* Lock held. Counts an allocation of N bytes (if it is the cell's). Live
 * bytes are alloc_bytes - freed_bytes: both count the same blocks. */
static inline void count_alloc(size_t n, int internal, int is_realloc, const void *site) {
    if (internal) return;
    A.allocs++;
    A.alloc_bytes += n;
    if (rt_from_libc(site)) { A.libc_allocs++; A.libc_alloc_bytes += n; }
    A.reallocs += (uint64_t)is_realloc;
    A.hist[bucket(n)]++;
    int64_t live = (int64_t)(A.alloc_bytes - A.freed_bytes);
    if (live > A.peak_bytes) A.peak_bytes = live;
}

/* Make glibc's block BASE ours: the block starts OFFSET bytes in. Each
 * header field is written once (a field written twice, or a 16-byte store
 * read in halves, stalls the next load of it). */
#define INLINE static inline __attribute__((always_inline))

/* LOCKING 0: the caller knows the process has one thread. */
INLINE void *adopt_as(char *base, size_t offset, size_t n, const void *site, int is_realloc,
                      uint64_t flags, int locking) {
    char *p = base + offset;
    header *h = hdr(p);
    int internal = inside > 0, track = tracking;
    h->size = n | flags | (internal ? INTERNAL : 0) | (track ? TRACKED : 0);
    h->site = site;
    h->offset = (uint32_t)offset;
    h->extra = 0;
    h->tag = tag_of(TAG, p);
    guard_put(p + n);
    if (__builtin_expect(rt_checking, 0)) rt_checked_alloc(p, n, site);    /* %%check */
    if (!track) {
        h->slot = NO_SLOT;
        return p;
    }
    if (locking) lock();
    list_add((uintptr_t)p, h);
    count_alloc(n, internal, is_realloc, site);
    if (locking) unlock();
    if (!internal) HEAP_PROFILE(NULL, p, n, site);
    return p;
}

INLINE void *adopt(char *base, size_t offset, size_t n, const void *site, int is_realloc, uint64_t flags) {
    return adopt_as(base, offset, n, site, is_realloc, flags, 1);
}

/* Take P's tracked block out of the books and remember it as freed
 * (untracked blocks are the worker's, freed between cells: writing here
 * then would cost a copy-on-write fault). */
INLINE void forget(const void *p, header *h, const void *site, int locking) {
    if (!(h->size & TRACKED)) return;
    size_t n = size_of(h);
    if (!(h->size & INTERNAL)) HEAP_PROFILE(p, NULL, 0, site);
    if (locking) lock();
    list_remove(h);
    if (!(h->size & INTERNAL)) {
        A.frees++;
        A.freed_bytes += n;
        A.libc_frees += (uint64_t)rt_from_libc(site);
        /* the runtime's own blocks are no answer to nb_where */
        A.ring[A.ring_next++ % RING] = (freed){ (uintptr_t)p ^ HIDDEN, n, h->site, site };
    }
    if (locking) unlock();
}

/* --------------------------------------------------------- heap damage */

static char damage[600];
static const void *damage_site;
static const char *damage_label = "The block was allocated at:";

const char *nb_internal_heap_damage(const void **site) {
    if (site) *site = damage_site;
    return damage[0] ? damage : NULL;
}

const char *nb_internal_heap_damage_label(void) { return damage_label; }

static void describe_block(char *out, size_t n, const void *p, size_t size, const void *site) {
    char where[160];
    rt_code_name(site, where, sizeof where);
    snprintf(out, n, "the block of %zu B at %p, allocated in %s", size, p, *where ? where : "?");
}

/* A corrupted heap ends the cell as a crash does (crash.c reads DAMAGE):
 * the snapshot from before the cell takes over. */
__attribute__((noreturn)) static void heap_damaged(void) {
    abort();
}

static __attribute__((noreturn)) void overflow_found(const void *p, const header *h, int bytes, const char *when) {
    char block[300];
    damage_site = h->site;
    describe_block(block, sizeof block, p, size_of(h), h->site);
    snprintf(damage, sizeof damage,
             "a write past the end of %s: %s%d byte%s after its end %s overwritten (found %s)",
             block, bytes == GUARD ? "at least " : "", bytes, bytes == 1 ? "" : "s",
             bytes == 1 ? "was" : "were", when);
    heap_damaged();
}

static inline void check_block(const void *p, const header *h, const char *when) {
    int bytes = guard_damage(p, h);
    if (__builtin_expect(bytes != 0, 0)) overflow_found(p, h, bytes, when);
}

/* P was freed before (its header says so): a double free. */
static __attribute__((noreturn)) void double_free(const void *p, const char *what) {
    char block[300] = "a block", fsite[160] = "?";
    for (unsigned r = 1; r <= RING && r <= A.ring_next; r++) {
        const freed *f = &A.ring[(A.ring_next - r) % RING];
        if ((f->addr ^ HIDDEN) != (uintptr_t)p) continue;
        describe_block(block, sizeof block, p, f->size, f->site);
        rt_code_name(f->free_site, fsite, sizeof fsite);
        damage_site = f->site;
        break;
    }
    snprintf(damage, sizeof damage, "%s of a block already freed (double free): %s, freed before in %s",
             what, block, fsite);
    heap_damaged();
}

static inline int was_freed(const void *p) { return hdr(p)->tag == tag_of(FREED_TAG, p); }

/* The cell's mprotect call N left PART at AT (of BLOCK, if set) without
 * reading or writing: say so, and end the cell as a crash (the snapshot
 * has the pages as they were). */
static __attribute__((noreturn)) void bookkeeping_protected(const rt_protect_note *n, const char *part,
                                                            uintptr_t at, const void *block) {
    char whose[320] = "the heap";
    int prot = n->prot;
    /* the cell ends here: the pages may be opened again to read the header */
    if (block && mprotect((void *)n->lo, n->hi - n->lo, prot | PROT_READ | PROT_WRITE) == 0) {
        const header *h = hdr(block);
        char described[300];
        describe_block(described, sizeof described, block, size_of(h), h->site);
        snprintf(whose, sizeof whose, "the bookkeeping of %s", described);
    } else if (block) {
        snprintf(whose, sizeof whose, "the bookkeeping of the block at %p", block);
    }
    snprintf(damage, sizeof damage,
             "the cell made %s%s %s: mprotect(%p, %lu, %s) covers %s at 0x%lx, which malloc, free "
             "and the end-of-cell check read and write (found when the cell ended)",
             whose, block ? "," : "", prot & PROT_READ ? "read-only" : "unreadable", (void *)n->lo,
             (unsigned long)(n->hi - n->lo), rt_protect_name(prot), part, (unsigned long)at);
    damage_site = n->site;
    damage_label = "The mprotect call was at:";
    heap_damaged();
}

/* Is [LO, HI) within the payload of one of the cell's live blocks? */
static int inside_a_block(uintptr_t lo, uintptr_t hi) {
    for (size_t i = 0; i < A.nlive; i++)
        if (lo >= A.live[i] && hi <= A.live[i] + size_of(hdr((void *)A.live[i]))) return 1;
    return 0;
}

/* Before any header is read: did the cell's mprotect calls leave a live
 * block's header or guard, or malloc's heap, unreadable or read-only? */
static void check_protections(void) {
    for (size_t i = 0; i < A.nlive; i++) {
        const char *p = (const char *)A.live[i];
        const rt_protect_note *n = rt_protect_denied((uintptr_t)hdr(p), (uintptr_t)p);
        if (n) bookkeeping_protected(n, "its header", (uintptr_t)hdr(p), p);
        uintptr_t end = (uintptr_t)p + size_of(hdr(p));
        if ((n = rt_protect_denied(end, end + GUARD))) bookkeeping_protected(n, "its guard bytes", end, p);
    }
    /* the rest of the heap: glibc's own records and the worker's blocks
     * (pages inside one of the cell's blocks are the cell's business) */
    uintptr_t lo, hi;
    const rt_protect_note *v;
    unsigned nv = rt_protect_notes(&v);
    for (unsigned i = 0; i < nv && rt_protect_brk_heap(&lo, &hi) == 0; i++) {
        uintptr_t a = v[i].lo > lo ? v[i].lo : lo, b = v[i].hi < hi ? v[i].hi : hi;
        const rt_protect_note *n = a < b ? rt_protect_denied(a, b) : NULL;
        if (n && !inside_a_block(a, b))
            bookkeeping_protected(n, "malloc's own records or the worker's data", a, NULL);
    }
}

int nb_internal_heap_check(void) {
    if (rt_protect_taken()) check_protections();
    lock();
    for (size_t i = 0; i < A.nlive; i++) {
        const void *p = (const void *)A.live[i];
        int bytes = guard_damage(p, hdr(p));
        if (bytes) {
            unlock();
            overflow_found(p, hdr(p), bytes, "when the cell ended");
        }
    }
    unlock();
    return 0;
}

/* ----------------------------------------------------- the block cache
 *
 * glibc's malloc+free of a small block is a few dozen instructions (its
 * tcache); ours adds the header, the guard, the list and the counters.
 * To stay near glibc's cost, freed small blocks are kept as glibc's
 * tcache keeps them: per thread, last in first out, at most CACHE_DEPTH
 * of each 16-byte size class, and handed out again without a call into
 * glibc. A cached block is freed as far as every count, the list, the
 * guard check and the double-free check go (its header says freed); only
 * glibc has not seen the free yet. Blocks of malloc up to CACHE_MAX bytes
 * are asked of glibc with their size rounded up to 16 (CACHEABLE), so any
 * block of a class fits any size of it. While the process has threads
 * the cache is not used (and a thread's leftover blocks go back to glibc),
 * so it needs no lock. */

#define CACHE_MAX 1024
#define CACHE_CLASSES (CACHE_MAX / 16 + 1)
#define CACHE_DEPTH 7

static __thread struct {
    header *top[CACHE_CLASSES];             /* linked through the headers' SITE */
    unsigned char count[CACHE_CLASSES];
    int used;                               /* set once a block was kept: drain() has work */
} cache;

static __attribute__((noinline)) void cache_drain(void) {
    for (size_t c = 0; c < CACHE_CLASSES; c++) {
        while (cache.top[c]) {
            header *h = cache.top[c];
            cache.top[c] = (header *)(uintptr_t)h->site;
            __libc_free(h);
        }
        cache.count[c] = 0;
    }
    cache.used = 0;
}

/* The cache's top block of class C, or NULL. One thread only. */
INLINE header *cache_pop(size_t c) {
    header *h = cache.top[c];
    if (!h) return NULL;
    cache.top[c] = (header *)(uintptr_t)h->site;
    cache.count[c]--;
    return h;
}

/* Keep the freed block whose header is H (glibc's block starts there) in
 * class C: 1, or 0 if the class is full. One thread only. */
INLINE int cache_push(header *h, size_t c) {
    if (cache.count[c] >= CACHE_DEPTH) return 0;
    h->site = cache.top[c];
    cache.top[c] = h;
    cache.count[c]++;
    if (__builtin_expect(!cache.used, 0)) cache.used = 1;
    return 1;
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

static inline int too_big(size_t n, size_t extra) {
    if (n <= SIZE_MAX - extra) return 0;
    failed_size = n;
    errno = ENOMEM;
    return 1;
}

/* glibc's block for a small block of N bytes (N <= CACHE_MAX, rounded up
 * to 16), from the cache if ONE_THREAD; NULL if there is no memory. */
INLINE char *small_block(size_t n, int one_thread) {
    size_t c = (n + 15) >> 4;
    header *h = NULL;
    if (one_thread) h = cache_pop(c);
    else if (cache.used) cache_drain();     /* threads now: the cache goes back to glibc */
    if (!h) h = __libc_malloc((c << 4) + HDR + GUARD);
    if (__builtin_expect(!h, 0)) failed_size = n ? n : 1;
    return (char *)h;
}

/* Everything but a small block in a process of one thread (malloc). */
static __attribute__((noinline)) void *do_malloc(size_t n, const void *site) {
    if (n <= CACHE_MAX) {
        char *base = small_block(n, !threaded());
        return base ? adopt(base, HDR, n, site, 0, CACHEABLE) : NULL;
    }
    if (too_big(n, HDR + GUARD)) return NULL;
    char *base = __libc_malloc(n + HDR + GUARD);
    if (__builtin_expect(!base, 0)) { failed_size = n ? n : 1; return NULL; }
    return adopt(base, HDR, n, site, 0, 0);
}

/* Free our block P (header H): checked, counted, then cached (ONE_THREAD:
 * the caller knows the process has one thread; nothing is locked) or
 * given back to glibc. */
INLINE void release(void *p, header *h, const void *site, int one_thread) {
    check_block(p, h, "when it was freed");
    forget(p, h, site, !one_thread);
    h->tag = tag_of(FREED_TAG, p);
    if (__builtin_expect(rt_checking, 0) && rt_checked_keep(p, (char *)p - h->offset, site)) return;
    if (one_thread && (h->size & CACHEABLE) && cache_push(h, (size_of(h) + 15) >> 4)) return;
    __libc_free((char *)p - h->offset);
}

static __attribute__((noinline)) void do_free(void *p, const void *site) {
    if (__builtin_expect(!ours(p), 0)) {
        if (was_freed(p)) double_free(p, "free()");
        __libc_free(p);                /* not ours: glibc's to judge */
        return;
    }
    release(p, hdr(p), site, 0);
}

/* The usual case is kept short: one thread, a small block. */
void *malloc(size_t n) {
    if (__builtin_expect(n > CACHE_MAX || threaded(), 0)) return do_malloc(n, SITE);
    char *base = small_block(n, 1);
    return base ? adopt_as(base, HDR, n, SITE, 0, CACHEABLE, 0) : NULL;
}

void free(void *p) {
    if (!p) return;
    if (__builtin_expect(rt_checking, 0)) rt_checked_free(p, SITE);         /* %%check */
    if (__builtin_expect(ours(p) && !threaded(), 1)) release(p, hdr(p), SITE, 1);
    else do_free(p, SITE);
}

void *calloc(size_t k, size_t n) {
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        failed_size = SIZE_MAX;
        errno = ENOMEM;
        return NULL;
    }
    if (too_big(total, HDR + GUARD)) return NULL;
    char *base = __libc_calloc(1, total + HDR + GUARD);
    if (!base) { failed_size = total ? total : 1; return NULL; }
    void *p = adopt(base, HDR, total, SITE, 0, 0);
    if (__builtin_expect(rt_checking, 0)) rt_checked_zeroed(p);           /* %%check */
    return p;
}

/* An aligned block: ALIGN above 16 puts the block ALIGN bytes into glibc's
 * (the header just before it). */
static void *do_aligned(size_t align, size_t n, const void *site) {
    if (align <= 16) return do_malloc(n, site);
    if (align > UINT32_MAX || too_big(n, align + GUARD)) return NULL;
    char *base = __libc_memalign(align, n + align + GUARD);
    if (!base) { failed_size = n ? n : 1; return NULL; }
    return adopt(base, align, n, site, 0, 0);
}

/* Lock held. glibc's realloc moved (or kept) P's block, header and all,
 * to Q: count the free of the old size and the allocation of N, keep the
 * list's slot, write the new header and guard. */
static void moved(const void *p, char *q, header *h, size_t n, const void *site) {
    size_t old = size_of(h);
    int internal = inside > 0;
    if ((h->size & TRACKED) && !(h->size & INTERNAL)) {
        A.frees++;
        A.freed_bytes += old;
        A.libc_frees += (uint64_t)rt_from_libc(site);
    }
    if ((h->size & TRACKED) && !(h->size & INTERNAL) && q != (const char *)p)
        A.ring[A.ring_next++ % RING] = (freed){ (uintptr_t)p ^ HIDDEN, old, h->site, site };
    if (h->slot != NO_SLOT && tracking) A.live[h->slot] = (uintptr_t)q;
    else if (h->slot != NO_SLOT) list_remove(h);
    else if (tracking) list_add((uintptr_t)q, h);
    h->size = n | (internal ? INTERNAL : 0) | (tracking ? TRACKED : 0);
    if (tracking) count_alloc(n, internal, 1, site);
    if (tracking && !internal) HEAP_PROFILE(p, q, n, site);
    h->site = site;
    h->tag = tag_of(TAG, q);
    guard_put(q + n);
}

static void *do_realloc(void *p, size_t n, const void *site) {
    if (!p) return do_malloc(n, site);
    if (__builtin_expect(rt_checking, 0)) rt_checked_free(p, site);         /* %%check */
    if (n == 0) {                      /* glibc: frees P, returns NULL */
        do_free(p, site);
        return NULL;
    }
    if (!ours(p)) {
        if (was_freed(p)) double_free(p, "realloc()");
        return __libc_realloc(p, n);
    }
    header *h = hdr(p);
    check_block(p, h, "when it was reallocated");
    /* an aligned block: glibc would not keep its offset; %%check: the old
     * block goes to quarantine */
    if (h->offset != HDR || rt_checking) {
        size_t old = size_of(h);
        void *q = do_malloc(n, site);
        if (q) {
            memcpy(q, p, old < n ? old : n);
            do_free(p, site);
        }
        return q;
    }
    if (too_big(n, HDR + GUARD)) return NULL;
    /* Locked across glibc's realloc: once it moved the block, P's memory
     * may be another thread's, and nobody may read its header meanwhile. */
    lock();
    char *base = __libc_realloc((char *)p - HDR, n + HDR + GUARD);
    if (!base) {
        unlock();
        failed_size = n;
        return NULL;                   /* P is untouched */
    }
    char *q = base + HDR;
    moved(p, q, hdr(q), n, site);
    unlock();
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
    void *p = do_aligned(align, n, SITE);
    if (!p) return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return do_aligned(align, n, SITE);
}

void *memalign(size_t align, size_t n) { return do_aligned(align, n, SITE); }

void *valloc(size_t n) { return do_aligned((size_t)sysconf(_SC_PAGESIZE), n, SITE); }

void *pvalloc(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (too_big(n, page)) return NULL;
    return do_aligned(page, (n + page - 1) & ~(page - 1), SITE);
}

void *nb_libc_malloc(unsigned long n) { return __libc_malloc(n); }
void nb_libc_free(void *p) { __libc_free(p); }

/* Ours: the requested size (the guard is not the program's to use). */
size_t malloc_usable_size(void *p) {
    if (!p) return 0;
    if (ours(p)) return size_of(hdr(p));
    static size_t (*glibc)(void *);
    if (!glibc) glibc = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    return glibc ? glibc(p) : 0;
}

/* ----------------------------------------------------------- read back */

void rt_alloc_totals_get(rt_alloc_totals *t, int with_hist) {
    memset(t, 0, sizeof *t);
    lock();
    t->allocs = A.allocs;
    t->frees = A.frees;
    t->reallocs = A.reallocs;
    t->alloc_bytes = A.alloc_bytes;
    t->freed_bytes = A.freed_bytes;
    t->libc_allocs = A.libc_allocs;
    t->libc_alloc_bytes = A.libc_alloc_bytes;
    t->libc_frees = A.libc_frees;
    if (with_hist) memcpy(t->hist, A.hist, sizeof t->hist);
    t->live = (int64_t)(A.alloc_bytes - A.freed_bytes);
    t->peak = A.peak_bytes;
    unlock();
}

int64_t rt_alloc_mark_peak(void) {
    lock();
    int64_t now = (int64_t)(A.alloc_bytes - A.freed_bytes);
    A.peak_bytes = now;
    unlock();
    return now;
}

static int holds(uintptr_t lo, size_t size, uintptr_t p) {
    return p == lo || (p > lo && p - lo < size);
}

int rt_alloc_find(const void *ptr, rt_block *b) {
    uintptr_t p = (uintptr_t)ptr;
    memset(b, 0, sizeof *b);
    int found = 0;
    lock();
    for (size_t i = 0; i < A.nlive && !found; i++) {
        const header *h = hdr((void *)A.live[i]);
        if (holds(A.live[i], size_of(h), p)) {
            *b = (rt_block){ (const void *)A.live[i], size_of(h), h->site, NULL };
            found = 1;
        }
    }
    /* recently freed: the newest match wins */
    for (unsigned r = 1; !found && r <= RING && r <= A.ring_next; r++) {
        const freed *f = &A.ring[(A.ring_next - r) % RING];
        uintptr_t addr = f->addr ^ HIDDEN;
        if (f->addr && holds(addr, f->size, p)) {
            *b = (rt_block){ (const void *)addr, f->size, f->site, f->free_site };
            found = 2;
        }
    }
    unlock();
    return found;
}

/* ------------------------------------------------- the leak scan's view */

void rt_alloc_lock(void) { lock(); }
void rt_alloc_unlock(void) { unlock(); }

const uintptr_t *rt_alloc_live(size_t *n) {
    *n = A.nlive;
    return A.live;
}

int rt_alloc_block_of(uintptr_t p, size_t *size, const void **site) {
    const header *h = hdr((const void *)p);
    *size = size_of(h);
    *site = h->site;
    if (h->size & (INTERNAL | REPORTED)) return 0;
    return 1;
}

void rt_alloc_set_reported(uintptr_t p) { hdr((void *)p)->size |= REPORTED; }
