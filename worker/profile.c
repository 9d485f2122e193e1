/* profile.c - `%%profile` in the worker (see profile.h): the line tables
 * of profiled cells, the hooks around a cell, and the profile's metadata.
 *
 * Cell code has no line information at run time. When a cell is
 * profiled, it is compiled once more with -g before it runs (as a crashed
 * cell is, for its frames' lines), and its stabs give every function's
 * lines. A profile that meets a function of an earlier cell compiles that
 * cell once more (its text is kept for %asm, cc.h), against the session as
 * it is then (the same code, unless a later cell changed a macro or a type
 * it uses); a cell gcc or clang compiled (%%cc) has its object kept, whose
 * line table answers address by address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cc.h"
#include "compile.h"
#include "profile.h"
#include "profile_impl.h"

typedef struct { int cell; char *function; unsigned long offset; int line; } line_row;

/* What is known of a cell's lines: LINES_TABLE (rows made), LINES_NONE,
 * LINES_OBJECT (gcc's or clang's object, asked address by address); the
 * text of a profiled cell (other cells' is cc.h's). */
enum { LINES_NONE = -1, LINES_TABLE = 1, LINES_OBJECT = 2 };
typedef struct { int cell, state; char *code; } cell_lines;

#define KNOWN 1024
static struct { line_row *v; size_t n, cap; } rows;
static cell_lines known[KNOWN];
static size_t nknown;
static session *the_session;

/* ---------------------------------------------------------- naming */

static int resolve(const void *addr, char *name, size_t n, int *cell, uint32_t *offset) {
    const char *nm;
    unsigned long off;
    if (!the_session || session_symbolize(the_session, addr, &nm, &off, NULL) != 'f') return 0;
    snprintf(name, n, "%s", nm);
    *offset = (uint32_t)off;
    *cell = 0;
    compile_part_of(addr, cell);
    return 1;
}

void profile_install(session *s) {
    the_session = s;
    prof_set_resolver(resolve);
    prof_region_make();       /* before any %memory: its mappings are the worker's own */
}

/* ----------------------------------------------------------- lines */

static void add_row(void *opaque, const char *function, unsigned long offset, int line) {
    if (rows.n == rows.cap) {
        rows.cap = rows.cap ? 2 * rows.cap : 256;
        rows.v = realloc(rows.v, rows.cap * sizeof *rows.v);
    }
    const char *name = strcmp(function, "__ck_run") ? function : "the cell's statements";
    rows.v[rows.n++] = (line_row){ *(int *)opaque, strdup(name), offset, line };
}

static cell_lines *known_of(int cell) {
    for (size_t i = 0; i < nknown; i++) if (known[i].cell == cell) return &known[i];
    return NULL;
}

static cell_lines *add_known(int cell, int state, const char *code) {
    if (nknown == KNOWN) {                              /* the oldest goes */
        free(known[0].code);
        memmove(known, known + 1, (KNOWN - 1) * sizeof *known);
        nknown--;
    }
    known[nknown] = (cell_lines){ cell, state, code ? strdup(code) : NULL };
    return &known[nknown++];
}

/* The line of OFFSET into FUNCTION in gcc's or clang's object of CELL. */
static int object_line(int cell, const char *function, unsigned long offset) {
    const char *code, *options, *label;
    const unsigned char *obj;
    size_t len;
    int line = 0;
    const char *name = strcmp(function, "the cell's statements") ? function : "__ck_run";
    if (cc_kept(cell, &code, &options, &label, &obj, &len) && obj) cc_lines(obj, len, &name, &offset, &line, 1);
    return line;
}

int profile_line_of(int cell, const char *function, unsigned long offset) {
    const cell_lines *k = known_of(cell);
    if (k && k->state == LINES_OBJECT) return object_line(cell, function, offset);
    int line = 0;
    unsigned long best = 0;
    for (size_t i = 0; i < rows.n; i++) {
        const line_row *r = &rows.v[i];
        if (r->cell == cell && r->offset <= offset && r->offset >= best && !strcmp(r->function, function)) {
            best = r->offset;
            line = r->line;
        }
    }
    return line;
}

int profile_function_lines(int cell, const char *function, int *first, int *last) {
    *first = *last = 0;
    for (size_t i = 0; i < rows.n; i++) {
        const line_row *r = &rows.v[i];
        if (r->cell != cell || strcmp(r->function, function)) continue;
        if (!*first || r->line < *first) *first = r->line;
        if (r->line > *last) *last = r->line;
    }
    return *first > 0;
}

const char *profile_code_of(int cell) {
    const cell_lines *k = known_of(cell);
    if (k && k->code) return k->code;
    const char *code, *options, *label;
    const unsigned char *obj;
    size_t len;
    return cc_kept(cell, &code, &options, &label, &obj, &len) ? code : NULL;
}

void profile_cell(session *s, const magics *m, int count) {
    if (!m->profile || known_of(count)) return;
    if (m->cc) {                  /* gcc's or clang's: its object, kept when the cell commits */
        add_known(count, LINES_OBJECT, m->code);
        return;
    }
    int ok = session_line_table(s, m->code, m->cflags, add_row, &count) == 0;
    add_known(count, ok ? LINES_TABLE : LINES_NONE, m->code);
}

/* Line tables for the earlier cells whose functions the profile met. */
static void earlier_lines(session *s, const prof_region *r, int count) {
    for (size_t i = 0; i < PROF_FRAMES; i++) {
        const prof_frame *f = &r->frames[i];
        if (f->state != 2 || f->cell == count || known_of(f->cell)) continue;
        const char *code, *options, *label;
        const unsigned char *obj;
        size_t len;
        int cell = f->cell, state = LINES_NONE;
        if (cc_kept(cell, &code, &options, &label, &obj, &len))
            state = obj ? LINES_OBJECT
                        : session_line_table(s, code, options, add_row, &cell) == 0 ? LINES_TABLE : LINES_NONE;
        add_known(cell, state, NULL);
    }
}

/* ----------------------------------------------------- around the run */

void profile_begin(const magics *m, int count) {
    if (m->profile) prof_start(m->profile_hz, m->profile == 2, count);
}

/* Also a region a cell's nb_profile_start left open: its timers would
 * sample every later cell. (A read of the record: no fault after a fork.) */
void profile_end(const magics *m) {
    const prof_region *r = prof_region_get();
    if (m->profile || (r && r->active)) prof_stop();
}

/* ------------------------------------------------------------ after */

static json_t *cpu_metadata(const profile_data *d, const prof_region *r) {
    json_t *fs = json_array(), *ls = json_array();
    for (size_t i = 0; i < d->nf; i++) {
        const pfunc *f = &d->f[i];
        if (f->kind == PF_MARK) continue;
        json_array_append_new(fs, json_pack("{s:s, s:o, s:o, s:I, s:I}", "name", f->name,
                              "cell", f->cell ? json_integer(f->cell) : json_null(),
                              "line", f->def_line ? json_integer(f->def_line) : json_null(),
                              "self", (json_int_t)f->self, "total", (json_int_t)f->total));
    }
    for (size_t i = 0; i < d->nl; i++)
        json_array_append_new(ls, json_pack("{s:i, s:i, s:I}", "cell", d->l[i].cell, "line", d->l[i].line,
                                            "samples", (json_int_t)d->l[i].value));
    const char *lost = r->signal_lost & PROF_SIGNAL_HANDLER ? "handler"
                     : r->signal_lost & PROF_SIGNAL_BLOCKED ? "blocked" : NULL;
    return json_pack("{s:I, s:i, s:i, s:I, s:I, s:I, s:o, s:o, s:s, s:o}",
                     "samples", (json_int_t)d->samples,
                     "hz", r->hz, "threads", r->threads, "cpu_ns", (json_int_t)r->cpu_ns,
                     "sampler_ns", (json_int_t)r->handler_ns, "dropped", (json_int_t)r->dropped,
                     "functions", fs, "lines", ls, "signal", profile_signal_name(r),
                     "signal_lost", lost ? json_string(lost) : json_null());
}

static json_t *heap_metadata(const profile_data *d) {
    json_t *sites = json_array();
    for (size_t i = 0; i < d->nsites; i++) {
        const psite *s = &d->sites[i];
        json_t *stack = json_array();
        for (int k = 0; k < s->n; k++) json_array_append_new(stack, json_string(d->f[s->funcs[k]].name));
        json_array_append_new(sites, json_pack("{s:o, s:o, s:o, s:I, s:I, s:I}", "stack", stack,
                              "cell", s->cell ? json_integer(s->cell) : json_null(),
                              "line", s->line ? json_integer(s->line) : json_null(),
                              "allocs", (json_int_t)s->allocs, "bytes", (json_int_t)s->bytes,
                              "live_bytes", (json_int_t)s->live_bytes));
    }
    return json_pack("{s:o}", "sites", sites);
}

/* Where each cell function was defined (its cell's line). */
static void definition_lines(profile_data *d, session *s) {
    for (size_t i = 0; i < d->nf; i++) {
        int cnt, line;
        if (d->f[i].kind == PF_CELL && session_where_defined(s, d->f[i].name, &cnt, &line) && cnt == d->f[i].cell)
            d->f[i].def_line = line;
        else if (d->f[i].kind == PF_CELL)
            profile_function_lines(d->f[i].cell, d->f[i].name, &d->f[i].def_line, &line);
    }
}

json_t *profile_finish(session *s, const magics *m, int count, profile_send_fn send) {
    prof_region *r = prof_region_get();
    if (!m->profile || !r || r->cell != count) return NULL;
    earlier_lines(s, r, count);
    profile_data d;
    profile_sum(r, count, &d);
    definition_lines(&d, s);
    textbuf html = { 0 }, text = { 0 };
    if (d.heap) profile_show_heap_html(&d, r, &html, &text);
    else profile_show_html(&d, r, &html, &text);
    char *error = NULL;
    if (m->profile_export) {
        if (profile_export(&d, r->hz, m->profile_export, &error) == 0)
            textbuf_printf(&text, "\nWrote %s.folded, %s.speedscope.json and %s.pb.gz\n", m->profile_export,
                           m->profile_export, m->profile_export);
        else
            textbuf_printf(&text, "\n%s\n", error ? error : "%%profile --export failed");
    }
    if (m->profile_export) {
        textbuf_puts(&html, "<div style=\"font-size:12px\">");
        profile_xml(&html, error ? error : "Exported: ");
        if (!error) {
            profile_xml(&html, m->profile_export);
            textbuf_puts(&html, ".folded, ");
            profile_xml(&html, m->profile_export);
            textbuf_puts(&html, ".speedscope.json, ");
            profile_xml(&html, m->profile_export);
            textbuf_puts(&html, ".pb.gz (pprof)");
        }
        textbuf_puts(&html, "</div>\n");
    }
    free(error);
    send(json_pack("{s:s, s:s}", "text/html", html.s ? html.s : "", "text/plain", text.s ? text.s : ""));
    free(html.s);
    free(text.s);
    json_t *md = d.heap ? json_pack("{s:o}", "heap_profile", heap_metadata(&d))
                        : json_pack("{s:o}", "profile", cpu_metadata(&d, r));
    profile_data_free(&d);
    r->cell = 0;
    return md;
}

void profile_after_crash(session *s, const magics *m, int count, profile_send_fn send) {
    prof_region *r = prof_region_get();
    if (!m->profile || !r || r->cell != count) return;
    if (r->active) {                     /* it died sampling: the figures end here */
        r->active = 0;
        r->cpu_ns = 0;
    }
    profile_cell(s, m, count);
    json_decref(profile_finish(s, m, count, send));
}
