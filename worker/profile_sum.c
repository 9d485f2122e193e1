/* profile_sum.c - the profiler's record summed up (see profile_impl.h).
 *
 * Each code address is named once: cell code by the name the sampler gave
 * it and the line of its cell (profile.c's line tables), library code by
 * the dynamic linker's symbol (dladdr). A stack that ended where it could
 * not be walked further gets a marked frame at its root saying why. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile_impl.h"

#define PCS 65536                   /* distinct (address, caller) pairs named */

typedef struct { uintptr_t key; int func, cell, line; } pc_info;

typedef struct {
    profile_data *d;
    pc_info *pcs;
    size_t capf, capl, capt;
} summing;

static int func_of(summing *s, const char *name, const char *label, int cell, pfunc_kind kind) {
    profile_data *d = s->d;
    for (size_t i = 0; i < d->nf; i++)
        if (d->f[i].cell == cell && d->f[i].kind == kind && !strcmp(d->f[i].name, name)) return (int)i;
    if (d->nf == s->capf) {
        s->capf = s->capf ? 2 * s->capf : 64;
        d->f = realloc(d->f, s->capf * sizeof *d->f);
    }
    pfunc *f = &d->f[d->nf];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    f->label = strdup(label);
    f->cell = cell;
    f->kind = kind;
    return (int)d->nf++;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* A library address: its symbol, or its object and offset. */
static int library_func(summing *s, uintptr_t pc) {
    Dl_info info;
    char name[160], label[240];
    if (!dladdr((void *)pc, &info)) {
        snprintf(name, sizeof name, "0x%lx", (unsigned long)pc);
        return func_of(s, name, name, 0, PF_LIBRARY);
    }
    const char *obj = info.dli_fname ? base_name(info.dli_fname) : "?";
    if (!strcmp(obj, "ckernel-worker")) obj = "the kernel's runtime";
    /* a function the library does not export (qsort's msort) has no name
     * to give: all of them are one entry per library */
    if (info.dli_sname) snprintf(name, sizeof name, "%s", info.dli_sname);
    else snprintf(name, sizeof name, "%s internals", obj);
    if (info.dli_sname) snprintf(label, sizeof label, "%s (%s)", name, obj);
    else snprintf(label, sizeof label, "%s", name);
    return func_of(s, name, label, 0, PF_LIBRARY);
}

static const pc_info *info_of(summing *s, uintptr_t pc, int caller) {
    uintptr_t key = pc << 1 | (uintptr_t)caller;
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 40) % PCS;
    for (size_t k = 0; k < PCS; k++, i = (i + 1) % PCS) {
        pc_info *p = &s->pcs[i];
        if (p->key == key) return p;
        if (p->key) continue;
        p->key = key;
        const prof_frame *f = prof_frame_of(pc);
        if (f && f->state == 2) {
            char label[160];
            if (f->cell == s->d->cell) snprintf(label, sizeof label, "%s", f->name);
            else snprintf(label, sizeof label, "%s (cell [%d])", f->name, f->cell);
            p->func = func_of(s, f->name, label, f->cell, PF_CELL);
            p->cell = f->cell;
            p->line = profile_line_of(f->cell, f->name, f->offset - (caller && f->offset ? 1 : 0));
        } else {
            p->func = library_func(s, pc);
        }
        return p;
    }
    static pc_info none;
    return &none;
}

/* ------------------------------------------------------------- roots */

static void *probe(void *arg) {
    *(uintptr_t *)arg = (uintptr_t)__builtin_return_address(0);
    return NULL;
}

/* Where a thread's start function returns to in libc (start_thread): the
 * root of a thread's stack, not a cut. Asked only once a cell started
 * threads (a thread of our own would make the allocator lock). */
static uintptr_t thread_root(void) {
    static uintptr_t ra;
    static int asked;
    if (!asked) {
        asked = 1;
        pthread_t t;
        if (pthread_create(&t, NULL, probe, &ra) == 0) pthread_join(t, NULL);
    }
    return ra;
}

static int is_root_function(const char *name) {
    return !strcmp(name, "the cell's statements") || !strcmp(name, "main");
}

/* The funcs of stack PCS (innermost first) into OUT; a mark at the root
 * when it ended early. HEAP: every address is a return address. */
static int stack_funcs(summing *s, const uint64_t *pcs, int n, uint32_t flags, int heap, int *out,
                       int *cell, int *line) {
    int k = 0;
    *cell = *line = 0;
    for (int i = 0; i < n; i++) {
        if (i == n - 1 && i > 0 && flags == PROF_CUT_LIBRARY && pcs[i] == thread_root()) {
            flags = PROF_END_ROOT;
            break;
        }
        const pc_info *p = info_of(s, (uintptr_t)pcs[i], heap || i > 0);
        if (p->cell && !*cell) { *cell = p->cell; *line = p->line; }
        out[k++] = p->func;
    }
    const char *mark = NULL;
    if (flags == PROF_CUT_LIBRARY) mark = "[stack cut: a library without frame pointers]";
    else if (flags == PROF_CUT_FRAME) mark = "[stack cut: a frame pointer that cannot be followed]";
    else if (flags == PROF_CUT_DEPTH) mark = "[stack deeper than 48 frames: the rest not kept]";
    else if (flags == PROF_END_RUNTIME && k && !is_root_function(s->d->f[out[k - 1]].name))
        mark = "[called by the kernel's runtime]";
    if (mark) out[k++] = func_of(s, mark, mark, 0, PF_MARK);
    return k;
}

/* ----------------------------------------------------------- summing */

static int child_of(summing *s, int parent, int func) {
    profile_data *d = s->d;
    for (int c = d->t[parent].child; c; c = d->t[c].next)
        if (d->t[c].func == func) return c;
    if (d->nt == s->capt) {
        s->capt *= 2;
        d->t = realloc(d->t, s->capt * sizeof *d->t);
    }
    d->t[d->nt] = (pnode){ func, 0, 0, d->t[parent].child };
    d->t[parent].child = (int)d->nt;
    return (int)d->nt++;
}

static void add_line(summing *s, int cell, int line, double v) {
    profile_data *d = s->d;
    for (size_t i = 0; i < d->nl; i++)
        if (d->l[i].cell == cell && d->l[i].line == line) { d->l[i].value += v; return; }
    if (d->nl == s->capl) {
        s->capl = s->capl ? 2 * s->capl : 64;
        d->l = realloc(d->l, s->capl * sizeof *d->l);
    }
    d->l[d->nl++] = (pline){ cell, line, v };
}

/* One stack of weight V: functions, lines (each once a stack) and tree. */
static void add_stack(summing *s, const uint64_t *pcs, const int *funcs, int k, int n, int heap, double v) {
    profile_data *d = s->d;
    d->total += v;
    if (k) d->f[funcs[0]].self += v;
    for (int i = 0; i < k; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= funcs[j] == funcs[i];
        if (!seen) d->f[funcs[i]].total += v;
    }
    int lines[PROF_DEPTH * 2], nlines = 0;
    for (int i = 0; i < n; i++) {
        const pc_info *p = info_of(s, (uintptr_t)pcs[i], heap || i > 0);
        int seen = !p->cell || !p->line;
        for (int j = 0; j < nlines && !seen; j += 2) seen = lines[j] == p->cell && lines[j + 1] == p->line;
        if (seen) continue;
        lines[nlines++] = p->cell;
        lines[nlines++] = p->line;
        add_line(s, p->cell, p->line, v);
    }
    int node = 0;
    d->t[0].value += v;
    for (int i = k - 1; i >= 0; i--) {
        node = child_of(s, node, funcs[i]);
        d->t[node].value += v;
    }
}

static void sum_samples(summing *s, const prof_region *r) {
    uint64_t used = r->used < r->cap ? r->used : r->cap;
    int funcs[PROF_DEPTH + 1], cell, line;
    for (uint64_t at = 0; at < used;) {
        uint64_t head = r->log[at];
        int n = (int)(head & 0xff);
        if (!head || n > PROF_DEPTH || at + 1 + (uint64_t)n > used) break;
        int k = stack_funcs(s, &r->log[at + 1], n, (uint32_t)(head >> 8 & 0xff), 0, funcs, &cell, &line);
        add_stack(s, &r->log[at + 1], funcs, k, n, 0, 1);
        s->d->samples++;
        at += (uint64_t)n + 1;
    }
}

static void sum_sites(summing *s, const prof_region *r) {
    profile_data *d = s->d;
    d->sites = calloc(PROF_SITES, sizeof *d->sites);
    for (size_t i = 0; i < PROF_SITES; i++) {
        const prof_site *site = &r->sites[i];
        if (!site->hash || !site->allocs) continue;
        int funcs[PROF_DEPTH + 1];
        psite *p = &d->sites[d->nsites++];
        const uint64_t *pcs = (const uint64_t *)site->pcs;
        int k = stack_funcs(s, pcs, (int)site->depth, site->flags, 1, funcs, &p->cell, &p->line);
        add_stack(s, pcs, funcs, k, (int)site->depth, 1, (double)site->bytes);
        p->funcs = malloc((size_t)(k ? k : 1) * sizeof *p->funcs);
        memcpy(p->funcs, funcs, (size_t)k * sizeof *funcs);
        p->n = k;
        p->allocs = site->allocs;
        p->bytes = site->bytes;
        p->live_bytes = site->live_bytes;
    }
}

void profile_sum(const prof_region *r, int cell, profile_data *d) {
    memset(d, 0, sizeof *d);
    d->cell = cell;
    d->heap = r->heap;
    summing s = { d, calloc(PCS, sizeof(pc_info)), 0, 0, 256 };
    d->t = calloc(s.capt, sizeof *d->t);
    d->t[0].func = -1;
    d->nt = 1;
    if (r->heap) sum_sites(&s, r);
    else sum_samples(&s, r);
    free(s.pcs);
}

void profile_data_free(profile_data *d) {
    for (size_t i = 0; i < d->nf; i++) {
        free(d->f[i].name);
        free(d->f[i].label);
    }
    for (size_t i = 0; i < d->nsites; i++) free(d->sites[i].funcs);
    free(d->f);
    free(d->l);
    free(d->t);
    free(d->sites);
    memset(d, 0, sizeof *d);
}
