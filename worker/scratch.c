/* scratch.c - the compiler's memory, and the worker's scratch text in it
 * (scratch.h).
 *
 * libtcc's malloc, calloc, realloc and free are renamed at build time (see
 * the Makefile) to the ck_tcc_ functions below. They carve from a region
 * that fork does not copy (MADV_DONTFORK): the worker forks a snapshot
 * before every cell, and without this each page the compiler writes
 * afterwards costs a copy-on-write fault, some 15 us here, milliseconds a
 * cell. Everything libtcc allocates is freed by tcc_delete, so the region
 * is simply reset then (scratch_reset, from compile.c); free rolls back
 * only the newest block. The pages stay resident between cells (up to
 * TCCMEM_KEEP), until the worker is idle (scratch_release, from idle.c). */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "scratch.h"

#define TCCMEM_SIZE ((size_t)1 << 30)
#define TCCMEM_KEEP ((size_t)32 << 20)     /* stays resident between cells */

static struct {
    unsigned char *base;
    size_t used, peak;
    void *last;
} tccmem;

typedef struct { size_t size, pad; } tccmem_header;

static void *tccmem_alloc(size_t size) {
    if (!tccmem.base) {
        void *p = mmap(NULL, TCCMEM_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return NULL;
        madvise(p, TCCMEM_SIZE, MADV_DONTFORK);
        tccmem.base = p;
        tccmem.used = 0;
    }
    size_t need = sizeof(tccmem_header) + ((size + 15) & ~(size_t)15);
    if (tccmem.used + need > TCCMEM_SIZE) return NULL;
    tccmem_header *h = (tccmem_header *)(tccmem.base + tccmem.used);
    h->size = size;
    tccmem.used += need;
    if (tccmem.used > tccmem.peak) tccmem.peak = tccmem.used;
    tccmem.last = h + 1;
    return h + 1;
}

static int tccmem_owns(const void *p) {
    return tccmem.base && (const unsigned char *)p >= tccmem.base &&
           (const unsigned char *)p < tccmem.base + TCCMEM_SIZE;
}

void *ck_tcc_malloc(size_t size) { return tccmem_alloc(size); }

void *ck_tcc_calloc(size_t n, size_t size) {
    void *p = tccmem_alloc(n * size);
    if (p) memset(p, 0, n * size);      /* the region may hold old data */
    return p;
}

void ck_tcc_free(void *p) {
    if (!p || !tccmem_owns(p)) return;
    if (p == tccmem.last) {
        tccmem_header *h = (tccmem_header *)p - 1;
        tccmem.used = (size_t)((unsigned char *)h - tccmem.base);
        tccmem.last = NULL;
    }
}

void *ck_tcc_realloc(void *p, size_t size) {
    if (!p) return tccmem_alloc(size);
    if (!tccmem_owns(p)) return NULL;
    tccmem_header *h = (tccmem_header *)p - 1;
    if (size == 0) { ck_tcc_free(p); return NULL; }
    if (p == tccmem.last) {              /* the newest block grows in place */
        size_t start = (size_t)((unsigned char *)h - tccmem.base);
        size_t need = sizeof *h + ((size + 15) & ~(size_t)15);
        if (start + need > TCCMEM_SIZE) return NULL;
        h->size = size;
        tccmem.used = start + need;
        if (tccmem.used > tccmem.peak) tccmem.peak = tccmem.used;
        return p;
    }
    void *q = tccmem_alloc(size);
    if (q) memcpy(q, p, h->size < size ? h->size : size);
    return q;
}

void *scratch_realloc(void *p, size_t size) { return ck_tcc_realloc(p, size); }

void scratch_reserve(void) {
    if (!tccmem.base) ck_tcc_free(tccmem_alloc(1));
}

void scratch_after_fork(void) {
    memset(&tccmem, 0, sizeof tccmem);  /* the region was not copied */
}

/* After tcc_delete: all of libtcc's memory is free. */
void scratch_reset(void) {
    tccmem.used = 0;
    tccmem.last = NULL;
    if (tccmem.peak > TCCMEM_KEEP) {
        madvise(tccmem.base + TCCMEM_KEEP, tccmem.peak - TCCMEM_KEEP, MADV_DONTNEED);
        tccmem.peak = TCCMEM_KEEP;
    }
}

/* The worker is idle: pages above what is in use go back to the system. */
void scratch_release(void) {
    if (!tccmem.base) return;
    size_t page = 4096, keep = (tccmem.used + page - 1) & ~(page - 1);
    if (tccmem.peak > keep) {
        madvise(tccmem.base + keep, tccmem.peak - keep, MADV_DONTNEED);
        tccmem.peak = keep;
    }
}
