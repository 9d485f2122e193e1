/* paths.c - which allocations are freed on every path through a function.
 *
 * Walks the function's statements in order with the set of allocations
 * that may be live (allocated, not yet freed). Branches merge by union,
 * loops run until the set stops growing, break/continue/goto carry their
 * set to where they go. An allocation still live at a return that does
 * not return it, or at the end of the body, leaks on that path. A test
 * `if (!p)` (p == NULL) clears p's allocation on the branch where it is
 * null: malloc's failure is not a leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis_impl.h"

int paths_noreturn(const char *name) {
    static const char *names[] = { "exit", "_exit", "_Exit", "abort", "quick_exit", "__assert_fail",
                                   "longjmp", "siglongjmp", "pthread_exit", "err", "errx",
                                   "nb__check_failed", NULL };
    for (int i = 0; name && names[i]; i++) if (!strcmp(name, names[i])) return 1;
    return 0;
}

static flow_state merge(flow_state a, flow_state b) {
    if (a.dead) return b;
    if (b.dead) return a;
    set_union(&a.live, &b.live);
    for (int i = 0; i < MAX_TRACKED; i++) set_union(&a.var[i], &b.var[i]);
    return a;
}

static const flow_state dead_state = { .dead = 1 };

/* The blocks among the objects S points to: allocations, and the
 * parameters' pointers (to learn which parameters a function frees). */
static objset allocs_in(fctx *c, const objset *s) {
    objset r = {0};
    SET_EACH(i, s) if (c->obj[i].kind == O_ALLOC || c->obj[i].kind == O_PARAM) set_add(&r, i);
    return r;
}

/* The tracked slot of the variable E names, or -1. */
static int slot_of_decl(fctx *c, CXCursor decl) {
    int i = analysis_local_object(c, decl);
    for (int k = 0; i >= 0 && k < c->ntracked; k++) if (c->tracked[k] == i) return k;
    return -1;
}

static int slot_of(fctx *c, CXCursor e) {
    e = ast_strip(e);
    if (clang_getCursorKind(e) != CXCursor_DeclRefExpr) return -1;
    return slot_of_decl(c, clang_getCursorReferenced(e));
}

/* What E may point to here: a tracked variable's objects, per path; else
 * what the flow-insensitive analysis says. */
static objset flow_value(fctx *c, const flow_state *st, CXCursor e) {
    int k = slot_of(c, e);
    return k >= 0 ? st->var[k] : analysis_eval(c, e);
}

static void kill_allocs(fctx *c, flow_state *st, CXCursor arg) {
    objset v = flow_value(c, st, arg);
    objset a = allocs_in(c, &v);
    SET_EACH(i, &a) {
        set_del(&st->live, i);
        c->obj[i].freed = 1;
    }
}

static void flow_expr(fctx *c, CXCursor e, flow_state *st);
static void record_read(fctx *c, CXCursor e, const objset *v);

static enum CXChildVisitResult flow_child(CXCursor k, CXCursor parent, CXClientData d) {
    (void)parent;
    fctx *c = ((void **)d)[0];
    flow_expr(c, k, ((void **)d)[1]);
    return CXChildVisit_Continue;
}

/* An expression's effects in order: allocations, frees, calls that end. */
/* a ? b : c, a && b, a || b: what b (and c) do happens on some paths only. */
static int flow_conditional(fctx *c, CXCursor e, enum CXCursorKind k, flow_state *st) {
    CXCursor kid[3];
    unsigned n = ast_children(e, kid, 3);
    const char *op = k == CXCursor_BinaryOperator ? ast_operator(&c->tok, e) : "";
    int conditional = (k == CXCursor_ConditionalOperator && n == 3) ||
                      (n == 2 && (!strcmp(op, "&&") || !strcmp(op, "||")));
    if (!conditional) return 0;
    flow_expr(c, kid[0], st);
    flow_state then = *st, other = *st;
    flow_expr(c, kid[1], &then);
    if (n == 3) flow_expr(c, kid[2], &other);
    *st = merge(then, other);
    return 1;
}

static void flow_expr(fctx *c, CXCursor e, flow_state *st) {
    enum CXCursorKind k = clang_getCursorKind(e);
    if (k == CXCursor_UnaryExpr) return;
    if (k == CXCursor_StmtExpr || k == CXCursor_IndirectGotoStmt) c->backward_goto = 1;
    if (k == CXCursor_DeclRefExpr && !st->dead) {
        int slot = slot_of(c, e);
        if (slot >= 0) record_read(c, e, &st->var[slot]);
    }
    if ((k == CXCursor_BinaryOperator || k == CXCursor_ConditionalOperator) && flow_conditional(c, e, k, st))
        return;
    void *d[2] = { c, st };
    clang_visitChildren(e, flow_child, d);
    CXCursor kid[8];
    unsigned n = ast_children(e, kid, 8);
    if (k == CXCursor_BinaryOperator && n == 2 && !strcmp(ast_operator(&c->tok, e), "=")) {
        int slot = slot_of(c, kid[0]);                 /* p = ...: what p holds from here */
        if (slot >= 0) st->var[slot] = flow_value(c, st, kid[1]);
    }
    if (k == CXCursor_VarDecl && n && ast_has_init(&c->tok, e) &&
        clang_isExpression(clang_getCursorKind(kid[n - 1]))) {
        int slot = slot_of_decl(c, e);
        if (slot >= 0) st->var[slot] = flow_value(c, st, kid[n - 1]);
    }
    if (k != CXCursor_CallExpr) return;
    char *name = analysis_callee_name(e);
    int nargs = clang_Cursor_getNumArguments(e);
    if (name && (!strcmp(name, "free") || !strcmp(name, "realloc")) && nargs >= 1)
        kill_allocs(c, st, clang_Cursor_getArgument(e, 0));
    object *o = analysis_alloc_object(c, e);
    if (o) set_add(&st->live, (int)(o - c->obj));
    function *g = name ? analysis_function(c->a, name) : NULL;
    for (int i = 0; g && i < nargs && i < g->nparams && i < MAX_PARAMS; i++)
        if (g->frees[i]) kill_allocs(c, st, clang_Cursor_getArgument(e, (unsigned)i));
    if (paths_noreturn(name)) st->dead = 1;
    if (name && strstr(name, "setjmp")) c->backward_goto = 1;    /* longjmp comes back to it */
    free(name);
}

/* The blocks P may hold when P is a tracked local: on the branch where P
 * is null, none of them is live. */
static objset tested_blocks(fctx *c, const flow_state *st, CXCursor p) {
    p = ast_strip(p);
    CXCursor kid[2];                           /* if ((p = malloc(n)) == NULL) tests p */
    if (clang_getCursorKind(p) == CXCursor_BinaryOperator && ast_children(p, kid, 2) == 2 &&
        !strcmp(ast_operator(&c->tok, p), "="))
        p = kid[0];
    int slot = slot_of(c, p);
    objset none = {0};
    return slot >= 0 ? allocs_in(c, &st->var[slot]) : none;
}

/* Which branch of COND knows the tested pointer is null: *ON_TRUE 1 for
 * the then-branch, 0 for the else-branch. The blocks it may hold. */
static objset null_test(fctx *c, const flow_state *st, CXCursor cond, int *on_true) {
    cond = ast_strip(cond);
    CXCursor kid[2];
    unsigned n = ast_children(cond, kid, 2);
    enum CXCursorKind k = clang_getCursorKind(cond);
    int operator = k == CXCursor_UnaryOperator || k == CXCursor_BinaryOperator;
    const char *op = operator ? ast_operator(&c->tok, cond) : "";
    objset none = {0};
    *on_true = 0;
    if (k == CXCursor_UnaryOperator && n == 1 && !strcmp(op, "!")) {
        *on_true = 1;
        return tested_blocks(c, st, kid[0]);
    }
    if (k == CXCursor_BinaryOperator && n == 2 && (!strcmp(op, "==") || !strcmp(op, "!="))) {
        *on_true = op[0] == '=';
        if (ast_is_null_constant(kid[1])) return tested_blocks(c, st, kid[0]);
        if (ast_is_null_constant(kid[0])) return tested_blocks(c, st, kid[1]);
        return none;
    }
    return ast_type_is_pointer(clang_getCursorType(cond)) ? tested_blocks(c, st, cond) : none;
}

/* S and what its objects hold, and what those hold: a block stored in a
 * returned block goes to the caller with it (u->name = strdup(...)). */
static objset with_held(const fctx *c, const objset *s) {
    objset r = *s;
    for (int grew = 1; grew;) {
        objset more = r;
        SET_EACH(i, &r) set_union(&more, &c->obj[i].held);
        grew = set_union(&r, &more);
    }
    return r;
}

static void leak_at(fctx *c, const flow_state *st, const objset *returned, int line) {
    if (st->dead) return;
    objset kept = with_held(c, returned);
    SET_EACH(i, &st->live) {
        object *o = &c->obj[i];
        if (set_has(&kept, i) || o->leak_line) continue;
        if (o->esc != ESC_NONE && o->esc != ESC_CALLER) continue;   /* owned elsewhere now */
        o->leak_line = line;
    }
}

static flow_state exec(fctx *c, CXCursor s, flow_state st);

/* A loop: BODY, then the expressions AFTER (condition, increment), until
 * the state stops growing. An endless loop (FOREVER) is left by break only. */
static flow_state exec_loop(fctx *c, CXCursor body, flow_state in, const CXCursor *after,
                            unsigned nafter, int forever) {
    flow_state *outer_b = c->breaks, *outer_c = c->continues;
    flow_state breaks = dead_state, conts = dead_state, head = in;
    c->breaks = &breaks;
    c->continues = &conts;
    for (int round = 0; round < 4; round++) {
        flow_state out = exec(c, body, head);
        out = merge(out, conts);
        for (unsigned i = 0; i < nafter; i++) flow_expr(c, after[i], &out);
        flow_state next = merge(head, out);
        if (!memcmp(&next, &head, sizeof next)) break;
        head = next;
    }
    c->breaks = outer_b;
    c->continues = outer_c;
    return forever ? breaks : merge(head, breaks);
}

static flow_state *label_state(fctx *c, CXCursor label) {
    for (size_t i = 0; i < c->nlabels; i++)
        if (clang_equalCursors(c->labels[i].label, label)) return &c->labels[i].st;
    void *p = realloc(c->labels, (c->nlabels + 1) * sizeof *c->labels);
    if (!p) return NULL;
    c->labels = p;
    c->labels[c->nlabels].label = label;
    c->labels[c->nlabels].st = dead_state;
    return &c->labels[c->nlabels++].st;
}

static void record_return(fctx *c, CXCursor s, const objset *v) {
    for (size_t i = 0; i < c->nrets; i++)
        if (clang_equalCursors(c->rets[i].stmt, s)) { set_union(&c->rets[i].v, v); return; }
    void *p = realloc(c->rets, (c->nrets + 1) * sizeof *c->rets);
    if (!p) { c->backward_goto = 1; return; }             /* then none is used */
    c->rets = p;
    c->rets[c->nrets].stmt = s;
    c->rets[c->nrets++].v = *v;
}

/* A read of a tracked variable: what it holds here (reads are told
 * apart by where they are in the file). */
static void record_read(fctx *c, CXCursor e, const objset *v) {
    unsigned off = ast_offset(e, 0);
    for (size_t i = 0; i < c->nrefs; i++)
        if (c->refs[i].offset == off) { set_union(&c->refs[i].v, v); return; }
    void *p = realloc(c->refs, (c->nrefs + 1) * sizeof *c->refs);
    if (!p) { c->backward_goto = 1; return; }             /* then none is used */
    c->refs = p;
    c->refs[c->nrefs].offset = off;
    c->refs[c->nrefs++].v = *v;
}

const objset *paths_read_value(const fctx *c, CXCursor e) {
    unsigned off = ast_offset(e, 0);
    for (size_t i = 0; i < c->nrefs; i++)
        if (c->refs[i].offset == off) return &c->refs[i].v;
    return NULL;
}

const objset *paths_return_value(const fctx *c, CXCursor s) {
    for (size_t i = 0; i < c->nrets; i++)
        if (clang_equalCursors(c->rets[i].stmt, s)) return &c->rets[i].v;
    return NULL;
}

static flow_state exec_switch(fctx *c, CXCursor s, const CXCursor *kid, unsigned n, flow_state st);

static flow_state exec(fctx *c, CXCursor s, flow_state st) {
    CXCursor kid[64];
    unsigned n = ast_children(s, kid, 64);
    enum CXCursorKind k = clang_getCursorKind(s);
    switch (k) {
    case CXCursor_CompoundStmt:
        for (unsigned i = 0; i < n; i++) st = exec(c, kid[i], st);
        return st;
    case CXCursor_IfStmt: {
        if (n < 2) return st;
        flow_expr(c, kid[0], &st);
        flow_state t = st, e = st;
        int on_true;
        objset null = null_test(c, &st, kid[0], &on_true);
        SET_EACH(a, &null) set_del(on_true ? &t.live : &e.live, a);
        t = exec(c, kid[1], t);
        if (n > 2) e = exec(c, kid[2], e);
        return merge(t, e);
    }
    case CXCursor_WhileStmt:
        if (n < 2) return st;
        flow_expr(c, kid[0], &st);
        return exec_loop(c, kid[1], st, kid, 1, ast_always_true(kid[0]));
    case CXCursor_DoStmt:
        if (n < 2) return st;
        return exec_loop(c, kid[0], st, kid + 1, 1, ast_always_true(kid[1]));
    case CXCursor_ForStmt:
        if (!n) return st;
        for (unsigned i = 0; i + 1 < n; i++) st = exec(c, kid[i], st);
        return exec_loop(c, kid[n - 1], st, kid, n > 1 ? n - 1 : 0, !ast_for_has_condition(&c->tok, s));
    case CXCursor_SwitchStmt:
        return exec_switch(c, s, kid, n, st);
    case CXCursor_BreakStmt:
        if (c->breaks) *c->breaks = merge(*c->breaks, st);
        return dead_state;
    case CXCursor_ContinueStmt:
        if (c->continues) *c->continues = merge(*c->continues, st);
        return dead_state;
    case CXCursor_ReturnStmt: {
        objset ret = {0};
        if (n) {
            flow_expr(c, kid[0], &st);
            ret = flow_value(c, &st, kid[0]);
            if (slot_of(c, kid[0]) >= 0 && !st.dead) record_return(c, s, &ret);
        }
        leak_at(c, &st, &ret, ast_line(s, NULL));
        return dead_state;
    }
    case CXCursor_GotoStmt: {
        CXCursor label = clang_getCursorReferenced(s);
        flow_state *l = label_state(c, label);
        if (l) *l = merge(*l, st);
        if (ast_offset(label, 0) < ast_offset(s, 0)) c->backward_goto = 1;
        return dead_state;
    }
    case CXCursor_LabelStmt: {
        flow_state *l = label_state(c, s);
        if (l) st = merge(st, *l);
        return n ? exec(c, kid[n - 1], st) : st;
    }
    case CXCursor_CaseStmt: case CXCursor_DefaultStmt:
        return n ? exec(c, kid[n - 1], st) : st;
    default:
        flow_expr(c, s, &st);
        return st;
    }
}

/* Each case starts from the state at the switch, or falls through from
 * the case above; without a default, the switch may skip them all. */
static flow_state exec_switch(fctx *c, CXCursor s, const CXCursor *kid, unsigned n, flow_state st) {
    (void)s;
    if (n < 2) return st;
    flow_expr(c, kid[0], &st);
    flow_state *outer = c->breaks, breaks = dead_state, cur = dead_state;
    c->breaks = &breaks;
    CXCursor body[256];
    unsigned nb = ast_children(kid[1], body, 256);
    int has_default = 0;
    for (unsigned i = 0; i < nb; i++) {
        enum CXCursorKind k = clang_getCursorKind(body[i]);
        if (k == CXCursor_CaseStmt || k == CXCursor_DefaultStmt) {
            cur = merge(cur, st);
            has_default |= k == CXCursor_DefaultStmt;
            for (CXCursor in = body[i];;) {          /* case 1: case 2: default: ... */
                CXCursor sub[2];
                unsigned m = ast_children(in, sub, 2);
                enum CXCursorKind sk = m ? clang_getCursorKind(sub[m - 1]) : CXCursor_NullStmt;
                if (sk == CXCursor_DefaultStmt) has_default = 1;
                if (sk != CXCursor_CaseStmt && sk != CXCursor_DefaultStmt) break;
                in = sub[m - 1];
            }
        }
        cur = exec(c, body[i], cur);
    }
    c->breaks = outer;
    cur = merge(cur, breaks);
    return has_default ? cur : merge(cur, st);
}

void paths_run(fctx *c, CXCursor body) {
    flow_state st;
    memset(&st, 0, sizeof st);
    c->nlabels = 0;
    c->ntracked = 0;
    c->nrets = 0;
    c->nrefs = 0;
    c->backward_goto = 0;
    for (int i = 0; i < c->nobj; i++) {
        const object *o = &c->obj[i];
        if (o->kind == O_PARAM) set_add(&st.live, i);
        /* pointer variables only (a struct's members are written apart),
         * and not one whose address is taken: it may change behind its back */
        if (o->kind != O_LOCAL || o->addr_line || set_empty(&o->held)) continue;
        if (!ast_type_is_pointer(clang_getCursorType(o->key))) continue;
        if (c->ntracked == MAX_TRACKED) continue;
        for (int j = 0; o->param >= 0 && j < c->nobj; j++)     /* a parameter comes in with its pointer */
            if (c->obj[j].kind == O_PARAM && c->obj[j].param == o->param)
                set_add(&st.var[c->ntracked], j);
        c->tracked[c->ntracked++] = i;
    }
    flow_state end = exec(c, body, st);
    objset none = {0};
    CXSourceRange r = clang_getCursorExtent(body);
    unsigned line = 0;
    CXString f;
    clang_getPresumedLocation(clang_getRangeEnd(r), &f, &line, NULL);
    clang_disposeString(f);
    leak_at(c, &end, &none, (int)line);
    /* a parameter freed somewhere and live at no exit: freed on every path */
    for (int i = 0; i < c->nobj; i++) {
        const object *o = &c->obj[i];
        if (o->kind == O_PARAM && o->param >= 0 && o->param < MAX_PARAMS)
            c->f->frees[o->param] = o->freed && !o->leak_line;
    }
}
