/* where.c - which region an address lives in (nb_where, nb_locate).
 *
 * Sources, most precise first: the allocator's table of live and recently
 * freed blocks (alloc.c), the stack bounds and the cell's frame (stack.c),
 * the worker's symbolizer for what cells defined, the dynamic linker's
 * symbols (dladdr) for the worker and its libraries, and /proc/self/maps (maps.c)
 * with its permissions for everything else. Reading never faults: the
 * only bytes read at an unknown address are read through
 * process_vm_readv. */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "nb.h"
#include "rt.h"

static nb_symbolizer_fn symbolizer;
static void *symbolizer_opaque;

static uintptr_t cells_lo, cells_hi;

void nb_internal_set_cell_region(const void *lo, const void *hi) {
    cells_lo = (uintptr_t)lo;
    cells_hi = (uintptr_t)hi;
}

int rt_in_cell_region(uintptr_t a) { return a >= cells_lo && a < cells_hi; }

void nb_internal_set_symbolizer(nb_symbolizer_fn fn, void *opaque) {
    symbolizer = fn;
    symbolizer_opaque = opaque;
}

int rt_symbolize(const void *addr, char *name, size_t n, int *kind, const void **start, size_t *size) {
    if (!symbolizer) return 0;
    *kind = 0;
    *start = NULL;
    *size = 0;
    if (n) name[0] = 0;
    return symbolizer(symbolizer_opaque, addr, name, n, kind, start, size) == 1;
}

static const char *basename_of(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The dynamic symbol holding P: its name, start and size (0 if the symbol
 * table gives none). 0 if no object or symbol. */
static int dyn_symbol(const void *p, char *name, size_t n, char *object, size_t on,
                      const void **start, size_t *size) {
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT)) return 0;
    if (object) snprintf(object, on, "%s", info.dli_fname ? basename_of(info.dli_fname) : "");
    if (!info.dli_sname || !info.dli_saddr) return 0;
    size_t sz = sym ? sym->st_size : 0;
    if (sz && (uintptr_t)p - (uintptr_t)info.dli_saddr >= sz) return 0;   /* past its end: not in it */
    snprintf(name, n, "%s", info.dli_sname);
    *start = info.dli_saddr;
    *size = sz;
    return 1;
}

void rt_code_name(const void *p, char *name, size_t n) {
    int kind;
    const void *start;
    size_t size;
    name[0] = 0;
    if (!p) return;
    if (rt_symbolize(p, name, n, &kind, &start, &size)) return;
    char sym[96], object[96] = "";
    if (dyn_symbol(p, sym, sizeof sym, object, sizeof object, &start, &size)) {
        if (*object) snprintf(name, n, "%s (%s)", sym, object);
        else snprintf(name, n, "%s", sym);
    } else if (*object) {
        snprintf(name, n, "%s+%#lx", object, (unsigned long)(uintptr_t)p);
    }
}

/* ------------------------------------------------------------- locate */

const char *nb_region_name(nb_region r) {
    switch (r) {
    case NB_UNMAPPED: return "unmapped";
    case NB_STACK: return "stack";
    case NB_HEAP: return "heap";
    case NB_HEAP_FREED: return "freed heap";
    case NB_GLOBAL: return "global data";
    case NB_RODATA: return "read-only data";
    case NB_CODE: return "code";
    case NB_MAPPING: return "mapping";
    }
    return "?";
}

static void set(nb_place *pl, nb_region r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set(nb_place *pl, nb_region r, const char *fmt, ...) {
    pl->region = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pl->text, sizeof pl->text, fmt, ap);
    va_end(ap);
}

/* A heap block, live or freed (the allocator's table is exact): 1 and PL
 * set, or 0. */
static int locate_heap(nb_place *pl, const void *p) {
    rt_block b;
    int found = rt_alloc_find(p, &b);
    if (!found) return 0;
    char site[96], fsite[96], sz[32], off[48] = "";
    rt_code_name(b.site, site, sizeof site);
    rt_code_name(b.free_site, fsite, sizeof fsite);
    pl->base = b.addr;
    pl->size = b.size;
    pl->offset = (long)((uintptr_t)p - (uintptr_t)b.addr);
    snprintf(pl->name, sizeof pl->name, "%s", site);
    rt_buf_fmt_bytes(sz, sizeof sz, (double)b.size);
    if (pl->offset) snprintf(off, sizeof off, ", %ld B into it", pl->offset);
    if (found == 1)
        set(pl, NB_HEAP, "heap: a live block of %s%s, allocated in %s", sz, off, *site ? site : "?");
    else
        set(pl, NB_HEAP_FREED, "heap: a freed block of %s%s (use after free!), allocated in %s, freed in %s",
            sz, off, *site ? site : "?", *fsite ? fsite : "?");
    return 1;
}

/* A stack: the main one, or the calling thread's (M holds A). 1 and PL
 * set, or 0. */
static int locate_stack(nb_place *pl, uintptr_t a, const rt_map *m, uintptr_t caller_sp) {
    if (strcmp(m->path, "[stack]") != 0 && !(m->lo <= caller_sp && caller_sp < m->hi)) return 0;
    uintptr_t cell = rt_stack_base();
    int mine = m->lo <= caller_sp && caller_sp < m->hi;
    pl->dead = mine && a < caller_sp;
    if (cell && m->lo <= cell && cell <= m->hi) {
        pl->offset = (long)(cell - a);
        pl->base = (const void *)cell;
        if (pl->offset >= 0)
            set(pl, NB_STACK, "stack: %ld B below the cell's frame%s", pl->offset,
                pl->dead ? ", in a frame that has returned (dangling!)" : "");
        else
            set(pl, NB_STACK, "stack: %ld B above the cell's frame, in the worker's own frames", -pl->offset);
    } else {
        set(pl, NB_STACK, "stack%s%s", strcmp(m->path, "[stack]") ? " of this thread" : "",
            pl->dead ? ", in a frame that has returned (dangling!)" : "");
    }
    return 1;
}

/* What the cells defined; the kind comes from the unit's sections, never
 * from the bytes. 1 and PL set, or 0. */
static int locate_in_cells(nb_place *pl, const void *p) {
    int kind;
    const void *start;
    size_t size;
    char name[96], sz[32], off[48] = "";
    if (!rt_symbolize(p, name, sizeof name, &kind, &start, &size)) return 0;
    snprintf(pl->name, sizeof pl->name, "%s", name);
    if (start) { pl->base = start; pl->offset = (long)((uintptr_t)p - (uintptr_t)start); }
    pl->size = size;
    if (pl->offset) snprintf(off, sizeof off, " (+%ld)", pl->offset);
    if (kind == NB_SYM_FUNCTION && strncmp(name, "code of", 7) && strncmp(name, "the call", 8))
        set(pl, NB_CODE, "code: function %s%s", name, off);
    else if (kind == NB_SYM_FUNCTION) set(pl, NB_CODE, "code: %s", name);
    else if (kind == NB_SYM_RODATA) set(pl, NB_RODATA, "read-only data: %s%s", name, off);
    else {
        rt_buf_fmt_bytes(sz, sizeof sz, (double)size);
        set(pl, NB_GLOBAL, "global data%s: %s%s%s%s", kind == NB_SYM_BSS ? " (bss, zero-initialised)" : "",
            name, off, size ? ", of " : "", size ? sz : "");
    }
    return 1;
}

/* The worker, its libraries and anonymous mappings: mapping M holds P,
 * PREV is the one below it (or NULL). */
static void locate_in_mapping(nb_place *pl, const void *p, const rt_map *m, const rt_map *prev) {
    char name[96], object[96] = "", sz[32], off[48] = "";
    const void *start;
    size_t size;
    int has_sym = dyn_symbol(p, name, sizeof name, object, sizeof object, &start, &size);
    if (has_sym) {
        pl->base = start;
        pl->size = size;
        pl->offset = (long)((uintptr_t)p - (uintptr_t)start);
        snprintf(pl->name, sizeof pl->name, "%s", name);
        if (pl->offset) snprintf(off, sizeof off, " (+%ld)", pl->offset);
    }
    const char *obj = *m->path ? basename_of(m->path) : object;
    int anon = !*m->path;
    int bss = anon && prev && prev->hi == m->lo && prev->path[0] == '/';
    if (bss && !*obj) obj = basename_of(prev->path);
    if (strcmp(m->path, "[heap]") == 0) {
        set(pl, NB_MAPPING, "heap segment, outside any live block (free space or the allocator's own data)");
    } else if (m->perms[2] == 'x') {
        if (anon)           /* no unit's sections hold it: not what a cell compiled */
            set(pl, NB_MAPPING, "an executable anonymous mapping");
        else if (has_sym)
            set(pl, NB_CODE, "code: %s%s in %s", name, off, obj);
        else
            set(pl, NB_CODE, "code: in %s", obj);
    } else if (m->perms[0] == 'r' && m->perms[1] == '-' && !anon && m->path[0] == '/') {
        if (has_sym) set(pl, NB_RODATA, "read-only data: %s%s in %s", name, off, obj);
        else set(pl, NB_RODATA, "read-only data of %s", obj);
    } else if (m->perms[1] == 'w' && (m->path[0] == '/' || bss)) {
        if (has_sym) set(pl, NB_GLOBAL, "global data: %s%s in %s", name, off, obj);
        else set(pl, NB_GLOBAL, "global data of %s%s", obj, bss ? " (bss)" : "");
    } else if (m->perms[0] == '-' && m->perms[1] == '-') {
        set(pl, NB_MAPPING, "a no-access mapping (guard pages)");
    } else {
        rt_buf_fmt_bytes(sz, sizeof sz, (double)(m->hi - m->lo));
        set(pl, NB_MAPPING, "mapping: %s (%s, %s), %lu B into it", *m->path ? m->path : "anonymous",
            m->perms, sz, (unsigned long)((uintptr_t)p - m->lo));
    }
}

/* Where P is: the heap, a stack, what the cells defined, or a mapping of
 * the worker; CALLER_SP is the caller's stack pointer (frames below it
 * have returned). */
static nb_place locate(const void *p, uintptr_t caller_sp) {
    nb_place pl;
    memset(&pl, 0, sizeof pl);
    pl.addr = p;
    if (!p) { set(&pl, NB_UNMAPPED, "NULL: no object lives there"); return pl; }
    rt_inside_begin();
    uintptr_t a = (uintptr_t)p;
    if (locate_heap(&pl, p)) {         /* the heap first: its table is exact */
        rt_inside_end();
        return pl;
    }
    rt_map *maps = NULL;
    int n = rt_maps_read(&maps);
    const rt_map *m = NULL, *prev = NULL;
    for (int i = 0; i < n; i++)
        if (maps[i].lo <= a && a < maps[i].hi) { m = &maps[i]; prev = i ? &maps[i - 1] : NULL; break; }
    if (!m) {
        set(&pl, NB_UNMAPPED, "unmapped: no mapping holds this address (dereferencing it crashes)");
    } else {
        pl.base = (const void *)m->lo;
        pl.size = m->hi - m->lo;
        pl.offset = (long)(a - m->lo);
        snprintf(pl.name, sizeof pl.name, "%.95s", *m->path ? basename_of(m->path) : "");
        if (!locate_stack(&pl, a, m, caller_sp) && !locate_in_cells(&pl, p))
            locate_in_mapping(&pl, p, m, prev);
    }
    free(maps);
    rt_inside_end();
    return pl;
}

RT_BODY void where(nb_place *out, const void *p, const char *label, int print, uintptr_t caller_sp) {
    *out = locate(p, caller_sp);
    if (print) {
        rt_inside_begin();
        printf("%s = %p: %s\n", label && *label ? label : "address", p, out->text);
        fflush(stdout);
        rt_inside_end();
    }
}

/* The answer being returned: kept out of the wrappers' frames, which stay
 * on the cell's stack after RT_STACK_LEAVE. */
static __thread nb_place answer;

nb_place nb_locate(const void *p) {
    RT_STACK_ENTER();
    where(&answer, p, NULL, 0, (uintptr_t)__builtin_frame_address(0) + 16);
    RT_STACK_LEAVE();
    return answer;
}

nb_place nb__where(const void *p, const char *label, int print) {
    RT_STACK_ENTER();
    where(&answer, p, label, print, (uintptr_t)__builtin_frame_address(0) + 16);
    RT_STACK_LEAVE();
    return answer;
}
