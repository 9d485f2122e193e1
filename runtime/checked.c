/* checked.c - the memory checker behind `%%check` (see checked.h).
 *
 * Owns tcc's bound-checking entry points (__bound_*), which cells compiled
 * with -b call, and three tables, all in memory of their own (mmap): the
 * heap blocks (those earlier cells left live, and those allocated while
 * the checked cell runs, live or freed and held in quarantine: their
 * memory is not reused, so a later access through a stale pointer still
 * finds them); the address-taken locals of the frames of instrumented
 * functions on the main thread's stack (tcc hands each function's list
 * of (offset, size) to __bound_local_new); and the locals of frames that
 * returned, to name them when a dangling pointer is used. The cells'
 * globals come from the worker's symbolizer.
 *
 * A dereference *(P + OFF) of N bytes is checked against the region P
 * points into (not where P + OFF lands: an overflow may land in the next
 * block): outside it is an overflow; in a freed block, a use after free;
 * below the stack pointer, a frame that has returned. Pointers no table
 * knows (libc's memory, the worker's) pass.
 *
 * Must not: allocate (the hooks run inside malloc and free), or check
 * anything while no checked cell runs (a checked cell's functions may be
 * called by later cells: then every entry point is a plain pass-through). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <unistd.h>
#include "checked.h"
#include "checked_impl.h"
#include "rt.h"

extern void __libc_free(void *);

int rt_checking;

/* ------------------------------------------------------------ tables */

enum { R_NONE, R_HEAP, R_FREED, R_LOCAL, R_DEAD, R_GLOBAL };

/* A block, a node of a treap ordered by address (a tree kept balanced by
 * random priorities: finding, adding and removing cost O(log n)). */
typedef struct heap_rec {
    uintptr_t lo;
    size_t size;
    const void *site, *free_site;
    void *base;                      /* glibc's block, once freed and kept */
    int freed;                       /* 0 live, 1 freed and kept in quarantine */
    uint32_t prio;
    uint8_t *shadow;                 /* a bit a byte: written since malloc; NULL: all */
    struct heap_rec *left, *right;
} heap_rec;

typedef struct { uintptr_t fp; const void *pc; size_t first; } frame_rec;
typedef struct { uintptr_t lo; size_t size; } local_rec;
typedef struct { uintptr_t lo; size_t size; const void *pc; } dead_rec;

/* The tables' sizes: address space taken at the first checked cell, out
 * of what %memory lets cells map (some 30 MiB); pages cost only when
 * used. Past them, blocks and frames simply go unchecked. */
#define MAX_HEAP ((size_t)1 << 18)
#define MAX_FRAMES ((size_t)1 << 16)
#define MAX_LOCALS ((size_t)1 << 18)
#define DEAD_RING 512
#define QUARANTINE_BLOCKS 16384
#define QUARANTINE_BYTES ((size_t)64 << 20)
#define GAP 64                       /* bytes after a block still blamed on it */
#define SHADOW_POOL ((size_t)8 << 20)   /* written-bits: for 64 MiB of new blocks a cell */
#define FRESH 0xfe                   /* a new block's bytes: never in UTF-8 text */
#define FREED 0xfd                   /* a freed block's bytes */

static struct {
    heap_rec *heap;                  /* the nodes' pool */
    heap_rec *root, *spare;          /* the treap; nodes free for reuse */
    size_t nheap;                    /* pool nodes ever used */
    uint32_t seed;
    frame_rec *frames;
    size_t nframes;
    local_rec *locals;
    size_t nlocals;
    dead_rec dead[DEAD_RING];
    unsigned ndead;
    uintptr_t queue[QUARANTINE_BLOCKS];   /* freed blocks, oldest first (a ring) */
    size_t qhead, qlen, qbytes;
    uintptr_t stack_lo, stack_hi;    /* the main thread's stack, for the cell */
    uint8_t *shadow;                 /* written-bits of the blocks, bump-allocated */
    size_t shadow_used;
    int lock;
} C;

static void *map_table(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Locked only once the process has a second thread (as alloc.c). */
static void lock(void) {
    if (__libc_single_threaded) return;
    while (__atomic_exchange_n(&C.lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause();
}
static void unlock(void) {
    if (!__libc_single_threaded) __atomic_store_n(&C.lock, 0, __ATOMIC_RELEASE);
}

static uint32_t next_prio(void) {
    C.seed ^= C.seed << 13;
    C.seed ^= C.seed >> 17;
    C.seed ^= C.seed << 5;
    return C.seed;
}

/* Split T into the nodes below KEY (*L) and the others (*R). */
static void split(heap_rec *t, uintptr_t key, heap_rec **l, heap_rec **r) {
    if (!t) { *l = *r = NULL; return; }
    if (t->lo < key) { split(t->right, key, &t->right, r); *l = t; }
    else { split(t->left, key, l, &t->left); *r = t; }
}

/* Join L and R, every node of L below every node of R. */
static heap_rec *merge(heap_rec *l, heap_rec *r) {
    if (!l || !r) return l ? l : r;
    if (l->prio > r->prio) { l->right = merge(l->right, r); return l; }
    r->left = merge(l, r->left);
    return r;
}

/* A new record at P (NULL when the pool is used up). Lock held. */
static heap_rec *heap_add(uintptr_t p) {
    heap_rec *n = C.spare;
    if (n) C.spare = n->left;
    else if (C.nheap < MAX_HEAP) n = &C.heap[C.nheap++];
    else return NULL;
    memset(n, 0, sizeof *n);
    n->lo = p;
    n->prio = next_prio();
    heap_rec *l, *r;
    split(C.root, p, &l, &r);
    C.root = merge(merge(l, n), r);
    return n;
}

/* Drop the record at P. Lock held. */
static void heap_drop(uintptr_t p) {
    heap_rec *l, *m, *r;
    split(C.root, p, &l, &r);
    split(r, p + 1, &m, &r);
    C.root = merge(l, r);
    if (m) { m->left = C.spare; C.spare = m; }
}

/* The last block starting at or below A, or NULL. */
static heap_rec *heap_le(uintptr_t a) {
    heap_rec *best = NULL;
    for (heap_rec *t = C.root; t;) {
        if (t->lo <= a) { best = t; t = t->right; }
        else t = t->left;
    }
    return best;
}

/* The first block starting above A, or NULL. */
static heap_rec *heap_gt(uintptr_t a) {
    heap_rec *best = NULL;
    for (heap_rec *t = C.root; t;) {
        if (t->lo > a) { best = t; t = t->left; }
        else t = t->right;
    }
    return best;
}

/* The record of the block starting at P, or NULL. */
static heap_rec *heap_at(uintptr_t p) {
    heap_rec *h = heap_le(p);
    return h && h->lo == p ? h : NULL;
}

/* Give the oldest quarantined block back to glibc. Lock held. */
static void quarantine_evict(void) {
    uintptr_t lo = C.queue[C.qhead];
    C.qhead = (C.qhead + 1) % QUARANTINE_BLOCKS;
    C.qlen--;
    heap_rec *h = heap_at(lo);
    if (!h || h->freed != 1) return;
    C.qbytes -= h->size;
    __libc_free(h->base);
    heap_drop(lo);
}

/* ------------------------------------------------------ the findings */

static nb_memory_error found;
static int found_set;

const nb_memory_error *nb_internal_memory_error(void) { return found_set ? &found : NULL; }

typedef struct { uintptr_t pc, fp, sp; } access_ctx;

static __attribute__((noreturn, format(printf, 5, 6)))
void report(const access_ctx *at, const char *kind, const void *site, const void *free_site,
            const char *fmt, ...) {
    rt_checking = 0;                 /* what follows may allocate */
    found.kind = kind;
    found.pc = at ? at->pc : 0;
    found.fp = at ? at->fp : 0;
    found.sp = at ? at->sp : 0;
    found.alloc_site = site;
    found.free_site = free_site;
    int n = snprintf(found.text, sizeof found.text, "%s: ", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(found.text + n, sizeof found.text - (size_t)n, fmt, ap);
    va_end(ap);
    found_set = 1;
    abort();
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

static void name_of(const void *code, char *out, size_t n) {
    rt_code_name(code, out, n);
    if (!*out) snprintf(out, n, "?");
}

/* ---------------------------------------------------------- regions */

typedef struct {
    int kind;
    uintptr_t lo;
    size_t size;
    const void *site, *free_site;    /* a block's; a local's function */
    uint8_t *shadow;                 /* a live block's written-bits, or NULL */
} region;

static int on_main_stack(uintptr_t a) { return a >= C.stack_lo && a < C.stack_hi; }

/* The live local holding A (END: or ending at A) of the frames above SP. */
static int find_local(uintptr_t a, uintptr_t sp, int end, region *r) {
    long lo = 0, hi = (long)C.nframes - 1, k = -1;
    while (lo <= hi) {                   /* frames: fp decreasing */
        long mid = (lo + hi) / 2;
        if (C.frames[mid].fp > a) { k = mid; lo = mid + 1; }
        else hi = mid - 1;
    }
    if (k < 0 || C.frames[k].fp < sp) return 0;
    size_t last = (size_t)k + 1 < C.nframes ? C.frames[k + 1].first : C.nlocals;
    for (size_t i = C.frames[k].first; i < last; i++) {
        const local_rec *l = &C.locals[i];
        if ((a >= l->lo && a - l->lo < l->size) || (end && a == l->lo + l->size)) {
            *r = (region){ R_LOCAL, l->lo, l->size, C.frames[k].pc, NULL, NULL };
            return 1;
        }
    }
    return 0;
}

/* The cells' global or static variable holding A (END: or ending at A),
 * from the worker's symbolizer; the last answer is kept, as loops ask
 * about one array again and again. */
static struct { uintptr_t lo; size_t size; uintptr_t miss; uintptr_t ro_pages[16]; } last_global;

static int find_global(uintptr_t a, int end, region *r) {
    if (a - last_global.lo < last_global.size || (end && a == last_global.lo + last_global.size)) {
        *r = (region){ R_GLOBAL, last_global.lo, last_global.size, NULL, NULL, NULL };
        return 1;
    }
    if (a == last_global.miss) return 0;
    const void *at = (const void *)(a - (end ? 1 : 0));
    uintptr_t page = (uintptr_t)at >> 12;
    if (last_global.ro_pages[page % 16] == page) return 0;   /* literals or code: no globals */
    char name[96];
    int kind;
    const void *start;
    size_t size;
    rt_inside_begin();
    int known = rt_symbolize(at, name, sizeof name, &kind, &start, &size) &&
                (kind == NB_SYM_DATA || kind == NB_SYM_BSS) && size;
    rt_inside_end();
    if (!known) {
        last_global.miss = a;
        /* a unit's read-only parts have pages of their own (compile.c) */
        if (kind == NB_SYM_RODATA || kind == NB_SYM_FUNCTION) last_global.ro_pages[page % 16] = page;
        return 0;
    }
    last_global.lo = (uintptr_t)start;
    last_global.size = size;
    *r = (region){ R_GLOBAL, (uintptr_t)start, size, NULL, NULL, NULL };
    return a - r->lo < size || (end && a == r->lo + size);
}

/* The region holding A: END also takes A one past a region's end. */
static int find_region(uintptr_t a, uintptr_t sp, int end, region *r) {
    memset(r, 0, sizeof *r);
    if (on_main_stack(a) && on_main_stack(sp)) {
        if (a < sp) {                    /* below the stack pointer: a frame that returned */
            r->kind = R_DEAD;
            for (unsigned i = 1; i <= DEAD_RING && i <= C.ndead; i++) {
                const dead_rec *d = &C.dead[(C.ndead - i) % DEAD_RING];
                if (a >= d->lo && a - d->lo < d->size) {
                    r->lo = d->lo, r->size = d->size, r->site = d->pc;
                    break;
                }
            }
            return 1;
        }
        return find_local(a, sp, end, r);
    }
    const heap_rec *h = heap_le(a);
    if (h && (a - h->lo < h->size || (end && a == h->lo + h->size))) {
        *r = (region){ h->freed ? R_FREED : R_HEAP, h->lo, h->size, h->site, h->free_site,
                       h->freed ? NULL : h->shadow };
        return 1;
    }
    return rt_in_cell_region(a) && find_global(a, end, r);
}

/* The heap block A lies just outside of: in the gap between two blocks
 * (guard bytes, glibc's size word, the next block's header), the nearer. */
static int find_near_block(uintptr_t a, region *r) {
    const heap_rec *before = heap_le(a), *after = heap_gt(a);
    if (before && a < before->lo + before->size) return 0;          /* inside: not near */
    uintptr_t past = before ? a - (before->lo + before->size) : GAP;
    uintptr_t ahead = after ? after->lo - a : GAP;
    const heap_rec *h = past < ahead ? before : after;
    if ((past < ahead ? past : ahead) >= GAP) return 0;
    *r = (region){ h->freed ? R_FREED : R_HEAP, h->lo, h->size, h->site, h->free_site, NULL };
    return 1;
}

/* ------------------------------------------------- reading the access */


/* The length of a ModRM operand (ModRM, SIB, displacement) at M. */
static int modrm_len(const unsigned char *m) {
    unsigned mod = m[0] >> 6, rm = m[0] & 7;
    if (mod == 3) return 1;
    int n = 1;
    if (rm == 4) {
        n++;
        if (mod == 0 && (m[1] & 7) == 5) return n + 4;
    }
    if (mod == 0 && rm == 5) return n + 4;
    return n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/* Whether tcc's code after the checking call at C loads or stores through
 * the pointer it returned in rax. tcc may first put the value to store
 * in another register, or spill and reload the pointer: instructions
 * that neither use (%rax) nor write rax are stepped over. */
static int access_at(const unsigned char *c) {
    int spilled = -1;                                     /* mov %rax, disp8(%rbp): disp8 */
    for (int steps = 0; steps < 6; steps++) {
        int rex = 0, prefix = 0;
        while (*c == 0x66 || *c == 0xf2 || *c == 0xf3 || (*c & 0xf0) == 0x40) {
            if ((*c & 0xf0) == 0x40) rex = *c;
            else prefix = *c;
            c++;
        }
        (void)prefix;
        unsigned op = *c++;
        if (op >= 0xb8 && op <= 0xbf) {                   /* mov $imm, %reg */
            if (op == 0xb8 && !(rex & 1)) return CK_ACCESS;
            c += (rex & 8) ? 8 : 4;
            continue;
        }
        if (op == 0x50 || (op > 0x50 && op <= 0x57)) { continue; }   /* push */
        int two = op == 0x0f;
        if (two) op = 0x100 | *c++;
        unsigned m = *c, reg = ((m >> 3) & 7) | ((rex & 4) ? 8 : 0);
        int via_rax = (m & 0xc7) == 0 && !(rex & 1);      /* (%rax) */
        int rax_dest = (m >> 6) == 3 && (m & 7) == 0 && !(rex & 1);
        int len = modrm_len(c);
        switch (op) {
        case 0x88: case 0x89: case 0x01: case 0x09: case 0x21: case 0x29: case 0x31:   /* reg -> r/m */
            if (via_rax) return op == 0x88 || op == 0x89 ? CK_WRITE : CK_ACCESS;
            if (op == 0x89 && (rex & 8) && m == 0x45) spilled = c[1];
            if (rax_dest) return CK_ACCESS;
            break;
        case 0x8a: case 0x8b: case 0x03: case 0x0b: case 0x23: case 0x2b: case 0x33:   /* r/m -> reg */
        case 0x3b: case 0x39: case 0x85: case 0x63: case 0x8d:
        case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf:
            if (via_rax) return op == 0x8d ? CK_ACCESS : CK_READ;
            if (op == 0x8b && (rex & 8) && m == 0x45 && c[1] == spilled) break;   /* reloaded */
            if (reg == 0 && op != 0x39 && op != 0x3b && op != 0x85) return CK_ACCESS;
            break;
        case 0xc6: case 0xc7:                              /* mov $imm, r/m */
            if (via_rax) return CK_WRITE;
            if (rax_dest) return CK_ACCESS;
            c += op == 0xc6 ? 1 : 4;
            break;
        case 0xd9: case 0xdd: case 0xdb: case 0xdf:        /* x87 loads and stores */
            if (!via_rax) { if ((m >> 6) == 3) return CK_ACCESS; break; }
            reg &= 7;
            if (op == 0xdb || op == 0xdf)
                return reg == 0 || reg == 5 ? CK_READ : reg == 2 || reg == 3 || reg == 7 ? CK_WRITE : CK_ACCESS;
            return reg == 0 ? CK_READ : reg == 2 || reg == 3 ? CK_WRITE : CK_ACCESS;
        default:
            if (!two) return CK_ACCESS;
            if (via_rax) return op == 0x111 || op == 0x1d6 || op == 0x17f ? CK_WRITE : CK_READ;
            break;                                         /* SSE: xmm registers only */
        }
        c += len;
    }
    return CK_ACCESS;
}

/* access_at, remembered for each place in the cells' code (the code of a
 * place never changes: a redefinition is new code elsewhere). */
static int access_at_cached(uintptr_t pc) {
    static struct { uintptr_t pc; int how; } seen[4096];
    unsigned k = (unsigned)(pc ^ (pc >> 12)) % 4096;
    if (seen[k].pc != pc) {
        seen[k].how = access_at((const unsigned char *)pc);
        seen[k].pc = pc;
    }
    return seen[k].how;
}

static const char *how_word(int how) {
    return how == CK_READ ? "read" : how == CK_WRITE ? "write" : "access";
}

/* ------------------------------------------------------------ checks */

static void where_block(const region *r, char *out, size_t n) {
    char site[160], fsite[160];
    name_of(r->site, site, sizeof site);
    if (r->kind == R_FREED) {
        name_of(r->free_site, fsite, sizeof fsite);
        snprintf(out, n, "a block of %zu byte%s at %p, allocated in %s and freed in %s",
                 r->size, plural(r->size), (void *)r->lo, site, fsite);
    } else if (r->kind == R_HEAP) {
        snprintf(out, n, "a block of %zu byte%s at %p, allocated in %s", r->size, plural(r->size),
                 (void *)r->lo, site);
    } else if (r->kind == R_GLOBAL) {
        char name[96] = "?";
        int kind;
        const void *start;
        size_t size;
        rt_symbolize((const void *)r->lo, name, sizeof name, &kind, &start, &size);
        snprintf(out, n, "the global %s of %zu byte%s at %p", name, r->size, plural(r->size),
                 (void *)r->lo);
    } else if (r->site) {
        snprintf(out, n, "a local of %s() of %zu byte%s at %p", site, r->size, plural(r->size),
                 (void *)r->lo);
    } else {
        snprintf(out, n, "a variable-length array (or alloca block) of %zu byte%s at %p", r->size,
                 plural(r->size), (void *)r->lo);
    }
}

/* Where A lies relative to R, "12 bytes past the end of". */
static void relative(uintptr_t a, size_t n, const region *r, char *out, size_t len) {
    if (a < r->lo)
        snprintf(out, len, "%zu byte%s before the start of", (size_t)(r->lo - a), plural(r->lo - a));
    else if (a >= r->lo + r->size)
        snprintf(out, len, "%zu byte%s past the end of", (size_t)(a - r->lo - r->size),
                 plural(a - r->lo - r->size));
    else snprintf(out, len, "running %zu byte%s past the end of", (size_t)(a + n - r->lo - r->size),
                  plural(a + n - r->lo - r->size));
}

static const char *overflow_kind(const region *r) {
    return r->kind == R_LOCAL ? "stack array overflow" : r->kind == R_GLOBAL ? "global array overflow"
                                                                             : "heap buffer overflow";
}

static const char *region_word(const region *r) {
    return r->kind == R_LOCAL ? "stack" : r->kind == R_GLOBAL ? "global data" : "heap";
}

static __attribute__((noreturn)) void out_of_bounds(const access_ctx *at, uintptr_t a, size_t n, int how,
                                                    const region *r) {
    char block[400], rel[80];
    where_block(r, block, sizeof block);
    relative(a, n, r, rel, sizeof rel);
    report(at, overflow_kind(r), r->kind == R_HEAP ? r->site : NULL, NULL, "%s of %zu byte%s at %p, "
           "%s %s (region: %s)", how_word(how), n, plural(n), (void *)a, rel, block, region_word(r));
}

static __attribute__((noreturn)) void stale(const access_ctx *at, uintptr_t a, size_t n, int how,
                                            const region *r) {
    char block[400];
    if (r->kind == R_FREED) {
        where_block(r, block, sizeof block);
        report(at, "use after free", r->site, r->free_site, "%s of %zu byte%s at %p, %zu byte%s into %s "
               "(region: freed heap)", how_word(how), n, plural(n), (void *)a, (size_t)(a - r->lo),
               plural(a - r->lo), block);
    }
    if (r->size) {
        char fn[160];
        name_of(r->site, fn, sizeof fn);
        report(at, "use of a returned function's local", NULL, NULL, "%s of %zu byte%s at %p, %zu byte%s "
               "into a local of %s() (%zu byte%s), which has returned: the pointer dangles "
               "(region: stack, below the stack pointer)", how_word(how), n, plural(n), (void *)a,
               (size_t)(a - r->lo), plural(a - r->lo), fn, r->size, plural(r->size));
    }
    report(at, "use of a returned function's local", NULL, NULL, "%s of %zu byte%s at %p, in a stack "
           "frame that has returned: the pointer dangles (region: stack, below the stack pointer)",
           how_word(how), n, plural(n), (void *)a);
}

/* *(BASE + ...) of N bytes at A. */
static void check_access(uintptr_t base, uintptr_t a, size_t n, int how, const access_ctx *at) {
    region r;
    if (!find_region(base, at->sp, 0, &r) && !find_region(base, at->sp, 1, &r) &&
        !find_region(a, at->sp, 0, &r) && !find_near_block(a, &r))
        return;
    if (r.kind == R_FREED || r.kind == R_DEAD) stale(at, a, n, how, &r);
    if (a < r.lo || a + n > r.lo + r.size) out_of_bounds(at, a, n, how, &r);
}

/* ------------------------------------------------ uninitialised reads
 *
 * A block malloc returns is filled with FRESH, and a bit a byte says what
 * was written since: by the cell's stores (the instruction after the
 * checking call says load or store) and the library wrappers. A load of
 * bytes none of which was written and all of which still hold FRESH reads
 * what nobody wrote. Code tcc did not instrument (fgets, sprintf) writes
 * without setting bits; the bytes it wrote differ from FRESH, except a
 * 0xfe byte, which no UTF-8 text holds. */

static void shadow_set(const region *r, uintptr_t a, size_t n) {
    for (size_t i = a - r->lo; i < a - r->lo + n && i < r->size; i++)
        r->shadow[i / 8] |= (uint8_t)(1u << (i % 8));
}

static int never_written(const region *r, uintptr_t a, size_t n) {
    for (size_t i = a - r->lo; i < a - r->lo + n; i++)
        if ((r->shadow[i / 8] >> (i % 8)) & 1 || ((const uint8_t *)r->lo)[i] != FRESH) return 0;
    return 1;
}

static void written_or_read(const region *r, uintptr_t a, size_t n, int how, const access_ctx *at) {
    if (r->kind != R_HEAP || a < r->lo || a + n > r->lo + r->size) return;
    if (how != CK_READ) { shadow_set(r, a, n); return; }
    if (!never_written(r, a, n)) return;
    char block[400];
    where_block(r, block, sizeof block);
    report(at, "read of uninitialised heap memory", r->site, NULL, "read of %zu byte%s at %p, %zu byte%s "
           "into %s, which nothing wrote since malloc (region: heap)", n, plural(n), (void *)a,
           (size_t)(a - r->lo), plural(a - r->lo), block);
}

/* The library wrappers wrote [P, P + N). */
void rt_checked_wrote(const void *p, size_t n) {
    region r;
    if (!rt_checking || !n || !find_region((uintptr_t)p, 0, 0, &r) || !r.shadow) return;
    shadow_set(&r, (uintptr_t)p, n);
}

/* P + OFF = A must not point past the end of P's region, one past it
 * being allowed (C allows that pointer; tcc uses it for some loads too:
 * `x + d[n]` with doubles, so the access one past the end there goes
 * unseen). Below the start is left to the access: a reverse loop's last
 * step (`for (q = a + n - 1; q >= a; q--)`) makes such a pointer, and
 * never uses it. */
static void pointer_arithmetic(uintptr_t p, uintptr_t a, const access_ctx *at) {
    region r;
    lock();
    int hit = find_region(p, at->sp, 0, &r) || find_region(p, at->sp, 1, &r);
    unlock();
    if (!hit || r.kind == R_FREED || r.kind == R_DEAD || a <= r.lo + r.size) return;
    char block[400], rel[80];
    where_block(&r, block, sizeof block);
    relative(a, 1, &r, rel, sizeof rel);
    report(at, overflow_kind(&r), r.kind == R_HEAP ? r.site : NULL, NULL, "pointer arithmetic gives %p, "
           "%s %s, which no access through it may reach (region: %s)", (void *)a, rel, block,
           region_word(&r));
}

/* The entry points' worker, after their stubs (below) added the cell's
 * frame pointer, the return address and the stack pointer. */
RT_HIDDEN void *rt_bound_access(char *p, size_t off, size_t n, uintptr_t fp, uintptr_t pc,
                                uintptr_t sp) {
    if (!rt_checking || !p) return p + off;
    access_ctx at = { pc - 1, fp, sp };      /* the call: its line, not the next one's */
    if (!n) {                            /* P + OFF, not (yet) dereferenced */
        pointer_arithmetic((uintptr_t)p, (uintptr_t)p + off, &at);
        return p + off;
    }
    lock();
    region r;
    uintptr_t a = (uintptr_t)p + off;
    int hit = find_region((uintptr_t)p, sp, 0, &r) || find_region((uintptr_t)p, sp, 1, &r) ||
              find_region(a, sp, 0, &r) || find_near_block(a, &r);
    unlock();
    if (hit && (r.kind == R_FREED || r.kind == R_DEAD || a < r.lo || a + n > r.lo + r.size))
        check_access((uintptr_t)p, a, n, access_at((const unsigned char *)pc), &at);
    if (hit && r.shadow) written_or_read(&r, a, n, access_at_cached(pc), &at);
    return p + off;
}

/* ------------------------------------------------------------ locals */

/* Frames at or below FP are gone (returned, or jumped over by longjmp). */
static void pop_frames(uintptr_t fp) {
    while (C.nframes && C.frames[C.nframes - 1].fp <= fp) {
        frame_rec *f = &C.frames[--C.nframes];
        for (size_t i = f->first; i < C.nlocals; i++)
            C.dead[C.ndead++ % DEAD_RING] = (dead_rec){ C.locals[i].lo, C.locals[i].size, f->pc };
        C.nlocals = f->first;
    }
}

static int push_frame(uintptr_t fp, const void *pc) {
    if (C.nframes == MAX_FRAMES) return 0;
    C.frames[C.nframes++] = (frame_rec){ fp, pc, C.nlocals };
    return 1;
}

RT_HIDDEN void rt_bound_local_new(const long *table, uintptr_t fp, const void *pc) {
    if (!rt_checking || !on_main_stack(fp)) return;
    pop_frames(fp);
    if (!push_frame(fp, pc)) return;
    for (; table[0] && C.nlocals < MAX_LOCALS; table += 2)
        C.locals[C.nlocals++] = (local_rec){ fp + (uintptr_t)table[0], (size_t)table[1] };
}

/* Where the code before tcc's epilogue, which ends at PC (the return
 * address of its __bound_local_delete call), puts FP + DISP in rax last,
 * or NULL: `lea DISP(%rbp), %rax` right before it, or before a jump to
 * it. That is `return buf;`. A void function whose last call returned
 * the address of its local (strcpy(buf, ...)) leaves the same value in
 * rax, but not by a lea. */
static const unsigned char *returns_address(const unsigned char *pc, long disp) {
    const unsigned char *epilogue = pc - 17;      /* push rax; push rdx; movabs L, rdi; call */
    const unsigned char lea[4] = { 0x48, 0x8d, 0x45, (unsigned char)disp };
    if (epilogue[0] != 0x50 || epilogue[1] != 0x52 || epilogue[2] != 0x48 || epilogue[3] != 0xbf ||
        pc[-5] != 0xe8 || disp < -128 || disp > 127)
        return NULL;
    if (memcmp(epilogue - 4, lea, 4) == 0) return epilogue - 4;
    /* an earlier return: lea DISP(%rbp), %rax; jmp rel32 to the epilogue */
    for (const unsigned char *j = epilogue - 9; j > epilogue - 65536 && rt_in_cell_region((uintptr_t)j); j--) {
        int32_t rel;
        memcpy(&rel, j + 5, 4);
        if (j[4] == 0xe9 && j + 9 + rel == epilogue && memcmp(j, lea, 4) == 0) return j;
    }
    return NULL;
}

/* The frame FP returns: its locals die. A function that returns the
 * address of one of them hands its caller a dangling pointer, whose use
 * by the library (printf's %s) would go unchecked: found here, at the
 * return statement. */
RT_HIDDEN void rt_bound_local_delete(uintptr_t fp, uintptr_t ret, uintptr_t pc) {
    if (!rt_checking || !on_main_stack(fp)) return;
    region r;
    const unsigned char *at_return;
    if (C.nframes && C.frames[C.nframes - 1].fp == fp && on_main_stack(ret) && ret < fp &&
        find_local(ret, 0, 0, &r) && r.lo == ret &&
        (at_return = returns_address((const unsigned char *)pc, (long)(ret - fp)))) {
        char fn[160];
        access_ctx at = { (uintptr_t)at_return, fp, fp + 16 };
        name_of(r.site, fn, sizeof fn);
        report(&at, "use of a returned function's local", NULL, NULL, "%s() returns %p, the address "
               "of its local of %zu byte%s, which dies with the return: the pointer dangles "
               "(region: stack)", fn, (void *)ret, r.size, plural(r.size));
    }
    pop_frames(fp);
}

/* alloca and variable-length arrays: a region of the frame FP. */
RT_HIDDEN void rt_bound_new_region(void *p, size_t size, uintptr_t fp) {
    if (!rt_checking || !on_main_stack(fp) || C.nlocals == MAX_LOCALS) return;
    if (!C.nframes || C.frames[C.nframes - 1].fp != fp) {
        pop_frames(fp - 1);
        if (!push_frame(fp, NULL)) return;
    }
    /* The stack memory was reused: a variable-length array of a loop's
     * earlier turn, or an alloca of a call at this depth that returned
     * (a frame without address-taken locals is never popped), is dead. */
    uintptr_t lo = (uintptr_t)p, hi = lo + size;
    for (size_t i = C.frames[C.nframes - 1].first; i < C.nlocals;) {
        local_rec *l = &C.locals[i];
        if (l->lo < hi && lo < l->lo + l->size) *l = C.locals[--C.nlocals];
        else i++;
    }
    C.locals[C.nlocals++] = (local_rec){ lo, size };
}

/* ----------------------------------------------------------- stubs
 *
 * tcc calls these with the pointer and offset in rdi, rsi. Each stub
 * passes on the cell's frame pointer (rbp: tcc keeps one), the return
 * address (the access's place in the cell) and the cell's stack pointer.
 * __bound_local_delete runs between a function's return value and its
 * return: tcc saves rax and rdx around it, the stub xmm0 and xmm1. */
__asm__(
    ".text\n"
    "ck_bound_common:\n"
    "  mov %rbp, %rcx\n"
    "  mov (%rsp), %r8\n"
    "  lea 8(%rsp), %r9\n"
    "  jmp rt_bound_access\n"
#define INDIR(n) \
    ".globl __bound_ptr_indir" #n "\n.type __bound_ptr_indir" #n ",@function\n" \
    "__bound_ptr_indir" #n ":\n  mov $" #n ", %edx\n  jmp ck_bound_common\n"
    INDIR(1) INDIR(2) INDIR(4) INDIR(8) INDIR(12) INDIR(16)
    ".globl __bound_ptr_add\n.type __bound_ptr_add,@function\n"
    "__bound_ptr_add:\n  xor %edx, %edx\n  jmp ck_bound_common\n"
    ".globl __bound_local_new\n.type __bound_local_new,@function\n"
    "__bound_local_new:\n"
    "  mov %rbp, %rsi\n"
    "  mov (%rsp), %rdx\n"
    "  jmp rt_bound_local_new\n"
    ".globl __bound_local_delete\n.type __bound_local_delete,@function\n"
    "__bound_local_delete:\n"
    "  sub $40, %rsp\n"
    "  movdqu %xmm0, (%rsp)\n"
    "  movdqu %xmm1, 16(%rsp)\n"
    "  mov %rbp, %rdi\n"
    "  mov %rax, %rsi\n"
    "  mov 40(%rsp), %rdx\n"
    "  call rt_bound_local_delete\n"
    "  movdqu (%rsp), %xmm0\n"
    "  movdqu 16(%rsp), %xmm1\n"
    "  add $40, %rsp\n"
    "  ret\n"
    /* alloca and VLAs: libtcc1.a's __bound_alloca (linked into each
     * unit) moves the stack pointer and calls this with (p, size), the
     * cell function's frame pointer still in rbp */
    ".globl __bound_new_region\n.type __bound_new_region,@function\n"
    "__bound_new_region:\n"
    "  mov %rbp, %rdx\n"
    "  jmp rt_bound_new_region\n"
);


/* ------------------------------------------ for the library wrappers
 *
 * (checked_lib.c) The place in the cell that called a wrapper, which its
 * stub notes. */
uintptr_t ck_call_fp, ck_call_pc, ck_call_sp;

void rt_checked_range(const void *p, size_t n, int how) {
    if (!rt_checking || !p || !n) return;
    access_ctx at = { ck_call_pc - 1, ck_call_fp, ck_call_sp };
    check_access((uintptr_t)p, (uintptr_t)p, n, how, &at);
    check_access((uintptr_t)p, (uintptr_t)p + n - 1, 1, how, &at);
}

/* strnlen(S, MAX), where the bytes up to the NUL (or MAX) must be S's
 * region's. */
size_t rt_checked_string(const char *s, size_t max) {
    if (!rt_checking || !s) return max == SIZE_MAX ? strlen(s) : strnlen(s, max);
    access_ctx at = { ck_call_pc - 1, ck_call_fp, ck_call_sp };
    region r;
    if (!find_region((uintptr_t)s, at.sp, 0, &r))
        return max == SIZE_MAX ? strlen(s) : strnlen(s, max);
    if (r.kind == R_FREED || r.kind == R_DEAD) stale(&at, (uintptr_t)s, 1, CK_READ, &r);
    if (r.shadow) written_or_read(&r, (uintptr_t)s, 1, CK_READ, &at);
    size_t room = r.lo + r.size - (uintptr_t)s;
    size_t len = strnlen(s, room < max ? room : max);
    if (len == room && room < max) {
        char block[400];
        where_block(&r, block, sizeof block);
        report(&at, overflow_kind(&r), r.kind == R_HEAP ? r.site : NULL, NULL, "read of a string at "
               "%p that has no terminating NUL within %s (region: %s)", (void *)s, block, region_word(&r));
    }
    return len;
}

/* The block P, which a wrapper allocated for the cell (strdup's copy),
 * was allocated at SITE, the cell's call. */
void rt_checked_name_site(const void *p, const void *site) {
    if (!rt_checking) return;
    lock();
    heap_rec *h = heap_at((uintptr_t)p);
    if (h) h->site = site;
    unlock();
}

/* ---------------------------------------------------- alloc.c's hooks */

void rt_checked_alloc(const void *p, size_t n, const void *site) {
    if (!C.heap) return;
    lock();
    heap_rec *h = heap_at((uintptr_t)p);           /* a stale record: memory we did not see go */
    if (!h) h = heap_add((uintptr_t)p);
    if (h) {
        size_t bits = n / 8 + 1;
        uint8_t *shadow = NULL;
        if (C.shadow && C.shadow_used + bits <= SHADOW_POOL) {
            shadow = C.shadow + C.shadow_used;
            C.shadow_used += bits;
            memset(shadow, 0, bits);
            memset((void *)p, FRESH, n);
        }
        h->size = n;
        h->site = site;
        h->free_site = NULL;
        h->base = NULL;
        h->freed = 0;
        h->shadow = shadow;
    }
    unlock();
}

void rt_checked_zeroed(const void *p) {
    if (!C.heap) return;
    lock();
    heap_rec *h = heap_at((uintptr_t)p);
    if (h && !h->freed) {
        memset((void *)p, 0, h->size);
        h->shadow = NULL;
    }
    unlock();
}

void rt_checked_free(const void *p, const void *site) {
    access_ctx at = { (uintptr_t)site - 1, 0, 0 };        /* the call, not the return address */
    uintptr_t a = (uintptr_t)p;
    region r;
    lock();
    at.sp = (uintptr_t)__builtin_frame_address(0);
    int hit = find_region(a, at.sp, 0, &r);
    unlock();
    if (!hit || (r.kind == R_HEAP && r.lo == a)) {
        if (hit) return;                               /* a block */
        if (on_main_stack(a))
            report(&at, "free of a pointer that was not allocated", NULL, NULL, "free(%p): the "
                   "address is on the stack, not a block malloc returned (region: stack)", p);
        if (rt_in_cell_region(a)) {                    /* a cell's global, static or literal */
            nb_place pl = nb_locate(p);
            report(&at, "free of a pointer that was not allocated", NULL, NULL, "free(%p): the "
                   "address is not a block malloc returned (region: %s)", p, pl.text);
        }
        return;                                        /* memory we do not know: alloc.c judges */
    }
    char block[400];
    where_block(&r, block, sizeof block);
    if (r.kind == R_FREED && r.lo == a)
        report(&at, "double free", r.site, r.free_site, "free(%p) of %s: it was freed already "
               "(region: freed heap)", p, block);
    if (r.kind == R_DEAD)
        report(&at, "free of a pointer that was not allocated", NULL, NULL, "free(%p): the address "
               "is in a stack frame that has returned, not a block malloc returned (region: stack)", p);
    char into[64] = "";
    if (a != r.lo) snprintf(into, sizeof into, "%zu byte%s into ", (size_t)(a - r.lo), plural(a - r.lo));
    report(&at, "free of a pointer that was not allocated", r.kind == R_LOCAL ? NULL : r.site,
           r.kind == R_FREED ? r.free_site : NULL, "free(%p): the address is %s%s, not the start of a "
           "block malloc returned (region: %s)", p, into, block,
           r.kind == R_FREED ? "freed heap" : region_word(&r));
}

int rt_checked_keep(const void *p, void *base, const void *site) {
    if (!C.heap) return 0;
    lock();
    heap_rec *h = heap_at((uintptr_t)p);
    int kept = h && !h->freed;
    if (kept) {
        h->freed = 1;
        h->free_site = site;
        h->base = base;
        memset((void *)h->lo, FREED, h->size);
        while (C.qlen && (C.qlen == QUARANTINE_BLOCKS || C.qbytes + h->size > QUARANTINE_BYTES))
            quarantine_evict();
        C.queue[(C.qhead + C.qlen++) % QUARANTINE_BLOCKS] = h->lo;
        C.qbytes += h->size;
    }
    unlock();
    return kept;
}

/* ---------------------------------------------------- begin and end */

/* The blocks earlier cells allocated, still live (alloc.c's list, as
 * the leak scan reads it): checked too, their bytes counting as written. */
static void adopt_live_blocks(void) {
    rt_alloc_lock();
    size_t n;
    const uintptr_t *live = rt_alloc_live(&n);
    for (size_t i = 0; i < n; i++) {
        size_t size;
        const void *site;
        rt_alloc_block_of(live[i], &size, &site);
        heap_rec *h = heap_add(live[i]);
        if (!h) break;
        h->size = size;
        h->site = site;
    }
    rt_alloc_unlock();
}

void nb_internal_checked_begin(void) {
    if (!C.heap) {
        C.heap = map_table(MAX_HEAP * sizeof *C.heap);
        C.frames = map_table(MAX_FRAMES * sizeof *C.frames);
        C.locals = map_table(MAX_LOCALS * sizeof *C.locals);
        C.shadow = map_table(SHADOW_POOL);
        if (!C.heap || !C.frames || !C.locals) {
            C.heap = NULL;
            fputs("%%check: no memory for the checker's tables (see %memory): the cell runs "
                  "unchecked\n", stderr);
            return;
        }
    }
    C.shadow_used = 0;
    struct rlimit rl;
    size_t room = (size_t)64 << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < room)
        room = (size_t)rl.rlim_cur;
    C.stack_hi = (uintptr_t)__builtin_frame_address(0);
    C.stack_lo = C.stack_hi - room;
    C.root = C.spare = NULL;
    C.seed = 2463534242u;
    C.nheap = C.nframes = C.nlocals = 0;
    C.ndead = 0;
    C.qhead = C.qlen = C.qbytes = 0;
    memset(&last_global, 0, sizeof last_global);
    adopt_live_blocks();
    rt_checking = 1;
}

/* A quarantined block whose FREED bytes changed was written after its
 * free by code tcc did not instrument (memset, a library call). */
static void check_quarantine(void) {
    for (size_t k = 0; k < C.qlen; k++) {
        const heap_rec *h = heap_at(C.queue[(C.qhead + k) % QUARANTINE_BLOCKS]);
        if (!h) continue;
        for (size_t b = 0; h->freed == 1 && b < h->size; b++) {
            if (((const uint8_t *)h->lo)[b] == FREED) continue;
            region r = { R_FREED, h->lo, h->size, h->site, h->free_site, NULL };
            char block[400];
            where_block(&r, block, sizeof block);
            report(NULL, "use after free", h->site, h->free_site, "a write at %p, %zu byte%s into %s, "
                   "by code the checker does not see (found when the cell ended; region: freed heap)",
                   (void *)(h->lo + b), b, plural(b), block);
        }
    }
}

void nb_internal_checked_end(void) {
    if (!rt_checking) return;
    check_quarantine();
    rt_checking = 0;
    lock();
    for (size_t k = 0; k < C.qlen; k++) {
        const heap_rec *h = heap_at(C.queue[(C.qhead + k) % QUARANTINE_BLOCKS]);
        if (h && h->freed == 1) __libc_free(h->base);
    }
    C.qhead = C.qlen = C.qbytes = 0;
    C.root = C.spare = NULL;
    C.nheap = C.nframes = C.nlocals = 0;
    unlock();
    if (C.shadow && C.shadow_used) madvise(C.shadow, C.shadow_used, MADV_DONTNEED);
}
