/* profile_show.c - a profile as shown under its cell: the figures, the
 * flame graph, the top functions, the cell's lines with their share (and
 * the lines of earlier cells' functions that took time); the heap
 * profile's sites. HTML for the front ends, text for the rest. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile_impl.h"

#define TOP_FUNCTIONS 15
#define TOP_SITES 15

void profile_xml(textbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': textbuf_puts(b, "&amp;"); break;
        case '<': textbuf_puts(b, "&lt;"); break;
        case '>': textbuf_puts(b, "&gt;"); break;
        case '"': textbuf_puts(b, "&quot;"); break;
        default: textbuf_add(b, s, 1);
        }
    }
}

static double pct(double v, double total) { return total > 0 ? 100.0 * v / total : 0; }

static const profile_data *sort_data;
static int by_total(const void *a, const void *b) {
    double x = sort_data->f[*(const int *)a].total, y = sort_data->f[*(const int *)b].total;
    return (y > x) - (y < x);
}

/* Indices of D's functions, most total first (marks left out). */
static int top_functions(const profile_data *d, int *out, int max) {
    int n = 0;
    for (size_t i = 0; i < d->nf; i++) if (d->f[i].kind != PF_MARK) out[n++] = (int)i;
    sort_data = d;
    qsort(out, (size_t)n, sizeof *out, by_total);
    return n < max ? n : max;
}

static const char *table_style =
    "<table style=\"border-collapse:collapse;font-size:12px;margin:6px 0\">";

static void functions_table(const profile_data *d, textbuf *html, textbuf *text) {
    int *idx = malloc((d->nf + 1) * sizeof *idx);
    int n = top_functions(d, idx, TOP_FUNCTIONS);
    textbuf_printf(html, "%s<tr><th style=\"text-align:left;padding:0 8px\">function</th>"
                   "<th style=\"padding:0 8px\">self</th><th style=\"padding:0 8px\">total</th>"
                   "<th style=\"text-align:left;padding:0 8px\">samples (self / total)</th></tr>\n", table_style);
    textbuf_printf(text, "%-40s %7s %7s\n", "function", "self", "total");
    for (int i = 0; i < n; i++) {
        const pfunc *f = &d->f[idx[i]];
        textbuf_puts(html, "<tr><td style=\"text-align:left;padding:0 8px;font-family:monospace\">");
        profile_xml(html, f->label);
        textbuf_printf(html, "</td><td style=\"padding:0 8px\">%.1f%%</td><td style=\"padding:0 8px\">%.1f%%</td>"
                       "<td style=\"text-align:left;padding:0 8px\">%.0f / %.0f</td></tr>\n",
                       pct(f->self, d->total), pct(f->total, d->total), f->self, f->total);
        textbuf_printf(text, "%-40.40s %6.1f%% %6.1f%%\n", f->label, pct(f->self, d->total), pct(f->total, d->total));
    }
    textbuf_puts(html, "</table>\n");
    free(idx);
}

static double line_value(const profile_data *d, int cell, int line) {
    for (size_t i = 0; i < d->nl; i++)
        if (d->l[i].cell == cell && d->l[i].line == line) return d->l[i].value;
    return 0;
}

/* Lines FIRST..LAST of CODE with their share (0: every line). */
static void annotate(const profile_data *d, int cell, const char *code, int first, int last,
                     textbuf *html, textbuf *text) {
    textbuf_puts(html, "<pre style=\"font-size:12px;line-height:1.35;margin:4px 0\">");
    if (!first) {                           /* the whole cell: from its first line of code */
        first = 1;
        for (const char *q = code; *q; q++) {
            if (*q == '\n') first++;
            else if (*q != ' ' && *q != '\t' && *q != '\r') break;
        }
    }
    int line = 1;
    for (const char *p = code; *p || line == 1; line++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((!first || line >= first) && (!last || line <= last)) {
            double v = line_value(d, cell, line);
            char share[32] = "", body[600];
            if (v > 0) snprintf(share, sizeof share, "%5.1f%% %6.0f", pct(v, d->total), v);
            snprintf(body, sizeof body, "%.*s", (int)(len < 500 ? len : 500), p);
            int strong = pct(v, d->total) >= 10;
            textbuf_printf(html, "<span style=\"%s\">%-14s %4d | ", strong ? "font-weight:bold" : "", share, line);
            profile_xml(html, body);
            textbuf_puts(html, "</span>\n");
            if (v > 0) textbuf_printf(text, "%s %4d | %s\n", share, line, body);
        }
        if (!end) break;
        p = end + 1;
    }
    textbuf_puts(html, "</pre>\n");
}

/* Functions of earlier cells that took time: their lines (that cell
 * compiled again for them), else (a %%cc cell) the function's share. */
static void earlier_cells(const profile_data *d, textbuf *html, textbuf *text) {
    int *idx = malloc((d->nf + 1) * sizeof *idx);
    int n = top_functions(d, idx, (int)d->nf);
    for (int i = 0; i < n; i++) {
        const pfunc *f = &d->f[idx[i]];
        if (f->kind != PF_CELL || f->cell == d->cell || f->cell <= 0 || pct(f->total, d->total) < 1) continue;
        int first, last;
        const char *code = profile_code_of(f->cell);
        textbuf_puts(html, "<div style=\"font-size:12px;margin-top:6px\"><code>");
        profile_xml(html, f->name);
        textbuf_printf(html, "</code>, defined in cell [%d]: %.1f%% of the samples", f->cell, pct(f->total, d->total));
        textbuf_printf(text, "%s, defined in cell [%d]: %.1f%%\n", f->name, f->cell, pct(f->total, d->total));
        if (code && profile_function_lines(f->cell, f->name, &first, &last)) {
            textbuf_puts(html, "</div>\n");
            annotate(d, f->cell, code, first > 1 ? first - 1 : first, last, html, text);
        } else {
            textbuf_puts(html, " (its lines are not listed: that cell was compiled by <code>%%cc</code>, "
                         "or could not be compiled again)</div>\n");
        }
    }
    free(idx);
}

const char *profile_signal_name(const prof_region *r) {
    return r->signo == SIGTRAP ? "SIGTRAP" : "SIGPROF";
}

/* Why samples were lost when the cell kept the samples' signal from the
 * sampler (into NOTE, N bytes), or NULL. */
static const char *signal_lost_note(const prof_region *r, char *note, size_t n) {
    const char *sig = profile_signal_name(r);
    if (r->signal_lost & PROF_SIGNAL_HANDLER)
        snprintf(note, n, "Samples lost: the cell installed its own %s handler, and the sampler's "
                 "signal went to it from then on.", sig);
    else if (r->signal_lost & PROF_SIGNAL_BLOCKED)
        snprintf(note, n, "Samples lost: the cell blocked %s (sigprocmask), the signal the sampler "
                 "sends.", sig);
    else
        return NULL;
    return note;
}

void profile_show_html(const profile_data *d, const prof_region *r, textbuf *html, textbuf *text) {
    double cpu_s = (double)r->cpu_ns / 1e9;
    double overhead = r->cpu_ns ? 100.0 * (double)r->handler_ns / (double)r->cpu_ns : 0;
    char summary[400];
    if (r->cpu_ns)
        snprintf(summary, sizeof summary, "%ld samples at %d Hz of CPU time (%.3f s of CPU, %.0f samples a "
                 "CPU second, %d thread%s sampled); sampler overhead %.2f%% of the CPU time%s", d->samples, r->hz,
                 cpu_s, cpu_s > 0 ? (double)d->samples / cpu_s : 0, r->threads, r->threads == 1 ? "" : "s",
                 overhead, r->dropped ? " (some samples lost: the record was full)" : "");
    else                                    /* its process died: what it took is not known */
        snprintf(summary, sizeof summary, "%ld samples at %d Hz of CPU time, %d thread%s sampled, up to the end "
                 "of the process that ran the cell", d->samples, r->hz, r->threads, r->threads == 1 ? "" : "s");
    textbuf_puts(html, "<div class=\"ckernel-profile\" style=\"font-size:13px\">\n<div><b>%%profile</b>: ");
    profile_xml(html, summary);
    textbuf_puts(html, "</div>\n");
    textbuf_printf(text, "%%%%profile: %s\n\n", summary);
    char note[200];
    const char *lost = signal_lost_note(r, note, sizeof note);
    if (lost) {
        textbuf_puts(html, "<div>");
        profile_xml(html, lost);
        textbuf_puts(html, "</div>\n");
        textbuf_printf(text, "%s\n", lost);
    }
    if (d->samples == 0) {
        if (!lost) {
            textbuf_puts(html, "<div>No samples: the cell used less CPU time than one sampling period.</div>");
            textbuf_puts(text, "No samples: the cell used less CPU time than one sampling period.\n");
        }
        textbuf_puts(html, "</div>\n");
        return;
    }
    profile_flame_svg(d, "CPU time by call stack (callers below, wider = more samples)", html);
    functions_table(d, html, text);
    const char *code = profile_code_of(d->cell);
    if (code) {
        textbuf_puts(html, "<div style=\"font-size:12px\">The cell's lines, with the share of samples "
                     "while each was running (its own code or what it called):</div>\n");
        textbuf_puts(text, "\nlines (share of samples, samples):\n");
        annotate(d, d->cell, code, 0, 0, html, text);
    }
    earlier_cells(d, html, text);
    textbuf_puts(html, "</div>\n");
}

static const profile_data *site_data;
static int by_bytes(const void *a, const void *b) {
    uint64_t x = site_data->sites[*(const int *)a].bytes, y = site_data->sites[*(const int *)b].bytes;
    return (y > x) - (y < x);
}

void profile_show_heap_html(const profile_data *d, const prof_region *r, textbuf *html, textbuf *text) {
    uint64_t allocs = 0, bytes = 0;
    int64_t live = 0;
    for (size_t i = 0; i < d->nsites; i++) {
        allocs += d->sites[i].allocs;
        bytes += d->sites[i].bytes;
        live += d->sites[i].live_bytes;
    }
    char summary[300], b[64], l[64];
    profile_value_text(d, (double)bytes, b, sizeof b);
    profile_value_text(d, (double)live, l, sizeof l);
    snprintf(summary, sizeof summary, "%llu allocations, %s, from %zu call stacks; %s still live at the end%s",
             (unsigned long long)allocs, b, d->nsites, l,
             r->heap_untracked ? " (some allocations not followed: too many stacks)" : "");
    textbuf_puts(html, "<div class=\"ckernel-profile\" style=\"font-size:13px\">\n<div><b>%%profile --heap</b>: ");
    profile_xml(html, summary);
    textbuf_puts(html, "</div>\n");
    textbuf_printf(text, "%%%%profile --heap: %s\n\n", summary);
    if (!d->nsites) { textbuf_puts(html, "</div>\n"); return; }
    profile_flame_svg(d, "Bytes allocated by call stack (callers below)", html);
    int *idx = malloc(d->nsites * sizeof *idx);
    for (size_t i = 0; i < d->nsites; i++) idx[i] = (int)i;
    site_data = d;
    qsort(idx, d->nsites, sizeof *idx, by_bytes);
    textbuf_printf(html, "%s<tr><th style=\"text-align:left;padding:0 8px\">call stack (innermost first)</th>"
                   "<th style=\"padding:0 8px\">line</th><th style=\"padding:0 8px\">allocations</th>"
                   "<th style=\"padding:0 8px\">bytes</th><th style=\"padding:0 8px\">live at end</th></tr>\n",
                   table_style);
    textbuf_printf(text, "%-44s %-14s %8s %10s %10s\n", "call stack", "line", "allocs", "bytes", "live");
    for (size_t k = 0; k < d->nsites && k < TOP_SITES; k++) {
        const psite *s = &d->sites[idx[k]];
        textbuf stack = { 0 };
        for (int i = 0; i < s->n; i++) {
            if (i) textbuf_puts(&stack, " \xe2\x86\x90 ");
            textbuf_puts(&stack, d->f[s->funcs[i]].label);
        }
        char where[48] = "?";
        if (s->line) snprintf(where, sizeof where, "cell [%d] line %d", s->cell, s->line);
        textbuf_puts(html, "<tr><td style=\"text-align:left;padding:0 8px;font-family:monospace\">");
        profile_xml(html, stack.s ? stack.s : "?");
        textbuf_printf(html, "</td><td style=\"padding:0 8px\">%s</td><td style=\"padding:0 8px\">%llu</td>"
                       "<td style=\"padding:0 8px\">%llu</td><td style=\"padding:0 8px\">%lld</td></tr>\n",
                       where, (unsigned long long)s->allocs, (unsigned long long)s->bytes,
                       (long long)s->live_bytes);
        textbuf_printf(text, "%-44.44s %-14s %8llu %10llu %10lld\n", stack.s ? stack.s : "?", where,
                       (unsigned long long)s->allocs, (unsigned long long)s->bytes, (long long)s->live_bytes);
        free(stack.s);
    }
    textbuf_puts(html, "</table>\n</div>\n");
    free(idx);
}
