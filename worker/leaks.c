/* leaks.c - the leak report under a cell (see leaks.h).
 *
 * Sites are named with the session (a cell's function, or "the cell's
 * statements") and compile.c (which cell's unit holds the address), or by
 * the dynamic linker for library code (strdup). Lines are found for the
 * cell that just ran, by compiling its unit again with debug lines
 * (session_lines, as a crash does): only when there are leaks. An earlier
 * cell's code gets its line the same way, from the cell's text, kept for
 * the last 256 cells that allocated or defined a function. */
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cc.h"
#include "compile.h"
#include "leaks.h"
#include "monotime.h"

#define LEAKS_KEPT 100                      /* listed in the reply; all are counted */
#define LEAKS_SHOWN 8                       /* sites listed under the cell */

static int enabled = 1;
static nb_leak found[LEAKS_KEPT];
static long nfound;

void leaks_enable(int on) { enabled = on; }

/* The cells' writable ranges, in memory the snapshot fork does not share
 * (written after each fork, it would cost a copy-on-write fault). */
static nb_range *ranges;
static size_t ranges_cap;
static pid_t ranges_pid;                    /* the process that mapped them */

/* The cells' writable ranges (*N), or NULL without memory for them. */
static nb_range *cells_ranges(size_t *n) {
    if (ranges && ranges_pid != getpid()) {         /* a forked copy: not inherited */
        ranges = NULL;
        ranges_cap = 0;
    }
    *n = compile_writable(ranges, ranges_cap);
    if (*n > ranges_cap || !ranges) {
        size_t cap = (*n + 4096) & ~(size_t)4095;
        nb_range *r = mmap(NULL, cap * sizeof *r, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r == MAP_FAILED) return NULL;
        madvise(r, cap * sizeof *r, MADV_DONTFORK);
        if (ranges) munmap(ranges, ranges_cap * sizeof *ranges);
        ranges = r;
        ranges_cap = cap;
        ranges_pid = getpid();
        *n = compile_writable(ranges, ranges_cap);
    }
    return ranges;
}

void leaks_after_cell(nb_measure *m) {
    if (nfound) nfound = 0;                 /* statics written only when they change: */
    m->leaks_checked = 0;                   /* a page written costs a fault after the fork */
    m->leak_scan_ns = 0;
    if (!enabled) return;
    uint64_t t0 = monotime_ns();
    size_t n = 0;
    const nb_range *cells = cells_ranges(&n);
    uintptr_t tlo, thi;
    compile_tcc_statics(&tlo, &thi);
    const nb_range skip[1] = { { (const void *)tlo, (const void *)thi } };
    uint64_t bytes = 0;
    long got = cells ? nb_internal_leak_scan(cells, n, skip, 1, found, LEAKS_KEPT, &bytes)
                     : NB_LEAKS_NO_MEMORY;
    m->leak_scan_ns = monotime_ns() - t0;
    m->leaks_checked = got < 0 ? (int)got : 1;
    m->leaked_blocks = got < 0 ? 0 : (uint64_t)got;
    m->leaked_bytes = got < 0 ? 0 : bytes;
    long kept_now = got < 0 ? 0 : got < LEAKS_KEPT ? got : LEAKS_KEPT;
    if (kept_now != nfound) nfound = kept_now;
}

/* One leak's site: function, cell (0: none), and its offset in it. */
typedef struct {
    char function[128];
    int cell;
    unsigned long offset;
    int line;
    int is_cells;                           /* in a cell's code (not a library's) */
} site_info;

static void name_site(session *s, const void *site, site_info *out) {
    memset(out, 0, sizeof *out);
    const char *name;
    if (session_symbolize(s, site, &name, &out->offset, NULL) == 'f') {
        snprintf(out->function, sizeof out->function, "%s", name);
        compile_part_of(site, &out->cell);
        out->is_cells = 1;
        return;
    }
    Dl_info info;
    const char *name_of = dladdr(site, &info) && info.dli_sname ? info.dli_sname : "?";
    snprintf(out->function, sizeof out->function, "%s", name_of);
}

/* The text of earlier cells that allocated or defined a function (where
 * later leaks come from), the newest KEPT_CELLS: their leaks' lines. */
#define KEPT_CELLS 256

static struct {
    int count;
    char *code, *cflags;
} kept[KEPT_CELLS];
static unsigned next_kept;

static void keep_cell(session *s, int count, const char *code, const char *cflags,
                      const nb_measure *m) {
    if (!m->allocs && !session_cell_has_function(s, count)) return;
    unsigned i = next_kept++ % KEPT_CELLS;
    free(kept[i].code);
    free(kept[i].cflags);
    kept[i].count = count;
    kept[i].code = strdup(code ? code : "");
    kept[i].cflags = cflags ? strdup(cflags) : NULL;
}

/* The lines of the sites in cell CELL (its CODE and CFLAGS), in one compile. */
static void lines_in_cell(session *s, int cell, const char *code, const char *cflags,
                          site_info *sites, long n) {
    const char **names = calloc((size_t)n + 1, sizeof *names);
    unsigned long *offsets = calloc((size_t)n + 1, sizeof *offsets);
    int *lines = calloc((size_t)n + 1, sizeof *lines);
    long k = 0;
    long *which = calloc((size_t)n + 1, sizeof *which);
    for (long i = 0; names && offsets && lines && which && i < n; i++) {
        if (!sites[i].is_cells || sites[i].cell != cell) continue;
        names[k] = sites[i].function;
        offsets[k] = sites[i].offset;
        which[k++] = i;
    }
    if (k && session_lines(s, code, cflags, names, offsets, 1, lines, NULL, (size_t)k) == 0)
        for (long j = 0; j < k; j++) sites[which[j]].line = lines[j];
    free(names);
    free(offsets);
    free(lines);
    free(which);
}

/* The lines of the sites in an earlier %%cc cell, from its object (kept
 * by cc.c): 1, or 0 if CELL was not compiled by gcc or clang. */
static int lines_in_cc_cell(int cell, site_info *sites, long n) {
    const char *code, *options, *label;
    const unsigned char *obj;
    size_t len;
    if (!cc_kept(cell, &code, &options, &label, &obj, &len) || !obj) return 0;
    for (long i = 0; i < n; i++) {
        if (!sites[i].is_cells || sites[i].cell != cell) continue;
        const char *name = sites[i].function;
        if (strcmp(name, "the cell's statements") == 0) name = "__ck_run";
        /* a return address: the line is the call's, a byte before */
        unsigned long call = sites[i].offset ? sites[i].offset - 1 : 0;
        int line = 0;
        if (cc_lines(obj, len, &name, &call, &line, 1) == 0) sites[i].line = line;
    }
    return 1;
}

/* The lines of every site: in cell COUNT (CODE), the one that ran, and in
 * earlier cells: a %%cc cell's from its object, a tcc cell's from its text
 * kept here, compiled again by tcc whatever compiles the cell now. */
static void find_lines(session *s, const char *code, const char *cflags, int count,
                       site_info *sites, long n) {
    lines_in_cell(s, count, code, cflags, sites, n);
    const struct cc_spec *now = session_cc(s);
    session_set_cc(s, NULL);
    for (unsigned i = 0; i < KEPT_CELLS; i++) {
        if (!kept[i].code || kept[i].count == count) continue;
        int wanted = 0;
        for (long j = 0; j < n && !wanted; j++)
            wanted = sites[j].is_cells && sites[j].cell == kept[i].count;
        if (wanted && !lines_in_cc_cell(kept[i].count, sites, n))
            lines_in_cell(s, kept[i].count, kept[i].code, kept[i].cflags, sites, n);
    }
    session_set_cc(s, now);
}

static json_t *int_or_null(int v) { return v > 0 ? json_integer(v) : json_null(); }

/* "in f (cell 3, line 4)", "in strdup" */
static void site_words(const site_info *si, char *out, size_t n) {
    if (si->cell && si->line)
        snprintf(out, n, "in %s (cell %d, line %d)", si->function, si->cell, si->line);
    else if (si->cell) snprintf(out, n, "in %s (cell %d)", si->function, si->cell);
    else snprintf(out, n, "in %s", si->function);
}

/* The text list: one line a site and size, with a count. */
static void list_text(const site_info *sites, long n, uint64_t total, char **text, char **html) {
    size_t tl = 0, hl = 0;
    FILE *t = open_memstream(text, &tl), *h = open_memstream(html, &hl);
    if (!t || !h) {
        if (t) fclose(t);
        if (h) fclose(h);
        *text = *html = NULL;
        return;
    }
    unsigned char *done = calloc((size_t)n + 1, 1);
    int lines = 0;
    for (long i = 0; done && i < n; i++) {
        if (done[i]) continue;
        long same = 0;
        for (long j = i; j < n; j++)
            if (!done[j] && found[j].size == found[i].size && found[j].site == found[i].site) {
                done[j] = 1;
                same++;
            }
        if (++lines > LEAKS_SHOWN) continue;
        char where[256];
        site_words(&sites[i], where, sizeof where);
        char count[32] = "";
        if (same > 1) snprintf(count, sizeof count, "%ld \xc3\x97 ", same);
        const char *fmt = "%sleaked %s%zu B, allocated %s";
        fprintf(t, fmt, lines > 1 ? "\n" : "", count, found[i].size, where);
        fprintf(h, fmt, lines > 1 ? "<br>" : "", count, found[i].size, where);
    }
    if (lines > LEAKS_SHOWN) fprintf(t, "\n(and %d more sites)", lines - LEAKS_SHOWN);
    if (total > (uint64_t)n) {              /* the counts above are of the kept ones only */
        const char *fmt = "%s(the list is of the first %ld of the %llu blocks leaked)";
        fprintf(t, fmt, "\n", n, (unsigned long long)total);
        fprintf(h, fmt, "<br>", n, (unsigned long long)total);
    }
    free(done);
    fclose(t);
    fclose(h);
}

json_t *leaks_report(session *s, const char *code, const char *cflags, int count,
                     const nb_measure *m, char **text, char **html) {
    *text = *html = NULL;
    keep_cell(s, count, code, cflags, m);
    if (nfound <= 0) return NULL;
    site_info *sites = calloc((size_t)nfound, sizeof *sites);
    if (!sites) return NULL;
    for (long i = 0; i < nfound; i++) name_site(s, found[i].site, &sites[i]);
    find_lines(s, code, cflags, count, sites, nfound);
    json_t *list = json_array();
    for (long i = 0; i < nfound; i++)
        json_array_append_new(list, json_pack("{s:I, s:s, s:o, s:o}",
                                              "bytes", (json_int_t)found[i].size,
                                              "function", sites[i].function,
                                              "cell", int_or_null(sites[i].cell),
                                              "line", int_or_null(sites[i].line)));
    list_text(sites, nfound, m->leaked_blocks, text, html);
    free(sites);
    return list;
}
