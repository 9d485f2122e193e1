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

/* Text is laid out by its width: CHAR_W is a little wider than a
 * monospace glyph at 11 px (0.6 em), so every label stays inside the
 * picture (the tests check that against 0.6 em). */
#define CHAR_W 6.9

static double text_w(const char *s, double font) {
    size_t glyphs = 0;
    for (; *s; s++) glyphs += ((unsigned char)*s & 0xC0) != 0x80;
    return (double)glyphs * CHAR_W * font / 11.0;
}

/* ----------------------------------------------------------- groups */

typedef enum { G_PROGRAM, G_LIBRARY, G_HEAP, G_STACK, G_CELLS, G_ANON, G_KERNEL, G_OTHER, G_HEAP_MMAP } gkind;

static const char *fill_of[] = { "#c7d2fe", "#e5e7eb", "#fde68a", "#bbf7d0", "#fbcfe8", "#dbeafe", "#f5f5f4", "#f3f4f6",
                                 "#fde68a" };

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
    if (m->perms[2] == 'x' || rt_in_cell_region(m->lo)) return G_CELLS;
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
    case G_HEAP_MMAP: return "heap block in its own mmap";
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

enum { MAXG = 128, MAXP = 64 };

/* What one picture holds: the groups, the pointers and where they are. */
typedef struct {
    group g[MAXG];
    int ng, np;
    const char *const *labels;
    const void *const *ptrs;
    nb_place where[MAXP];
    int mg[MAXP];                /* the group of each pointer, or -1 */
    double top[MAXG], h[MAXG];   /* each group's box */
    double my[MAXP], ly[MAXP];   /* each mark, and its label */
    double zero_y, height, width;
} mmap_pic;

static const char *label_of(const mmap_pic *pc, int j) {
    return pc->labels && pc->labels[j] && *pc->labels[j] ? pc->labels[j] : "?";
}

/* A block malloc placed in a mapping of its own is a heap block, not
 * "anonymous memory". */
static void name_heap_mappings(mmap_pic *pc) {
    for (int j = 0; j < pc->np; j++) {
        int i = pc->mg[j];
        nb_region r = pc->where[j].region;
        if (i >= 0 && pc->g[i].kind == G_ANON && (r == NB_HEAP || r == NB_HEAP_FREED)) {
            pc->g[i].kind = G_HEAP_MMAP;
            snprintf(pc->g[i].name, sizeof pc->g[i].name, "%s", kind_label(G_HEAP_MMAP));
        }
    }
}

/* The region a pointer's label names. */
static const char *mark_region(const mmap_pic *pc, int j) {
    int i = pc->mg[j];
    if (i >= 0 && pc->g[i].kind == G_HEAP_MMAP && pc->where[j].region == NB_HEAP) return "heap block in its own mmap";
    return nb_region_name(pc->where[j].region);
}

/* Boxes, top (high addresses) to bottom; address 0 below the last. */
static void layout_groups(mmap_pic *pc) {
    double y = 58;
    for (int i = pc->ng - 1; i >= 0; i--) {
        pc->h[i] = group_height(&pc->g[i]);
        pc->top[i] = y;
        y += pc->h[i];
        if (i > 0) y += pc->g[i - 1].hi == pc->g[i].lo ? 0 : 12;
    }
    pc->zero_y = y + 14;
    pc->height = pc->zero_y + 30;
}

/* Each mark at its address, the labels pushed apart so they do not overlap. */
static void layout_marks(mmap_pic *pc) {
    int order[MAXP];
    for (int j = 0; j < pc->np; j++) {
        uintptr_t a = (uintptr_t)pc->ptrs[j];
        pc->mg[j] = -1;
        pc->my[j] = pc->ng ? 48 : pc->zero_y;          /* above everything */
        for (int i = 0; i < pc->ng; i++) {
            const group *g = &pc->g[i];
            if (g->lo <= a && a < g->hi) {
                pc->mg[j] = i;
                pc->my[j] = pc->top[i] + pc->h[i] * (double)(g->hi - a) / (double)(g->hi - g->lo);
                break;
            }
            if (a < g->lo) {                              /* unmapped: in the gap below group i */
                pc->my[j] = i == 0 ? pc->zero_y : pc->top[i] + pc->h[i] + 6;
                break;
            }
        }
        order[j] = j;
    }
    for (int a = 1; a < pc->np; a++)                      /* sort by y */
        for (int b = a; b > 0 && pc->my[order[b]] < pc->my[order[b - 1]]; b--) {
            int t = order[b]; order[b] = order[b - 1]; order[b - 1] = t;
        }
    double prev = -1e9;
    for (int k = 0; k < pc->np; k++) {
        double want = pc->my[order[k]];
        pc->ly[order[k]] = want < prev + 15 ? prev + 15 : want;
        prev = pc->ly[order[k]];
    }
    if (pc->np && prev + 34 > pc->height) pc->height = prev + 34;
}

#define MAP_BX 150.0
#define MAP_BW 250.0
#define MAP_LX 440.0

static void mark_text(char *out, size_t n, const mmap_pic *pc, int j) {
    snprintf(out, n, "%s %p %s", label_of(pc, j), pc->ptrs[j], mark_region(pc, j));
}

static void draw_groups(const mmap_pic *pc, rt_buf *svg, rt_buf *text) {
    const double BX = MAP_BX, BW = MAP_BW;
    rt_buf_printf(text, "address space (high addresses first):\n");
    for (int i = pc->ng - 1; i >= 0; i--) {
        const group *g = &pc->g[i];
        double top = pc->top[i], h = pc->h[i];
        char size[32], lo[32], hi[32], shown[160];
        rt_buf_fmt_bytes(size, sizeof size, (double)(g->hi - g->lo));
        snprintf(lo, sizeof lo, "%#lx", (unsigned long)g->lo);
        snprintf(hi, sizeof hi, "%#lx", (unsigned long)g->hi);
        rt_buf_printf(svg, "<g><title>%s-%s, %s</title>", lo, hi, size);
        rt_buf_printf(svg, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\" stroke=\"#52525b\" stroke-width=\"0.6\"/>",
                      BX, top, BW, h, fill_of[g->kind]);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\">", BX + 6, top + (h < 26 ? h / 2 + 4 : 14));
        snprintf(shown, sizeof shown, "%s", g->name);
        if (strlen(shown) > 26) memcpy(shown + 23, "...", 4);   /* fit the box beside the size */
        rt_buf_xml(svg, shown);
        if (g->kind == G_PROGRAM || g->kind == G_LIBRARY) rt_buf_printf(svg, " (%s)", kind_label(g->kind));
        rt_buf_puts(svg, "</text>");
        if (g->kind == G_CELLS && g->marks && h >= 40)
            rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#6b7280\">its marked objects: zoom below</text>",
                          BX + 6, top + 28);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#374151\">%s</text>",
                      BX + BW - 6, top + (h < 26 ? h / 2 + 4 : h - 6), size);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#6b7280\">%s</text></g>\n",
                      BX - 6, top + h - 2, lo);
        if (i > 0 && pc->g[i - 1].hi != g->lo) {
            double gy = top + h + 6;
            rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#a1a1aa\" stroke-dasharray=\"3 3\"/>\n",
                          BX + 20, gy, BX + BW - 20, gy);
        }
        rt_buf_printf(text, "  %-18s %-36s %s .. %s  %s\n", kind_label(g->kind), g->name, lo, hi, size);
    }
    rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#a1a1aa\" stroke-dasharray=\"3 3\"/>"
                  "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#6b7280\">0x0</text>"
                  "<text x=\"%.0f\" y=\"%.1f\" fill=\"#6b7280\">address 0 (NULL): never mapped</text>\n",
                  BX, pc->zero_y, BX + BW, pc->zero_y, BX - 6, pc->zero_y + 4, BX + 6, pc->zero_y - 3);
}

static void draw_marks(const mmap_pic *pc, rt_buf *svg, rt_buf *text) {
    for (int j = 0; j < pc->np; j++) {
        char addr[32];
        snprintf(addr, sizeof addr, "%p", pc->ptrs[j]);
        double x = MAP_BX + MAP_BW, my = pc->my[j], ly = pc->ly[j];
        rt_buf_printf(svg, "<g><title>");
        rt_buf_xml(svg, pc->where[j].text);
        rt_buf_printf(svg, "</title><path d=\"M %.0f %.1f l 7 -4 v 8 z\" fill=\"%s\" stroke=\"#dc2626\"/>", x, my,
                      pc->mg[j] >= 0 ? "#dc2626" : "#ffffff");
        rt_buf_printf(svg, "<polyline points=\"%.0f,%.1f %.0f,%.1f %.0f,%.1f\" fill=\"none\" stroke=\"#dc2626\" stroke-width=\"1\"/>",
                      x + 7, my, MAP_LX - 16, ly, MAP_LX - 4, ly);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\"><tspan font-weight=\"bold\">", MAP_LX, ly + 4);
        rt_buf_xml(svg, label_of(pc, j));
        rt_buf_printf(svg, "</tspan> %s <tspan fill=\"#6b7280\">", addr);
        rt_buf_xml(svg, mark_region(pc, j));
        rt_buf_puts(svg, "</tspan></text></g>\n");
        rt_buf_printf(text, "%s = %s: %s\n", label_of(pc, j), addr, pc->where[j].text);
    }
}

/* ----------------------------------------- zoom on the cells' objects */

/* The cells' code, literals and globals share one region of a GiB, of
 * which they use a few KiB: on the map they all sit on one edge. The zoom
 * draws the marked objects in that region side by side in address order,
 * each a box whose width grows with the logarithm of its size, coloured
 * by what nb_locate says it is, with the known gaps between them marked
 * (an object whose size is not known, a function's code, reaches to the
 * next). */
typedef struct { uintptr_t lo, hi; int size_known, j; } zobj;

static int cell_object(const mmap_pic *pc, int j) {
    int i = pc->mg[j];
    nb_region r = pc->where[j].region;
    return i >= 0 && (pc->g[i].kind == G_CELLS || pc->g[i].kind == G_ANON) &&
           (r == NB_CODE || r == NB_RODATA || r == NB_GLOBAL);
}

static int collect_cell_objects(const mmap_pic *pc, zobj *z) {
    int n = 0;
    for (int j = 0; j < pc->np; j++) {
        if (!cell_object(pc, j)) continue;
        const nb_place *w = &pc->where[j];
        const group *g = &pc->g[pc->mg[j]];
        int sym = w->size > 0 && w->size < g->hi - g->lo;   /* a symbol's extent, not the mapping's */
        z[n].lo = sym ? (uintptr_t)w->base : (uintptr_t)pc->ptrs[j];
        z[n].hi = sym ? z[n].lo + w->size : z[n].lo + 1;
        z[n].size_known = sym;
        z[n].j = j;
        n++;
    }
    for (int a = 1; a < n; a++)                          /* by address */
        for (int b = a; b > 0 && z[b].lo < z[b - 1].lo; b--) { zobj t = z[b]; z[b] = z[b - 1]; z[b - 1] = t; }
    return n;
}

static double zbox_w(const zobj *o) {
    double size = o->size_known ? (double)(o->hi - o->lo) : 64;
    return 40 + 12 * log2(size < 1 ? 1 : size);
}

static const char *zfill(nb_region r) {
    return r == NB_CODE ? "#c7d2fe" : r == NB_RODATA ? "#fed7aa" : "#fbcfe8";
}

/* Two lines under box K: the label, then what it is and its size. */
static void zlines(const mmap_pic *pc, const zobj *o, char *l1, char *l2, size_t n) {
    char size[32] = "";
    if (o->size_known) rt_buf_fmt_bytes(size, sizeof size, (double)(o->hi - o->lo));
    snprintf(l1, n, "%s", label_of(pc, o->j));
    snprintf(l2, n, "%s%s%s", nb_region_name(pc->where[o->j].region), *size ? ", " : "", size);
}

/* Draw the zoom at Y; returns its height (0: no cells' object marked). */
static double draw_zoom(const mmap_pic *pc, double y, rt_buf *svg, rt_buf *text) {
    zobj z[MAXP];
    int n = collect_cell_objects(pc, z);
    if (!n) return 0;
    double x[MAXP], w[MAXP], total = 0, avail = pc->width - 24 - 12 * n;
    for (int k = 0; k < n; k++) total += w[k] = zbox_w(&z[k]);
    double scale = total > avail ? avail / total : 1;
    char span[32], lo[32];
    rt_buf_fmt_bytes(span, sizeof span, (double)(z[n - 1].hi - z[0].lo));
    snprintf(lo, sizeof lo, "%#lx", (unsigned long)z[0].lo);
    rt_buf_printf(svg, "<text x=\"12\" y=\"%.1f\" font-weight=\"bold\" fill=\"#111827\">Zoom: the cells' objects above, in address order</text>"
                  "<text x=\"12\" y=\"%.1f\" fill=\"#6b7280\">%s from %s, not to scale: widths grow with log(size); a break: bytes between</text>\n",
                  y + 12, y + 26, span, lo);
    rt_buf_printf(text, "zoom on the cells' objects (%s from %s):\n", span, lo);
    double bx = 12, by = y + 36, row_end[8] = {0};
    for (int k = 0; k < n; k++) {
        w[k] *= scale;
        if (k && z[k - 1].size_known && z[k].lo > z[k - 1].hi) {    /* a known gap: a break */
            rt_buf_printf(svg, "<path d=\"M %.1f %.1f l 4 22\" stroke=\"#71717a\"/>", bx + 4, by);
            bx += 12;
        }
        x[k] = bx;
        nb_region r = pc->where[z[k].j].region;
        rt_buf_printf(svg, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"22\" fill=\"%s\" stroke=\"#52525b\" stroke-width=\"0.6\"/>\n",
                      bx, by, w[k], zfill(r));
        bx += w[k];
    }
    int rows = 1;
    for (int k = 0; k < n; k++) {
        char l1[128], l2[128];
        zlines(pc, &z[k], l1, l2, sizeof l1);
        double tw = text_w(l1, 11) > text_w(l2, 11) ? text_w(l1, 11) : text_w(l2, 11);
        double cx = x[k] + w[k] / 2, tx = cx - tw / 2;
        if (tx < 12) tx = 12;
        if (tx + tw > pc->width - 12) tx = pc->width - 12 - tw;
        int row = 0;
        while (row < 7 && row_end[row] && tx < row_end[row] + 10) row++;
        row_end[row] = tx + tw;
        if (row + 1 > rows) rows = row + 1;
        double ty = by + 22 + 16 + 30 * row;
        rt_buf_printf(svg, "<g><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#a1a1aa\"/>", cx, by + 22, cx, ty - 10);
        rt_buf_printf(svg, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#111827\" font-weight=\"bold\">", tx, ty);
        rt_buf_xml(svg, l1);
        rt_buf_printf(svg, "</text><text x=\"%.1f\" y=\"%.1f\" fill=\"#6b7280\">", tx, ty + 13);
        rt_buf_xml(svg, l2);
        rt_buf_puts(svg, "</text></g>\n");
        rt_buf_printf(text, "  %#lx  %-20s %s\n", (unsigned long)z[k].lo, l1, l2);
    }
    return 36 + 22 + 30.0 * rows + 12;
}

static void draw_legend(const mmap_pic *pc, rt_buf *svg) {
    static const gkind legend[] = { G_STACK, G_HEAP, G_CELLS, G_PROGRAM, G_LIBRARY, G_ANON };
    double lx = 12;
    for (size_t k = 0; k < sizeof legend / sizeof *legend; k++) {
        const char *name = kind_label(legend[k]);
        rt_buf_printf(svg, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#52525b\" stroke-width=\"0.6\"/>"
                      "<text x=\"%.0f\" y=\"%.0f\" fill=\"#374151\">%s</text>\n",
                      lx, pc->height - 20, fill_of[legend[k]], lx + 14, pc->height - 11, name);
        lx += 14 + text_w(name, 11) + 14;
    }
}

/* The picture's width: wide enough for every mark's label. */
static double picture_width(const mmap_pic *pc) {
    double w = 820;
    for (int j = 0; j < pc->np; j++) {
        char t[256];
        mark_text(t, sizeof t, pc, j);
        if (MAP_LX + text_w(t, 11) + 12 > w) w = MAP_LX + text_w(t, 11) + 12;
    }
    return w;
}

void rt_memory_map(const char *const *labels, const void *const *ptrs, int np, rt_buf *svg, rt_buf *text) {
    rt_map *maps = NULL;
    int nmaps = rt_maps_read(&maps);
    /* on the heap, not the stack */
    rt_inside_begin();
    mmap_pic *pc = calloc(1, sizeof *pc);
    rt_inside_end();
    if (pc) {
        pc->labels = labels;
        pc->ptrs = ptrs;
        pc->np = np > MAXP ? MAXP : np;
        pc->ng = nmaps > 0 ? make_groups(maps, nmaps, ptrs, pc->np, pc->g, MAXG) : 0;
        for (int j = 0; j < pc->np; j++) pc->where[j] = nb_locate(ptrs[j]);
        layout_groups(pc);
        layout_marks(pc);
        name_heap_mappings(pc);
        pc->width = picture_width(pc);
        rt_buf zoom = {0}, ztext = {0};
        double zh = draw_zoom(pc, pc->height - 20, &zoom, &ztext);
        pc->height += zh;
        rt_buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                      FONT " font-size=\"11\">\n", pc->width, pc->height, pc->width, pc->height);
        rt_buf_printf(svg, "<rect x=\"0.5\" y=\"0.5\" width=\"%.0f\" height=\"%.0f\" rx=\"6\" fill=\"#ffffff\" stroke=\"#d4d4d8\"/>\n",
                      pc->width - 1, pc->height - 1);
        rt_buf_puts(svg, "<text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"bold\" fill=\"#111827\">Address space of the worker</text>\n");
        rt_buf_puts(svg, "<text x=\"12\" y=\"34\" fill=\"#6b7280\">high addresses at the top; heights grow with log(size); gaps not to scale</text>\n");
        draw_groups(pc, svg, text);
        draw_marks(pc, svg, text);
        if (zoom.s) rt_buf_puts(svg, zoom.s);
        if (ztext.s) rt_buf_puts(text, ztext.s);
        rt_buf_free(&zoom);
        rt_buf_free(&ztext);
        draw_legend(pc, svg);
        rt_buf_puts(svg, "</svg>\n");
    }
    rt_inside_begin();
    free(maps);
    free(pc);
    rt_inside_end();
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

/* One time unit for a whole chart: the one that suits its largest value. */
typedef struct { double div; const char *name; } time_unit;

static time_unit unit_for(double max_ns) {
    if (max_ns < 1e4) return (time_unit){ 1, "ns" };
    if (max_ns < 1e7) return (time_unit){ 1e3, "\xc2\xb5s" };
    if (max_ns < 1e10) return (time_unit){ 1e6, "ms" };
    return (time_unit){ 1e9, "s" };
}

static void fmt_in(char *out, size_t n, double ns, time_unit u) {
    double v = ns / u.div;
    snprintf(out, n, v < 100 ? "%.3g %s" : "%.0f %s", v, u.name);     /* 36.6, 0.00434, 128 */
}

/* "1 alloc/op", "1000 allocs/op", "0.50 allocs/op": never 1e+03. */
static void fmt_allocs(char *out, size_t n, double a) {
    if (a == floor(a) && a < 1e15) snprintf(out, n, "%.0f alloc%s/op", a, a == 1 ? "" : "s");
    else snprintf(out, n, "%.2f allocs/op", a);
}

/* The right-hand label of benchmark R. */
static void bench_label(char *out, size_t n, const nb_result *r, time_unit u) {
    char ns[32], bytes[32], allocs[32];
    fmt_in(ns, sizeof ns, r->ns_per_op, u);
    rt_buf_fmt_bytes(bytes, sizeof bytes, r->bytes_per_op);
    fmt_allocs(allocs, sizeof allocs, r->allocs_per_op);
    snprintf(out, n, "%s/op \xc2\xb1%.0f%% \xc2\xb7 %s/op \xc2\xb7 %s", ns, r->spread * 100, bytes, allocs);
}

static const char bench_subtitle[] =
    "median of the timed runs (wall time), \xc2\xb1 the median deviation; whiskers: fastest to slowest run";

int rt_bench_chart(rt_buf *svg, rt_buf *text) {
    int n;
    const nb_result *r = rt_bench_list(&n);
    if (n == 0) return 0;
    double max = 0, name_w = 0, label_w = 0;
    for (int i = 0; i < n; i++) {
        double m = r[i].max_ns_per_op > r[i].ns_per_op ? r[i].max_ns_per_op : r[i].ns_per_op;
        if (m > max) max = m;
    }
    if (max <= 0) max = 1;
    time_unit u = unit_for(max);
    char label[160];
    for (int i = 0; i < n; i++) {
        bench_label(label, sizeof label, &r[i], u);
        if (text_w(label, 11) > label_w) label_w = text_w(label, 11);
        if (text_w(r[i].name, 11) > name_w) name_w = text_w(r[i].name, 11);
    }
    const double BW = 300, ROW = 28, TOP = 40;
    double LX = 12 + (name_w > 100 ? name_w : 100) + 8;
    double W = LX + BW + 12 + label_w + 12;
    if (W < 12 + text_w(bench_subtitle, 11) + 12) W = 12 + text_w(bench_subtitle, 11) + 12;
    double height = TOP + ROW * n + 14;
    rt_buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                  FONT " font-size=\"11\">\n", W, height, W, height);
    rt_buf_printf(svg, "<rect x=\"0.5\" y=\"0.5\" width=\"%.0f\" height=\"%.0f\" rx=\"6\" fill=\"#ffffff\" stroke=\"#d4d4d8\"/>\n",
                  W - 1, height - 1);
    rt_buf_printf(svg, "<text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"bold\" fill=\"#111827\">Time per operation (%d runs each)</text>"
                  "<text x=\"12\" y=\"33\" fill=\"#6b7280\">%s</text>\n", r[0].runs, bench_subtitle);
    rt_buf_printf(svg, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#52525b\"/>\n",
                  LX, TOP - 2, LX, TOP + ROW * n);
    for (int i = 0; i < n; i++) {
        double y = TOP + ROW * i, w = BW * r[i].ns_per_op / max;
        double x0 = LX + BW * r[i].min_ns_per_op / max, x1 = LX + BW * r[i].max_ns_per_op / max;
        bench_label(label, sizeof label, &r[i], u);
        rt_buf_printf(svg, "<g><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#111827\">", LX - 8, y + 16);
        rt_buf_xml(svg, r[i].name);
        rt_buf_printf(svg, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>",
                      LX, y + 4, w < 1 ? 1 : w, i % 2 ? "#60a5fa" : "#3b82f6");
        rt_buf_printf(svg, "<path d=\"M %.1f %.1f v 10 M %.1f %.1f H %.1f M %.1f %.1f v 10\" stroke=\"#111827\" fill=\"none\"/>",
                      x0, y + 8, x0, y + 13, x1, x1, y + 8);
        rt_buf_printf(svg, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#111827\">", LX + BW + 12, y + 16);
        rt_buf_xml(svg, label);
        rt_buf_puts(svg, "</text></g>\n");
        rt_buf_printf(text, "%-24s %s\n", r[i].name, label);
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
