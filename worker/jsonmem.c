/* jsonmem.c - jansson's memory in the worker (jsonmem.h).
 *
 * The worker forks a snapshot before every cell, and each heap page it
 * writes afterwards costs a page fault (some 15 us on these VMs). Its JSON
 * (the request, the events it sends) lives only while a request is being
 * served, so it comes from a region of its own instead: a bump allocator
 * over memory a snapshot gets zero-filled (MADV_WIPEONFORK), so the fork
 * does not write-protect it and writing it costs nothing.
 *
 * Frees are counted, not done. What was allocated before the request
 * arrived (jsonmem_request_begin: the request itself) lies below a mark;
 * when every block above the mark has been freed, all memory above it goes
 * back at once, and all of it when nothing is left below either. So a cell
 * that sends a million events reuses the same few pages. Blocks too large
 * for what is left come from malloc. A lock makes it safe for the threads
 * a cell leaves running, which may display while the worker serves a
 * request. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <jansson.h>
#include "jsonmem.h"

#define REGION ((size_t)256 << 20)   /* address space, not memory */
#define KEEP   ((size_t)1 << 20)     /* stays resident after a big request */

static struct {
    unsigned char *base;
    size_t used, peak;
    size_t mark;           /* used when the request arrived */
    long below, above;     /* blocks not yet freed, below and above the mark */
} jm;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int owns(const void *p) {
    return jm.base && (const unsigned char *)p >= jm.base && (const unsigned char *)p < jm.base + REGION;
}

static void *jm_malloc(size_t size) {
    size_t need = (size + 15) & ~(size_t)15;
    pthread_mutex_lock(&lock);
    void *p = NULL;
    if (jm.base && need <= REGION - jm.used) {
        p = jm.base + jm.used;
        jm.used += need;
        if (jm.used > jm.peak) jm.peak = jm.used;
        jm.above++;
    }
    pthread_mutex_unlock(&lock);
    return p ? p : malloc(size);
}

static void jm_free(void *p) {
    if (!p) return;
    if (!owns(p)) { free(p); return; }
    pthread_mutex_lock(&lock);
    if ((unsigned char *)p < jm.base + jm.mark) jm.below--;
    else jm.above--;
    if (jm.above == 0) {
        jm.used = jm.mark;                 /* nothing above the mark lives */
        if (jm.below == 0) jm.used = jm.mark = 0;
        if (jm.used == 0 && jm.peak > KEEP) {
            madvise(jm.base + KEEP, jm.peak - KEEP, MADV_DONTNEED);
            jm.peak = KEEP;
        }
    }
    pthread_mutex_unlock(&lock);
}

void jsonmem_install(void) {
    void *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;               /* jansson keeps using malloc */
    if (madvise(p, REGION, MADV_WIPEONFORK) < 0) { munmap(p, REGION); return; }
    jm.base = p;
    json_set_alloc_funcs(jm_malloc, jm_free);
}

void jsonmem_request_begin(void) {
    pthread_mutex_lock(&lock);
    jm.mark = jm.used;
    jm.below += jm.above;
    jm.above = 0;
    pthread_mutex_unlock(&lock);
}

void jsonmem_after_fork(void) {
    /* the region came zero-filled: what lived in it is gone; and the lock
     * may have been held by a thread that did not come along */
    pthread_mutex_init(&lock, NULL);
    jm.used = jm.peak = jm.mark = 0;
    jm.below = jm.above = 0;
}
