/* analysis.c - where addresses go, function by function (see analysis.h).
 *
 * Every object a function can hand out the address of (a local, a
 * parameter's pointer, an allocation, a compound literal) is a number; an
 * expression evaluates to the set of objects whose addresses it may carry;
 * a store adds that set to what the target holds, or makes it escape (a
 * global, an out-parameter, the heap); a return makes it escape to the
 * caller; a call applies the callee's summary. Repeated until nothing
 * grows. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis_impl.h"

/* ------------------------------------------------------------ objects */

static object *new_object(fctx *c, object_kind kind, CXCursor key, char *name, int line) {
    if (c->nobj >= MAX_OBJECTS) { free(name); return NULL; }
    object *o = &c->obj[c->nobj++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->key = key;
    o->name = name;
    o->line = line;
    o->param = -1;
    o->size = -1;
    return o;
}

static int find_object(fctx *c, object_kind kind, CXCursor key) {
    for (int i = 0; i < c->nobj; i++)
        if (c->obj[i].kind == kind && clang_equalCursors(c->obj[i].key, key)) return i;
    return -1;
}

static objset one(int i) {
    objset s = {0};
    if (i >= 0) set_add(&s, i);
    return s;
}

/* The storage object of variable DECL (created on first sight). */
static int var_object(fctx *c, CXCursor decl) {
    enum CXCursorKind k = clang_getCursorKind(decl);
    if (k != CXCursor_VarDecl && k != CXCursor_ParmDecl) return -1;
    for (object_kind kind = O_LOCAL; kind <= O_GLOBAL; kind++) {
        if (kind != O_LOCAL && kind != O_STATIC && kind != O_GLOBAL) continue;
        int i = find_object(c, kind, decl);
        if (i >= 0) return i;
    }
    enum CX_StorageClass sc = clang_Cursor_getStorageClass(decl);
    int in_function = clang_getCursorKind(clang_getCursorSemanticParent(decl)) == CXCursor_FunctionDecl;
    object_kind kind = k == CXCursor_ParmDecl ? O_LOCAL
                     : !in_function || sc == CX_SC_Extern ? O_GLOBAL
                     : sc == CX_SC_Static ? O_STATIC : O_LOCAL;
    object *o = new_object(c, kind, decl, ast_spelling(decl), ast_line(decl, NULL));
    if (!o) return -1;
    o->vla = clang_getCanonicalType(clang_getCursorType(decl)).kind == CXType_VariableArray;
    return (int)(o - c->obj);
}

int analysis_local_object(fctx *c, CXCursor decl) {
    int i = var_object(c, decl);
    return i >= 0 && c->obj[i].kind == O_LOCAL ? i : -1;
}

static int content_object(fctx *c, int param) {
    for (int i = 0; i < c->nobj; i++)
        if (c->obj[i].kind == O_CONTENT && c->obj[i].param == param) return i;
    for (int i = 0; i < c->nobj; i++)
        if (c->obj[i].kind == O_PARAM && c->obj[i].param == param) {
            object *o = new_object(c, O_CONTENT, c->obj[i].key, strdup(c->obj[i].name), c->obj[i].line);
            if (!o) return -1;
            o->param = param;
            return (int)(o - c->obj);
        }
    return -1;
}

object *analysis_alloc_object(fctx *c, CXCursor call) {
    int i = find_object(c, O_ALLOC, call);
    return i >= 0 ? &c->obj[i] : NULL;
}

/* -------------------------------------------------------------- escapes */

/* Every object in S escapes at LEVEL on LINE, to WHERE (printf-style). */
static void escape(fctx *c, const objset *s, int level, int line, const char *fmt, ...) {
    char where[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    SET_EACH(i, s) {
        object *o = &c->obj[i];
        o->flags |= 1u << level;
        if (level == ESC_GLOBAL && !o->global[0]) snprintf(o->global, sizeof o->global, "%.63s", where);
        if (level == ESC_MAY && !o->reason[0]) snprintf(o->reason, sizeof o->reason, "%s", where);
        if (level <= o->esc) continue;
        o->esc = level;
        o->esc_line = line;
        snprintf(o->where, sizeof o->where, "%s", where);
    }
}

static void passed_to(fctx *c, const objset *s, const char *callee) {
    SET_EACH(i, s)
        if (!c->obj[i].reader[0]) snprintf(c->obj[i].reader, sizeof c->obj[i].reader, "%s", callee);
}

/* What TARGETS (the objects a store writes into) receive: V. */
static void store(fctx *c, const objset *targets, const objset *v, int line) {
    if (set_empty(v)) return;
    int any = 0;
    SET_EACH(t, targets) {
        object *o = &c->obj[t];
        any = 1;
        switch (o->kind) {
        case O_LOCAL: case O_LITERAL: case O_ALLOCA:
            c->changed |= set_union(&o->held, v);
            break;
        case O_ALLOC:
            c->changed |= set_union(&o->held, v);
            escape(c, v, ESC_HEAP, line, "the heap block of line %d", o->line);
            break;
        case O_PARAM: case O_CONTENT:
            escape(c, v, ESC_PARAM, line, "%s", o->name);
            SET_EACH(i, v) {
                c->obj[i].through |= 1u << o->param;
                if (o->kind == O_CONTENT) c->obj[i].deep |= 1u << o->param;
            }
            break;
        case O_STATIC:
            c->changed |= set_union(&o->held, v);
            escape(c, v, ESC_GLOBAL, line, "static %s", o->name);
            break;
        case O_GLOBAL:
            escape(c, v, ESC_GLOBAL, line, "%s", o->name);
            break;
        }
    }
    if (!any) escape(c, v, ESC_MAY, line, "stored through a pointer the analysis cannot follow");
}

/* Everything reachable from S through what objects hold: where a callee
 * that reads or writes beyond what its parameter points to may get. */
static objset reach(fctx *c, const objset *s);

/* What a load through pointers into S yields. */
static objset load(fctx *c, const objset *s) {
    objset r = {0};
    SET_EACH(i, s) {
        object *o = &c->obj[i];
        if (o->kind == O_PARAM || o->kind == O_CONTENT) set_add(&r, content_object(c, o->param));
        else if (o->kind == O_GLOBAL) set_add(&r, i);
        else {
            set_union(&r, &o->held);
            if (o->kind == O_STATIC) set_add(&r, i);
        }
    }
    return r;
}

static objset reach(fctx *c, const objset *s) {
    objset r = *s;
    for (int grew = 1; grew;) {
        objset more = load(c, &r);
        grew = set_union(&r, &more);
    }
    return r;
}

/* --------------------------------------------------------- expressions */

static objset eval(fctx *c, CXCursor e);
static void visit(fctx *c, CXCursor s);

static objset filter(CXCursor e, objset r) {
    CXType t = clang_getCursorType(e);
    if (t.kind == CXType_Invalid || ast_type_carries_address(t)) return r;
    objset none = {0};
    return none;
}

static void mark_address(fctx *c, const objset *s, CXCursor at) {
    SET_EACH(i, s) {
        object *o = &c->obj[i];
        if ((o->kind == O_LOCAL || o->kind == O_STATIC || o->kind == O_LITERAL) && !o->addr_line)
            o->addr_line = ast_line(at, NULL);
    }
}

static int compound_literal(fctx *c, CXCursor e) {
    int i = find_object(c, O_LITERAL, e);
    if (i >= 0) return i;
    object *o = new_object(c, O_LITERAL, e, ast_text(&c->tok, e, 32), ast_line(e, NULL));
    return o ? (int)(o - c->obj) : -1;
}

/* A subscript's or member's base: an array named directly is not an
 * address handed out. */
static objset base_of(fctx *c, CXCursor e) {
    CXCursor s = ast_strip(e);
    if (clang_getCursorKind(s) == CXCursor_DeclRefExpr && ast_type_is_array(clang_getCursorType(s)))
        return one(var_object(c, clang_getCursorReferenced(s)));
    return eval(c, e);
}

/* The objects the lvalue E lies in; MARK: its address is taken. */
static objset addr_of(fctx *c, CXCursor e, int mark) {
    e = ast_strip(e);
    CXCursor kid[3];
    unsigned n = ast_children(e, kid, 3);
    objset r = {0};
    switch (clang_getCursorKind(e)) {
    case CXCursor_DeclRefExpr:
        r = one(var_object(c, clang_getCursorReferenced(e)));
        break;
    case CXCursor_UnaryOperator:
        if (n && !strcmp(ast_operator(&c->tok, e), "*")) return eval(c, kid[0]);
        break;
    case CXCursor_ArraySubscriptExpr:
        if (n == 2) {                         /* &a[i] hands out a's address */
            r = base_of(c, kid[0]);
            objset idx = base_of(c, kid[1]);
            set_union(&r, &idx);
        }
        break;
    case CXCursor_MemberRefExpr:
        if (n && ast_type_is_pointer(clang_getCursorType(kid[0]))) return eval(c, kid[0]);
        if (n) r = addr_of(c, kid[0], mark);
        return r;
    case CXCursor_CompoundLiteralExpr: {
        int lit = compound_literal(c, e);
        objset init = n ? eval(c, kid[n - 1]) : r;
        if (lit >= 0) c->changed |= set_union(&c->obj[lit].held, &init);
        r = one(lit);
        break;
    }
    default:
        for (unsigned i = 0; i < n; i++) eval(c, kid[i]);
        break;
    }
    if (mark) mark_address(c, &r, e);
    return r;
}

static objset call(fctx *c, CXCursor e);

static objset statement_value(fctx *c, CXCursor compound) {
    CXCursor kid[256];
    unsigned n = ast_children(compound, kid, 256);
    objset r = {0};
    for (unsigned i = 0; i < n; i++) {
        if (i + 1 == n && clang_isExpression(clang_getCursorKind(kid[i]))) return eval(c, kid[i]);
        visit(c, kid[i]);
    }
    return r;
}

/* A union read as an integer where it held an address: not followed. */
static void union_as_integer(fctx *c, CXCursor e, const CXCursor *kid, unsigned n, const objset *held) {
    if (!n || set_empty(held) || !ast_type_is_integer(clang_getCursorType(e))) return;
    CXType base = clang_getCanonicalType(clang_getCursorType(kid[0]));
    if (ast_type_is_pointer(base)) base = clang_getCanonicalType(clang_getPointeeType(base));
    if (clang_getCursorKind(clang_getTypeDeclaration(base)) == CXCursor_UnionDecl)
        escape(c, held, ESC_MAY, ast_line(e, NULL), "read back as an integer from a union, which the "
               "analysis does not follow");
}

static objset eval_operator(fctx *c, CXCursor e, const CXCursor *kid, unsigned n) {
    const char *op = ast_operator(&c->tok, e);
    objset r = {0};
    if (clang_getCursorKind(e) == CXCursor_UnaryOperator) {
        if (!n) return r;
        if (!strcmp(op, "&")) return addr_of(c, kid[0], 1);
        r = eval(c, kid[0]);
        if (!strcmp(op, "*")) return filter(e, load(c, &r));
        return filter(e, r);
    }
    if (n < 2) return r;
    if (!strcmp(op, "=")) {
        objset v = eval(c, kid[1]);
        objset t = addr_of(c, kid[0], 0);
        store(c, &t, &v, ast_line(e, NULL));
        return v;
    }
    objset a = eval(c, kid[0]), b = eval(c, kid[1]);
    if (!strcmp(op, ",")) return b;
    if (!strcmp(op, "+") || !strcmp(op, "-") || !strcmp(op, "+=") || !strcmp(op, "-=")) {
        set_union(&a, &b);
        return filter(e, a);
    }
    return r;
}

static objset eval(fctx *c, CXCursor e) {
    CXCursor kid[8];
    unsigned n = ast_children(e, kid, 8);
    enum CXCursorKind k = clang_getCursorKind(e);
    objset r = {0};
    switch (k) {
    case CXCursor_UnexposedExpr: case CXCursor_ParenExpr: case CXCursor_CStyleCastExpr: {
        if (!n) return r;
        r = eval(c, kid[n - 1]);
        CXType to = clang_getCursorType(e), from = clang_getCursorType(kid[n - 1]);
        /* an implicit conversion spans exactly its operand (va_arg does not) */
        int cast = k != CXCursor_UnexposedExpr || (ast_offset(e, 0) == ast_offset(kid[n - 1], 0) &&
                                                   ast_offset(e, 1) == ast_offset(kid[n - 1], 1));
        if (!cast) return filter(e, r);
        if (ast_type_is_integer(to) && ast_type_carries_address(from) && !set_empty(&r)) {
            escape(c, &r, ESC_MAY, ast_line(e, NULL), "converted to an integer, which the analysis "
                   "does not follow");
            memset(&r, 0, sizeof r);
        }
        return filter(e, r);
    }
    case CXCursor_DeclRefExpr: {
        CXCursor d = clang_getCursorReferenced(e);
        if (ast_type_is_array(clang_getCursorType(e))) return addr_of(c, e, 1);
        int i = var_object(c, d);
        if (i < 0) return r;
        const objset *here = c->use_rets ? paths_read_value(c, e) : NULL;
        if (here) return filter(e, *here);       /* what it holds there, on its paths */
        object *o = &c->obj[i];
        if (o->kind == O_GLOBAL || o->kind == O_STATIC) set_add(&r, i);
        if (o->kind != O_GLOBAL) set_union(&r, &o->held);
        return filter(e, r);
    }
    case CXCursor_UnaryOperator: case CXCursor_BinaryOperator: case CXCursor_CompoundAssignOperator:
        return eval_operator(c, e, kid, n);
    case CXCursor_ConditionalOperator:
        for (unsigned i = 0; i < n; i++) {
            objset v = eval(c, kid[i]);
            if (i) set_union(&r, &v);
        }
        return filter(e, r);
    case CXCursor_CallExpr:
        return call(c, e);
    case CXCursor_MemberRefExpr: case CXCursor_ArraySubscriptExpr: {
        if (ast_type_is_array(clang_getCursorType(e))) return addr_of(c, e, 1);
        r = addr_of(c, e, 0);
        objset v = load(c, &r);
        if (k == CXCursor_MemberRefExpr) union_as_integer(c, e, kid, n, &v);
        return filter(e, v);
    }
    case CXCursor_CompoundLiteralExpr:
        if (ast_type_is_array(clang_getCursorType(e))) return addr_of(c, e, 1);
        r = addr_of(c, e, 0);
        return filter(e, load(c, &r));
    case CXCursor_StmtExpr:                      /* ({ ...; last; }): the last one's value */
        return n ? statement_value(c, kid[0]) : r;
    case CXCursor_InitListExpr:
        for (unsigned i = 0; i < n; i++) {
            objset v = eval(c, kid[i]);
            set_union(&r, &v);
        }
        return r;
    case CXCursor_UnaryExpr:                     /* sizeof, _Alignof: not evaluated */
        return r;
    default:
        for (unsigned i = 0; i < n; i++) {
            if (clang_isExpression(clang_getCursorKind(kid[i]))) eval(c, kid[i]);
            else visit(c, kid[i]);
        }
        return r;
    }
}

objset analysis_eval(fctx *c, CXCursor e) { return eval(c, e); }

/* ---------------------------------------------------------------- calls */

/* What the C library does with each pointer argument: '.' nothing kept,
 * 'R' returned (or a pointer into it), 'M' kept where the analysis cannot
 * see, 'G' kept in the library's static state, '0'-'9' stored through that
 * argument, 'C' what it points to copied to where argument 0 points (the
 * addresses in it go along). The last letter goes on for the remaining
 * (variadic) ones. */
static const struct { const char *name, *args; } libc[] = {
    { "strlen", "." }, { "strnlen", "." }, { "strcmp", "." }, { "strncmp", "." },
    { "strcasecmp", "." }, { "memcmp", "." }, { "printf", "." }, { "fprintf", "." },
    { "sprintf", "." }, { "snprintf", "." }, { "vprintf", "." }, { "vfprintf", "." },
    { "vsnprintf", "." }, { "puts", "." }, { "fputs", "." }, { "putchar", "." }, { "fputc", "." },
    { "scanf", "." }, { "sscanf", "." }, { "fscanf", "." }, { "fread", "." }, { "fwrite", "." },
    { "fgets", "R." }, { "getline", "." }, { "perror", "." }, { "fopen", "." }, { "fclose", "." },
    { "fflush", "." }, { "atoi", "." }, { "atol", "." }, { "atof", "." }, { "strtol", "1." },
    { "strtoul", "1." }, { "strtoll", "1." }, { "strtod", "1." }, { "strtof", "1." },
    { "memcpy", "RC." }, { "memmove", "RC." }, { "memset", "R." }, { "strcpy", "R." },
    { "strncpy", "R." }, { "strcat", "R." }, { "strncat", "R." }, { "stpcpy", "R." },
    { "strchr", "R." }, { "strrchr", "R." }, { "strstr", "R." }, { "strpbrk", "R." },
    { "memchr", "R." }, { "strspn", "." }, { "strcspn", "." }, { "strtok", "G." },
    { "qsort", "." }, { "bsearch", ".R." }, { "time", "." }, { "clock_gettime", "." },
    { "gettimeofday", "." }, { "pthread_join", "." }, { "pthread_mutex_lock", "." },
    { "pthread_mutex_unlock", "." }, { "pthread_mutex_init", "." }, { "pthread_mutex_destroy", "." },
    { "pthread_create", "..MM" }, { "atexit", "M" }, { "setvbuf", ".M." }, { "setbuf", ".M" },
    { "putenv", "G" }, { "__assert_fail", "." }, { "exit", "." }, { "abort", "." },
    { "nb__where", "." }, { "nb_locate", "." }, { "nb__keep", "." }, { "nb__check_cmp", "." },
    { "nb__check_failed", "." }, { "nb__show", "." }, { "nb__show_as", "." }, { "nb__assign", ".C." },
    { "nb_display_html", "." }, { "nb_display_svg", "." }, { "nb_display_markdown", "." },
    { "nb_display_json", "." }, { "nb_display_png", "." }, { "nb_display_mime", "." },
    { "__builtin_va_start", "." }, { "__builtin_va_end", "." }, { "__builtin_va_copy", ".." },
    { "vsprintf", "." }, { "getchar", "." }, { "fgetc", "." }, { "ungetc", "." }, { "feof", "." },
    { "ferror", "." }, { "fseek", "." }, { "ftell", "." }, { "rewind", "." }, { "remove", "." },
    { "rename", "." }, { "strtok_r", "G.1" }, { "strerror_r", "R" }, { "toupper", "." },
    { "clock", "." }, { "localtime", "." }, { "strftime", "." }, { "rand_r", "." },
};

static const char *alloc_names[] = { "malloc", "calloc", "realloc", "reallocarray", "strdup",
                                     "strndup", "aligned_alloc", "valloc", "memalign", NULL };

static int is_alloc(const char *name) {
    for (int i = 0; alloc_names[i]; i++) if (!strcmp(name, alloc_names[i])) return 1;
    return 0;
}

char *analysis_callee_name(CXCursor call) {
    CXCursor d = clang_getCursorReferenced(call);
    if (clang_Cursor_isNull(d) || clang_getCursorKind(d) != CXCursor_FunctionDecl) return NULL;
    return ast_spelling(d);
}

function *analysis_function(analysis *a, const char *name) {
    for (size_t i = 0; name && i < a->nfn; i++)
        if (!strcmp(a->fn[i].name, name)) return &a->fn[i];
    return NULL;
}

static long constant(CXCursor e) {
    CXEvalResult r = clang_Cursor_Evaluate(e);
    long v = -1;
    if (r && clang_EvalResult_getKind(r) == CXEval_Int) v = (long)clang_EvalResult_getAsLongLong(r);
    if (r) clang_EvalResult_dispose(r);
    return v;
}

/* The allocation object of CALL to NAME. */
static int alloc_object(fctx *c, CXCursor call, const char *name) {
    int i = find_object(c, O_ALLOC, call);
    if (i >= 0) return i;
    int nargs = clang_Cursor_getNumArguments(call);
    object *o = new_object(c, O_ALLOC, call, ast_text(&c->tok, call, 48), ast_line(call, NULL));
    if (!o) return -1;
    if (!strcmp(name, "malloc") && nargs == 1) o->size = constant(clang_Cursor_getArgument(call, 0));
    if (!strcmp(name, "calloc") && nargs == 2) {
        long n = constant(clang_Cursor_getArgument(call, 0));
        long m = constant(clang_Cursor_getArgument(call, 1));
        o->size = n >= 0 && m >= 0 ? n * m : -1;
    }
    if (!strcmp(name, "realloc") && nargs == 2) o->size = constant(clang_Cursor_getArgument(call, 1));
    return (int)(o - c->obj);
}

/* Apply what the callee does with argument I, by its summary bits. */
static void apply_bits(fctx *c, const char *callee, unsigned bits, unsigned through, unsigned deep,
                       const char *global, const char *reason, const objset *v, const objset *args,
                       int nargs, objset *result, int line) {
    if (bits & (1u << ESC_CALLER)) set_union(result, v);
    if (bits & (1u << ESC_GLOBAL)) escape(c, v, ESC_GLOBAL, line, "%s (kept by %s)", global, callee);
    if (bits & (1u << ESC_HEAP)) escape(c, v, ESC_HEAP, line, "the heap (stored by %s)", callee);
    if (bits & (1u << ESC_MAY))
        escape(c, v, ESC_MAY, line, "passed to %s, and there %s", callee,
               reason[0] ? reason : "perhaps kept");
    for (int j = 0; j < nargs && j < MAX_PARAMS; j++)
        if (through & (1u << j)) {
            objset at = deep & (1u << j) ? reach(c, &args[j]) : args[j];
            store(c, &at, v, line);
        }
    if (!bits) passed_to(c, v, callee);
}

static void apply_summary(fctx *c, const function *g, const objset *args, int nargs, objset *result,
                          int line) {
    for (int i = 0; i < nargs; i++) {
        if (set_empty(&args[i])) continue;
        if (i >= g->nparams || i >= MAX_PARAMS) {
            escape(c, &args[i], ESC_MAY, line, "passed to %s as a variadic argument", g->name);
            continue;
        }
        apply_bits(c, g->name, g->pflags[i], g->through[i], g->deep[i], g->global[i], g->reason[i],
                   &args[i], args, nargs, result, line);
        if (g->cflags[i]) {                   /* what it points to, at any depth */
            objset at = load(c, &args[i]);
            objset content = reach(c, &at);
            apply_bits(c, g->name, g->cflags[i], g->cthrough[i], g->cthrough[i], g->global[i],
                       g->reason[i], &content, args, nargs, result, line);
        }
    }
}

static int apply_libc(fctx *c, const char *name, const objset *args, int nargs, objset *result,
                      int line) {
    for (size_t k = 0; k < sizeof libc / sizeof *libc; k++) {
        if (strcmp(libc[k].name, name)) continue;
        size_t len = strlen(libc[k].args);
        for (int i = 0; i < nargs; i++) {
            char a = libc[k].args[(size_t)i < len ? (size_t)i : len - 1];
            const objset *v = &args[i];
            if (set_empty(v)) continue;
            if (a == 'R') set_union(result, v);
            if (a == 'C') {
                objset content = load(c, v);
                store(c, &args[0], &content, line);
            }
            if (a == 'G') escape(c, v, ESC_GLOBAL, line, "the static state of %s", name);
            if (a == 'M' && !strcmp(name, "pthread_create"))
                escape(c, v, ESC_MAY, line, "passed to pthread_create: the thread may outlive %s",
                       c->f->name);
            else if (a == 'M')
                escape(c, v, ESC_MAY, line, "passed to %s", name);
            if (a >= '0' && a <= '9' && a - '0' < nargs) store(c, &args[a - '0'], v, line);
            if (a == '.' || a == 'R' || a == 'C') passed_to(c, v, name);
        }
        return 1;
    }
    return 0;
}

static objset call(fctx *c, CXCursor e) {
    objset result = {0}, args[MAX_PARAMS + 1];
    int nargs = clang_Cursor_getNumArguments(e);
    if (nargs < 0) nargs = 0;
    int line = ast_line(e, NULL);
    for (int i = MAX_PARAMS; i < nargs; i++) {       /* beyond what summaries hold */
        objset v = eval(c, clang_Cursor_getArgument(e, (unsigned)i));
        escape(c, &v, ESC_MAY, line, "passed as argument %d, more than the analysis follows", i + 1);
    }
    if (nargs > MAX_PARAMS) nargs = MAX_PARAMS;
    for (int i = 0; i < nargs; i++) args[i] = eval(c, clang_Cursor_getArgument(e, i));
    char *name = analysis_callee_name(e);
    if (!name) {
        CXCursor kid[1];
        char *what = ast_children(e, kid, 1) ? ast_text(&c->tok, kid[0], 40) : strdup("?");
        if (ast_children(e, kid, 1)) eval(c, kid[0]);
        for (int i = 0; i < nargs; i++)
            escape(c, &args[i], ESC_MAY, line, "passed to the function pointer %s", what);
        free(what);
        return result;
    }
    function *g = analysis_function(c->a, name);
    if (is_alloc(name)) {
        int block = alloc_object(c, e, name);
        set_add(&result, block);
        if (!strcmp(name, "realloc") && nargs) {          /* the caller's block may come back, */
            SET_EACH(i, &args[0]) if (c->obj[i].kind != O_ALLOC) set_add(&result, i);
            objset moved = load(c, &args[0]), new_block = one(block);   /* with what it held */
            store(c, &new_block, &moved, line);
        }
    } else if (!strcmp(name, "alloca") || !strcmp(name, "__builtin_alloca")) {
        int i = find_object(c, O_ALLOCA, e);
        object *o = i >= 0 ? &c->obj[i] : new_object(c, O_ALLOCA, e, ast_text(&c->tok, e, 32), line);
        if (o && !o->addr_line) o->addr_line = line;
        if (o) set_add(&result, (int)(o - c->obj));
    } else if (!strcmp(name, "free")) {
        if (nargs) passed_to(c, &args[0], "free");
    } else if (g) {
        apply_summary(c, g, args, nargs, &result, line);
    } else if (!apply_libc(c, name, args, nargs, &result, line)) {
        for (int i = 0; i < nargs; i++)
            escape(c, &args[i], ESC_MAY, line, "passed to %s, which the analysis cannot see", name);
    }
    free(name);
    return filter(e, result);
}

/* ----------------------------------------------------------- statements */

static void declare(fctx *c, CXCursor var) {
    int i = var_object(c, var);
    if (i < 0 || !ast_has_init(&c->tok, var)) return;
    CXCursor kid[8];
    unsigned n = ast_children(var, kid, 8);
    if (!n || !clang_isExpression(clang_getCursorKind(kid[n - 1]))) return;
    objset v = eval(c, kid[n - 1]);
    objset t = one(i);
    if (c->obj[i].kind != O_GLOBAL) store(c, &t, &v, ast_line(var, NULL));
}

static enum CXChildVisitResult visit_child(CXCursor k, CXCursor parent, CXClientData d) {
    (void)parent;
    visit(d, k);
    return CXChildVisit_Continue;
}

static void visit(fctx *c, CXCursor s) {
    enum CXCursorKind k = clang_getCursorKind(s);
    if (clang_isExpression(k)) { eval(c, s); return; }
    if (k == CXCursor_ReturnStmt) {
        CXCursor kid[1];
        if (!ast_children(s, kid, 1)) return;
        objset v = eval(c, kid[0]);
        const objset *exact = c->use_rets ? paths_return_value(c, s) : NULL;
        if (exact) v = *exact;                 /* `return p;`: what p holds there */
        int line = ast_line(s, NULL);
        escape(c, &v, ESC_CALLER, line, "%s", c->f->name);
        SET_EACH(i, &v) if (!c->obj[i].returned_line) c->obj[i].returned_line = line;
        return;
    }
    if (k == CXCursor_VarDecl) { declare(c, s); return; }
    clang_visitChildren(s, visit_child, c);
}

/* ------------------------------------------------------------ functions */

/* What escapes from an object escapes from everything it holds. */
static void propagate(fctx *c) {
    for (int grew = 1, round = 0; grew && round < 32; round++) {
        grew = 0;
        for (int i = 0; i < c->nobj; i++) {
            object *o = &c->obj[i];
            if (o->esc == ESC_NONE || o->kind == O_GLOBAL || o->kind == O_STATIC) continue;
            SET_EACH(j, &o->held) {
                object *h = &c->obj[j];
                if (h->esc >= o->esc || j == i) continue;
                h->esc = o->esc;
                h->esc_line = o->esc_line;
                h->flags |= 1u << o->esc;
                snprintf(h->where, sizeof h->where, "%s", o->where);
                if (o->esc == ESC_MAY && !h->reason[0])
                    snprintf(h->reason, sizeof h->reason, "%s", o->reason);
                if (o->esc == ESC_GLOBAL && !h->global[0])
                    snprintf(h->global, sizeof h->global, "%s", o->global);
                grew = 1;
            }
        }
    }
}

/* Every escape found, before a more exact pass (held sets stay). */
static void forget_escapes(fctx *c) {
    for (int i = 0; i < c->nobj; i++) {
        object *o = &c->obj[i];
        o->esc = ESC_NONE;
        o->esc_line = o->returned_line = o->leak_line = o->freed = 0;
        o->flags = o->through = o->deep = 0;
        o->where[0] = o->global[0] = o->reason[0] = 0;
    }
}

static CXCursor body_of(CXCursor fn) {
    CXCursor kid[64];
    unsigned n = ast_children(fn, kid, 64);
    for (unsigned i = 0; i < n; i++)
        if (clang_getCursorKind(kid[i]) == CXCursor_CompoundStmt) return kid[i];
    return clang_getNullCursor();
}

/* Analyse F in C (which the caller frees with fctx_free). */
static void analyse_function(analysis *a, function *f, fctx *c) {
    memset(c, 0, sizeof *c);
    c->a = a;
    c->f = f;
    c->obj = calloc(MAX_OBJECTS, sizeof *c->obj);
    memcpy(c->frees_before, f->frees, sizeof c->frees_before);
    c->tok = f->tok;                         /* shared: the function's */
    for (int i = 0; i < f->nparams && i < MAX_PARAMS; i++) {
        CXCursor p = clang_Cursor_getArgument(f->cursor, (unsigned)i);
        int s = var_object(c, p);
        if (s < 0) continue;
        c->obj[s].param = i;
        CXType t = clang_getCursorType(p);
        if (!ast_type_carries_address(t) || ast_type_is_function_pointer(t)) continue;
        object *po = new_object(c, O_PARAM, p, ast_spelling(p), ast_line(p, NULL));
        if (!po) continue;
        po->param = i;
        set_add(&c->obj[s].held, (int)(po - c->obj));
    }
    CXCursor body = body_of(f->cursor);
    if (clang_Cursor_isNull(body)) return;
    for (int pass = 0; pass < 12; pass++) {
        c->changed = 0;
        visit(c, body);
        if (!c->changed) break;
    }
    propagate(c);
    paths_run(c, body);
    if ((c->nrets || c->nrefs) && !c->backward_goto) {
        /* again, with what a local pointer p holds where it is read, on
         * the paths that reach there, rather than all p ever held
         * (int *p = &x; p = malloc(4); return p;) */
        forget_escapes(c);
        c->use_rets = 1;
        visit(c, body);
        propagate(c);
        c->use_rets = 0;           /* the walk again (leaks), on the first walk's footing */
        paths_run(c, body);
    }
}

static void fctx_free(fctx *c) {
    for (int i = 0; i < c->nobj; i++) free(c->obj[i].name);
    free(c->obj);
    free(c->labels);
    free(c->rets);
    free(c->refs);
}

/* F's summary from its analysis; 1 if it changed. */
static int summarise(function *f, fctx *c) {
    function old = *f;
    memcpy(old.frees, c->frees_before, sizeof old.frees);
    memset(f->pflags, 0, sizeof f->pflags);
    memset(f->cflags, 0, sizeof f->cflags);
    memset(f->through, 0, sizeof f->through);
    memset(f->deep, 0, sizeof f->deep);
    memset(f->cthrough, 0, sizeof f->cthrough);
    for (int i = 0; i < c->nobj; i++) {
        object *o = &c->obj[i];
        if (o->kind != O_PARAM && o->kind != O_CONTENT) continue;
        if (o->param < 0 || o->param >= MAX_PARAMS) continue;
        unsigned bits = o->flags & ~(1u << ESC_NONE);
        if (o->kind == O_PARAM) {
            f->pflags[o->param] |= bits;
            f->through[o->param] |= o->through;
            f->deep[o->param] |= o->deep;
        } else {
            f->cflags[o->param] |= bits;
            f->cthrough[o->param] |= o->through;
        }
        if (o->global[0]) snprintf(f->global[o->param], sizeof f->global[0], "%s", o->global);
        if (o->reason[0]) snprintf(f->reason[o->param], sizeof f->reason[0], "%s", o->reason);
    }
    return memcmp(old.pflags, f->pflags, sizeof f->pflags) ||
           memcmp(old.cflags, f->cflags, sizeof f->cflags) ||
           memcmp(old.through, f->through, sizeof f->through) ||
           memcmp(old.deep, f->deep, sizeof f->deep) ||
           memcmp(old.cthrough, f->cthrough, sizeof f->cthrough) ||
           memcmp(old.frees, f->frees, sizeof f->frees);
}

/* ------------------------------------------------------------- the unit */

static int is_cell_file(const char *file) { return strncmp(file, "cell", 4) == 0; }

static enum CXChildVisitResult gather_function(CXCursor k, CXCursor parent, CXClientData d) {
    (void)parent;
    analysis *a = d;
    if (clang_getCursorKind(k) != CXCursor_FunctionDecl || !clang_isCursorDefinition(k))
        return CXChildVisit_Continue;
    const char *file;
    int line = ast_line(k, &file);
    if (!is_cell_file(file)) return CXChildVisit_Continue;
    int in_report = strcmp(file, "cell") == 0;
    char *name = ast_spelling(k);
    if (!strncmp(name, "__ck_", 5)) { free(name); return CXChildVisit_Continue; }
    function *f = analysis_function(a, name);
    if (f && (f->in_report || !in_report)) { free(name); return CXChildVisit_Continue; }
    if (!f) {
        function *fn = realloc(a->fn, (a->nfn + 1) * sizeof *fn);
        if (!fn) { free(name); return CXChildVisit_Break; }
        a->fn = fn;
        f = &a->fn[a->nfn++];
    } else {
        free(f->name);
    }
    memset(f, 0, sizeof *f);
    f->name = name;
    f->cursor = k;
    f->in_report = in_report;
    f->line = line;
    CXSourceRange r = clang_getCursorExtent(k);
    unsigned end = 0;
    CXString ef;
    clang_getPresumedLocation(clang_getRangeEnd(r), &ef, &end, NULL);
    clang_disposeString(ef);
    f->end_line = (int)end;
    f->nparams = clang_Cursor_getNumArguments(k);
    return CXChildVisit_Continue;
}

static analysis current;

const char *analysis_function_at(int line) {
    for (size_t i = 0; i < current.nfn; i++)
        if (current.fn[i].in_report && line >= current.fn[i].line && line <= current.fn[i].end_line)
            return current.fn[i].name;
    return NULL;
}



/* Mark what the cell's functions call, and what that calls: only those
 * earlier functions' summaries matter (a session may hold hundreds). */
static void mark_needed(analysis *a) {
    for (size_t i = 0; i < a->nfn; i++) {
        ast_tokens_of(&a->fn[i].tok, a->tu, a->fn[i].cursor);
        a->fn[i].needed = a->fn[i].in_report;
    }
    for (int grew = 1; grew;) {
        grew = 0;
        for (size_t i = 0; i < a->nfn; i++) {
            if (!a->fn[i].needed) continue;
            const ast_tokens *t = &a->fn[i].tok;
            for (size_t k = 0; k < t->n; k++) {
                function *g = analysis_function(a, t->tok[k].text);
                if (g && !g->needed) g->needed = grew = 1;
            }
        }
    }
}

/* The cell's functions that hold a line the parser could not read. */
static void mark_errors(analysis *a) {
    unsigned n = clang_getNumDiagnostics(a->tu);
    for (unsigned i = 0; i < n; i++) {
        CXDiagnostic d = clang_getDiagnostic(a->tu, i);
        if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
            CXString file;
            unsigned line = 0;
            clang_getPresumedLocation(clang_getDiagnosticLocation(d), &file, &line, NULL);
            for (size_t k = 0; !strcmp(clang_getCString(file), "cell") && k < a->nfn; k++) {
                function *f = &a->fn[k];
                if (f->in_report && (int)line >= f->line && (int)line <= f->end_line && !f->error_line)
                    f->error_line = (int)line;
            }
            clang_disposeString(file);
        }
        clang_disposeDiagnostic(d);
    }
}

json_t *analysis_run(CXTranslationUnit tu) {
    for (size_t i = 0; i < current.nfn; i++) {
        free(current.fn[i].name);
        ast_tokens_free(&current.fn[i].tok);
    }
    free(current.fn);
    memset(&current, 0, sizeof current);
    analysis *a = &current;
    a->tu = tu;
    clang_visitChildren(clang_getTranslationUnitCursor(tu), gather_function, a);
    mark_errors(a);
    mark_needed(a);
    /* summaries to a fixed point: a callee's may change its callers' */
    for (int round = 0; round < 10; round++) {
        int changed = 0;
        for (size_t i = 0; i < a->nfn; i++) {
            if (!a->fn[i].needed) continue;
            fctx c;
            analyse_function(a, &a->fn[i], &c);
            changed |= summarise(&a->fn[i], &c);
            fctx_free(&c);
        }
        if (!changed) break;
    }
    json_t *facts = json_array();
    for (size_t i = 0; i < a->nfn; i++) {
        if (!a->fn[i].in_report) continue;
        fctx c;
        analyse_function(a, &a->fn[i], &c);
        report_function(&c, facts);
        fctx_free(&c);
    }
    return facts;
}
