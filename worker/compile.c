/* compile.c - libtcc for cells (see compile.h).
 *
 * Owns the code arena: one large mapping that relocated cells are
 * bump-allocated from, their code in its first part, their data and bss
 * in the rest (see ARENA_CODE). Keeping code outside
 * the TCCState lets us delete each state right after relocation (a live
 * state costs ~8.5 KiB and 1.6 mappings), and lets us patch old function
 * entries in place.
 *
 * A unit is compiled to a relocatable object in memory, rewritten so that
 * its literals leave .data for the code's pages (layout.c), and linked into
 * the arena by a second libtcc state; then each part gets the protection of
 * a classic linked program's segments: code, literals and the linker's
 * tables read+execute, never writable; data and bss read-write, in the
 * data region, relocated by layout.c. The parts of every unit are kept
 * (compile_part_of). */
#include <dlfcn.h>
#include <elf.h>
#include <libtcc.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>
#include "compile.h"
#include "layout.h"
#include "log.h"
#include "nb_internal.h"
#include "scratch.h"
#include "tccfiles.h"

/* One reservation for all cells (pages cost only when touched): cells
 * address earlier cells' globals directly, RIP-relative, which reaches
 * +-2 GiB, so the arena must not be split across distant mappings. Its
 * first quarter holds every unit's code (with its literals and the
 * linker's tables), read+execute; the rest every unit's data and bss,
 * read-write: two mappings however many cells there are, where a unit
 * laid out as one block (code, then data on pages of its own) added two
 * each, which the snapshot fork copies one by one. */
#define ARENA_CHUNK ((size_t)1 << 30)
#define ARENA_CODE ((size_t)256 << 20)

struct compile_unit {
    TCCState *s;            /* compiles the cell to an object */
    TCCState *link;         /* links the laid-out object into the arena */
    int abandoned;          /* libtcc gave up half way: its state is not to be touched */
    int failed;             /* the compile reported an error */
    int cell;               /* the execution count, for compile_part_of */
    const char *const *readonly;   /* const objects to lay out read-only (layout.h) */
    uintptr_t data_at;      /* its data and bss in the data region (0: in its block) */
    const unsigned char *original;   /* the object as tcc wrote it, while it is linked */
    size_t original_len;
    compile_diag_fn diag;
    void *opaque;
};

static struct {
    unsigned char *base;
    size_t size;
    size_t code_used, code_end;     /* code: [0, code_end) of the chunk */
    size_t data_used;               /* data: [code_end, size) */
} arena;

#define PAGE ((size_t)4096)

static size_t page_up(size_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

/* A new chunk with room for CODE bytes of code and DATA of data, right
 * after the last one if the kernel allows (within reach of it). It is
 * reserved lazily (MAP_NORESERVE: pages cost only when touched),
 * read-write: code pages are made read+execute unit by unit. 0 or -1. */
static int arena_new_chunk(size_t code, size_t data) {
    size_t code_end = code > ARENA_CODE ? page_up(code) : ARENA_CODE;
    size_t data_size = data > ARENA_CHUNK - ARENA_CODE ? page_up(data) : ARENA_CHUNK - ARENA_CODE;
    void *hint = arena.base ? arena.base + arena.size : NULL;
    void *p = mmap(hint, code_end + data_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    nb_internal_set_cell_region(p, (char *)p + code_end + data_size);   /* one region in nb_memory_map */
    arena.base = p;
    arena.size = code_end + data_size;
    arena.code_end = code_end;
    arena.code_used = 0;
    arena.data_used = code_end;
    return 0;
}

/* Memory for SIZE bytes of relocated code. PAGED: starting on a page of
 * its own (a unit laid out as one block, data and all: its parts get
 * protections of their own); else right after the last unit, 64-byte
 * aligned, sharing its last read+execute page. */
static void *arena_alloc(size_t size, int paged) {
    size_t start = paged ? page_up(arena.code_used) : (arena.code_used + 63) & ~(size_t)63;
    if (!arena.base || start + size > arena.code_end) {
        if (arena_new_chunk(size, 0) < 0) return NULL;
        start = 0;
    }
    arena.code_used = start + size;
    return arena.base + start;
}

/* SIZE bytes of the data region, ALIGN-aligned, zero: right after the
 * last unit's data, sharing its pages (all read-write). 0 if none. */
static uintptr_t data_alloc(size_t size, size_t align) {
    size_t start = arena.base ? (arena.data_used + align - 1) & ~(align - 1) : 0;
    if (!arena.base || start + size > arena.size) {
        if (arena_new_chunk(0, size + align) < 0) return 0;
        start = (arena.data_used + align - 1) & ~(align - 1);
    }
    arena.data_used = start + size;
    return (uintptr_t)arena.base + start;
}

/* Give back the data region's last allocation, AT, when nothing came
 * after it (its unit did not link): never written, still zero. */
static void data_release(uintptr_t at, size_t size) {
    if (arena.base && at >= (uintptr_t)arena.base + arena.code_end &&
        at + size == (uintptr_t)arena.base + arena.data_used)
        arena.data_used = at - (uintptr_t)arena.base;
}

/* The whole pages that hold [P, P + N). */
static void page_span(const void *p, size_t n, uintptr_t *lo, size_t *len) {
    *lo = (uintptr_t)p & ~(PAGE - 1);
    *len = (((uintptr_t)p + n + PAGE - 1) & ~(PAGE - 1)) - *lo;
}

/* ------------------------------------------------------- units' parts */

typedef struct {
    uintptr_t addr;
    unsigned long size;
    char *name;
} unit_static;

typedef struct {
    uintptr_t lo, text, ro, ro_end, data, bss, end, hi;   /* boundaries, in order */
    int cell;
    int protected;          /* 0: laid out as one read-write-execute block */
    unit_static *statics;   /* named statics, for nb_where */
    size_t nstatics;
} unit_parts;

static struct {
    unit_parts *v;
    size_t n, cap;
} parts;

static void parts_add(const unit_parts *u) {
    if (parts.n == parts.cap) {
        size_t cap = parts.cap ? 2 * parts.cap : 64;
        unit_parts *v = realloc(parts.v, cap * sizeof *v);
        if (!v) return;
        parts.v = v;
        parts.cap = cap;
    }
    parts.v[parts.n++] = *u;
}

/* The unit whose block [lo, hi) or data and bss [data, end) hold A. */
static const unit_parts *parts_find(uintptr_t a) {
    for (size_t i = parts.n; i-- > 0;) {
        const unit_parts *u = &parts.v[i];
        if ((u->lo <= a && a < u->hi) || (u->data <= a && a < u->end)) return u;
    }
    return NULL;
}

compile_part compile_part_of(const void *addr, int *cell) {
    uintptr_t a = (uintptr_t)addr;
    const unit_parts *u = parts_find(a);
    if (!u) return COMPILE_NONE;
    if (cell) *cell = u->cell;
    if (!u->protected) return COMPILE_UNKNOWN;
    if (u->data <= a && a < u->bss) return COMPILE_DATA;   /* in the data region, or the block */
    if (u->bss <= a && a < u->end) return COMPILE_BSS;
    if (a < u->text) return COMPILE_STUBS;      /* libtcc1's helpers, when linked */
    if (a < u->ro) return COMPILE_CODE;
    if (a < u->ro_end) return COMPILE_LITERAL;
    return COMPILE_STUBS;                       /* more helpers, the PLT, the GOT */
}

int compile_static_of(const void *addr, const char **name, const void **start, unsigned long *size) {
    uintptr_t a = (uintptr_t)addr;
    const unit_parts *u = parts_find(a);
    for (size_t i = 0; u && i < u->nstatics; i++) {
        const unit_static *st = &u->statics[i];
        if (a >= st->addr && a - st->addr < (st->size ? st->size : 1)) {
            *name = st->name;
            *start = (const void *)st->addr;
            *size = st->size;
            return 1;
        }
    }
    return 0;
}

/* Units' data follow each other in the data region: ranges less than a
 * page apart are given as one (what lies between was never allocated,
 * so it is zero), a handful of ranges for the scan instead of one a cell. */
size_t compile_writable(nb_range *out, size_t max) {
    size_t n = 0;
    uintptr_t at = 0, end = 0;          /* the range being grown */
    for (size_t i = 0; i <= parts.n; i++) {
        const unit_parts *u = i < parts.n ? &parts.v[i] : NULL;
        uintptr_t lo = !u ? 0 : u->protected ? u->data : u->lo, hi = !u ? 0 : u->protected ? u->end : u->hi;
        if (u && lo >= hi) continue;
        if (u && end && lo >= end && lo - end < PAGE) {
            end = hi;
            continue;
        }
        if (end) {
            if (n < max) out[n] = (nb_range){ (const void *)at, (const void *)end };
            n++;
        }
        at = lo;
        end = hi;
    }
    return n;
}

/* Keep where the named statics of OBJ ended up in unit P. */
static void keep_statics(unit_parts *p, const unsigned char *obj, size_t len) {
    layout_static found[64];
    size_t n = layout_statics(obj, len, found, sizeof found / sizeof *found);
    if (n > sizeof found / sizeof *found) n = sizeof found / sizeof *found;
    p->statics = n ? calloc(n, sizeof *p->statics) : NULL;
    for (size_t i = 0; p->statics && i < n; i++) {
        p->statics[p->nstatics++] = (unit_static){ (found[i].in_bss ? p->bss : p->data) + found[i].value,
                                                   found[i].size, strdup(found[i].name) };
    }
}

/* Give each part of a unit relocated at MEM (SIZE bytes) its protection:
 * code, literals and the linker's tables (PLT, GOT) read+execute, never
 * writable; data and bss read-write. A unit without data in its block
 * (RW 0: none, or in the data region) is all read+execute, pages shared
 * with its neighbours. */
static void protect_unit(compile_unit *u, unsigned char *mem, size_t size, int rw,
                         const unsigned char *obj, size_t len) {
    unit_parts p = { .lo = (uintptr_t)mem, .hi = (uintptr_t)mem + size, .cell = u->cell };
    p.text = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_TEXT);
    p.ro = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_RO);
    p.ro_end = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_RO_END);
    p.data = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_DATA);
    p.bss = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_BSS);
    p.end = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_END);
    int ordered = p.lo <= p.text && p.text <= p.ro && p.ro <= p.ro_end && p.data <= p.bss && p.bss <= p.end &&
                  (u->data_at ? p.ro_end <= p.hi && p.data == u->data_at
                              : p.ro_end <= p.data && p.end <= p.hi);
    uintptr_t lo;
    size_t span;
    page_span(mem, size, &lo, &span);
    int ok;
    if (!rw) {
        if (!u->data_at) p.data = p.bss = p.end;     /* nothing to write: no data, no bss */
        ok = ordered && mprotect((void *)lo, span, PROT_READ | PROT_EXEC) == 0;
    } else {
        ok = ordered && !((p.lo | p.data | p.end) & (PAGE - 1)) &&
             (p.lo == p.data || mprotect(mem, p.data - p.lo, PROT_READ | PROT_EXEC) == 0) &&
             mprotect((void *)p.end, lo + span - p.end, PROT_READ | PROT_EXEC) == 0;
    }
    if (ok) {
        p.protected = 1;
        if (u->data_at) keep_statics(&p, u->original, u->original_len);  /* the statics left obj */
        else keep_statics(&p, obj, len);
    } else {
        log_warn("a unit's memory is left read-write-execute (its layout was not as expected)");
        mprotect((void *)lo, span, PROT_READ | PROT_WRITE | PROT_EXEC);
    }
    parts_add(&p);
}

/* --------------------------------------- libtcc's state between compiles
 *
 * Its memory is scratch.c's: libtcc's allocator calls are renamed to it. */

static jmp_buf *tcc_exit_to;       /* where ck_tcc_exit returns to (compile_source) */


/* libtcc's zero-initialised statics, in a section of their own (see the
 * Makefile): compiling rewrites some 40 pages of them, and each would cost
 * a fault after every snapshot fork. Between compiles, with no TCCState
 * alive, they may as well be zero, as at start-up: so a snapshot gets them
 * zero-filled (MADV_WIPEONFORK) and the worker's pages stay its own. */
extern char __start_ck_tcc_bss[], __stop_ck_tcc_bss[], _end[];

static void tcc_statics_wipe_on_fork(void) {
    static int done;
    if (done) return;
    done = 1;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)__start_ck_tcc_bss, hi = (uintptr_t)__stop_ck_tcc_bss;
    /* only whole pages that hold nothing else: the section must be last */
    if ((lo & (page - 1)) || hi < (uintptr_t)_end ||
        madvise((void *)lo, ((hi + page - 1) & ~(page - 1)) - lo, MADV_WIPEONFORK) < 0)
        log_warn("libtcc's statics are copied at each fork (section not page-aligned or not last)");
}

/* libtcc 0.9.27 leaves some of its statics pointing into the state it
 * deletes when a compile fails half way (the labels of the function it was
 * in, for one): the next compile then reads freed memory. With no state
 * alive they may be zero, as at start-up (see tcc_statics_wipe_on_fork),
 * so after a failure they are zeroed. Only then: the pages would otherwise
 * be written, and fault, after every snapshot fork. */
static void tcc_statics_clear(void) {
    memset(__start_ck_tcc_bss, 0, (size_t)(__stop_ck_tcc_bss - __start_ck_tcc_bss));
}

void compile_tcc_statics(uintptr_t *lo, uintptr_t *hi) {
    *lo = (uintptr_t)__start_ck_tcc_bss;
    *hi = (uintptr_t)__stop_ck_tcc_bss;
}

void compile_reserve(void) {
    scratch_reserve();
    if (!arena.base) arena_new_chunk(0, 0);
    tcc_statics_wipe_on_fork();
}

void compile_after_fork(void) {
    scratch_after_fork();
    /* libtcc's statics came zero-filled, as at start-up, and will be
     * again at this process's forks: the mapping keeps the flag */
    compile_reserve();
}

int compile_in_arena(const void *addr) {
    const unsigned char *a = addr;
    return arena.base && ((a >= arena.base && a < arena.base + arena.code_used) ||
                          (a >= arena.base + arena.code_end && a < arena.base + arena.data_used));
}

/* "-L DIR" for the directory that holds ckernel's stand-in libc.so (an
 * empty linker script, installed beside the worker in ../lib/ckernel), or
 * "" when it is missing. libtcc loads libc.so for every unit, parsing its
 * few thousand symbols (0.4 ms a cell); the worker has libc loaded anyway,
 * and libtcc resolves what a cell leaves undefined with dlsym. A -L given
 * before the output type is searched before the system's directories. */
/* libc_nonshared.a's functions, which the real libc.so script would link
 * and which glibc keeps hidden: cells get these instead. */
extern int __cxa_at_quick_exit(void (*fn)(void *), void *dso);
static int cell_at_quick_exit(void (*fn)(void)) { return __cxa_at_quick_exit((void (*)(void *))fn, NULL); }

static const char *libc_stub_option(void) {
    static char option[4200];
    static int done;
    if (done) return option;
    done = 1;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return option;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return option;
    *slash = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/../lib/ckernel/libc.so", exe);
    if (access(path, R_OK) == 0) {
        snprintf(option, sizeof option, "-L%s/../lib/ckernel", exe);
        tccfiles_cache_library(path);
    }
    return option;
}

static void quiet(void *opaque, const char *msg) { (void)opaque; (void)msg; }

compile_unit *compile_new(const char *options, compile_diag_fn diag, void *opaque) {
    compile_unit *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->s = tcc_new();
    u->link = tcc_new();
    if (!u->s || !u->link) {
        if (u->s) tcc_delete(u->s);
        if (u->link) tcc_delete(u->link);
        free(u);
        return NULL;
    }
    tcc_set_error_func(u->s, opaque, diag);
    tcc_set_error_func(u->link, opaque, diag);
    u->diag = diag;
    u->opaque = opaque;
    /* libtcc: -g/-b must come before tcc_set_output_type */
    tcc_set_options(u->s, "-std=c11");
    if (options && *options) tcc_set_options(u->s, options);
    tcc_set_output_type(u->s, TCC_OUTPUT_OBJ);
    /* -xb: the object's path (TCCFILES_OBJECT) is not a source file */
    tcc_set_options(u->link, "-xb");
    if (*libc_stub_option()) tcc_set_options(u->link, libc_stub_option());
    tcc_set_output_type(u->link, TCC_OUTPUT_MEMORY);
    tcc_add_symbol(u->link, "at_quick_exit", (void *)cell_at_quick_exit);
    return u;
}

void compile_set_cell(compile_unit *u, int cell) { u->cell = cell; }

void compile_set_readonly(compile_unit *u, const char *const *names) { u->readonly = names; }

/* ----------------------------------------------------------- line tables
 *
 * Code compiled to memory carries no debug information that libtcc lets
 * us read. After a crash, the unit is compiled once more, with -g, to an
 * object in memory (a memfd), and its stabs give each function's lines:
 * N_FUN names a function, N_SLINE gives a line and the offset into the
 * function where its code starts. libtcc's code does not change with -g. */

typedef struct { uint32_t strx; uint8_t type, other; uint16_t desc; uint32_t value; } stab;
enum { N_FUN = 0x24, N_SLINE = 0x44 };

/* Call FN with every line record of OBJ's stabs: the function it is in
 * (its name up to the ':' of its type), the offset into it, the line. */
static int each_line(const unsigned char *obj, size_t len, compile_line_fn fn, void *opaque) {
    if (len < sizeof(Elf64_Ehdr) || memcmp(obj, ELFMAG, SELFMAG) != 0) return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    if (eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len || eh->e_shstrndx >= eh->e_shnum) return -1;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    const char *shstr = (const char *)obj + sh[eh->e_shstrndx].sh_offset;
    const stab *st = NULL;
    const char *str = NULL;
    size_t nst = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_offset + sh[i].sh_size > len) return -1;
        const char *nm = shstr + sh[i].sh_name;
        if (!strcmp(nm, ".stab")) { st = (const stab *)(obj + sh[i].sh_offset); nst = sh[i].sh_size / sizeof *st; }
        if (!strcmp(nm, ".stabstr")) str = (const char *)obj + sh[i].sh_offset;
    }
    if (!st || !str) return -1;
    char name[256] = "";
    for (size_t i = 0; i < nst; i++) {
        if (st[i].type == N_FUN) {
            const char *f = str + st[i].strx;
            size_t n = strcspn(f, ":");
            snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), f);
        } else if (st[i].type == N_SLINE && *name) {
            fn(opaque, name, st[i].value, st[i].desc);
        }
    }
    return 0;
}

unsigned char *compile_debug_object(const char *src, const char *options, size_t *len) {
    int fd = memfd_create("ckernel-lines", MFD_CLOEXEC);
    if (fd < 0) return NULL;
    TCCState *s = tcc_new();
    if (!s) { close(fd); return NULL; }
    tcc_set_error_func(s, NULL, quiet);
    tcc_set_options(s, "-std=c11 -g");
    if (options && *options) tcc_set_options(s, options);
    tcc_set_output_type(s, TCC_OUTPUT_OBJ);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    jmp_buf env;
    int rc = -1;
    if (setjmp(env) == 0) {
        tcc_exit_to = &env;
        if (tcc_compile_string(s, src) == 0 && tcc_output_file(s, path) == 0) rc = 0;
    }
    tcc_exit_to = NULL;
    unsigned char *obj = NULL;
    if (rc == 0) {
        tcc_delete(s);
        off_t end = lseek(fd, 0, SEEK_END);
        obj = end > 0 ? malloc((size_t)end) : NULL;
        if (obj && pread(fd, obj, (size_t)end, 0) != end) { free(obj); obj = NULL; }
        if (obj) *len = (size_t)end;
    }
    if (rc < 0) tcc_statics_clear();
    scratch_reset();                      /* after an exit() jump, the state is simply dropped */
    close(fd);
    return obj;
}

int compile_line_table(const char *src, const char *options, compile_line_fn fn, void *opaque) {
    size_t len = 0;
    unsigned char *obj = compile_debug_object(src, options, &len);
    if (!obj) return -1;
    int rc = each_line(obj, len, fn, opaque);
    free(obj);
    return rc;
}

/* compile_lines' question: the line of each (name, offset), the last
 * record at or before the offset. */
typedef struct { const char *const *names; const unsigned long *offsets; int *lines; size_t n; } lines_query;

static void answer_line(void *opaque, const char *function, unsigned long offset, int line) {
    lines_query *q = opaque;
    for (size_t f = 0; f < q->n; f++)
        if (offset <= q->offsets[f] && !strcmp(function, q->names[f])) q->lines[f] = line;
}

int compile_lines(const char *src, const char *options, const char *const *names,
                  const unsigned long *offsets, int *lines, size_t n) {
    for (size_t i = 0; i < n; i++) lines[i] = 0;
    lines_query q = { names, offsets, lines, n };
    return compile_line_table(src, options, answer_line, &q);
}

void compile_add_symbol(compile_unit *u, const char *name, const void *addr) {
    tcc_add_symbol(u->link, name, addr);
}

int compile_add_library(compile_unit *u, const char *name) {
    return tcc_add_library(u->link, name) < 0 ? -1 : 0;
}

/* libtcc calls exit() when it runs out of memory; the Makefile renames
 * that call to ck_tcc_exit, which jumps back here instead: the unit is
 * abandoned, and its memory goes with the compiler region's reset. */

void ck_tcc_exit(int status) {
    if (tcc_exit_to) longjmp(*tcc_exit_to, 1);
    exit(status);
}

/* The object of the compiled unit U, in the compiler's memory; its length
 * in *LEN. NULL on failure. */
static const unsigned char *unit_object(compile_unit *u, size_t *len) {
    if (tcc_output_file(u->s, TCCFILES_OBJECT) < 0) return NULL;
    return tccfiles_object(len);
}

/* Where tcc's link put NAME, undefined in the unit: a definition given
 * to it (compile_add_symbol, libtcc1's helpers) or one of the process's
 * (libc, as tcc itself looks them up). */
static uintptr_t resolve_linked(void *opaque, const char *name) {
    compile_unit *u = opaque;
    void *a = tcc_get_symbol(u->link, name);
    return (uintptr_t)(a ? a : dlsym(RTLD_DEFAULT, name));
}

/* U's data, placed in the data region by layout_object (LAID, its
 * rewrite of U->original): copied there and relocated, now that the
 * code's address is known. 0 or -1. */
static int link_data(compile_unit *u, const unsigned char *laid) {
    uintptr_t text = (uintptr_t)tcc_get_symbol(u->link, LAYOUT_TEXT);
    if (!text || layout_link_data(u->original, u->original_len, laid, u->data_at, text,
                                  resolve_linked, u) < 0) {
        if (u->diag) u->diag(u->opaque, "tcc: error: a pointer in the cell's data does not resolve");
        return -1;
    }
    return 0;
}

/* Link the object OBJ (LEN bytes) into the arena; LAID_OUT by
 * layout_object, with data to write if RW. 0 or -1. */
static int link_object(compile_unit *u, const unsigned char *obj, size_t len,
                       int laid_out, int rw) {
    tccfiles_set_object(obj, len);
    if (tcc_add_file(u->link, TCCFILES_OBJECT) < 0) return -1;
    int size = tcc_relocate(u->link, NULL);
    if (size < 0) return -1;
    /* page-aligned when anything is: libtcc aligns addresses, not offsets */
    int paged = !laid_out || rw;
    unsigned char *mem = arena_alloc((size_t)size, paged);
    if (!mem) {
        log_error("code arena: out of memory");
        return -1;
    }
    uintptr_t lo;
    size_t span;
    page_span(mem, (size_t)size, &lo, &span);
    /* the first page may be the last unit's, read+execute and maybe
     * running in a cell's thread: writable, and still executable */
    if (!paged) mprotect((void *)lo, span, PROT_READ | PROT_WRITE | PROT_EXEC);
    if (tcc_relocate(u->link, mem) < 0 || (u->data_at && link_data(u, obj) < 0)) {
        if (!paged) mprotect((void *)lo, span, PROT_READ | PROT_EXEC);
        return -1;
    }
    if (laid_out) {
        protect_unit(u, mem, (size_t)size, rw, obj, len);
    } else {                             /* as tcc laid it out: one block */
        unit_parts p = { .lo = (uintptr_t)mem, .hi = (uintptr_t)mem + (size_t)size, .cell = u->cell };
        mprotect((void *)lo, span, PROT_READ | PROT_WRITE | PROT_EXEC);
        parts_add(&p);
        /* its pages are its own: a unit packed after it would make the
         * last one read+execute, data and all */
        arena.code_used = page_up(arena.code_used);
    }
    return 0;
}

/* FN(U, ARG) with libtcc's exit() caught: when libtcc gives up half way
 * (out of memory, an object it cannot link) U is abandoned and GAVE_UP
 * said. FN's result, or -1. */
static int guarded(compile_unit *u, int (*fn)(compile_unit *, const void *, size_t),
                   const void *arg, size_t len, const char *gave_up) {
    jmp_buf env;
    if (setjmp(env)) {
        tcc_exit_to = NULL;
        u->abandoned = 1;
        if (u->diag) u->diag(u->opaque, gave_up);
        return -1;
    }
    tcc_exit_to = &env;
    int rc = fn(u, arg, len);
    tcc_exit_to = NULL;
    u->failed = rc < 0;
    return rc;
}

static int compile_and_link(compile_unit *u, const void *src, size_t unused) {
    (void)unused;
    size_t len = 0, laid_len = 0;
    if (tcc_compile_string(u->s, src) < 0) return -1;
    const unsigned char *obj = unit_object(u, &len);
    if (!obj) return -1;
    layout_data need;
    if (layout_data_need(obj, len, u->readonly, &need) == 0 && need.size)
        u->data_at = data_alloc(need.size, need.align);
    u->original = obj;
    u->original_len = len;
    int rw = 1;
    unsigned char *laid = layout_object(obj, len, u->readonly, u->data_at, &laid_len, &rw, ck_tcc_malloc);
    if (!laid) {
        log_warn("a unit's object was not as expected: its literals stay writable");
        if (u->data_at) data_release(u->data_at, need.size);
        u->data_at = 0;
    }
    int rc = laid ? link_object(u, laid, laid_len, 1, rw) : link_object(u, obj, len, 0, 1);
    if (rc < 0 && u->data_at) data_release(u->data_at, need.size);
    return rc;
}

int compile_source(compile_unit *u, const char *src) {
    return guarded(u, compile_and_link, src, 0,
                   "tcc: error: the compiler ran out of memory (see %memory)");
}

static int link_foreign(compile_unit *u, const void *obj, size_t len) {
    return link_object(u, obj, len, 0, 1);
}

int compile_object(compile_unit *u, const unsigned char *obj, size_t len) {
    return guarded(u, link_foreign, obj, len,
                   "tcc: error: libtcc's linker gave up on the compiler's object");
}

/* libtcc 0.9.27 writes preprocessed text to the FILE its state took from
 * `stdout` when it was made (tcc_new): a memory stream for the while. */
char *compile_preprocess(const char *src, const char *options) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len), *saved = stdout;
    if (!out) return NULL;
    stdout = out;
    TCCState *s = tcc_new();
    stdout = saved;
    int rc = -1;
    jmp_buf env;
    if (s && setjmp(env) == 0) {
        tcc_exit_to = &env;
        tcc_set_error_func(s, NULL, quiet);
        tcc_set_options(s, "-std=c11");
        if (options && *options) tcc_set_options(s, options);
        tcc_set_output_type(s, TCC_OUTPUT_PREPROCESS);
        rc = tcc_compile_string(s, src);
        tcc_delete(s);
    }
    tcc_exit_to = NULL;
    fclose(out);
    if (rc < 0) tcc_statics_clear();
    scratch_reset();
    if (rc < 0) { free(text); return NULL; }
    return text;
}

void *compile_symbol(compile_unit *u, const char *name) {
    return tcc_get_symbol(u->link, name);
}

void compile_free(compile_unit *u) {
    if (!u) return;
    if (!u->abandoned) {
        tcc_delete(u->s);
        tcc_delete(u->link);
    }
    if (u->abandoned || u->failed) tcc_statics_clear();
    free(u);
    scratch_reset();
}

/* Code pages are read+execute: open the patched bytes' pages for writing
 * just while patching. A `jmp rel32` (5 bytes) when NEW is within reach,
 * as it is in one arena chunk: gcc's and clang's smallest functions are
 * shorter than 13 bytes (`ret`), and only 16-byte alignment pads them. */
void compile_redirect(void *old_fn, void *new_fn) {
    unsigned char *p = old_fn;
    unsigned char code[13] = { 0x49, 0xBB };          /* movabs r11, imm64 */
    size_t len = sizeof code;
    intptr_t rel = (intptr_t)new_fn - (intptr_t)(p + 5);
    if (rel >= INT32_MIN && rel <= INT32_MAX) {
        int32_t r32 = (int32_t)rel;
        code[0] = 0xE9;                                /* jmp rel32 */
        memcpy(code + 1, &r32, 4);
        len = 5;
    } else {
        uint64_t target = (uint64_t)(uintptr_t)new_fn;
        memcpy(code + 2, &target, 8);
        code[10] = 0x41; code[11] = 0xFF; code[12] = 0xE3; /* jmp r11 */
    }
    const unit_parts *u = parts_find((uintptr_t)p);
    uintptr_t lo = (uintptr_t)p & ~(PAGE - 1), hi = ((uintptr_t)p + len + PAGE - 1) & ~(PAGE - 1);
    int opened = u && mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) == 0;
    memcpy(p, code, len);
    if (opened && u->protected) mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC);
    __builtin___clear_cache((char *)p, (char *)p + len);
}
