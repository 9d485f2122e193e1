/* profile_flame.c - a profile's stacks as an SVG flame graph.
 *
 * The root (all samples) at the bottom, callers below callees, each frame
 * as wide as its share; each has a <title> tooltip (function, samples or
 * bytes, share). The SVG uses no ids inside, so any number of them can
 * sit in one notebook page; its root carries a unique one for styling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "profile_impl.h"

#define WIDTH 960.0
#define ROW 17
#define TOP 24
#define CHAR_W 6.6

typedef struct { const profile_data *d; textbuf *out; int depth; } flame;

static int max_depth(const profile_data *d, int node) {
    int best = 0;
    for (int c = d->t[node].child; c; c = d->t[c].next) {
        int k = 1 + max_depth(d, c);
        if (k > best) best = k;
    }
    return best;
}

static unsigned name_hash(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void fill_of(const pfunc *f, char *out, size_t n) {
    unsigned h = name_hash(f->name);
    if (f->kind == PF_MARK) snprintf(out, n, "#c8c8c8");
    else if (f->kind == PF_LIBRARY) snprintf(out, n, "rgb(%u,%u,%u)", 110 + h % 50, 165 + (h >> 8) % 50, 225);
    else snprintf(out, n, "rgb(%u,%u,%u)", 225 + h % 30, 110 + (h >> 8) % 110, 40 + (h >> 16) % 40);
}

void profile_value_text(const profile_data *d, double v, char *out, size_t n) {
    if (!d->heap) { snprintf(out, n, "%.0f sample%s", v, v == 1 ? "" : "s"); return; }
    if (v < 10240) snprintf(out, n, "%.0f B", v);
    else if (v < 10485760) snprintf(out, n, "%.1f KiB", v / 1024);
    else snprintf(out, n, "%.1f MiB", v / 1048576);
}

static int by_label(const void *a, const void *b, void *arg) {
    const profile_data *d = arg;
    int x = *(const int *)a, y = *(const int *)b;
    return strcmp(d->f[d->t[x].func].label, d->f[d->t[y].func].label);
}

static void draw(flame *fl, int node, double x, int level) {
    const profile_data *d = fl->d;
    double w = d->t[node].value / d->t[0].value * WIDTH;
    if (w < 0.3) return;
    double y = TOP + (fl->depth - level) * ROW;
    const char *label = node ? d->f[d->t[node].func].label : "all";
    char fill[32], amount[64];
    if (node) fill_of(&d->f[d->t[node].func], fill, sizeof fill);
    else snprintf(fill, sizeof fill, "#e0e0e0");
    profile_value_text(d, d->t[node].value, amount, sizeof amount);
    textbuf_printf(fl->out, "<g><title>");
    profile_xml(fl->out, label);
    textbuf_printf(fl->out, " \xe2\x80\x94 %s, %.1f%%</title>", amount, 100.0 * d->t[node].value / d->t[0].value);
    textbuf_printf(fl->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"%s\"/>",
                   x, y, w > 1 ? w - 0.5 : w, ROW - 1, fill);
    int fit = (int)((w - 6) / CHAR_W);
    if (fit >= 3) {
        char text[256];
        size_t len = strlen(label);
        if ((int)len <= fit) snprintf(text, sizeof text, "%s", label);
        else snprintf(text, sizeof text, "%.*s..", fit - 2 < 250 ? fit - 2 : 250, label);
        textbuf_printf(fl->out, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + ROW - 5);
        profile_xml(fl->out, text);
        textbuf_puts(fl->out, "</text>");
    }
    textbuf_puts(fl->out, "</g>\n");
    int kids[4096], n = 0;
    for (int c = d->t[node].child; c && n < 4096; c = d->t[c].next) kids[n++] = c;
    qsort_r(kids, (size_t)n, sizeof *kids, by_label, (void *)d);
    for (int i = 0; i < n; i++) {
        draw(fl, kids[i], x, level + 1);
        x += d->t[kids[i]].value / d->t[0].value * WIDTH;
    }
}

void profile_flame_svg(const profile_data *d, const char *title, textbuf *out) {
    static int serial;
    flame fl = { d, out, max_depth(d, 0) };
    int height = TOP + (fl.depth + 1) * ROW + 4;
    textbuf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"ckernel-flame-%d-%d\" "
                   "class=\"ckernel-flame\" width=\"%.0f\" height=\"%d\" viewBox=\"0 0 %.0f %d\" "
                   "font-family=\"monospace\" font-size=\"11\" style=\"max-width:100%%;height:auto\">\n",
                   (int)getpid(), ++serial, WIDTH, height, WIDTH, height);
    textbuf_printf(out, "<rect width=\"%.0f\" height=\"%d\" fill=\"#fafafa\"/>\n", WIDTH, height);
    textbuf_puts(out, "<text x=\"4\" y=\"15\" font-size=\"12\" fill=\"#222\">");
    profile_xml(out, title);
    textbuf_puts(out, "</text>\n");
    if (d->t[0].value > 0) draw(&fl, 0, 0, 0);
    textbuf_puts(out, "</svg>\n");
}
