/* display.c - rich output: displays, updates in place, clearing, tables
 * and the progress bar.
 *
 * Every display goes to the sink the worker installed, as one nb_display
 * (a kind, an optional display id and a few MIME/data pairs); the worker
 * turns it into display_data, update_display_data or clear_output on a
 * channel of its own. stdout and stderr are flushed first, so displays
 * and printed text arrive in the order the cell made them. Without a sink
 * (a unit test, a program linked with the runtime) the text/plain part is
 * printed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nb.h"
#include "rt.h"

static nb_sink_fn sink;
static void *sink_opaque;

void nb_internal_set_sink(nb_sink_fn fn, void *opaque) {
    sink = fn;
    sink_opaque = opaque;
}

void rt_display_send(const nb_display *d) {
    rt_inside_begin();
    fflush(stdout);
    fflush(stderr);
    if (sink) {
        sink(sink_opaque, d);
    } else if (d->kind != NB_DISPLAY_CLEAR) {
        for (int i = 0; i < d->n; i++)
            if (strcmp(d->mime[i], "text/plain") == 0) {
                fputs(d->data[i], stdout);
                if (*d->data[i] && d->data[i][strlen(d->data[i]) - 1] != '\n') fputc('\n', stdout);
                fflush(stdout);
            }
    }
    rt_inside_end();
}

RT_BODY void send2_body(nb_display_kind kind, const char *id, const char *m1, const char *d1,
                  const char *m2, const char *d2) {
    nb_display d = { .kind = kind, .display_id = id };
    if (m1 && d1) { d.mime[d.n] = m1; d.data[d.n++] = d1; }
    if (m2 && d2) { d.mime[d.n] = m2; d.data[d.n++] = d2; }
    rt_display_send(&d);
}

/* Every display goes through here: the runtime's frames below it are not
 * the cell's stack use. */
static void send2(nb_display_kind kind, const char *id, const char *m1, const char *d1,
                  const char *m2, const char *d2) {
    RT_STACK_ENTER();
    send2_body(kind, id, m1, d1, m2, d2);
    RT_STACK_LEAVE();
}

void nb_display_mime(const char *display_id, const char *mime, const char *data) {
    if (!mime || !data) return;
    send2(NB_DISPLAY_SHOW, display_id, mime, data, NULL, NULL);
}

void nb_update(const char *display_id, const char *mime, const char *data) {
    if (!display_id || !mime || !data) return;
    send2(NB_DISPLAY_UPDATE, display_id, mime, data, NULL, NULL);
}

void nb_display_html(const char *html) { nb_display_mime(NULL, "text/html", html); }
void nb_display_svg(const char *svg) { nb_display_mime(NULL, "image/svg+xml", svg); }

void nb_display_markdown(const char *md) {
    if (md) send2(NB_DISPLAY_SHOW, NULL, "text/markdown", md, "text/plain", md);
}

void nb_display_json(const char *json) {
    if (json) send2(NB_DISPLAY_SHOW, NULL, "application/json", json, "text/plain", json);
}

RT_BODY void clear_output(int wait) {
    nb_display d = { .kind = NB_DISPLAY_CLEAR, .wait = wait != 0 };
    rt_display_send(&d);
}

void nb_clear_output(int wait) {
    RT_STACK_ENTER();
    clear_output(wait);
    RT_STACK_LEAVE();
}

/* -------------------------------------------------------------- base64 */

static void base64(rt_buf *out, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rt_buf_add(out, q, 4);
    }
}

RT_BODY void display_png(const void *png, unsigned long len) {
    rt_buf b = {0};
    base64(&b, png, len);
    char alt[64];
    snprintf(alt, sizeof alt, "<PNG image, %lu bytes>", len);
    if (b.s) send2(NB_DISPLAY_SHOW, NULL, "image/png", b.s, "text/plain", alt);
    rt_buf_free(&b);
}

void nb_display_png(const void *png, unsigned long len) {
    if (!png) return;
    RT_STACK_ENTER();
    display_png(png, len);
    RT_STACK_LEAVE();
}

/* -------------------------------------------------------------- tables */

struct nb_table {
    int ncols;
    size_t nrows, cap;              /* rows, including the header */
    char **cells;                   /* nrows * ncols, row by row */
};

static void *rt_alloc(size_t n) {
    rt_inside_begin();
    void *p = calloc(1, n);
    rt_inside_end();
    return p;
}

static char *rt_strndup(const char *s, size_t n) {
    rt_inside_begin();
    char *p = strndup(s, n);
    rt_inside_end();
    return p;
}

static void table_add(nb_table *t, const char *line) {
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        rt_inside_begin();
        char **c = realloc(t->cells, cap * (size_t)t->ncols * sizeof *c);
        rt_inside_end();
        if (!c) return;
        t->cells = c;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * (size_t)t->ncols;
    const char *p = line;
    for (int c = 0; c < t->ncols; c++) {
        const char *bar = p ? strchr(p, '|') : NULL;
        if (c == t->ncols - 1) bar = NULL;        /* the last cell takes the rest */
        if (p) row[c] = rt_strndup(p, bar ? (size_t)(bar - p) : strlen(p));
        else row[c] = rt_strndup("", 0);
        p = bar ? bar + 1 : NULL;
    }
    t->nrows++;
}

RT_BODY nb_table *table_new(const char *header) {
    nb_table *t = rt_alloc(sizeof *t);
    if (!t) return NULL;
    t->ncols = 1;
    for (const char *p = header; *p; p++) t->ncols += *p == '|';
    table_add(t, header);
    return t;
}

nb_table *nb_table_new(const char *header) {
    RT_STACK_ENTER();
    nb_table *t = table_new(header ? header : "");
    RT_STACK_LEAVE();
    return t;
}

RT_BODY void table_row(nb_table *t, const char *fmt, va_list ap) {
    rt_buf b = {0};
    rt_buf_vprintf(&b, fmt, ap);
    table_add(t, b.s ? b.s : "");
    rt_buf_free(&b);
}

void nb_table_row(nb_table *t, const char *fmt, ...) {
    if (!t || !fmt) return;
    RT_STACK_ENTER();
    va_list ap;
    va_start(ap, fmt);
    table_row(t, fmt, ap);
    va_end(ap);
    RT_STACK_LEAVE();
}

/* Numbers align right. */
static int numeric(const char *s) {
    char *end;
    while (*s == ' ') s++;
    if (!*s) return 0;
    strtod(s, &end);
    return end != s;
}

static size_t utf8_width(const char *s) {
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

RT_BODY void table_show(nb_table *t) {
    rt_buf html = {0}, text = {0};
    size_t width[64] = {0};
    int nc = t->ncols < 64 ? t->ncols : 64;
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < nc; c++) {
            size_t w = utf8_width(t->cells[r * (size_t)t->ncols + c]);
            if (w > width[c]) width[c] = w;
        }
    rt_buf_puts(&html, "<table style=\"border-collapse:collapse;font-variant-numeric:tabular-nums\">");
    for (size_t r = 0; r < t->nrows; r++) {
        rt_buf_puts(&html, r == 0 ? "<thead><tr>" : "<tr>");
        for (int c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * (size_t)t->ncols + c];
            int num = r > 0 && numeric(cell);
            rt_buf_printf(&html, "<%s style=\"padding:2px 10px;text-align:%s%s\">", r == 0 ? "th" : "td",
                          num ? "right" : "left", r == 0 ? ";border-bottom:1px solid rgba(127,127,127,.5)" : "");
            rt_buf_xml(&html, cell);
            rt_buf_puts(&html, r == 0 ? "</th>" : "</td>");
            if (c < nc) {
                size_t pad = width[c] - utf8_width(cell);
                if (num) for (size_t k = 0; k < pad; k++) rt_buf_puts(&text, " ");
                rt_buf_puts(&text, cell);
                if (!num && c < t->ncols - 1) for (size_t k = 0; k < pad; k++) rt_buf_puts(&text, " ");
                if (c < t->ncols - 1) rt_buf_puts(&text, "  ");
            }
        }
        rt_buf_puts(&html, r == 0 ? "</tr></thead><tbody>" : "</tr>");
        rt_buf_puts(&text, "\n");
    }
    rt_buf_puts(&html, "</tbody></table>");
    if (html.s && text.s) send2(NB_DISPLAY_SHOW, NULL, "text/html", html.s, "text/plain", text.s);
    rt_buf_free(&html);
    rt_buf_free(&text);
    rt_inside_begin();
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
    rt_inside_end();
}

void nb_table_show(nb_table *t) {
    if (!t) return;
    RT_STACK_ENTER();
    table_show(t);
    RT_STACK_LEAVE();
}

/* ------------------------------------------------------------ progress */

static struct {
    int shown, done;
    unsigned seq;
    char id[64];
    uint64_t start_ns, last_ns;
} progress;

void rt_display_cell_begin(void) {
    progress.shown = progress.done = 0;
}

RT_BODY void progress_show(long i, long n) {
    uint64_t now = rt_now_ns();
    if (n <= 0) n = 1;
    if (i < 0) i = 0;
    if (i > n) i = n;
    if (progress.done && i < n) progress.shown = progress.done = 0;   /* a new loop: a new bar */
    if (!progress.shown) {
        snprintf(progress.id, sizeof progress.id, "nb-progress-%d-%u", (int)getpid(), ++progress.seq);
        progress.start_ns = now;
    } else if (i < n && now - progress.last_ns < 100000000u) {
        return;                                  /* at most ~10 updates a second */
    }
    progress.last_ns = now;
    double frac = (double)i / (double)n;
    double elapsed = (double)(now - progress.start_ns);
    char when[48] = "", t[32];
    if (i >= n) {
        rt_buf_fmt_ns(t, sizeof t, elapsed);
        snprintf(when, sizeof when, " \xc2\xb7 %s", t);
    } else if (i > 0 && elapsed > 0) {
        rt_buf_fmt_ns(t, sizeof t, elapsed / frac - elapsed);
        snprintf(when, sizeof when, " \xc2\xb7 %s left", t);
    }
    char bar[21];
    int full = (int)(frac * 20 + 0.5);
    for (int k = 0; k < 20; k++) bar[k] = k < full ? '#' : '.';
    bar[20] = 0;
    rt_buf html = {0}, text = {0};
    rt_buf_printf(&text, "[%s] %3.0f%% %ld/%ld%s", bar, frac * 100, i, n, when);
    rt_buf_printf(&html,
                  "<div style=\"display:flex;align-items:center;gap:8px;font-size:12px\">"
                  "<div style=\"width:240px;height:10px;border-radius:5px;background:rgba(127,127,127,.25);overflow:hidden\">"
                  "<div style=\"width:%.1f%%;height:100%%;background:#3b82f6\"></div></div>"
                  "<span style=\"font-variant-numeric:tabular-nums\">%.0f%% \xc2\xb7 %ld/%ld%s</span></div>",
                  frac * 100, frac * 100, i, n, when);
    if (html.s && text.s)
        send2(progress.shown ? NB_DISPLAY_UPDATE : NB_DISPLAY_SHOW, progress.id, "text/html", html.s, "text/plain", text.s);
    progress.shown = 1;
    progress.done = i >= n;
    rt_buf_free(&html);
    rt_buf_free(&text);
}

/* Most calls from a tight loop are rate-limited away: tell them apart
 * before the stack bracket, whose system calls would cost more. */
static int progress_skipped(long i, long n) {
    if (n <= 0) n = 1;
    if (i > n) i = n;
    if (!progress.shown || i >= n || (progress.done && i < n)) return 0;
    return rt_now_ns() - progress.last_ns < 100000000u;
}

void nb_progress(long i, long n) {
    if (progress_skipped(i, n)) return;
    RT_STACK_ENTER();
    progress_show(i, n);
    RT_STACK_LEAVE();
}
