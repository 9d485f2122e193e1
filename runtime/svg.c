/* svg.c - pictures: the memory map (nb_memory_map) and the benchmark
 * chart (nb_bench_chart), drawn as SVG with a text/plain twin.
 *
 * The address space spans 2^47 bytes with mappings of a few KiB to a GiB,
 * so the memory map is not to scale: each group of mappings (one file, the
 * heap, the stack, a run of anonymous memory) gets a height that grows
 * with the logarithm of its size, gaps between groups are drawn as small
 * breaks, and within a group a pointer is placed linearly. High addresses
 * are at the top, as in textbooks. Groups of libraries and mappings that
 * hold none of the pointers are folded into one.
 *
 * Every picture carries its own light background, so it reads the same in
 * light and dark themes, and all text is XML-escaped (the tests parse it). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nb.h"
#include "rt.h"

#define FONT "font-family=\"ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\""

/* ----------------------------------------------------------- groups */

typedef enum { G_PROGRAM, G_LIBRARY, G_HEAP, G_STACK, G_CELLS, G_ANON, G_KERNEL, G_OTHER } gkind;

static const char *fill_of[] = { "#c7d2fe", "#e5e7eb", "#fde68a", "#bbf7d0", "#fbcfe8", "#dbeafe", "#f5f5f4", "#f3f4f6" };

typedef struct {
    gkind kind;
    uintptr_t lo, hi;
    char name[160];
    int marks;                  /* pointers inside */
    int folded;                 /* groups folded into this one */
} group;

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static gkind kind_of(const rt_map *m, const char *exe) {
    if (strcmp(m->path, "[heap]") == 0) return G_HEAP;
    if (strcmp(m->path, "[stack]") == 0) return G_STACK;
    if (m->path[0] == '[') return G_KERNEL;
    if (m->path[0] == '/') return strcmp(m->path, exe) == 0 ? G_PROGRAM : G_LIBRARY;
    if (m->perms[2] == 'x') return G_CELLS;
    return G_ANON;
}

static const char *kind_label(gkind k) {
    switch (k) {
    case G_PROGRAM: return "program";
    case G_LIBRARY: return "library";
    case G_HEAP: return "heap";
    case G_STACK: return "stack";
    case G_CELLS: return "cells' code + globals";
    case G_ANON: return "anonymous mmap";
    case G_KERNEL: return "kernel (vdso)";
    case G_OTHER: return "libraries + mappings";
    }
    return "";
}

/* Merge the mappings into groups; fold minor groups without marks. */
static int make_groups(const rt_map *maps, int nmaps, const void *const *ptrs, int np, group *g, int cap) {
    char exe[512] = "";
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (r > 0) exe[r] = 0;
    int n = 0;
    for (int i = 0; i < nmaps; i++) {
        const rt_map *m = &maps[i];
        if (m->lo >= (uintptr_t)1 << 47) continue;              /* [vsyscall] */
        gkind k = kind_of(m, exe);
        group *last = n ? &g[n - 1] : NULL;
        int adjacent = last && last->hi == m->lo;
        /* bss and guard pages join their neighbour; a file's mappings stay together */
        if (last && adjacent &&
            ((k == G_ANON && (last->kind == G_PROGRAM || last->kind == G_LIBRARY || last->kind == G_ANON)) ||
             (k == last->kind && k != G_ANON && (k != G_LIBRARY || strcmp(last->name, base_name(m->path)) == 0)) ||
             (k == G_KERNEL && last->kind == G_KERNEL))) {
            last->hi = m->hi;
            continue;
        }
        if (n == cap) break;
        group *ng = &g[n++];
        memset(ng, 0, sizeof *ng);
        ng->kind = k;
        ng->lo = m->lo;
        ng->hi = m->hi;
        if (k == G_PROGRAM || k == G_LIBRARY) snprintf(ng->name, sizeof ng->name, "%s", base_name(m->path));
        else snprintf(ng->name, sizeof ng->name, "%s", kind_label(k));
    }
    for (int j = 0; j < np; j++)
        for (int i = 0; i < n; i++)
            if (g[i].lo <= (uintptr_t)ptrs[j] && (uintptr_t)ptrs[j] < g[i].hi) g[i].marks++;
    /* fold runs of unmarked libraries, anonymous mappings and the vdso */
    int out = 0;
    for (int i = 0; i < n; i++) {
        int minor = (g[i].kind == G_LIBRARY || g[i].kind == G_ANON || g[i].kind == G_KERNEL) && !g[i].marks;
        group *prev = out ? &g[out - 1] : NULL;
        if (minor && prev && (prev->kind == G_OTHER || (prev->folded == 0 && prev->kind != G_PROGRAM &&
            prev->kind != G_HEAP && prev->kind != G_STACK && prev->kind != G_CELLS && !prev->marks))) {
            if (prev->kind != G_OTHER) {
                char first[160];
                snprintf(first, sizeof first, "%s", prev->name);
                prev->kind = G_OTHER;
                snprintf(prev->name, sizeof prev->name, "%s", first);
            }
            prev->folded++;
            size_t len = strlen(prev->name);
            if (prev->folded <= 3 && len + strlen(g[i].name) + 3 < sizeof prev->name && strcmp(g[i].name, prev->name))
                snprintf(prev->name + len, sizeof prev->name - len, ", %s", g[i].name);
            else if (prev->folded == 4 && len + 6 < sizeof prev->name)
                snprintf(prev->name + len, sizeof prev->name - len, ", ...");
            prev->hi = g[i].hi;
            continue;
        }
        g[out++] = g[i];
    }
    return out;
}

static double group_height(const group *g) {
    double pages = (double)(g->hi - g->lo) / 4096.0;
    double h = 20 + 4 * log2(pages < 1 ? 1 : pages);
    return h > 92 ? 92 : h;
}

/* --------------------------------------------------------- memory map */

void rt_memory_map(const char *const *labels, const void *const *ptrs, int np, rt_buf *svg, rt_buf *text) {
    enum { MAXG = 128, MAXP = 64 };
    rt_map *maps = NULL;
    int nmaps = rt_maps_read(&maps);
    /* on the heap, not the stack: the cell's stack figure stays its own */
    rt_inside_begin();
    group *g = malloc(MAXG * sizeof *g);
    nb_place *where = malloc(MAXP * sizeof *where);
    rt_inside_end();
    int ng = nmaps > 0 && g && where ? make_groups(maps, nmaps, ptrs, np, g, MAXG) : 0;
    rt_inside_begin();
    free(maps);
    rt_inside_end();

    /* layout, top (high addresses) to bottom; address 0 below the last */
    double y = 58, top[MAXG], h[MAXG];
    for (int i = ng - 1; i >= 0; i--) {
        h[i] = group_height(&g[i]);
        top[i] = y;
        y += h[i];
        if (i > 0) y += g[i - 1].hi == g[i].lo ? 0 : 12;
    }
    double zero_y = y + 14, height = zero_y + 30;

    /* marks and their labels (pushed apart so they do not overlap) */
    double my[MAXP], ly[MAXP];
    int mg[MAXP], order[MAXP];
    if (np > MAXP) np = MAXP;
    if (!where) np = 0;
    for (int j = 0; j < np; j++) {
        where[j] = nb_locate(ptrs[j]);
        mg[j] = -1;
        uintptr_t a = (uintptr_t)ptrs[j];
        my[j] = ng ? 48 : zero_y;                 /* above everything */
        for (int i = 0; i < ng; i++) {
            if (g[i].lo <= a && a < g[i].hi) {
                mg[j] = i;
                my[j] = top[i] + h[i] * (double)(g[i].hi - a) / (double)(g[i].hi - g[i].lo);
                break;
            }
            if (a < g[i].lo) {                     /* unmapped: in the gap below group i */
                my[j] = i == 0 ? zero_y : top[i] + h[i] + 6;
                break;
            }
        }
        order[j] = j;
    }
    for (int a = 1; a < np; a++)                   /* sort by y */
        for (int b = a; b > 0 && my[order[b]] < my[order[b - 1]]; b--) {
            int t = order[b]; order[b] = order[b - 1]; order[b - 1] = t;
        }
    double prev = -1e9;
    for (int k = 0; k < np; k++) {
        double want = my[order[k]];
        ly[order[k]] = want < prev + 15 ? prev + 15 : want;
        prev = ly[order[k]];
    }
    if (np && prev + 34 > height) height = prev + 34;

    const double W = 820, BX = 150, BW = 250, LX = 440;
    rt_buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                  FONT " font-size=\"11\">\n", W, height, W, height);
    rt_buf_printf(svg, "<rect x=\"0.5\" y=\"0.5\" width=\"%.0f\" height=\"%.0f\" rx=\"6\" fill=\"#ffffff\" stroke=\"#d4d4d8\"/>\n",
                  W - 1, height - 1);
    rt_buf_puts(svg, "<text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"bold\" fill=\"#111827\">Address space of the worker</text>\n");
    rt_buf_puts(svg, "<text x=\"12\" y=\"34\" fill=\"#6b7280\">high addresses at the top; heights grow with log(size); gaps not to scale</text>\n");
    rt_buf_printf(text, "address space (high addresses first):\n");
    for (int i = ng - 1; i >= 0; i--) {
        char size[32], lo[32], hi[32];
        rt_fmt_bytes(size, sizeof size, (double)(g[i].hi - g[i].lo));
        snprintf(lo, sizeof lo, "%#lx", (unsigned long)g[i].lo);
        snprintf(hi, sizeof hi, "%#lx", (unsigned long)g[i].hi);
        rt_buf_printf(svg, "<g><title>%s-%s, %s</title>", lo, hi, size);
        rt_buf_printf(svg, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\" stroke=\"#52525b\" stroke-width=\"0.6\"/>",
                      BX, top[i], BW, h[i], fill_of[g[i].kind]);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\">", BX + 6, top[i] + (h[i] < 26 ? h[i] / 2 + 4 : 14));
        char shown[160];
        snprintf(shown, sizeof shown, "%s", g[i].name);
        if (strlen(shown) > 34) memcpy(shown + 31, "...", 4);   /* fit the box */
        rt_buf_xml(svg, shown);
        if (g[i].kind == G_PROGRAM || g[i].kind == G_LIBRARY) rt_buf_printf(svg, " (%s)", kind_label(g[i].kind));
        rt_buf_puts(svg, "</text>");
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#374151\">%s</text>",
                      BX + BW - 6, top[i] + (h[i] < 26 ? h[i] / 2 + 4 : h[i] - 6), size);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#6b7280\">%s</text></g>\n",
                      BX - 6, top[i] + h[i] - 2, lo);
        if (i > 0 && g[i - 1].hi != g[i].lo) {
            double gy = top[i] + h[i] + 6;
            rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#a1a1aa\" stroke-dasharray=\"3 3\"/>\n",
                          BX + 20, gy, BX + BW - 20, gy);
        }
        rt_buf_printf(text, "  %-18s %-36s %s .. %s  %s\n", kind_label(g[i].kind), g[i].name, lo, hi, size);
    }
    for (int j = 0; j < np; j++) {
        char addr[32];
        snprintf(addr, sizeof addr, "%p", ptrs[j]);
        const char *label = labels && labels[j] && *labels[j] ? labels[j] : "?";
        double x = BX + BW;
        rt_buf_printf(svg, "<g><title>");
        rt_buf_xml(svg, where[j].text);
        rt_buf_printf(svg, "</title><path d=\"M %.0f %.1f l 7 -4 v 8 z\" fill=\"%s\" stroke=\"#dc2626\"/>", x, my[j],
                      mg[j] >= 0 ? "#dc2626" : "#ffffff");
        rt_buf_printf(svg, "<polyline points=\"%.0f,%.1f %.0f,%.1f %.0f,%.1f\" fill=\"none\" stroke=\"#dc2626\" stroke-width=\"1\"/>",
                      x + 7, my[j], LX - 16, ly[j], LX - 4, ly[j]);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\"><tspan font-weight=\"bold\">", LX, ly[j] + 4);
        rt_buf_xml(svg, label);
        rt_buf_printf(svg, "</tspan> %s <tspan fill=\"#6b7280\">", addr);
        rt_buf_xml(svg, nb_region_name(where[j].region));
        rt_buf_puts(svg, "</tspan></text></g>\n");
        rt_buf_printf(text, "%s = %s: %s\n", label, addr, where[j].text);
    }
    rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#a1a1aa\" stroke-dasharray=\"3 3\"/>"
                  "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#6b7280\">0x0</text>"
                  "<text x=\"%.0f\" y=\"%.1f\" fill=\"#6b7280\">address 0 (NULL): never mapped</text>\n",
                  BX, zero_y, BX + BW, zero_y, BX - 6, zero_y + 4, BX + 6, zero_y - 3);
    rt_inside_begin();
    free(g);
    free(where);
    rt_inside_end();
    /* legend */
    static const gkind legend[] = { G_STACK, G_HEAP, G_CELLS, G_PROGRAM, G_LIBRARY, G_ANON };
    double lx = 12;
    for (size_t k = 0; k < sizeof legend / sizeof *legend; k++) {
        const char *name = kind_label(legend[k]);
        rt_buf_printf(svg, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#52525b\" stroke-width=\"0.6\"/>"
                      "<text x=\"%.0f\" y=\"%.0f\" fill=\"#374151\">%s</text>\n",
                      lx, height - 20, fill_of[legend[k]], lx + 14, height - 11, name);
        lx += 14 + 7.0 * (double)strlen(name) + 14;
    }
    rt_buf_puts(svg, "</svg>\n");
}

/* A NULL-free list of the top-level, comma-separated expressions in S. */
static int split_labels(const char *s, char **out, int cap) {
    int n = 0, depth = 0;
    char quote = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (quote) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == quote) quote = 0;
            else if (!*p) break;
            continue;
        }
        if (*p == '"' || *p == '\'') quote = *p;
        else if (*p == '(' || *p == '[' || *p == '{') depth++;
        else if (*p == ')' || *p == ']' || *p == '}') depth--;
        else if (!*p || (*p == ',' && depth == 0)) {
            const char *a = start, *b = p;
            while (a < b && (*a == ' ' || *a == '\t' || *a == '\n')) a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n')) b--;
            if (n < cap && (b > a || *p)) {
                rt_inside_begin();
                out[n] = strndup(a, (size_t)(b - a));
                rt_inside_end();
                n++;
            }
            if (!*p) break;
            start = p + 1;
        }
    }
    return n;
}

RT_BODY void memory_map(const char *labels, va_list ap) {
    char *names[64];
    const void *ptrs[64] = {0};
    int n = split_labels(labels ? labels : "", names, 64);
    for (int i = 0; i < n; i++) ptrs[i] = va_arg(ap, const void *);
    rt_buf svg = {0}, text = {0};
    rt_memory_map((const char *const *)names, ptrs, n, &svg, &text);
    if (svg.s && text.s) {
        nb_display d = { .kind = NB_DISPLAY_SHOW, .n = 2, .mime = { "image/svg+xml", "text/plain" }, .data = { svg.s, text.s } };
        rt_display_send(&d);
    }
    rt_buf_free(&svg);
    rt_buf_free(&text);
    rt_inside_begin();
    for (int i = 0; i < n; i++) free(names[i]);
    rt_inside_end();
}

void nb__memory_map(const char *labels, ...) {
    RT_STACK_ENTER();
    va_list ap;
    va_start(ap, labels);
    memory_map(labels, ap);
    va_end(ap);
    RT_STACK_LEAVE();
}

/* ------------------------------------------------------ benchmark chart */

int rt_bench_chart(rt_buf *svg, rt_buf *text) {
    int n;
    const nb_result *r = rt_bench_list(&n);
    if (n == 0) return 0;
    double max = 0;
    for (int i = 0; i < n; i++) {
        double m = r[i].max_ns_per_op > r[i].ns_per_op ? r[i].max_ns_per_op : r[i].ns_per_op;
        if (m > max) max = m;
    }
    if (max <= 0) max = 1;
    const double W = 760, LX = 190, BW = 300, ROW = 28, TOP = 40;
    double height = TOP + ROW * n + 14;
    rt_buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                  FONT " font-size=\"11\">\n", W, height, W, height);
    rt_buf_printf(svg, "<rect x=\"0.5\" y=\"0.5\" width=\"%.0f\" height=\"%.0f\" rx=\"6\" fill=\"#ffffff\" stroke=\"#d4d4d8\"/>\n",
                  W - 1, height - 1);
    rt_buf_printf(svg, "<text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"bold\" fill=\"#111827\">Time per operation</text>"
                  "<text x=\"12\" y=\"33\" fill=\"#6b7280\">median of %d runs, \xc2\xb1 the median deviation; whiskers from the fastest to the slowest run</text>\n",
                  r[0].runs);
    rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#52525b\"/>\n",
                  LX, TOP - 2, LX, TOP + ROW * n);
    for (int i = 0; i < n; i++) {
        double y = TOP + ROW * i, w = BW * r[i].ns_per_op / max;
        double x0 = LX + BW * r[i].min_ns_per_op / max, x1 = LX + BW * r[i].max_ns_per_op / max;
        char ns[32], bytes[32];
        rt_fmt_ns(ns, sizeof ns, r[i].ns_per_op);
        rt_fmt_bytes(bytes, sizeof bytes, r[i].bytes_per_op);
        rt_buf_printf(svg, "<g><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#111827\">", LX - 8, y + 16);
        rt_buf_xml(svg, r[i].name);
        rt_buf_printf(svg, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>",
                      LX, y + 4, w < 1 ? 1 : w, i % 2 ? "#60a5fa" : "#3b82f6");
        rt_buf_printf(svg, "<path d=\"M %.1f %.1f v 10 M %.1f %.1f H %.1f M %.1f %.1f v 10\" stroke=\"#111827\" fill=\"none\"/>",
                      x0, y + 8, x0, y + 13, x1, x1, y + 8);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\">%s/op \xc2\xb1%.0f%% \xc2\xb7 %s/op \xc2\xb7 %.3g allocs/op</text></g>\n",
                      LX + BW + 12, y + 16, ns, r[i].spread * 100, bytes, r[i].allocs_per_op);
        rt_buf_printf(text, "%-24s %10s/op  \xc2\xb1%3.0f%%  %10s/op  %8.3g allocs/op\n", r[i].name, ns, r[i].spread * 100,
                      bytes, r[i].allocs_per_op);
    }
    rt_buf_puts(svg, "</svg>\n");
    return 1;
}

RT_BODY void bench_chart(void) {
    rt_buf svg = {0}, text = {0};
    if (!rt_bench_chart(&svg, &text)) {
        rt_inside_begin();
        printf("nb_bench_chart: no benchmark ran in this cell\n");
        rt_inside_end();
    } else if (svg.s && text.s) {
        nb_display d = { .kind = NB_DISPLAY_SHOW, .n = 2, .mime = { "image/svg+xml", "text/plain" }, .data = { svg.s, text.s } };
        rt_display_send(&d);
    }
    rt_buf_free(&svg);
    rt_buf_free(&text);
}

void nb_bench_chart(void) {
    RT_STACK_ENTER();
    bench_chart();
    RT_STACK_LEAVE();
}
