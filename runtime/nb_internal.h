/* nb_internal.h - what the worker calls in the runtime: bracketing a cell
 * with measurements, reading back its value and main() status, and the
 * hooks through which the runtime reports displays and asks for symbols.
 * Not seen by cells.
 *
 * Order around one cell:
 *     nb_internal_cell_begin();      after compiling, right before the run
 *     run();
 *     nb_internal_cell_end(&m);      right after it
 *     m.compile_ns = ...;            the worker owns compile time
 *     nb_internal_format_measure(&m, verbose, text, sizeof text, html, sizeof html);
 *
 * All of these run on the worker's main thread; begin and end must be
 * called from the same function (the stack is measured below the frame
 * that calls begin). */
#ifndef NB_INTERNAL_H
#define NB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------- cell's results */

/* The text of the cell's trailing value (caller frees), or NULL. */
char *nb_internal_take_result(void);
/* 1 and *STATUS if the cell ran main(), else 0. */
int nb_internal_main_status(int *status);
/* The argv (NULL-terminated, borrowed until replaced) a cell's main()
 * receives; NULL restores { "cell", NULL }. */
void nb_internal_set_args(char **argv);
/* The size of the last allocation request that failed (0: none), and
 * forget it if RESET. Safe in a signal handler. */
size_t nb_internal_failed_alloc(int reset);
/* Check the guard bytes after every live block of the cells (alloc.c);
 * a damaged one ends the process as a crash (abort), after which
 * nb_internal_heap_damage says what was found. Returns 0. */
int nb_internal_heap_check(void);
/* What heap damage was found (a write past a block's end, a double
 * free), or NULL; *SITE gets the damaged block's allocating call site. */
const char *nb_internal_heap_damage(const void **site);
/* What the site above is ("The block was allocated at:", or the call
 * that made the heap's bookkeeping unreadable). */
const char *nb_internal_heap_damage_label(void);
/* A fault at ADDR (a WRITE or a read) that a cell's mprotect call caused:
 * 1, its description in OUT and the call's site in *SITE, and every page
 * the cell's calls closed opened again (the process is dying: its report
 * must not fault); else 0. For crash.c's signal handler. */
int nb_internal_protect_fault(uintptr_t addr, int write, char *out, size_t n, const void **site);
/* The claim an nb_check() found false in this process (it then aborts),
 * or NULL. */
const char *nb_internal_check_failure(void);

/* ---------------------------------------------------------------- leaks */

/* An address range [lo, hi). */
typedef struct nb_range { const void *lo, *hi; } nb_range;

/* A block nothing reaches any more. */
typedef struct nb_leak {
    const void *addr;
    size_t size;
    const void *site;               /* return address of the allocating call */
} nb_leak;

/* The leak scan (leaks.c), when a cell has ended: the blocks allocated
 * while cells ran, live, and reachable from no root are leaks. Roots: the
 * writable segments (data, bss, TLS) of every loaded object, the ranges
 * ROOTS (the cells' data and bss) less the ranges SKIP, and the stacks
 * and registers of every other live thread (stopped by a signal for the
 * while). Each leak is reported once: the blocks found are marked and left
 * out of later scans. Up to MAX leaks go to OUT; returns how many there
 * are (*BYTES: their sizes summed), or, when nothing could be checked,
 * NB_LEAKS_THREAD (a thread did not answer; NB_LEAKS_THREAD_BLOCKS: it
 * blocks the signal, so it never will), NB_LEAKS_TOO_BIG (more
 * than 32 MiB of globals and heap to read, some 20 ms) or
 * NB_LEAKS_NO_MEMORY. Allocates
 * nothing; call from the worker's main thread. */
#define NB_LEAKS_THREAD (-1)
#define NB_LEAKS_TOO_BIG (-2)
#define NB_LEAKS_NO_MEMORY (-3)             /* no room for the scan's work */
#define NB_LEAKS_THREAD_BLOCKS (-4)         /* a thread blocks the signal that stops it */
long nb_internal_leak_scan(const nb_range *roots, size_t nroots, const nb_range *skip, size_t nskip,
                           nb_leak *out, size_t max, uint64_t *bytes);

/* ------------------------------------------------------------ measuring */

/* Allocation sizes by power of two: bucket 0 counts sizes 0 and 1, bucket
 * k (k >= 1) sizes in (2^(k-1), 2^k]; the last bucket also holds all
 * larger sizes. */
#define NB_HIST_BUCKETS 40

/* perf_event_open's counters for %measure verbose (counters.c). */
typedef struct nb_counters {
    int measured;                   /* 0: perf events not allowed here */
    int hardware;                   /* the machine has hardware counters */
    uint64_t task_clock_ns;         /* CPU time of the cell's threads, user mode */
    uint64_t context_switches;      /* perf's, or getrusage's where perf may not see the kernel */
    uint64_t page_faults;
    uint64_t cycles, instructions, cache_misses, branch_misses;   /* when HARDWARE */
} nb_counters;
/* Count while cells run (%measure verbose) or not. */
void nb_internal_counters_want(int on);

typedef struct nb_measure {
    uint64_t compile_ns;            /* filled by the worker */
    uint64_t run_ns;                /* wall time between begin and end (the worker may overwrite) */
    uint64_t cpu_ns;                /* user + system time of the process, all threads */
    uint64_t allocs;                /* malloc, calloc, realloc, memalign... (strdup, fopen: via malloc) */
    uint64_t frees;                 /* free, and the old block of a realloc that had one */
    uint64_t reallocs;              /* of which realloc (each counts once in allocs and, moved or not, once in frees) */
    uint64_t alloc_bytes;           /* bytes requested */
    uint64_t freed_bytes;           /* bytes of the blocks freed (their requested size) */
    uint64_t libc_allocs;           /* of the allocs, those libc's own code made (fopen, printf, strdup) */
    uint64_t libc_alloc_bytes;      /* ... and their bytes */
    uint64_t libc_frees;            /* of the frees, those libc's own code made (fclose) */
    int64_t live_delta_bytes;       /* alloc_bytes - freed_bytes */
    uint64_t peak_live_bytes;       /* highest live bytes above the level at begin */
    uint64_t stack_peak_bytes;      /* deepest stack use below the frame that called begin */
    int stack_measured;             /* 0: unknown (no stack mapping found) */
    int main_ran, main_status;      /* set by the worker: the cell ran a main() that returned this */
    char compiler[64];              /* set by the worker: %%cc's compiler ("gcc -O2"), "" for tcc */
    uint64_t minor_faults, major_faults;
    uint64_t rss_bytes;             /* resident set size at end */
    uint64_t max_rss_bytes;         /* the process's peak RSS so far */
    uint64_t hist[NB_HIST_BUCKETS]; /* allocation sizes of this cell */
    int leaks_checked;              /* 1: the leak scan ran (the two figures below hold); 0: off;
                                     * NB_LEAKS_THREAD, NB_LEAKS_TOO_BIG: it could not */
    uint64_t leaked_blocks, leaked_bytes;   /* found by it (filled by the worker) */
    uint64_t leak_scan_ns;          /* its time */
    nb_counters counters;           /* %measure verbose */
} nb_measure;

/* Start measuring a cell: zero the per-cell counters and benchmark list,
 * clear the stack below the caller so its use can be measured. Call it
 * after compiling, right before the cell's code runs. */
void nb_internal_cell_begin(void);

/* Stop measuring and fill *M (all fields but compile_ns). Call it right
 * after the cell's code returns, from the function that called begin. */
void nb_internal_cell_end(nb_measure *m);

/* Write the measure line into TEXT (N bytes), e.g.
 *   compile 0.3 ms · run 1.21 ms · heap 3 allocs / 96 B, 2 frees, live +32 B, peak 64 B · stack 1.2 KiB · faults 0
 * and a small HTML rendering, readable in light and dark themes, into HTML
 * (HN bytes; may be NULL). VERBOSE adds CPU time, RSS and the allocation
 * size histogram (text: a second line). Returns the length of TEXT, as
 * snprintf does (truncated output is still terminated). One thread at a
 * time: it keeps its working buffers between calls. */
int nb_internal_format_measure(const nb_measure *m, int verbose, char *text, size_t n,
                               char *html, size_t hn);

/* -------------------------------------------------------------- display */

typedef enum nb_display_kind {
    NB_DISPLAY_SHOW,                /* display_data */
    NB_DISPLAY_UPDATE,              /* update_display_data (display_id set) */
    NB_DISPLAY_CLEAR                /* clear_output (wait) */
} nb_display_kind;

#define NB_DISPLAY_MAX_ITEMS 4

/* One display message. MIME/DATA pairs are text, borrowed for the call:
 * "image/png" data is base64; "application/json" data is JSON text (an
 * object or array) that the worker parses. */
typedef struct nb_display {
    nb_display_kind kind;
    const char *display_id;         /* NULL, or the id to show under / update */
    int wait;                       /* CLEAR: clear when the next output arrives */
    int n;                          /* pairs in use */
    const char *mime[NB_DISPLAY_MAX_ITEMS];
    const char *data[NB_DISPLAY_MAX_ITEMS];
} nb_display;

/* Receives each display. Called on the thread of the cell that displays
 * (cells may start threads), after stdout and stderr were flushed, so the
 * order with printed text holds. */
typedef void (*nb_sink_fn)(void *opaque, const nb_display *d);

/* Install the sink (NULL: none; displays then print their text/plain part,
 * if any, to stdout). */
void nb_internal_set_sink(nb_sink_fn fn, void *opaque);

/* ----------------------------------------------------------- symbolizer */

typedef enum nb_sym_kind {
    NB_SYM_FUNCTION = 1,            /* a cell's function */
    NB_SYM_DATA = 2,                /* a cell's global or static variable */
    NB_SYM_RODATA = 3,              /* a cell's literals (read-only) */
    NB_SYM_BSS = 4                  /* a cell's zero-initialised global or static */
} nb_sym_kind;

/* Say whether ADDR lies in something the cells defined: return 1 and fill
 * NAME (N bytes, terminated), *KIND, *START and *SIZE (0 if unknown: then
 * ADDR is taken to be in the nearest function at or below it), else 0.
 * May be called from any thread; must not allocate through malloc while a
 * lock it holds could be wanted by another allocating thread. */
typedef int (*nb_symbolizer_fn)(void *opaque, const void *addr, char *name, size_t n,
                                int *kind, const void **start, size_t *size);

/* The mapping cells' code and data are relocated into (the worker's
 * arena): nb_memory_map draws it as the cells' region, whatever each
 * page's protection. */
void nb_internal_set_cell_region(const void *lo, const void *hi);

/* Install the symbolizer used by nb_where and nb_memory_map (NULL: none). */
void nb_internal_set_symbolizer(nb_symbolizer_fn fn, void *opaque);

#endif
