/* report.c - the facts about one analysed function, in Go's wording
 * adapted to C: `&x escapes to caller`, `leaking param: p to result`,
 * `malloc(64) does not escape f and is freed on every path`. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "analysis_impl.h"

static const char *verdicts[] = {
    "does not escape", "may escape", "escapes to heap", "escapes through parameter",
    "escapes to global", "escapes to caller",
};

static void fact(json_t *facts, const fctx *c, const char *name, const char *kind, int line,
                 const char *verdict, const char *fmt, ...) {
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (c->f->error_line && !strcmp(verdict, verdicts[0])) {
        /* what the parser dropped may be where it escapes */
        verdict = verdicts[ESC_MAY];
        size_t n = strlen(detail);
        snprintf(detail + n, sizeof detail - n, "; but the parser could not read all of %s (line %d), "
                 "so that is not certain", c->f->name, c->f->error_line);
    }
    json_array_append_new(facts, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
                          "function", c->f->name, "name", name, "kind", kind, "line", line,
                          "verdict", verdict, "detail", detail, "source", "ckernel"));
}

/* Where O goes, as the end of a sentence about LABEL. */
static void where_text(const fctx *c, const object *o, const char *label, char *out, size_t n) {
    switch (o->esc) {
    case ESC_CALLER:
        snprintf(out, n, "%s escapes to caller: dangling after %s returns", label, c->f->name);
        break;
    case ESC_GLOBAL: snprintf(out, n, "%s escapes to global %s", label, o->where); break;
    case ESC_PARAM: snprintf(out, n, "%s escapes through %s", label, o->where); break;
    case ESC_HEAP: snprintf(out, n, "%s escapes to heap: stored into %s", label, o->where); break;
    case ESC_MAY: snprintf(out, n, "%s may escape: %s", label, o->where); break;
    default:
        if (o->reader[0])
            snprintf(out, n, "%s does not escape (passed to %s, which does not keep it)", label,
                     o->reader);
        else
            snprintf(out, n, "%s does not escape", label);
    }
}

static void report_local(json_t *facts, const fctx *c, const object *o) {
    char label[120], text[400];
    int array = o->kind == O_LOCAL && ast_type_is_array(clang_getCursorType(o->key));
    if (o->kind == O_LITERAL) snprintf(label, sizeof label, "compound literal %s", o->name);
    else if (o->kind == O_ALLOCA) snprintf(label, sizeof label, "%s", o->name);
    else snprintf(label, sizeof label, "%s%s%s", array ? "" : "&", o->name, o->vla ? " (a VLA)" : "");
    where_text(c, o, label, text, sizeof text);
    int line = o->esc ? o->esc_line : o->addr_line;
    if (o->kind == O_STATIC && o->esc == ESC_CALLER)
        snprintf(text, sizeof text, "&%s escapes to caller; %s is static, so it stays valid after %s "
                 "returns", o->name, o->name, c->f->name);
    else if (o->kind == O_STATIC && o->esc)
        snprintf(text + strlen(text), sizeof text - strlen(text), "; %s is static, so that is safe",
                 o->name);
    fact(facts, c, o->name, "local", line, verdicts[o->esc], "%s", text);
}

static const object *content_of(const fctx *c, int param) {
    for (int i = 0; i < c->nobj; i++)
        if (c->obj[i].kind == O_CONTENT && c->obj[i].param == param) return &c->obj[i];
    return NULL;
}

/* How a parameter's pointer leaks, by its highest escape (%.0s: unused). */
static const char *param_forms[] = {
    [ESC_MAY] = "%s may escape: %s", [ESC_HEAP] = "leaking param: %s to heap (%s)",
    [ESC_PARAM] = "leaking param: %s to %s", [ESC_GLOBAL] = "leaking param: %s to global %s",
    [ESC_CALLER] = "leaking param: %s to result%.0s",
};

static void report_param(json_t *facts, const fctx *c, const object *o) {
    const char *p = o->name;
    const object *content = content_of(c, o->param);
    char text[400];
    if (o->esc) {
        fact(facts, c, p, "param", o->esc_line, verdicts[o->esc], param_forms[o->esc], p, o->where);
    } else if (content && content->esc) {
        where_text(c, content, "what it points to", text, sizeof text);
        fact(facts, c, p, "param", content->esc_line, verdicts[content->esc],
             "leaking param content: %s (%s)", p, text);
    } else {
        where_text(c, o, p, text, sizeof text);
        fact(facts, c, p, "param", o->line, verdicts[0], "%s", text);
    }
}

/* An allocation that stays in its function: freed on every path (a
 * stack array would do), or on no path that returns. */
static void report_local_alloc(json_t *facts, const fctx *c, const object *o) {
    const char *a = o->name, *f = c->f->name;
    if (c->backward_goto)                   /* the walk of its paths was not exact */
        fact(facts, c, a, "alloc", o->line, verdicts[0], "%s does not escape %s; whether it is freed "
             "on every path is not known (a goto back, a computed goto or setjmp)", a, f);
    else if (!o->freed)
        fact(facts, c, a, "alloc", o->line, verdicts[0], "%s does not escape %s (no path returns with it)",
             a, f);
    else if (o->size > 0)
        fact(facts, c, a, "alloc", o->line, verdicts[0], "%s does not escape %s and is freed on every "
             "path: a %ld-byte stack array would do", a, f, o->size);
    else
        fact(facts, c, a, "alloc", o->line, verdicts[0], "%s does not escape %s and is freed on every "
             "path: an array on the stack would do (a VLA: its size is not a constant)", a, f);
}

static void report_alloc(json_t *facts, const fctx *c, const object *o) {
    const char *a = o->name;
    char text[400];
    if (o->leak_line && o->esc == ESC_CALLER)
        fact(facts, c, a, "alloc", o->line, "leaks", "%s is returned at line %d but not freed on the "
             "path through line %d (leak)", a, o->returned_line, o->leak_line);
    else if (o->leak_line && o->esc == ESC_NONE)
        fact(facts, c, a, "alloc", o->line, "leaks", "%s is not freed on the path through line %d (leak)",
             a, o->leak_line);
    else if (o->esc == ESC_CALLER)
        fact(facts, c, a, "alloc", o->line, verdicts[o->esc], "%s escapes to caller (returned at line "
             "%d): the caller owns it", a, o->esc_line);
    else if (o->esc == ESC_NONE)
        report_local_alloc(facts, c, o);
    else {
        where_text(c, o, a, text, sizeof text);
        fact(facts, c, a, "alloc", o->line, verdicts[o->esc], "%s", text);
    }
}

void report_function(fctx *c, json_t *facts) {
    for (int i = 0; i < c->nobj; i++) {
        const object *o = &c->obj[i];
        const char *file;
        ast_line(o->key, &file);
        if (strcmp(file, "cell") != 0) continue;
        switch (o->kind) {
        case O_LOCAL: case O_STATIC: case O_LITERAL: case O_ALLOCA:
            if (o->addr_line || o->esc) report_local(facts, c, o);
            break;
        case O_PARAM: report_param(facts, c, o); break;
        case O_ALLOC: report_alloc(facts, c, o); break;
        default: break;
        }
    }
}
