/* profile_summary.c - nb_profile_start / nb_profile_stop: a profile of a
 * region of a cell, summed up where the cell can check it.
 *
 * Inside a %%profile cell the sampling is already on: the region's
 * summary is then that of the samples taken between the two calls. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nb.h"
#include "prof_record.h"
#include "rt.h"

static uint64_t start_used;         /* the log's length at nb_profile_start */
static uint64_t start_cpu_ns;
static int started_here;

static uint64_t cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void nb_profile_start(void) {
    prof_region *r = prof_region_get();
    if (r && r->heap && prof_heap_on) {       /* a heap profile runs: no CPU samples to sum */
        started_here = 0;
        start_used = r->used;
        return;
    }
    /* running with cell 0: an earlier nb_profile_start's (called twice),
     * which the next nb_profile_stop ends; else %%profile's, left on */
    int running = r && r->active;
    started_here = !running || r->cell == 0;
    if (!running && prof_start(1000, 0, 0) < 0) return;
    r = prof_region_get();
    start_used = __atomic_load_n(&r->used, __ATOMIC_ACQUIRE);
    start_cpu_ns = cpu_now();
}

/* The name of code address PC: the cell function, or the library symbol. */
static void name_of(uintptr_t pc, char *out, size_t n) {
    const prof_frame *f = prof_frame_of(pc);
    if (f && f->state == 2) { snprintf(out, n, "%.47s", f->name); return; }
    Dl_info info;
    if (dladdr((void *)pc, &info) && info.dli_sname) snprintf(out, n, "%s", info.dli_sname);
    else snprintf(out, n, "?");
}

/* Index of NAME in P's functions (added if there is room), or -1. */
static int slot(nb_profile *p, const char *name) {
    for (int i = 0; i < p->nfunctions; i++)
        if (!strcmp(p->functions[i].name, name)) return i;
    if (p->nfunctions == 32) return -1;
    snprintf(p->functions[p->nfunctions].name, sizeof p->functions[0].name, "%s", name);
    return p->nfunctions++;
}

static void count_sample(nb_profile *p, const uint64_t *pcs, int depth) {
    int seen[PROF_DEPTH], nseen = 0;
    for (int k = 0; k < depth; k++) {
        char name[48];
        name_of((uintptr_t)pcs[k], name, sizeof name);
        int i = slot(p, name);
        if (i < 0) continue;
        if (k == 0) p->functions[i].self++;
        int dup = 0;
        for (int j = 0; j < nseen; j++) dup |= seen[j] == i;
        if (!dup) { p->functions[i].total++; seen[nseen++] = i; }
    }
}

typedef __typeof__(((nb_profile *)0)->functions[0]) function_row;

static int by_total(const void *a, const void *b) {
    const function_row *x = a, *y = b;
    return (y->total > x->total) - (y->total < x->total);
}

nb_profile nb_profile_stop(void) {
    nb_profile p;
    memset(&p, 0, sizeof p);
    prof_region *r = prof_region_get();
    if (!r) return p;
    uint64_t end = __atomic_load_n(&r->used, __ATOMIC_ACQUIRE);
    p.cpu_seconds = (double)(cpu_now() - start_cpu_ns) / 1e9;
    if (started_here) prof_stop();
    rt_inside_begin();
    for (uint64_t at = start_used; at < end && at < r->cap;) {
        uint64_t head = __atomic_load_n(&r->log[at], __ATOMIC_ACQUIRE);
        int depth = (int)(head & 0xff);
        if (!head) break;                       /* a sample still being written */
        count_sample(&p, &r->log[at + 1], depth);
        p.samples++;
        at += (uint64_t)depth + 1;
    }
    rt_inside_end();
    qsort(p.functions, (size_t)p.nfunctions, sizeof p.functions[0], by_total);
    return p;
}

double nb_profile_share(const nb_profile *p, const char *function) {
    if (!p || p->samples <= 0 || !function) return 0;
    for (int i = 0; i < p->nfunctions; i++)
        if (!strcmp(p->functions[i].name, function)) return (double)p->functions[i].total / (double)p->samples;
    return 0;
}
