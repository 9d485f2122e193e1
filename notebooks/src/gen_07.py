#!/usr/bin/python3
"""Write notebooks/07-performance-implications.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_07.py
The seed's performance_implications program in C: what an allocation
costs by size, what free and fragmentation cost, memory layout and the
cache, threads. As in 01 and 02, every figure comes from a cell and every
claim is checked with nb_check: on counts (allocations, page faults,
mapped blocks) where a count says it, on the median CPU time per operation
with wide margins where it is a time.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, PROBES, c, md, write

# ---------------------------------------------------------------- intro

md(r"""
# Performance implications: what memory costs

Go's tutorial ends its tour of the memory model with what it costs: how
fast allocation is, what the garbage collector takes, how memory is laid
out, and what happens when threads share it. C has no garbage collector,
so the questions change a little: what `malloc` and `free` cost, and how
that depends on the size; what the heap keeps after `free`; how the order
in which a program touches memory decides its speed; what threads do to
the allocator and to each other's data; and what an optimising compiler
changes.

""" + MEASURE_INTRO)

c(r"""
#define _GNU_SOURCE          /* CPU_SET and pthread_setaffinity_np, in section 4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

""" + PROBES + "\n" + ALLOC_MACROS)

# ------------------------------------------------- 1. allocation cost

md(r"""
## 1. What an allocation costs

Four ways to get a block of memory and give it back:

- **the stack**: a local array (here a VLA, `char buf[n]`): the frame grows
  by moving the stack pointer, and shrinks when the block ends;
- **`malloc` and `free`**: glibc's general-purpose allocator, which finds a
  free block of the right size and keeps its books on every call;
- **a pool**: blocks of one size, kept on a free list; taking one is
  popping the list, giving it back is pushing;
- **an arena**: one big buffer handed out from the front (a "bump
  pointer"), given back all at once.

The pool and the arena are a few lines each:
""")

c(r"""
/* A pool of equal blocks: a free block's first word points to the next free one. */
typedef struct pool { void *free_list; } pool;

void pool_init(pool *p, void *memory, size_t block_size, int count) {
    p->free_list = NULL;
    for (int i = count - 1; i >= 0; i--) {
        void **block = (void **)((char *)memory + (size_t)i * block_size);
        *block = p->free_list;
        p->free_list = block;
    }
}
void *pool_get(pool *p) { void **block = p->free_list; p->free_list = *block; return block; }
void pool_put(pool *p, void *block) { *(void **)block = p->free_list; p->free_list = block; }

/* An arena: hand out the next N bytes (16-aligned); NULL when full; reset gives back everything. */
typedef struct arena { char *base, *next, *end; } arena;

void *arena_get(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > (size_t)(a->end - a->next)) return NULL;
    void *p = a->next;
    a->next += n;
    return p;
}
void arena_reset(arena *a) { a->next = a->base; }
""")

md(r"""
Every `malloc` a cell makes goes through the kernel's counting allocator
(the heap figures of the measurement line come from it), which adds a
header and guard bytes to each block. To time what a compiled program
pays, the benchmarks below call glibc's own allocator through
`nb_libc_malloc` and `nb_libc_free`; one bar shows the counted `malloc`
beside it. Each operation gets a 64-byte block, writes its first byte and
gives the block back.
""")

c(r"""
pool pool64;
arena arena64;

void stack_64(void) { char buf[64]; buf[0] = 1; nb_keep(buf[0]); }
void bench_stack(nb_b *b) { for (long i = 0; i < b->n; i++) stack_64(); }
void bench_glibc(nb_b *b) {
    for (long i = 0; i < b->n; i++) { char *p = nb_libc_malloc(64); p[0] = 1; nb_libc_free(p); }
}
void bench_counted(nb_b *b) {
    for (long i = 0; i < b->n; i++) { char *p = malloc(64); p[0] = 1; free(p); }
}
void bench_pool(nb_b *b) {
    for (long i = 0; i < b->n; i++) { char *p = pool_get(&pool64); p[0] = 1; pool_put(&pool64, p); }
}
void bench_arena(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char *p = arena_get(&arena64, 64);
        if (!p) { arena_reset(&arena64); p = arena_get(&arena64, 64); }
        p[0] = 1;
    }
}
""")

c(r"""
char *pool_memory = malloc(4 * 64), *arena_memory = malloc(64 << 10);
pool_init(&pool64, pool_memory, 64, 4);
arena64 = (arena){ arena_memory, arena_memory, arena_memory + (64 << 10) };

nb_result r_stack = nb_bench("Block64/stack", bench_stack);
nb_result r_glibc = nb_bench("Block64/malloc+free", bench_glibc);
nb_result r_counted = nb_bench("Block64/counted-malloc+free", bench_counted);
nb_result r_pool = nb_bench("Block64/pool", bench_pool);
nb_result r_arena = nb_bench("Block64/arena", bench_arena);
nb_bench_chart();
free(pool_memory);
free(arena_memory);

nb_check_eq(r_counted.allocs_per_op, 1, "the counting allocator sees each malloc");
nb_check_eq(r_glibc.allocs_per_op, 0, "glibc's own malloc is not counted");
nb_check_gt(r_glibc.cpu_ns_per_op, 1.3 * r_stack.cpu_ns_per_op, "malloc+free costs more than a stack block");
nb_check_gt(r_glibc.cpu_ns_per_op, 1.3 * r_pool.cpu_ns_per_op, "... than a pool's block");
nb_check_gt(r_glibc.cpu_ns_per_op, 1.3 * r_arena.cpu_ns_per_op, "... than an arena's block");
""")

md(r"""
The stack, the pool and the arena do a handful of instructions each; `malloc`
and `free` are two calls into an allocator that must work for every size,
every order of frees and every thread. The counting allocator's bar is
what a cell's own `malloc` costs here: it keeps its books on every call,
and, while the process has one thread, a cache of small blocks of its own
as glibc does.

### By size, from 16 B to 1 MiB

Does the size matter? For the stack, a pool or an arena, no: getting a
block is the same pointer arithmetic for 16 bytes as for a megabyte. For
`malloc` it does. glibc serves small blocks from its heap, and above a
threshold, `M_MMAP_THRESHOLD` (128 KiB by default), it asks the kernel for
a mapping of the block's own with `mmap` (when the top of its heap has no
room left), and `free` gives it back with `munmap`: two system calls,
and a page fault when the block is first written. glibc also raises the
threshold on its own after it frees a mapped block, so the cell pins it at
the default with `mallopt` to make the sweep repeatable.

For each size the cell below measures the median CPU time of a round (get
a block, write its first byte, give it back), counts the page faults of
100 `malloc`+`free` rounds, and asks glibc (`mallinfo2().hblks`, the
number of blocks it has mapped) whether it mapped the block.
""")

c(r"""
/* Each runs ITERS rounds: get a block of N bytes, write its first byte, give it back. */
void stack_blocks(size_t n, long iters, void *ctx) {
    for (long i = 0; i < iters; i++) { char buf[n]; buf[0] = 1; nb_keep(buf[0]); }
}
void malloc_blocks(size_t n, long iters, void *ctx) {
    for (long i = 0; i < iters; i++) { char *p = nb_libc_malloc(n); p[0] = 1; nb_libc_free(p); }
}
void pool_blocks(size_t n, long iters, void *ctx) {
    for (long i = 0; i < iters; i++) { char *p = pool_get(ctx); p[0] = 1; pool_put(ctx, p); }
}
void arena_blocks(size_t n, long iters, void *ctx) {
    for (long i = 0; i < iters; i++) {
        char *p = arena_get(ctx, n);
        if (!p) { arena_reset(ctx); p = arena_get(ctx, n); }
        p[0] = 1;
    }
}

typedef void (*blocks_fn)(size_t n, long iters, void *ctx);

/* CPU ns per round of FN: the median of three runs of at least 2 ms of CPU time each. */
double cpu_ns_per_round(blocks_fn fn, size_t n, void *ctx) {
    double per[3];
    for (int r = 0; r < 3; r++) {
        long done = 0, batch = 16;
        long long t0 = cpu_ns(), t;
        while ((t = cpu_ns()) - t0 < 2000000) { fn(n, batch, ctx); done += batch; batch *= 2; }
        per[r] = (double)(t - t0) / done;
    }
    double lo = per[0] < per[1] ? per[0] : per[1], hi = per[0] < per[1] ? per[1] : per[0];
    return per[2] < lo ? lo : per[2] > hi ? hi : per[2];
}

/* Whether glibc gives a block of N bytes a mapping of its own. */
int mapped_by_glibc(size_t n) {
    size_t before = mallinfo2().hblks;
    void *p = nb_libc_malloc(n);
    int mapped = mallinfo2().hblks > before;
    nb_libc_free(p);
    return mapped;
}
""")

c(r"""
enum { NSIZES = 17 };                                   /* 16 B, 32 B, ... 1 MiB */
double block_size[NSIZES], t_stack[NSIZES], t_malloc[NSIZES], t_pool[NSIZES], t_arena[NSIZES];
double faults_per_round[NSIZES];
int mapped[NSIZES];

mallopt(M_MMAP_THRESHOLD, 128 * 1024);                  /* glibc's default, pinned */
char *arena_buffer = malloc(4 << 20);
for (int i = 0; i < NSIZES; i++) {
    size_t n = (size_t)16 << i;
    block_size[i] = n;
    char *pool_buffer = malloc(2 * n);
    pool p;
    pool_init(&p, pool_buffer, n, 2);
    arena a = { arena_buffer, arena_buffer, arena_buffer + (4 << 20) };
    t_stack[i] = cpu_ns_per_round(stack_blocks, n, NULL);
    t_malloc[i] = cpu_ns_per_round(malloc_blocks, n, NULL);
    t_pool[i] = cpu_ns_per_round(pool_blocks, n, &p);
    t_arena[i] = cpu_ns_per_round(arena_blocks, n, &a);
    long f0 = minor_faults();
    malloc_blocks(n, 100, NULL);
    faults_per_round[i] = (minor_faults() - f0) / 100.0;
    mapped[i] = mapped_by_glibc(n);
    free(pool_buffer);
}
free(arena_buffer);

nb_table *sizes = nb_table_new("block|stack ns|malloc+free ns|pool ns|arena ns|"
                               "faults per malloc|glibc mapped it");
for (int i = 0; i < NSIZES; i++)
    nb_table_row(sizes, "%.0f B|%.1f|%.1f|%.1f|%.1f|%.2f|%s", block_size[i], t_stack[i], t_malloc[i],
                 t_pool[i], t_arena[i], faults_per_round[i], mapped[i] ? "yes" : "no");
nb_table_show(sizes);
""")

md(r"""
The same figures as a picture, both axes logarithmic. The dashed line is
the first size glibc mapped on its own:
""")

c(r"""
int first_mapped = 0;
while (first_mapped < NSIZES && !mapped[first_mapped]) first_mapped++;
nb_line_chart(&(nb_chart){
    .title = "Get a block, write a byte, give it back", .y_label = "CPU time per round",
    .x_label = "block size", .n = NSIZES, .x = block_size, .x_unit = "B", .y_unit = "ns",
    .log_x = 1, .log_y = 1,
    .series = { {"malloc+free (glibc)", t_malloc}, {"stack (VLA)", t_stack},
                {"pool", t_pool}, {"arena", t_arena} },
    .mark_x = first_mapped < NSIZES ? block_size[first_mapped] : 0,
    .mark_label = "glibc maps the block" });
""")

c(r"""
/* sizes 0..13 are 16 B to 128 KiB; 14..16 are 256 KiB to 1 MiB */
double heap_worst = 0, mapped_best = 1e18, heap_faults = 0, mapped_faults = 1e18;
int mapped_below_threshold = 0, mapped_large = 0;
for (int i = 0; i < NSIZES; i++) {
    if (block_size[i] < 128 * 1024) {
        mapped_below_threshold += mapped[i];
        if (t_malloc[i] > heap_worst) heap_worst = t_malloc[i];
        if (faults_per_round[i] > heap_faults) heap_faults = faults_per_round[i];
    } else if (block_size[i] >= 256 * 1024) {
        mapped_large += mapped[i];
        if (t_malloc[i] < mapped_best) mapped_best = t_malloc[i];
        if (faults_per_round[i] < mapped_faults) mapped_faults = faults_per_round[i];
    }
}
nb_check_eq(mapped_below_threshold, 0, "below 128 KiB glibc never maps a block of its own");
nb_check_eq(mapped_large, 3, "from 256 KiB up it maps every one");
nb_check_ge(mapped_faults, 1, "a mapped block costs a page fault every time it is written");
nb_check_lt(heap_faults, 0.1, "a block from the heap almost never does");
nb_check_gt(mapped_best, 10 * heap_worst, "the cheapest mapped block costs ten times the dearest heap block");
nb_check_lt(t_pool[NSIZES - 1], t_malloc[NSIZES - 1] / 10, "at 1 MiB a pool's block costs a tenth of malloc's");
nb_check_lt(t_arena[NSIZES - 1], t_malloc[NSIZES - 1] / 10, "... and so does an arena's");
nb_check_lt(t_stack[NSIZES - 1], t_malloc[NSIZES - 1] / 10, "... and the stack's");
nb_check_lt(t_pool[NSIZES - 1], 3 * t_pool[0], "a pool's 1 MiB block costs about what a 16-byte one does");
nb_check_lt(t_arena[NSIZES - 1], 3 * t_arena[0], "so does an arena's");
nb_check_lt(t_stack[NSIZES - 1], 3 * t_stack[0], "and the stack's");
""")

md(r"""
Below the threshold, `malloc`+`free` varies a little with the size
(glibc keeps recently freed blocks of up to 1032 bytes in a per-thread
cache, bigger ones in bins it must search); above it, every round maps a
block, faults its first page in and unmaps it again. A program that
allocates and frees big buffers in a loop pays that each time: keeping the
buffer, or taking it from a pool, removes the cost. The stack, the pool
and the arena cost about the same at every size.

## 2. What `free` costs, and what the heap keeps

Go's runtime frees memory for the program, with a garbage collector that
takes CPU time while the program runs. C has no collector: the cost is
paid in `free` calls, by the program's own thread, when it decides, and
in memory the heap keeps after the program gave it back. First, small
blocks: every block carries glibc's bookkeeping, so a block of 8 bytes
takes more room in the heap than its 8 bytes. `mallinfo2().uordblks` is
the number of bytes of the heap in use:
""")

c(r"""
enum { SMALL = 100000 };
void **small_blocks = malloc(SMALL * sizeof *small_blocks);
size_t in_use_before = mallinfo2().uordblks;
for (int i = 0; i < SMALL; i++) small_blocks[i] = nb_libc_malloc(8);
double heap_bytes_per_block = ((double)mallinfo2().uordblks - in_use_before) / SMALL;
long long t0 = cpu_ns();
for (int i = 0; i < SMALL; i++) nb_libc_free(small_blocks[i]);
double ns_per_free = (double)(cpu_ns() - t0) / SMALL;
free(small_blocks);
printf("heap bytes per 8-byte block: %.1f\n", heap_bytes_per_block);
printf("CPU time per free: %.1f ns, %.2f ms for all %d\n", ns_per_free, ns_per_free * SMALL / 1e6, SMALL);
nb_check_ge(heap_bytes_per_block, 4 * 8 * 0.99, "an 8-byte block takes four times its size");
""")

md(r"""
Then fragmentation. The cell below allocates 20,000 blocks of 1000 bytes,
then frees all but one in 64. Nearly all the memory is free again, but
the live blocks are spread over the whole heap, and glibc's main heap can
only shrink from its top (it grows and shrinks with `brk`, like a stack).
`mallinfo2().arena` is the size of the heap; the resident size (RSS) is
how much RAM the process holds. `malloc_trim(0)` then asks glibc to give
back to the kernel every whole free page inside the heap (with
`madvise`): the addresses stay reserved, the RAM goes back.
""")

c(r"""
enum { NBLOCKS = 20000, BLOCK = 1000 };
char *blocks[NBLOCKS];
struct mallinfo2 m[4];
long rss[4];
long long free_ns, trim_ns;

m[0] = mallinfo2(); rss[0] = rss_kib();
for (int i = 0; i < NBLOCKS; i++) { blocks[i] = malloc(BLOCK); memset(blocks[i], 1, BLOCK); }
m[1] = mallinfo2(); rss[1] = rss_kib();
t0 = cpu_ns();
for (int i = 0; i < NBLOCKS; i++)
    if (i % 64 != 0) free(blocks[i]);
free_ns = cpu_ns() - t0;
m[2] = mallinfo2(); rss[2] = rss_kib();
t0 = cpu_ns();
malloc_trim(0);
trim_ns = cpu_ns() - t0;
m[3] = mallinfo2(); rss[3] = rss_kib();

const char *moment[4] = { "before", "20,000 blocks allocated", "all but 1 in 64 freed",
                          "after malloc_trim(0)" };
nb_table *frag = nb_table_new("moment|heap size|in use|free in the heap|RSS");
for (int k = 0; k < 4; k++)
    nb_table_row(frag, "%s|%.1f MiB|%.1f MiB|%.1f MiB|%.1f MiB", moment[k], m[k].arena / 1048576.0,
                 m[k].uordblks / 1048576.0, m[k].fordblks / 1048576.0, rss[k] / 1024.0);
nb_table_show(frag);
printf("CPU time: %.1f ns per free, %.2f ms for malloc_trim\n",
       (double)free_ns / (NBLOCKS - NBLOCKS / 64), trim_ns / 1e6);

double grown = (double)m[1].arena - m[0].arena, freed = (double)m[1].uordblks - m[2].uordblks;
nb_check_gt(freed, 0.9 * grown, "nearly all of what the heap grew by was freed");
nb_check_gt((double)m[2].arena - m[0].arena, 0.95 * grown, "yet the heap did not shrink");
nb_check_gt(rss[2], rss[1] - 0.05 * grown / 1024, "nor did the RAM the process holds");
nb_check_gt(rss[2] - rss[3], 0.5 * freed / 1024, "malloc_trim gave most of the freed RAM back");
nb_check_gt((double)m[3].arena - m[0].arena, 0.95 * grown, "without shrinking the heap itself");
""")

md(r"""
When the last blocks go, the top of the heap is free and glibc shrinks it
by itself:
""")

c(r"""
for (int i = 0; i < NBLOCKS; i += 64) free(blocks[i]);
struct mallinfo2 last = mallinfo2();
printf("heap size: %.1f MiB, in use %.1f MiB\n", last.arena / 1048576.0, last.uordblks / 1048576.0);
nb_check_lt((double)last.arena - m[0].arena, 0.1 * grown, "with the last blocks freed, the heap shrank");
""")

md(r"""
So C's counterpart of the collector's cost is spread out and visible: a
`free` call per block, and a heap that stays as big as its highest live
block until it is freed. Long-lived programs that mix short-lived and
long-lived blocks keep the RAM of their peak; `malloc_trim`, an arena per
phase of work, or a pool per kind of object are the usual remedies.

## 3. Memory layout and the cache

The processor does not read single bytes from RAM: it reads **cache
lines** into its caches, and it is fast when the next byte it needs is in a
line it already has. How a program walks its data decides how often
that is the case.
""")

c(r"""
long line = sysconf(_SC_LEVEL1_DCACHE_LINESIZE), l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE), l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
printf("cache line %ld B; L1 data %ld KiB, L2 %ld KiB, L3 %ld KiB per cache (as the system reports them)\n",
       line, l1 >> 10, l2 >> 10, l3 >> 10);
nb_check_gt(line, 0, "the system reports its cache line size");
""")

md(r"""
### Rows or columns

A C matrix is stored row after row. Summing it row by row reads memory in
order, every byte of each line used; column by column, each step jumps a
whole row ahead, to another line (and another page), and a line is used
for one number before the walk comes back to it, if it is still there.
The matrix here is 2048 × 2048 64-bit integers, 32 MiB: far more than the
L1 and L2 caches above hold.
""")

c(r"""
enum { ROWS = 2048, COLS = 2048 };
long *matrix;
long sum_by_rows(void) {
    long s = 0;
    for (long r = 0; r < ROWS; r++)
        for (const long *p = matrix + r * COLS, *end = p + COLS; p < end; p++) s += *p;
    return s;
}
long sum_by_columns(void) {
    long s = 0;
    for (long c = 0; c < COLS; c++)
        for (const long *p = matrix + c, *end = matrix + ROWS * COLS; p < end; p += COLS) s += *p;
    return s;
}
void bench_rows(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_by_rows()); }
void bench_columns(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_by_columns()); }
""")

c(r"""
matrix = malloc(sizeof(long) * ROWS * COLS);
for (long i = 0; i < (long)ROWS * COLS; i++) matrix[i] = i & 7;
nb_check_eq(sum_by_rows(), sum_by_columns(), "both walks add the same numbers");
nb_result by_rows = nb_bench("Sum2048x2048/rows", bench_rows);
nb_result by_columns = nb_bench("Sum2048x2048/columns", bench_columns);
nb_bench_chart();
free(matrix);
nb_check_gt(by_columns.cpu_ns_per_op, 1.5 * by_rows.cpu_ns_per_op, "column order is slower");
printf("columns / rows: %.1fx\n", by_columns.cpu_ns_per_op / by_rows.cpu_ns_per_op);
""")

md(r"""
### Array of structs or struct of arrays

A loop that reads one field of every object reads whole lines all the
same. With an array of structs, each 64-byte particle brings its seven
other fields along; with a struct of arrays, each field is an array of its
own, and every byte of every line read is used.
""")

c(r"""
typedef struct particle { long x, y, z, vx, vy, vz, mass, id; } particle;   /* 64 bytes */
enum { NPARTICLES = 1 << 20 };
particle *particles;                                 /* array of structs */
struct { long *x, *y, *z, *vx, *vy, *vz, *mass, *id; } columns;   /* struct of arrays (x only used here) */

/* Four elements a step, so that the loop's own work does not hide the memory traffic. */
long sum_x_aos(void) {
    long s = 0;
    for (const particle *p = particles, *end = particles + NPARTICLES; p < end; p += 4)
        s += p[0].x + p[1].x + p[2].x + p[3].x;
    return s;
}
long sum_x_soa(void) {
    long s = 0;
    for (const long *x = columns.x, *end = columns.x + NPARTICLES; x < end; x += 4)
        s += x[0] + x[1] + x[2] + x[3];
    return s;
}
void bench_aos(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_x_aos()); }
void bench_soa(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_x_soa()); }
""")

c(r"""
particles = malloc(sizeof(particle) * NPARTICLES);
columns.x = malloc(sizeof(long) * NPARTICLES);
for (long i = 0; i < NPARTICLES; i++) {
    particles[i] = (particle){ .x = i, .id = i };
    columns.x[i] = i;
}
nb_check_eq(sizeof(particle), 64, "a particle fills a cache line");
nb_check_eq(sum_x_aos(), sum_x_soa(), "the same sum");
nb_result aos = nb_bench("SumX/array-of-structs", bench_aos);
nb_result soa = nb_bench("SumX/struct-of-arrays", bench_soa);
nb_bench_chart();
free(particles);
free(columns.x);
nb_check_gt(aos.cpu_ns_per_op, 2 * soa.cpu_ns_per_op, "reading one field of 64-byte structs is slower");
printf("array of structs / struct of arrays: %.1fx\n", aos.cpu_ns_per_op / soa.cpu_ns_per_op);
""")

md(r"""
The array of structs makes the processor fetch eight times the bytes for
the same sum. How much of that shows in the time depends on the work the
loop does for each element, and on the processor fetching lines ahead
when it sees a program walk memory in order.

### A linked list or an array

A linked list is a walk where each step's address is in the previous
node. When the nodes were allocated one after the other they lie in order
and the walk reads memory almost as an array does; when they are spread
out (a list built over a long time, blocks reused after frees) every step
is a jump the processor cannot predict, and it waits for the line to come
from a cache further away or from RAM. The
shuffled list below has its nodes in random order in one block.
""")

c(r"""
typedef struct node { struct node *next; long value; } node;
enum { NNODES = 1 << 18 };
long *values;
node *in_order, *shuffled;

long sum_array(void) { long s = 0; for (long i = 0; i < NNODES; i++) s += values[i]; return s; }
long sum_list(const node *head) {
    long s = 0;
    for (const node *n = head; n; n = n->next) s += n->value;
    return s;
}
void bench_array(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_array()); }
void bench_in_order(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_list(in_order)); }
void bench_shuffled(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_list(shuffled)); }

/* Link NODES in the order ORDER gives: node ORDER[0] first, its next ORDER[1], ... */
node *link_nodes(node *nodes, const long *order) {
    for (long i = 0; i < NNODES; i++) {
        nodes[order[i]].value = i;
        nodes[order[i]].next = i + 1 < NNODES ? &nodes[order[i + 1]] : NULL;
    }
    return &nodes[order[0]];
}
""")

c(r"""
values = malloc(sizeof(long) * NNODES);
long *order = malloc(sizeof(long) * NNODES);
node *nodes_a = malloc(sizeof(node) * NNODES), *nodes_b = malloc(sizeof(node) * NNODES);
for (long i = 0; i < NNODES; i++) { values[i] = i; order[i] = i; }
in_order = link_nodes(nodes_a, order);
srand(7);
for (long i = NNODES - 1; i > 0; i--) {          /* Fisher-Yates shuffle */
    long j = ((long)rand() * RAND_MAX + rand()) % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
}
shuffled = link_nodes(nodes_b, order);
nb_check_eq(sum_list(in_order), sum_array(), "the same numbers in all three");
nb_check_eq(sum_list(shuffled), sum_array());

nb_result array_walk = nb_bench("Sum256K/array", bench_array);
nb_result list_walk = nb_bench("Sum256K/list-in-order", bench_in_order);
nb_result shuffled_walk = nb_bench("Sum256K/list-shuffled", bench_shuffled);
nb_bench_chart();
free(values); free(order); free(nodes_a); free(nodes_b);
nb_check_gt(shuffled_walk.cpu_ns_per_op, 3 * array_walk.cpu_ns_per_op,
            "chasing scattered pointers is several times slower");
nb_check_lt(list_walk.cpu_ns_per_op, 2 * array_walk.cpu_ns_per_op,
            "a list whose nodes lie in order is walked almost as fast as an array");
printf("shuffled list / array: %.0fx, list in order / array: %.1fx\n",
       shuffled_walk.cpu_ns_per_op / array_walk.cpu_ns_per_op,
       list_walk.cpu_ns_per_op / array_walk.cpu_ns_per_op);
""")

md(r"""
### First touch: page faults

Memory a program gets from the kernel (`mmap`, or `malloc` of a big
block) is only address space at first. The first write to each page
faults: the kernel stops the program, finds a page of RAM, zeroes it and
maps it, and that costs far more than the write. This is the **faults**
figure of the measurement line. The cell below maps 64 MiB, asks for
ordinary 4 KiB pages (`MADV_NOHUGEPAGE`: with transparent huge pages one
fault may map 2 MiB at once), and writes one byte per page, twice.
""")

c(r"""
size_t region_size = 64 << 20, page = sysconf(_SC_PAGESIZE);
char *region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
nb_check(region != MAP_FAILED);
madvise(region, region_size, MADV_NOHUGEPAGE);
long pages = region_size / page;

long faults0 = minor_faults();
long long cpu0 = cpu_ns();
for (size_t off = 0; off < region_size; off += page) region[off] = 1;
long faults1 = minor_faults();
long long cpu1 = cpu_ns();
for (size_t off = 0; off < region_size; off += page) region[off] = 2;
long faults2 = minor_faults();
long long cpu2 = cpu_ns();
munmap(region, region_size);

long first_faults = faults1 - faults0, second_faults = faults2 - faults1;
double first_ns = (double)(cpu1 - cpu0) / pages, second_ns = (double)(cpu2 - cpu1) / pages;
printf("%ld pages: first pass %ld faults, %.0f ns per page; second pass %ld faults, %.1f ns per page\n",
       pages, first_faults, first_ns, second_faults, second_ns);
nb_check_ge(first_faults, pages, "every page faults when first written");
nb_check_lt(second_faults, 16, "and not again");
nb_check_gt(first_ns, 10 * second_ns, "a first touch costs many times a later write");
""")

md(r"""
The faults figure of the measurement line under that cell includes them. Touching
memory for the first time is a cost of its own, paid wherever it happens:
a program that allocates a big buffer for each request pays it on every
request, one that keeps the buffer pays it once.

## 4. Threads

### Each thread its own arena

If every thread took one lock to allocate, threads that allocate at the
same moment would wait for each other. glibc gives threads their own **arenas** (heaps)
and, in front of them, a small cache of free blocks per thread. glibc
marks each block's header, the word before the block, with whether the
block came from the main arena (bit 2, clear) or another one:
""")

c(r"""
/* glibc's block header: the word before the block holds its size; bit 2 says "not from the main arena". */
int from_main_arena(void *block) { return (((size_t *)block)[-1] & 4) == 0; }
void *malloc_in_thread(void *result) {
    void *p = nb_libc_malloc(64);
    *(int *)result = from_main_arena(p);
    nb_libc_free(p);
    return NULL;
}
""")

c(r"""
void *in_main = nb_libc_malloc(64);
int main_thread_main_arena = from_main_arena(in_main);
nb_libc_free(in_main);
int other_thread_main_arena = -1;
pthread_t thread;
pthread_create(&thread, NULL, malloc_in_thread, &other_thread_main_arena);
pthread_join(thread, NULL);
printf("main thread's block from the main arena: %s; the other thread's: %s\n",
       main_thread_main_arena ? "yes" : "no", other_thread_main_arena ? "yes" : "no");
nb_check(main_thread_main_arena, "the main thread allocates from the main arena");
nb_check(!other_thread_main_arena, "another thread gets an arena of its own");
""")

md(r"""
So threads that allocate need not wait for each other. The cell below
runs `malloc`+`free` of 64 bytes in 1, 2 and 4 threads at once and
measures each thread's CPU time per round. Beside glibc's figures are the
kernel's counting allocator's, which takes one lock around its counts in
every call once a thread has started: what the lock costs depends on how
often the threads run at the same moment, which a busy machine decides.
""")

c(r"""
typedef struct { long rounds; int counted; double cpu_ns_per_round; } malloc_job;
void *malloc_rounds(void *arg) {
    malloc_job *job = arg;
    long long t0 = cpu_ns();
    for (long i = 0; i < job->rounds; i++) {
        char *p = job->counted ? malloc(64) : nb_libc_malloc(64);
        p[0] = 1;
        if (job->counted) free(p); else nb_libc_free(p);
    }
    job->cpu_ns_per_round = (double)(cpu_ns() - t0) / job->rounds;
    return NULL;
}
/* Mean CPU ns per round over NTHREADS threads, each doing 400,000 rounds at once. */
double malloc_in_threads(int nthreads, int counted) {
    pthread_t t[4];
    malloc_job jobs[4];
    for (int i = 0; i < nthreads; i++) {
        jobs[i] = (malloc_job){ 400000, counted, 0 };
        pthread_create(&t[i], NULL, malloc_rounds, &jobs[i]);
    }
    double sum = 0;
    for (int i = 0; i < nthreads; i++) { pthread_join(t[i], NULL); sum += jobs[i].cpu_ns_per_round; }
    return sum / nthreads;
}
""")

c(r"""
int thread_counts[3] = { 1, 2, 4 };
double glibc_ns[3], counted_ns[3];
for (int k = 0; k < 3; k++) {
    glibc_ns[k] = malloc_in_threads(thread_counts[k], 0);
    counted_ns[k] = malloc_in_threads(thread_counts[k], 1);
}
nb_table *threads = nb_table_new("threads|glibc malloc+free, CPU ns per round|"
                                 "counting allocator (one lock)");
for (int k = 0; k < 3; k++)
    nb_table_row(threads, "%d|%.1f|%.1f", thread_counts[k], glibc_ns[k], counted_ns[k]);
nb_table_show(threads);
nb_check_lt(glibc_ns[2], 2 * glibc_ns[0], "glibc: four threads cost each other little");
""")

md(r"""
### False sharing

Threads that share no data can still slow each other down if their data
share a **cache line**. Two cores cannot both hold a line for writing:
each write by one takes the line away from the other. Below, two threads
each increment their own counter; in `same_line` the two counters are
neighbours, in `padded` they are a cache line apart. Each thread is
pinned to its own CPU, the threads start each round together, rounds
alternate between the two layouts, and only rounds in which both threads
were counting at the same time are kept (on a busy machine one thread may
wait while the other runs).
""")

c(r"""
struct { volatile long a, b; } same_line __attribute__((aligned(64)));
struct { volatile long a; char pad[64 - sizeof(long)]; volatile long b; } padded __attribute__((aligned(64)));

enum { ROUNDS = 80, INCREMENTS = 200000, SAME_LINE = 0, PADDED = 1 };
volatile int arrived[2];
/* One thread's rounds: CPU ns per increment of the rounds kept, by layout. */
typedef struct { int me, kept[2]; double ns[2][ROUNDS]; } counter_job;

/* Wait until the other thread has reached round R too (both run at the start of a round). */
void both_at(int me, int r) { arrived[me] = r + 1; while (arrived[!me] < r + 1) ; }

volatile long *counter(int layout, int thread) {
    if (layout == SAME_LINE) return thread ? &same_line.b : &same_line.a;
    return thread ? &padded.b : &padded.a;
}

/* Rounds alternate between the layouts, so that both meet the same machine. */
void *count(void *arg) {
    counter_job *job = arg;
    cpu_set_t cpu;
    CPU_ZERO(&cpu);
    CPU_SET(job->me, &cpu);
    pthread_setaffinity_np(pthread_self(), sizeof cpu, &cpu);
    for (int r = 0; r < ROUNDS; r++) {
        int layout = r % 2;
        volatile long *mine = counter(layout, job->me), *other = counter(layout, !job->me);
        both_at(job->me, r);
        long other0 = *other;
        long long t0 = cpu_ns();
        for (long i = 0; i < INCREMENTS; i++) (*mine)++;
        long long t = cpu_ns() - t0;
        if (*other - other0 >= INCREMENTS / 2)            /* the other thread counted meanwhile */
            job->ns[layout][job->kept[layout]++] = (double)t / INCREMENTS;
    }
    return NULL;
}

int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over both threads' kept rounds of LAYOUT; *KEPT: how many. */
double median_ns(const counter_job *jobs, int layout, int *kept) {
    double all[2 * ROUNDS];
    int n = 0;
    for (int j = 0; j < 2; j++)
        for (int r = 0; r < jobs[j].kept[layout]; r++) all[n++] = jobs[j].ns[layout][r];
    qsort(all, n, sizeof *all, by_value);
    *kept = n;
    return n ? all[n / 2] : 0;
}
""")

c(r"""
nb_check_eq((char *)&same_line.b - (char *)&same_line.a, sizeof(long), "same_line: neighbours");
nb_check_eq((char *)&padded.b - (char *)&padded.a, 64, "padded: a cache line apart");
counter_job jobs[2] = { { .me = 0 }, { .me = 1 } };
pthread_t counting[2];
for (int j = 0; j < 2; j++) pthread_create(&counting[j], NULL, count, &jobs[j]);
for (int j = 0; j < 2; j++) pthread_join(counting[j], NULL);
int kept_same, kept_padded;
double same_ns = median_ns(jobs, SAME_LINE, &kept_same);
double padded_ns = median_ns(jobs, PADDED, &kept_padded);
printf("same line: %.2f ns per increment (%d rounds kept); padded: %.2f ns (%d rounds kept)\n",
       same_ns, kept_same, padded_ns, kept_padded);
nb_check_ge(kept_same, 10, "enough rounds ran on both CPUs at once");
nb_check_ge(kept_padded, 10);
nb_check_gt(same_ns, 1.25 * padded_ns, "counters that share a cache line slow each other down");
""")

md(r"""
Padding each thread's data to its own cache line (or giving each thread
its own copy and adding them up at the end) removes the cost. glibc's
per-thread caches and arenas are the same idea applied to the allocator.
""")

# ------------------------------------------------- 5. tcc and gcc -O2

md(r"""
## 5. The same functions, compiled by gcc -O2

Every cell so far was compiled by tcc, which compiles fast and optimises
little: it keeps variables in memory, not in registers, and turns each
line into machine code as it reads it. A cell that starts with
`%%cc gcc -O2` is compiled by gcc with optimisation instead (slower to
compile: compare the compile times in the measurement lines of the next
two cells), and its functions join the session like any other. Here are
the walks of section 3 and the round of section 1 again, the same source
under new names, compiled by gcc:
""")

c(r"""
%%cc gcc -O2
long sum_by_rows_gcc(void) {
    long s = 0;
    for (long r = 0; r < ROWS; r++)
        for (const long *p = matrix + r * COLS, *end = p + COLS; p < end; p++) s += *p;
    return s;
}
long sum_by_columns_gcc(void) {
    long s = 0;
    for (long c = 0; c < COLS; c++)
        for (const long *p = matrix + c, *end = matrix + ROWS * COLS; p < end; p += COLS) s += *p;
    return s;
}
long sum_list_gcc(const node *head) {
    long s = 0;
    for (const node *n = head; n; n = n->next) s += n->value;
    return s;
}
void bench_counted_gcc(nb_b *b) {
    for (long i = 0; i < b->n; i++) { char *p = malloc(64); p[0] = 1; free(p); }
}
""")

md(r"""
tcc's versions are the ones of sections 1 and 3, still in the session,
and the data are made again (section 3 freed them). Each walk runs once
compiled by tcc and once by gcc, in turn, five times, each timed run
right after an untimed one of the same walk, and the order swapped from
turn to turn; the table shows the fastest CPU time of each (taking turns,
both meet the same machine: how much of the data is still in the shared
cache changes with what else runs, and load only ever adds time).
""")

c(r"""
long shuffled_tcc(void) { return sum_list(shuffled); }
long shuffled_gcc(void) { return sum_list_gcc(shuffled); }

typedef long (*walk_fn)(void);
enum { TURNS = 5 };
/* CPU ms of one call of F, right after an untimed one: its data are as
 * warm in the cache as they can be for either compiler's code. */
double warm_ms(walk_fn f) {
    nb_keep(f());
    long long t0 = cpu_ns();
    nb_keep(f());
    return (cpu_ns() - t0) / 1e6;
}
/* The fastest CPU ms of a call of A and of B, called in turn TURNS times,
 * each turn in the other order: load only ever adds time. */
void in_turn(walk_fn a, walk_fn b, double *ms_a, double *ms_b) {
    *ms_a = *ms_b = 1e300;
    for (int k = 0; k < TURNS; k++) {
        double ta, tb;
        if (k % 2) { tb = warm_ms(b); ta = warm_ms(a); }
        else { ta = warm_ms(a); tb = warm_ms(b); }
        if (ta < *ms_a) *ms_a = ta;
        if (tb < *ms_b) *ms_b = tb;
    }
}
""")

c(r"""
matrix = malloc(sizeof(long) * ROWS * COLS);
for (long i = 0; i < (long)ROWS * COLS; i++) matrix[i] = i & 7;
long *shuffle = malloc(sizeof(long) * NNODES);
node *list_nodes = malloc(sizeof(node) * NNODES);
for (long i = 0; i < NNODES; i++) shuffle[i] = i;
for (long i = NNODES - 1; i > 0; i--) {
    long j = ((long)rand() * RAND_MAX + rand()) % (i + 1), t = shuffle[i];
    shuffle[i] = shuffle[j];
    shuffle[j] = t;
}
shuffled = link_nodes(list_nodes, shuffle);
nb_check_eq(sum_by_rows_gcc(), sum_by_rows(), "gcc's code computes what tcc's does");
nb_check_eq(sum_by_columns_gcc(), sum_by_columns());
nb_check_eq(shuffled_gcc(), shuffled_tcc());

double rows_tcc, rows_gcc, cols_tcc, cols_gcc, list_tcc, list_gcc;
in_turn(sum_by_rows, sum_by_rows_gcc, &rows_tcc, &rows_gcc);
in_turn(sum_by_columns, sum_by_columns_gcc, &cols_tcc, &cols_gcc);
in_turn(shuffled_tcc, shuffled_gcc, &list_tcc, &list_gcc);
free(matrix); free(shuffle); free(list_nodes);

nb_table *side = nb_table_new("walk|tcc, CPU ms|gcc -O2, CPU ms|tcc / gcc");
nb_table_row(side, "rows|%.2f|%.2f|%.1fx", rows_tcc, rows_gcc, rows_tcc / rows_gcc);
nb_table_row(side, "columns|%.2f|%.2f|%.1fx", cols_tcc, cols_gcc, cols_tcc / cols_gcc);
nb_table_row(side, "shuffled list|%.2f|%.2f|%.1fx", list_tcc, list_gcc, list_tcc / list_gcc);
nb_table_show(side);
nb_check_gt(rows_tcc, 1.5 * rows_gcc, "gcc -O2 makes the row walk faster");
nb_check_lt(list_tcc / list_gcc, rows_tcc / rows_gcc, "but the walk that waits for memory gains less");
nb_check_gt(cols_gcc / rows_gcc, 1.5 * cols_tcc / rows_tcc, "with gcc, the order of the walk matters more");
""")

md(r"""
gcc keeps the sum and the pointer in registers and makes each step a few
instructions, so the row walk, which was limited by tcc's code, gets
faster, until reading memory in order is the limit. The column walk and
the shuffled list were waiting for memory, and better code does not make
memory come faster: the list gains less than the rows do. So the better the code, the more of its time goes to
memory, and the more the layout of the data decides.

gcc does one more thing, which the heap counters can see:
""")

c(r"""
/* section 1's round, 1000 times, compiled by each */
unsigned long long tcc_allocs = ALLOCS_OF(bench_counted(&(nb_b){ .n = 1000 }));
unsigned long long gcc_allocs = ALLOCS_OF(bench_counted_gcc(&(nb_b){ .n = 1000 }));
printf("malloc calls for 1000 rounds: tcc's code %llu, gcc -O2's %llu\n", tcc_allocs, gcc_allocs);
nb_check_eq(tcc_allocs, 1000, "tcc's code calls malloc every round");
nb_check_eq(gcc_allocs, 0, "gcc removed the malloc and free: the block was never used");
""")

md(r"""
A block that is allocated, written and freed without anyone reading it
does not need to exist, and gcc removes the pair. Benchmarks of
allocation compiled by an optimising compiler must use the block, or
they measure nothing.
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| what | what it costs | what helps |
| --- | --- | --- |
| a block on the stack, from a pool or an arena | a few instructions, whatever the size | use them for blocks whose lifetime they fit |
| `malloc`+`free` below glibc's mmap threshold | an allocator call each way, varying a little with the size | pools and arenas for many small blocks of one kind |
| `malloc`+`free` above it (128 KiB by default) | a mapping made, faulted in and unmapped every round: ten times more and up | keep big buffers, reuse them |
| many small blocks | glibc's bookkeeping in every block; a `free` call each | arenas, embedding, fewer and bigger blocks |
| fragmentation | the heap keeps its peak size while any block near the top lives | `malloc_trim`, an arena per phase, pools |
| column order, arrays of big structs | every line read for one number | walk memory in order; struct of arrays for hot fields |
| pointer chasing | a wait for a far cache or RAM at every step | arrays, or nodes allocated together |
| first touch | a page fault per page | touch once, reuse |
| threads allocating | little more than one thread, with glibc's per-thread arenas | per-thread arenas and caches |
| false sharing | a cache line passed between cores at every write | pad hot per-thread data to a cache line |
| tcc's code vs `gcc -O2`'s | gcc faster where the code is the limit, not where memory is; allocation pairs it can see through removed | optimise, then lay out the data: the faster the code, the more memory decides |

Every line of this table was measured above, on this machine, and
checked with `nb_check`. The next notebook,
[08-memory-management-tips](08-memory-management-tips.ipynb), turns these
costs into habits: principles, techniques for the stack and
the heap, and the tools that find where a program's memory goes.
""")

write("07-performance-implications.ipynb")
