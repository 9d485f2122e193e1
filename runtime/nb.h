/* nb.h - the runtime that every cell is compiled against.
 *
 * Cells see this header only: nb_* and NB_* are the public API, nb__* are
 * internals that macros and the kernel's generated code call. The runtime
 * lives in the worker process and is exported to cells by the linker
 * (runtime/exports.list). This text is parsed before every cell, by tcc: it includes
 * no system header and uses plain C only.
 *
 * Ownership: strings passed in are borrowed (copied if kept); strings in
 * returned structs belong to the struct. Display calls may come from any
 * thread. */
#ifndef NB_H
#define NB_H

/* The version of the runtime, as "MAJOR.MINOR.PATCH". */
const char *nb_version(void);

/* ------------------------------------------------------------ benchmarks */

/* A running benchmark, as Go's testing.B: loop `for (long i = 0; i < b->n;
 * i++)`. The other fields are private. */
typedef struct nb_b {
    long n;
    void *ctx;                       /* nb_bench_ctx's CTX */
    long long t0_, elapsed_, cpu0_, cpu_elapsed_;
    unsigned long long a0_, bytes0_, allocs_, bytes_;
    int running_;
} nb_b;

/* What a benchmark measured: medians per operation over several runs. */
typedef struct nb_result {
    const char *name;
    long n;                          /* operations per timed run */
    int runs;                        /* timed runs of N operations */
    double ns_per_op;                /* median (wall time) */
    double cpu_ns_per_op;            /* median CPU time of the thread: what a busy
                                        machine's other processes take is not in it */
    double min_ns_per_op, max_ns_per_op;
    double bytes_per_op, allocs_per_op;
    double spread;                   /* median absolute deviation, relative: 0.03 = 3% */
} nb_result;

/* Run FN with growing b->n until one run takes long enough, repeat to get
 * the median, print `BenchmarkName  n  ns/op  B/op  allocs/op  ±%` and
 * return the figures. */
nb_result nb_bench(const char *name, void (*fn)(nb_b *b));
/* nb_bench with a context pointer, passed to FN as b->ctx. */
nb_result nb_bench_ctx(const char *name, void (*fn)(nb_b *b), void *ctx);
/* Several benchmarks measured together: each one's n is found as nb_bench
 * finds it, then their timed runs go in turns, so that the machine's load
 * weighs on all of them alike and claims comparing them hold on a busy
 * machine. Prints a Benchmark line for each and fills each RESULT.
 *   nb_bench_case c[] = { { "Heap", bench_heap }, { "Stack", bench_stack } };
 *   nb_bench_interleaved(c, 2);          (then c[0].result, c[1].result) */
typedef struct nb_bench_case {
    const char *name;
    void (*fn)(nb_b *b);
    void *ctx;                       /* passed as b->ctx */
    nb_result result;
} nb_bench_case;
void nb_bench_interleaved(nb_bench_case *cases, int ncases);
/* The statement form, for a cell's top level too:
 *   for (NB_BENCH(b, "name")) { for (long i = 0; i < b->n; i++) ...; }
 * runs the block as nb_bench runs FN; nb_bench_last() gives the figures. */
#define NB_BENCH(b, name) nb_b *b = nb__bench_begin(name, 0); nb__bench_next(b);
/* The figures of the benchmark that finished last. */
nb_result nb_bench_last(void);
/* Time each benchmark should take, in seconds (default 0.1); returns the old value. */
double nb_bench_time(double seconds);
/* Exclude setup from the timing, as Go's b.StopTimer/StartTimer/ResetTimer. */
void nb_stop_timer(nb_b *b);
void nb_start_timer(nb_b *b);
void nb_reset_timer(nb_b *b);
/* Draw the benchmarks run in this cell as a bar chart (SVG) with error bars. */
void nb_bench_chart(void);
/* glibc's own malloc and free, past the kernel's counting allocator (no
 * header, no guard bytes, not counted): a block from one goes back to the
 * other. Every other malloc in a cell is counted and guarded, which costs
 * time (see nb_bench_heap). */
void *nb_libc_malloc(unsigned long n);
void nb_libc_free(void *p);
/* What malloc+free of SIZE bytes costs, both ways, as nb_bench measures
 * (two Benchmark lines; the two ways' runs interleaved, so that the
 * machine's load weighs on both alike): through the counting allocator
 * every malloc of a cell goes through, and through glibc's own. A notebook
 * that shows a heap figure can say which it is, or show both. */
typedef struct nb_heap_cost { nb_result counted, glibc; } nb_heap_cost;
nb_heap_cost nb_bench_heap(unsigned long size);

/* Fail the cell with "nb_check failed: MESSAGE" on stderr (then abort())
 * unless COND holds. MESSAGE, optional, is a printf format literal. */
#define nb_check(cond, ...) ((cond) ? (void)0 : nb__check_failed(#cond, __LINE__, "" __VA_ARGS__))
/* Claims that show what they compare: nb_check_gt(A, B, MESSAGE...) holds
 * if A > B and prints "✓ MESSAGE: A = 29.4 > B = 11.2", each expression
 * as written with its value; otherwise the cell fails as nb_check does,
 * with the same figures. A and B are numbers (compared as double: counts
 * up to 2^53 exactly). */
#define nb_check_lt(a, b, ...) nb__check_cmp("<", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
#define nb_check_le(a, b, ...) nb__check_cmp("<=", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
#define nb_check_gt(a, b, ...) nb__check_cmp(">", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
#define nb_check_ge(a, b, ...) nb__check_cmp(">=", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
#define nb_check_eq(a, b, ...) nb__check_cmp("==", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
#define nb_check_ne(a, b, ...) nb__check_cmp("!=", (double)(a), (double)(b), #a, #b, __LINE__, "" __VA_ARGS__)
/* Keep the value of X alive, so that the work computing it is not removed. */
#define nb_keep(x) ({ __typeof__(x) nb__k_ = (x); nb__keep(&nb__k_, sizeof nb__k_); })

/* Monotonic time in nanoseconds. */
long long nb_now_ns(void);

/* -------------------------------------------------------------- profiling */

/* Where a region of a cell spent its CPU time, sampled as %%profile does
 * (~1 kHz of CPU time, every thread): functions by samples with the
 * function on the stack (TOTAL) and at its top (SELF), most first. */
typedef struct nb_profile {
    long samples;
    double cpu_seconds;              /* the process's CPU time while sampling */
    int nfunctions;
    struct { char name[48]; long self, total; } functions[32];
} nb_profile;
void nb_profile_start(void);
nb_profile nb_profile_stop(void);
/* The share (0..1) of P's samples with FUNCTION on the stack. */
double nb_profile_share(const nb_profile *p, const char *function);

/* ------------------------------------------------------- measurement now */

/* Heap traffic of this cell so far (the same figures as the measure line). */
typedef struct nb_heap_counts {
    unsigned long long allocs, frees, alloc_bytes, freed_bytes;
    long long live_bytes;            /* change since the cell began */
    unsigned long long peak_bytes;   /* highest live_bytes so far */
    /* of ALLOCS and FREES, the calls libc's own code made (fopen's FILE,
     * printf's buffer, strdup's copy, fclose) */
    unsigned long long libc_allocs, libc_frees;
} nb_heap_counts;
nb_heap_counts nb_heap(void);
/* Bytes of stack between the cell's frame and the caller's frame now. */
unsigned long nb_stack_depth(void);
/* Deepest stack use of this cell so far, in bytes (as the measure line). */
unsigned long nb_stack_peak(void);

/* ---------------------------------------------- where does a pointer live */

typedef enum nb_region {
    NB_UNMAPPED,      /* no mapping holds it */
    NB_STACK,         /* a thread's stack */
    NB_HEAP,          /* inside a live malloc block */
    NB_HEAP_FREED,    /* inside a block that was freed */
    NB_GLOBAL,        /* global or static data */
    NB_RODATA,        /* read-only data: string literals, constants */
    NB_CODE,          /* machine code */
    NB_MAPPING        /* some other mapping (mmap, the heap's free space, ...) */
} nb_region;

/* Where an address lives. OFFSET is from BASE (the start of the block,
 * symbol or mapping); for the stack it is the distance below the cell's
 * frame (negative: above it, in the worker's frames). */
typedef struct nb_place {
    nb_region region;
    const void *addr, *base;
    unsigned long size;              /* of the block, symbol or mapping; 0 if unknown */
    long offset;
    int dead;                        /* stack: below the stack pointer (a returned frame) */
    char name[96];                   /* symbol, allocating function or mapping */
    char text[256];                  /* the whole answer as one line */
} nb_place;

/* Print one line saying where P lives, and return it. */
#define nb_where(p) nb__where((const void *)(p), #p, 1)
/* The same answer, not printed. */
nb_place nb_locate(const void *p);
/* "stack", "heap", ... */
const char *nb_region_name(nb_region r);

/* Draw the address space (code, data, heap, mappings, stack) as SVG with
 * each pointer marked and labelled by its expression. */
#define nb_memory_map(...) nb__memory_map("" #__VA_ARGS__, ##__VA_ARGS__)

/* ------------------------------------------------------------ rich output */

void nb_display_html(const char *html);
void nb_display_svg(const char *svg);
void nb_display_markdown(const char *markdown);
/* LEN bytes of a PNG image (sent base64-encoded). */
void nb_display_png(const void *png, unsigned long len);
/* JSON text (an object or array), shown by the front end's JSON viewer. */
void nb_display_json(const char *json);
/* Show DATA of type MIME; with a DISPLAY_ID (may be NULL), nb_update can
 * replace it later. */
void nb_display_mime(const char *display_id, const char *mime, const char *data);
/* Replace what the display DISPLAY_ID shows, in place. */
void nb_update(const char *display_id, const char *mime, const char *data);
/* Clear the cell's output; WAIT nonzero: when the next output arrives. */
void nb_clear_output(int wait);
/* Show a progress bar for step I of N, updated in place (at most ~10 times
 * a second, and always at I == N). */
void nb_progress(long i, long n);

/* Tables: columns separated by '|'.
 *   nb_table *t = nb_table_new("size|ns/op");
 *   nb_table_row(t, "%d|%.1f", size, ns);
 *   nb_table_show(t);                    (shows and frees it) */
typedef struct nb_table nb_table;
nb_table *nb_table_new(const char *header);
void nb_table_row(nb_table *t, const char *fmt, ...);
void nb_table_show(nb_table *t);

/* A line chart (SVG, with the figures as text): series of N points over
 * one x axis (runtime/chart.c).
 *   double size[3] = {16, 4096, 1 << 20}, heap[3] = {...}, pool[3] = {...};
 *   nb_line_chart(&(nb_chart){ .title = "malloc by size", .n = 3, .x = size,
 *       .series = { {"malloc", heap}, {"pool", pool} },
 *       .log_x = 1, .log_y = 1, .x_unit = "B", .y_unit = "ns" });
 * Series end at the first without Y. LOG_X, LOG_Y: logarithmic axes
 * (points <= 0 left out). X_UNIT, Y_UNIT: "B" labels ticks as bytes
 * ("4 KiB"), "ns" as times ("1.5 µs"), anything else follows the number.
 * MARK_LABEL, if set, labels a dashed vertical line at MARK_X. Data are
 * borrowed for the call. */
#define NB_CHART_SERIES 8
typedef struct nb_series { const char *name; const double *y; } nb_series;
typedef struct nb_chart {
    const char *title, *x_label, *y_label, *x_unit, *y_unit;
    int n;
    const double *x;
    nb_series series[NB_CHART_SERIES];
    int log_x, log_y;
    double mark_x;
    const char *mark_label;
} nb_chart;
void nb_line_chart(const nb_chart *chart);

/* ---- internals: called by macros and generated code, not by cells ---- */

nb_b *nb__bench_begin(const char *name, void *ctx);
int nb__bench_next(nb_b *b);
void nb__check_failed(const char *cond, int line, const char *fmt, ...) __attribute__((noreturn));
void nb__check_cmp(const char *op, double a, double b, const char *a_text, const char *b_text,
                   int line, const char *fmt, ...);
void nb__keep(const void *p, unsigned long n);
nb_place nb__where(const void *p, const char *label, int print);
void nb__memory_map(const char *labels, ...);

/* (Re)initialise a global's storage. */
void nb__assign(void *dst, const void *src, unsigned long n);
void nb__zero(void *dst, unsigned long n);

/* Show the value of a cell's trailing expression. KIND is "k:type name"
 * where k says how to read the value from the variable arguments: i/u
 * (signed/unsigned integer of SIZE bytes), b (bool), c (char), f (double),
 * F (long double), s (char *), p (pointer), ? (not read: shown by size). */
void nb__show(const char *kind, unsigned long size, ...);
/* The same, naming the type TYPE as its declaration spelled it. */
void nb__show_as(const char *type, const char *kind, unsigned long size, ...);

/* Run a cell's main(argc, argv); exit() inside it ends the program, not
 * the worker. */
void nb__run_main(int (*main_fn)(int, char **));
void nb__exit(int status) __attribute__((noreturn));
/* A cell's atexit and on_exit: the handlers belong to the cell's program
 * and run, last registered first, when its main returns or calls exit(),
 * or at the end of the cell (nb__program_end, which the worker calls). */
int nb__atexit(void (*fn)(void));
int nb__on_exit(void (*fn)(int status, void *arg), void *arg);
void nb__program_end(void);

#endif
