/* leaks.c - the leak report under a cell (see leaks.h).
 *
 * Sites are named with the session (a cell's function, or "the cell's
 * statements") and compile.c (which cell's unit holds the address), or by
 * the dynamic linker for library code (strdup). Lines are found for the
 * cell that just ran, by compiling its unit again with debug lines
 * (session_lines, as a crash does): only when there are leaks. An earlier
 * cell's code is named with its cell but no line: its text is not kept. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"
#include "leaks.h"
#include "monotime.h"

#define LEAKS_KEPT 100                      /* listed in the reply; all are counted */
#define LEAKS_SHOWN 8                       /* sites listed under the cell */

static int enabled = 1;
static nb_leak found[LEAKS_KEPT];
static long nfound;
static uint64_t scan_ns;

void leaks_enable(int on) { enabled = on; }
uint64_t leaks_scan_ns(void) { return scan_ns; }

void leaks_after_cell(nb_measure *m) {
    nfound = 0;
    scan_ns = 0;
    m->leaks_checked = 0;
    if (!enabled) return;
    uint64_t t0 = monotime_ns();
    size_t n = 0;
    uintptr_t *w = compile_writable(&n);
    nb_range *cells = calloc(n + 1, sizeof *cells);
    uintptr_t tlo, thi;
    compile_tcc_statics(&tlo, &thi);
    nb_range skip[1] = { { (const void *)tlo, (const void *)thi } };
    for (size_t i = 0; cells && i < n; i++) cells[i] = (nb_range){ (const void *)w[2 * i], (const void *)w[2 * i + 1] };
    uint64_t bytes = 0;
    if (!cells || !w) {                     /* no memory: no scan, and no figure */
        free(cells);
        free(w);
        return;
    }
    long got = nb_internal_leak_scan(cells, n, skip, 1, found, LEAKS_KEPT, &bytes);
    free(cells);
    free(w);
    scan_ns = monotime_ns() - t0;
    m->leaks_checked = got < 0 ? (int)got : 1;
    m->leaked_blocks = got < 0 ? 0 : (uint64_t)got;
    m->leaked_bytes = got < 0 ? 0 : bytes;
    nfound = got < 0 ? 0 : got < LEAKS_KEPT ? got : LEAKS_KEPT;
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
    if (dladdr(site, &info) && info.dli_sname) snprintf(out->function, sizeof out->function, "%s", info.dli_sname);
    else snprintf(out->function, sizeof out->function, "?");
}

/* The lines of the sites in cell COUNT (CODE), in one compile. */
static void find_lines(session *s, const char *code, const char *cflags, int count, site_info *sites, long n) {
    const char **names = calloc((size_t)n + 1, sizeof *names);
    unsigned long *offsets = calloc((size_t)n + 1, sizeof *offsets);
    int *lines = calloc((size_t)n + 1, sizeof *lines);
    long k = 0;
    long *which = calloc((size_t)n + 1, sizeof *which);
    for (long i = 0; names && offsets && lines && which && i < n; i++) {
        if (!sites[i].is_cells || sites[i].cell != count) continue;
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

static json_t *int_or_null(int v) { return v > 0 ? json_integer(v) : json_null(); }

/* "in f (cell 3, line 4)", "in strdup" */
static void site_words(const site_info *si, char *out, size_t n) {
    if (si->cell && si->line) snprintf(out, n, "in %s (cell %d, line %d)", si->function, si->cell, si->line);
    else if (si->cell) snprintf(out, n, "in %s (cell %d)", si->function, si->cell);
    else snprintf(out, n, "in %s", si->function);
}

/* The text list: one line a site and size, with a count. */
static void list_text(const site_info *sites, long n, char **text, char **html) {
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
            if (!done[j] && found[j].size == found[i].size && found[j].site == found[i].site) done[j] = 1, same++;
        if (++lines > LEAKS_SHOWN) continue;
        char where[256];
        site_words(&sites[i], where, sizeof where);
        char count[32] = "";
        if (same > 1) snprintf(count, sizeof count, "%ld \xc3\x97 ", same);
        fprintf(t, "%sleaked %s%zu B, allocated %s", lines > 1 ? "\n" : "", count, found[i].size, where);
        fprintf(h, "%sleaked %s%zu B, allocated %s", lines > 1 ? "<br>" : "", count, found[i].size, where);
    }
    if (lines > LEAKS_SHOWN) fprintf(t, "\n(and %d more sites)", lines - LEAKS_SHOWN);
    free(done);
    fclose(t);
    fclose(h);
}

json_t *leaks_report(session *s, const char *code, const char *cflags, int count, char **text, char **html) {
    *text = *html = NULL;
    if (nfound <= 0) return NULL;
    site_info *sites = calloc((size_t)nfound, sizeof *sites);
    if (!sites) return NULL;
    for (long i = 0; i < nfound; i++) name_site(s, found[i].site, &sites[i]);
    find_lines(s, code, cflags, count, sites, nfound);
    json_t *list = json_array();
    for (long i = 0; i < nfound; i++)
        json_array_append_new(list, json_pack("{s:I, s:s, s:o, s:o}", "bytes", (json_int_t)found[i].size,
                                              "function", sites[i].function, "cell", int_or_null(sites[i].cell),
                                              "line", int_or_null(sites[i].line)));
    list_text(sites, nfound, text, html);
    free(sites);
    return list;
}
