/* chart.c - line charts (nb_line_chart): several series over one x axis,
 * each axis linear or logarithmic, drawn as SVG with a text/plain twin
 * (the figures as a table).
 *
 * A sweep (the cost of malloc from 16 B to 1 MiB, the time of a loop as
 * an array grows) spans decades on both axes, so log axes are the common
 * case: ticks fall on powers of two for bytes, of ten otherwise. Like
 * svg.c's pictures, the chart carries its own light background and every
 * label is XML-escaped and laid out inside the viewBox by its width.
 *
 * Owns nothing between calls; must not allocate counted memory (all its
 * buffers are the runtime's own, rt_inside). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "nb.h"
#include "rt.h"

#define FONT "font-family=\"ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\""
#define CHAR_W 6.9              /* as svg.c: a little over 0.6 em at 11 px */
#define MAX_TICKS 24

static const char *const colour[NB_CHART_SERIES] = {
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04" };

static double text_w(const char *s) {
    size_t glyphs = 0;
    for (; *s; s++) glyphs += ((unsigned char)*s & 0xC0) != 0x80;
    return (double)glyphs * CHAR_W;
}

/* ------------------------------------------------------------- axes */

typedef struct {
    double lo, hi;              /* data range, widened to the outer ticks */
    int log;
    const char *unit;
    double tick[MAX_TICKS];
    int nticks;
    double px0, px1;            /* pixels of lo and hi */
} axis;

static int usable(const axis *a, double v) { return isfinite(v) && (!a->log || v > 0); }

/* "16 B", "4 KiB", "1 MiB"; "250 ns", "1.5 µs"; "0.25 s" (plain %g and the unit). */
static void fmt_value(char *out, size_t n, double v, const char *unit) {
    if (unit && strcmp(unit, "B") == 0) {
        const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        int k = 0;
        while (fabs(v) >= 1024 && k < 4) { v /= 1024; k++; }
        snprintf(out, n, "%.3g %s", v, u[k]);
    } else if (unit && strcmp(unit, "ns") == 0) {
        const char *u[] = { "ns", "\xc2\xb5s", "ms", "s" };
        int k = 0;
        while (fabs(v) >= 1000 && k < 3) { v /= 1000; k++; }
        snprintf(out, n, "%.3g %s", v, u[k]);
    } else {
        snprintf(out, n, unit && *unit ? "%.4g %s" : "%.4g", v, unit);
    }
}

/* Ticks on powers of BASE (every STEP-th), the range widened to them. */
static void log_ticks(axis *a, double base) {
    double e0 = floor(log(a->lo) / log(base) + 1e-9), e1 = ceil(log(a->hi) / log(base) - 1e-9);
    if (e1 <= e0) e1 = e0 + 1;
    int step = 1;
    while ((e1 - e0) / step > 9) step++;
    e0 = floor(e0 / step) * step;
    e1 = ceil(e1 / step) * step;
    a->lo = pow(base, e0);
    a->hi = pow(base, e1);
    a->nticks = 0;
    for (double e = e0; e <= e1 + 1e-9 && a->nticks < MAX_TICKS; e += step)
        a->tick[a->nticks++] = pow(base, e);
}

/* Ticks every 1, 2 or 5 times a power of ten, about five of them; a
 * range of positive values starts at zero. */
static void linear_ticks(axis *a) {
    if (a->lo > 0) a->lo = 0;
    if (a->hi <= a->lo) a->hi = a->lo + 1;
    double raw = (a->hi - a->lo) / 5, mag = pow(10, floor(log10(raw)));
    double f = raw / mag, step = (f > 5 ? 10 : f > 2 ? 5 : f > 1 ? 2 : 1) * mag;
    a->lo = floor(a->lo / step) * step;
    a->hi = ceil(a->hi / step - 1e-9) * step;
    a->nticks = 0;
    for (double t = a->lo; t <= a->hi + step / 2 && a->nticks < MAX_TICKS; t += step)
        a->tick[a->nticks++] = fabs(t) < step / 1e6 ? 0 : t;
}

static void make_axis(axis *a, const double *const *vals, int nvals, int n, int log_scale,
                      const char *unit) {
    memset(a, 0, sizeof *a);
    a->log = log_scale;
    a->unit = unit;
    int any = 0;
    for (int s = 0; s < nvals; s++)
        for (int i = 0; i < n; i++) {
            double v = vals[s][i];
            if (!usable(a, v)) continue;
            if (!any || v < a->lo) a->lo = v;
            if (!any || v > a->hi) a->hi = v;
            any = 1;
        }
    if (!any) { a->lo = log_scale ? 1 : 0; a->hi = log_scale ? 10 : 1; }
    if (log_scale) log_ticks(a, unit && strcmp(unit, "B") == 0 ? 2 : 10);
    else linear_ticks(a);
}

static double to_px(const axis *a, double v) {
    double f = a->log ? (log(v) - log(a->lo)) / (log(a->hi) - log(a->lo))
                      : (v - a->lo) / (a->hi - a->lo);
    return a->px0 + f * (a->px1 - a->px0);
}

/* ------------------------------------------------------------- drawing */

typedef struct {
    const nb_chart *c;
    int ns;                     /* series in use */
    axis x, y;
    double w, h, legend_x;
} layout;

static double widest_tick(const axis *a) {
    char s[48];
    double w = 0;
    for (int i = 0; i < a->nticks; i++) {
        fmt_value(s, sizeof s, a->tick[i], a->unit);
        if (text_w(s) > w) w = text_w(s);
    }
    return w;
}

static void lay_out(layout *L, const nb_chart *c) {
    L->c = c;
    L->ns = 0;
    while (L->ns < NB_CHART_SERIES && c->series[L->ns].y) L->ns++;
    const double *ys[NB_CHART_SERIES] = {0}, *xs[1] = { c->x };
    for (int s = 0; s < L->ns; s++) ys[s] = c->series[s].y;
    make_axis(&L->x, xs, 1, c->n, c->log_x, c->x_unit);
    make_axis(&L->y, ys, L->ns, c->n, c->log_y, c->y_unit);
    double legend_w = 0;
    for (int s = 0; s < L->ns; s++)
        if (text_w(c->series[s].name ? c->series[s].name : "") > legend_w)
            legend_w = text_w(c->series[s].name ? c->series[s].name : "");
    double left = 20 + widest_tick(&L->y) + 8, plot_w = 460, top = 48, plot_h = 240;
    L->x.px0 = left;
    L->x.px1 = left + plot_w;
    L->y.px0 = top + plot_h;
    L->y.px1 = top;
    L->legend_x = left + plot_w + 24;
    L->w = L->legend_x + 28 + legend_w + 12;
    double title_w = 12 + text_w(c->title ? c->title : "") * 13 / 11 + 12;
    if (L->w < title_w) L->w = title_w;
    L->h = top + plot_h + 52;
}

/* A line from (X1, Y1) to (X2, Y2); ATTRS: its stroke. */
static void line(rt_buf *svg, double x1, double y1, double x2, double y2, const char *attrs) {
    rt_buf_printf(svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>",
                  x1, y1, x2, y2, attrs);
}

/* Text at (X, Y), anchored at its ANCHOR ("start", "middle", "end"), XML-escaped. */
static void text(rt_buf *svg, double x, double y, const char *anchor, const char *s) {
    rt_buf_printf(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#374151\">",
                  x, y, anchor);
    rt_buf_xml(svg, s);
    rt_buf_puts(svg, "</text>\n");
}

static void draw_axes(const layout *L, rt_buf *svg) {
    const axis *x = &L->x, *y = &L->y;
    char s[48];
    for (int i = 0; i < y->nticks; i++) {
        double py = to_px(y, y->tick[i]);
        fmt_value(s, sizeof s, y->tick[i], y->unit);
        line(svg, x->px0, py, x->px1, py, "stroke=\"#e5e7eb\"");
        text(svg, x->px0 - 6, py + 4, "end", s);
    }
    for (int i = 0; i < x->nticks; i++) {
        double px = to_px(x, x->tick[i]);
        fmt_value(s, sizeof s, x->tick[i], x->unit);
        line(svg, px, y->px1, px, y->px0, "stroke=\"#e5e7eb\"");
        text(svg, px, y->px0 + 16, "middle", s);
    }
    rt_buf_printf(svg, "<path d=\"M %.1f %.1f V %.1f H %.1f\" stroke=\"#52525b\" fill=\"none\"/>\n",
                  x->px0, y->px1, y->px0, x->px1);
    const nb_chart *c = L->c;
    text(svg, (x->px0 + x->px1) / 2, y->px0 + 36, "middle", c->x_label ? c->x_label : "");
}

static void draw_series(const layout *L, rt_buf *svg) {
    const nb_chart *c = L->c;
    for (int s = 0; s < L->ns; s++) {
        const double *v = c->series[s].y;
        rt_buf_printf(svg, "<g><path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
                      colour[s]);
        int pen_down = 0;
        for (int i = 0; i < c->n; i++) {
            if (!usable(&L->x, c->x[i]) || !usable(&L->y, v[i])) { pen_down = 0; continue; }
            rt_buf_printf(svg, "%s%.1f %.1f ", pen_down ? "L " : "M ",
                          to_px(&L->x, c->x[i]), to_px(&L->y, v[i]));
            pen_down = 1;
        }
        rt_buf_puts(svg, "\"/>");
        for (int i = 0; i < c->n; i++)
            if (usable(&L->x, c->x[i]) && usable(&L->y, v[i]))
                rt_buf_printf(svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                              to_px(&L->x, c->x[i]), to_px(&L->y, v[i]), colour[s]);
        double ly = L->y.px1 + 8 + 18 * s;
        char stroke[64];
        snprintf(stroke, sizeof stroke, "stroke=\"%s\" stroke-width=\"2\"", colour[s]);
        line(svg, L->legend_x, ly, L->legend_x + 20, ly, stroke);
        text(svg, L->legend_x + 28, ly + 4, "start", c->series[s].name ? c->series[s].name : "");
        rt_buf_puts(svg, "</g>\n");
    }
}

/* The dashed line at MARK_X, its label beside it (left of it if it would
 * run out of the plot). */
static void draw_mark(const layout *L, rt_buf *svg) {
    const nb_chart *c = L->c;
    if (!c->mark_label || !usable(&L->x, c->mark_x)) return;
    double px = to_px(&L->x, c->mark_x);
    if (px < L->x.px0 || px > L->x.px1) return;
    int left = px + 4 + text_w(c->mark_label) > L->x.px1;
    line(svg, px, L->y.px1, px, L->y.px0, "stroke=\"#6b7280\" stroke-dasharray=\"4 3\"");
    text(svg, left ? px - 4 : px + 4, L->y.px1 + 12, left ? "end" : "start", c->mark_label);
}

static void draw_chart(const layout *L, rt_buf *svg) {
    const nb_chart *c = L->c;
    rt_buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" " FONT " font-size=\"11\">\n", L->w, L->h, L->w, L->h);
    rt_buf_printf(svg, "<rect x=\"0.5\" y=\"0.5\" width=\"%.0f\" height=\"%.0f\" rx=\"6\" "
                  "fill=\"#ffffff\" stroke=\"#d4d4d8\"/>\n", L->w - 1, L->h - 1);
    rt_buf_puts(svg, "<text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"bold\" "
                "fill=\"#111827\">");
    rt_buf_xml(svg, c->title ? c->title : "");
    rt_buf_puts(svg, "</text><text x=\"12\" y=\"35\" fill=\"#6b7280\">");
    rt_buf_xml(svg, c->y_label ? c->y_label : "");
    rt_buf_printf(svg, "%s</text>\n", L->y.log ? " (log scale)" : "");
    draw_axes(L, svg);
    draw_mark(L, svg);
    draw_series(L, svg);
    rt_buf_puts(svg, "</svg>\n");
}

/* The text twin: the title and the figures, one row per x. */
static void chart_text(const layout *L, rt_buf *text) {
    const nb_chart *c = L->c;
    char v[48];
    rt_buf_printf(text, "%s\n%-12s", c->title ? c->title : "", c->x_label ? c->x_label : "x");
    for (int s = 0; s < L->ns; s++)
        rt_buf_printf(text, " %14s", c->series[s].name ? c->series[s].name : "");
    rt_buf_puts(text, "\n");
    for (int i = 0; i < c->n; i++) {
        fmt_value(v, sizeof v, c->x[i], c->x_unit);
        rt_buf_printf(text, "%-12s", v);
        for (int s = 0; s < L->ns; s++) {
            fmt_value(v, sizeof v, c->series[s].y[i], c->y_unit);
            rt_buf_printf(text, " %14s", v);
        }
        rt_buf_puts(text, "\n");
    }
}

RT_BODY void line_chart(const nb_chart *c) {
    if (!c || c->n <= 0 || !c->x || !c->series[0].y) {
        rt_inside_begin();
        printf("nb_line_chart: no points to draw\n");
        rt_inside_end();
        return;
    }
    layout L;
    lay_out(&L, c);
    rt_buf svg = {0}, text = {0};
    draw_chart(&L, &svg);
    chart_text(&L, &text);
    if (svg.s && text.s) {
        nb_display d = { .kind = NB_DISPLAY_SHOW, .n = 2, .mime = { "image/svg+xml", "text/plain" },
                         .data = { svg.s, text.s } };
        rt_display_send(&d);
    }
    rt_buf_free(&svg);
    rt_buf_free(&text);
}

void nb_line_chart(const nb_chart *chart) {
    RT_STACK_ENTER();
    line_chart(chart);
    RT_STACK_LEAVE();
}
