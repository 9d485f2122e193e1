/* rt.h - what the runtime's files share among themselves. Not seen by
 * cells (the names are hidden from the dynamic symbol table, so a cell
 * cannot bind to them) nor by the worker, which uses nb_internal.h. */
#ifndef NB_RT_H
#define NB_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "nb.h"
#include "nb_internal.h"

#define RT_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------- alloc.c */

/* Allocations made between begin and end on this thread are the runtime's
 * own: not counted, and neither are their frees. Calls nest. */
RT_HIDDEN void rt_inside_begin(void);
RT_HIDDEN void rt_inside_end(void);
/* Record allocations (while a cell runs) or not. */
RT_HIDDEN void rt_alloc_track(int on);
RT_HIDDEN int rt_alloc_tracking(void);

/* ----------------------------------------------------------- protect.c */

/* One mprotect() call a cell made: the pages [LO, HI), PROT, and the
 * call's return address. */
typedef struct rt_protect_note { uintptr_t lo, hi; int prot; const void *site; } rt_protect_note;
/* 1 if a call in this cell took reading or writing away somewhere. */
RT_HIDDEN int rt_protect_taken(void);
/* Forget the calls (a cell begins). */
RT_HIDDEN void rt_protect_reset(void);
/* The call that left [LO, HI) without reading or writing, or NULL. */
RT_HIDDEN const rt_protect_note *rt_protect_denied(uintptr_t lo, uintptr_t hi);
/* "PROT_READ" and the like, for PROT's read and write bits. */
RT_HIDDEN const char *rt_protect_name(int prot);
/* The calls noted in this cell, oldest first. */
RT_HIDDEN unsigned rt_protect_notes(const rt_protect_note **v);
/* The heap glibc grows with brk, [*LO, *HI). 0, or -1 if unknown. */
RT_HIDDEN int rt_protect_brk_heap(uintptr_t *lo, uintptr_t *hi);

/* Running totals since the process started (the runtime's own excluded). */
typedef struct rt_alloc_totals {
    uint64_t allocs, frees, reallocs, alloc_bytes, freed_bytes;
    uint64_t libc_allocs, libc_alloc_bytes, libc_frees;  /* of those, calls made from libc's code */
    uint64_t hist[NB_HIST_BUCKETS];
    int64_t live;           /* bytes in live counted blocks */
    int64_t peak;           /* highest LIVE since rt_alloc_mark_peak */
} rt_alloc_totals;
RT_HIDDEN void rt_alloc_totals_get(rt_alloc_totals *t, int with_hist);
/* Restart the peak at the live level now; returns that level. */
RT_HIDDEN int64_t rt_alloc_mark_peak(void);

/* libc's machine code (set once, measure.c): a call of the malloc family
 * whose return address lies there is libc's own (fopen's FILE, printf's
 * buffer, strdup's copy), shown apart in the measurement. */
RT_HIDDEN extern uintptr_t rt_libc_lo, rt_libc_hi;
static inline int rt_from_libc(const void *site) {
    return (uintptr_t)site - rt_libc_lo < rt_libc_hi - rt_libc_lo;
}

typedef struct rt_block {
    const void *addr;
    size_t size;
    const void *site;       /* return address of the allocating call */
    const void *free_site;  /* of the freeing call (freed blocks) */
} rt_block;
/* The block holding P: 1 live, 2 recently freed (and not reused), 0 none. */
RT_HIDDEN int rt_alloc_find(const void *p, rt_block *b);

/* For the leak scan (leaks.c): the list of tracked live blocks, read
 * with the allocator locked (no allocation meanwhile, in any thread). */
RT_HIDDEN void rt_alloc_lock(void);
RT_HIDDEN void rt_alloc_unlock(void);
RT_HIDDEN const uintptr_t *rt_alloc_live(size_t *n);
/* P's size and allocating call site; 1 if it may be reported as a leak
 * (the cells' own or libc's for them, not yet reported), else 0. */
RT_HIDDEN int rt_alloc_block_of(uintptr_t p, size_t *size, const void **site);
RT_HIDDEN void rt_alloc_set_reported(uintptr_t p);

/* ------------------------------------------------------------- stack.c */

RT_HIDDEN void rt_stack_begin(uintptr_t base);
/* Deepest use below the base so far, in bytes; *OK 0 if unknown. CLEAN:
 * also give the used pages back (end of cell). */
RT_HIDDEN uint64_t rt_stack_peak(int clean, int *ok);
/* The cell's frame (0 outside a cell). */
RT_HIDDEN uintptr_t rt_stack_base(void);
/* Keep a runtime function's stack use out of the cell's figure: the
 * public functions cells call open with RT_STACK_ENTER() and call
 * RT_STACK_LEAVE() before every return (stack.c says how). */
RT_HIDDEN uintptr_t rt_stack_enter(uintptr_t cell_sp);
RT_HIDDEN void rt_stack_leave(uintptr_t token);
#define RT_STACK_ENTER() uintptr_t rt_stack_token_ = rt_stack_enter((uintptr_t)__builtin_frame_address(0) + 16)
#define RT_STACK_LEAVE() rt_stack_leave(rt_stack_token_)
/* The body of a public function whose thin wrapper brackets it: out of
 * line, so that its frame lies below the cell's and is wiped. */
#define RT_BODY static __attribute__((noinline))

/* ----------------------------------------------------------- counters.c */
/* perf_event_open's counters around a cell (when wanted), and their line. */
typedef struct rt_counter_set { int fd[8]; uint64_t csw0; } rt_counter_set;
RT_HIDDEN int rt_counters_wanted(void);
RT_HIDDEN void rt_counters_open(rt_counter_set *s);
RT_HIDDEN void rt_counters_close(rt_counter_set *s, nb_counters *c);
RT_HIDDEN void rt_counters_cell_begin(void);
RT_HIDDEN void rt_counters_cell_end(nb_counters *c);
struct rt_buf;
RT_HIDDEN void rt_counters_format(const nb_counters *c, struct rt_buf *text, struct rt_buf *html);

/* --------------------------------------------------------------- buf.c */

/* A growable string; memory is the runtime's own (rt_inside). */
typedef struct rt_buf { char *s; size_t len, cap; int failed; } rt_buf;
RT_HIDDEN void rt_buf_add(rt_buf *b, const char *s, size_t n);
RT_HIDDEN void rt_buf_puts(rt_buf *b, const char *s);
RT_HIDDEN void rt_buf_printf(rt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
RT_HIDDEN void rt_buf_vprintf(rt_buf *b, const char *fmt, va_list ap);
/* S with &, <, >, " escaped for XML text and attributes. */
RT_HIDDEN void rt_buf_xml(rt_buf *b, const char *s);
RT_HIDDEN void rt_buf_free(rt_buf *b);
/* "96 B", "1.2 KiB", ... and "0.30 ms", "1.21 ms", "4.2 µs", ... */
RT_HIDDEN void rt_buf_fmt_bytes(char *out, size_t n, double bytes);
RT_HIDDEN void rt_buf_fmt_ns(char *out, size_t n, double ns);
RT_HIDDEN uint64_t rt_now_ns(void);

/* ---------------------------------------------------------------- maps.c */

typedef struct rt_map {
    uintptr_t lo, hi;
    char perms[5];
    char path[160];         /* "" for anonymous */
} rt_map;
/* The process's mappings, in address order (caller frees *MAPS with
 * free() inside rt_inside). Returns the count, or -1. */
RT_HIDDEN int rt_maps_read(rt_map **maps);

/* --------------------------------------------------------------- where.c */

/* Ask the worker's symbolizer; 1 if ADDR is in a cell's definition. */
RT_HIDDEN int rt_symbolize(const void *addr, char *name, size_t n, int *kind,
                           const void **start, size_t *size);
/* A name for code address P: a cell's function, or the shared object's
 * symbol ("strdup"), or "" if none. */
RT_HIDDEN void rt_code_name(const void *p, char *name, size_t n);
/* Whether A lies in the cells' region (nb_internal_set_cell_region). */
RT_HIDDEN int rt_in_cell_region(uintptr_t a);

/* ----------------------------------------------------------------- svg.c */

/* The memory map of N pointers with their LABELS, as SVG and as text. */
RT_HIDDEN void rt_memory_map(const char *const *labels, const void *const *ptrs, int n,
                             rt_buf *svg, rt_buf *text);
/* The chart of this cell's benchmarks, as SVG and as text; 0 if none ran. */
RT_HIDDEN int rt_bench_chart(rt_buf *svg, rt_buf *text);

/* ------------------------------------------------------------- display.c */

/* Send D to the sink (flushing stdout and stderr first). */
RT_HIDDEN void rt_display_send(const nb_display *d);
RT_HIDDEN void rt_display_cell_begin(void);

/* --------------------------------------------------------------- bench.c */

RT_HIDDEN void rt_bench_cell_begin(void);
/* The benchmarks of this cell (borrowed), and their count. */
RT_HIDDEN const nb_result *rt_bench_list(int *n);

#endif
