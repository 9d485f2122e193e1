/* profile_export.c - `%%profile --export NAME`: the profile as files other
 * tools open. NAME.folded holds one line per distinct stack, outermost
 * frame first, frames joined by ';', then its samples (or bytes), the
 * format of flamegraph.pl and speedscope; NAME.speedscope.json is
 * speedscope's own format (a "sampled" profile: the same stacks, with
 * their weights); NAME.pb.gz is pprof's (profile_pprof.c). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile_impl.h"

typedef struct {
    const profile_data *d;
    FILE *folded;
    json_t *samples, *weights;
    int path[PROF_DEPTH + 2];
} walk;

static void visit(walk *w, int node, int depth) {
    const profile_data *d = w->d;
    double self = d->t[node].value;
    for (int c = d->t[node].child; c; c = d->t[c].next) self -= d->t[c].value;
    if (node && self > 0.5) {
        json_t *stack = json_array();
        for (int i = 0; i < depth; i++) {
            const char *label = d->f[w->path[i]].label;
            for (const char *p = label; *p; p++) fputc(*p == ';' ? ':' : *p, w->folded);
            fputc(i + 1 < depth ? ';' : ' ', w->folded);
            json_array_append_new(stack, json_integer(w->path[i]));
        }
        fprintf(w->folded, "%.0f\n", self);
        json_array_append_new(w->samples, stack);
        json_array_append_new(w->weights, json_integer((json_int_t)(self + 0.5)));
    }
    for (int c = d->t[node].child; c && depth < PROF_DEPTH + 1; c = d->t[c].next) {
        w->path[depth] = d->t[c].func;
        visit(w, c, depth + 1);
    }
}

static json_t *frames_json(const profile_data *d) {
    json_t *frames = json_array();
    for (size_t i = 0; i < d->nf; i++) {
        const pfunc *f = &d->f[i];
        json_t *fr = json_pack("{s:s}", "name", f->kind == PF_CELL ? f->name : f->label);
        if (f->kind == PF_CELL) {
            char file[32];
            snprintf(file, sizeof file, "cell [%d]", f->cell);
            json_object_set_new(fr, "file", json_string(file));
            if (f->def_line) json_object_set_new(fr, "line", json_integer(f->def_line));
        }
        json_array_append_new(frames, fr);
    }
    return frames;
}

static int fail(char **error, const char *what, const char *path) {
    if (asprintf(error, "%%%%profile --export: cannot %s %s: %s", what, path, strerror(errno)) < 0) *error = NULL;
    return -1;
}

int profile_export(const profile_data *d, int hz, const char *name, char **error) {
    char *folded_path = NULL, *json_path = NULL, *pprof_path = NULL;
    if (asprintf(&folded_path, "%s.folded", name) < 0) return -1;
    if (asprintf(&json_path, "%s.speedscope.json", name) < 0) { free(folded_path); return -1; }
    int rc = 0;
    walk w = { d, fopen(folded_path, "w"), json_array(), json_array(), { 0 } };
    if (!w.folded) {
        rc = fail(error, "write", folded_path);
    } else {
        visit(&w, 0, 0);
        if (fclose(w.folded) != 0) rc = fail(error, "write", folded_path);
    }
    char title[64];
    snprintf(title, sizeof title, "cell [%d]%s", d->cell, d->heap ? " (heap)" : "");
    json_t *doc = json_pack("{s:s, s:s, s:s, s:{s:o}, s:[{s:s, s:s, s:s, s:i, s:I, s:o, s:o}]}",
                            "$schema", "https://www.speedscope.app/file-format-schema.json",
                            "exporter", "ckernel", "name", title,
                            "shared", "frames", frames_json(d),
                            "profiles", "type", "sampled", "name", title, "unit", d->heap ? "bytes" : "none",
                            "startValue", 0, "endValue", (json_int_t)(d->total + 0.5),
                            "samples", w.samples, "weights", w.weights);
    if (rc == 0 && (!doc || json_dump_file(doc, json_path, JSON_COMPACT) != 0)) rc = fail(error, "write", json_path);
    json_decref(doc);
    if (rc == 0 && asprintf(&pprof_path, "%s.pb.gz", name) >= 0)
        rc = profile_export_pprof(d, hz, pprof_path, error);
    free(pprof_path);
    free(folded_path);
    free(json_path);
    return rc;
}
