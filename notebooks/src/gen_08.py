#!/usr/bin/python3
"""Write notebooks/08-memory-management-tips.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_08.py
The seed's memory_management_tips program in C: principles, stack and heap
techniques (each a before and an after, measured), the tools that find
where memory goes (the heap profile by site, the leak report), and the
classic bugs, each shown safely with the error the kernel reports. Claims
are checked with nb_check on counts (allocations, page faults, bytes) or
on the median CPU time per operation with wide margins.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, PROBES, c, expect, md, shows, write

# ---------------------------------------------------------------- intro

md(r"""
# Memory management tips: habits that pay, measured

Go's tutorial closes with advice: principles, ways to keep values on the
stack and to ease the heap's load, how to profile and debug memory, the
common pitfalls, and advanced techniques. In C the advice matters more,
because nothing manages memory for you. This notebook gives each tip as
a **before** and an **after**, with a measurement that says what the tip
is worth, then shows the tools that find where a program's memory goes,
and the classic bugs, each made safely, with the error the kernel
reports.

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdalign.h>
#include <stdint.h>
#include <malloc.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

""" + PROBES + "\n" + ALLOC_MACROS)

# ----------------------------------------------------------- principles

md(r"""
## 1. Principles

1. **Every block has one owner**, who frees it, and the code says who:
   "the caller frees the result", "the table keeps the string". Most leaks
   and double frees are a block with no owner, or two.
2. **What does not outlive the function stays in it.** Locals cost
   nothing to allocate and free themselves; the heap is for what must
   outlive the call, or is too big for the stack (notebook 02).
3. **Allocate less, rather than faster.** Reuse a buffer, size an array
   once, give blocks that die together one allocation.
4. **Measure before and after.** The measurement line under every cell,
   `nb_bench`, the heap profile: a tip that does not show up in a
   measurement is not worth its code.
5. **Let the tools check.** The leak report at the end of every cell,
   `%%check` for the bugs no compiler sees.

The sections below make these concrete: each tip, a before, an after, and
what changed.
""")

# ------------------------------------------------------ 2. stack tips

md(r"""
## 2. Stack techniques

### Tip 1: let the caller provide the buffer

A function that returns a new string makes every call an allocation, and
every caller responsible for a `free`. The C library's newer functions
(`snprintf`, `strftime`, `getline` with a caller's buffer) take the buffer
from the caller instead, who can put it on the stack. The allocating
version can still exist, on top of the other one:
""")

c(r"""
typedef struct { const char *first, *last; } person;

/* Write "first last" into BUF of CAP bytes if it fits; return the length it needs, as snprintf. */
size_t full_name_into(char *buf, size_t cap, const person *p) {
    size_t a = strlen(p->first), b = strlen(p->last), n = a + 1 + b;
    if (n < cap) {
        memcpy(buf, p->first, a);
        buf[a] = ' ';
        memcpy(buf + a + 1, p->last, b + 1);
    }
    return n;
}

/* Before: a new string each call; the caller must free it. */
char *full_name_new(const person *p) {
    size_t n = full_name_into(NULL, 0, p) + 1;
    char *s = malloc(n);
    full_name_into(s, n, p);
    return s;
}

person people[4] = { {"Ada", "Lovelace"}, {"Alan", "Turing"}, {"Grace", "Hopper"}, {"Dennis", "Ritchie"} };

void names_on_heap(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char *s = full_name_new(&people[i & 3]);
        nb_keep(s[0]);
        free(s);
    }
}
void names_in_buffer(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char buf[64];
        full_name_into(buf, sizeof buf, &people[i & 3]);
        nb_keep(buf[0]);
    }
}
""")

c(r"""
nb_result heap_names = nb_bench("Name/new-string", names_on_heap);
nb_result buffer_names = nb_bench("Name/caller-buffer", names_in_buffer);
nb_bench_chart();
nb_check_eq(heap_names.allocs_per_op, 1, "before: one allocation per name");
nb_check_eq(buffer_names.allocs_per_op, 0, "after: none");
nb_check_gt(heap_names.cpu_ns_per_op, 1.3 * buffer_names.cpu_ns_per_op, "and less CPU time");
""")

md(r"""
The saving in time is the `malloc` and `free` (the string is written
either way); the saving in code is the `free` every caller no longer has
to remember.
""")

# ------------------------------------------------------- 3. heap tips

md(r"""
## 3. Heap techniques

### Tip 2: size arrays once, or grow them geometrically

An array that grows one element at a time calls `realloc` for every
element, and each `realloc` may copy the whole array. Growing by doubling
makes the number of `realloc`s the logarithm of the size, and the copying
at most twice the final size in all. Knowing the size in advance
(**preallocation**) makes it one allocation.
""")

c(r"""
typedef struct { int *items; size_t n, cap; } int_array;

void grow_to(int_array *a, size_t cap) {
    a->items = realloc(a->items, cap * sizeof *a->items);
    a->cap = cap;
}
void push_grow_by_one(int_array *a, int x) {
    if (a->n == a->cap) grow_to(a, a->cap + 1);
    a->items[a->n++] = x;
}
void push_doubling(int_array *a, int x) {
    if (a->n == a->cap) grow_to(a, a->cap ? 2 * a->cap : 16);
    a->items[a->n++] = x;
}

enum { FILL = 20000 };
void fill_by_one(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        int_array a = { 0 };
        for (int k = 0; k < FILL; k++) push_grow_by_one(&a, k);
        free(a.items);
    }
}
void fill_doubling(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        int_array a = { 0 };
        for (int k = 0; k < FILL; k++) push_doubling(&a, k);
        free(a.items);
    }
}
void fill_preallocated(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        int_array a = { 0 };
        grow_to(&a, FILL);                        /* the size is known: one allocation */
        for (int k = 0; k < FILL; k++) push_doubling(&a, k);
        free(a.items);
    }
}
""")

c(r"""
nb_result by_one = nb_bench("Fill20000/grow-by-one", fill_by_one);
nb_result doubling = nb_bench("Fill20000/doubling", fill_doubling);
nb_result preallocated = nb_bench("Fill20000/preallocated", fill_preallocated);
nb_bench_chart();
nb_check_eq(by_one.allocs_per_op, FILL, "growing by one: a realloc per element");
nb_check_le(doubling.allocs_per_op, 12, "doubling: a dozen at most");
nb_check_eq(preallocated.allocs_per_op, 1, "preallocated: one");
nb_check_gt(by_one.cpu_ns_per_op, 2 * doubling.cpu_ns_per_op, "growing by one costs more than doubling");
""")

md(r"""
### Tip 3: reuse big buffers

A program that handles requests one after another often allocates a
scratch buffer for each. For a big buffer that is dear: above glibc's
mmap threshold (128 KiB by default; glibc raises it on its own after it
frees a big block, so the cell pins it as notebook 07 did), every `malloc`
maps fresh memory and every `free` unmaps it, and each page faults again
when it is first written. Keeping one buffer for all requests pays that
once.
""")

c(r"""
enum { SCRATCH = 1 << 20, USED = 64 << 10 };      /* a 1 MiB buffer; a request writes 64 KiB of it */

void handle_request(char *scratch, long i) { memset(scratch, (int)i, USED); nb_keep(scratch[USED - 1]); }

void fresh_buffer_each_time(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char *scratch = malloc(SCRATCH);
        handle_request(scratch, i);
        free(scratch);
    }
}
char *kept_scratch;
void one_buffer_reused(nb_b *b) {
    for (long i = 0; i < b->n; i++) handle_request(kept_scratch, i);
}
""")

c(r"""
mallopt(M_MMAP_THRESHOLD, 128 * 1024);
long f0 = minor_faults();
fresh_buffer_each_time(&(nb_b){ .n = 100 });
double faults_fresh = (minor_faults() - f0) / 100.0;
kept_scratch = malloc(SCRATCH);
f0 = minor_faults();
one_buffer_reused(&(nb_b){ .n = 100 });
double faults_reused = (minor_faults() - f0) / 100.0;

nb_result fresh = nb_bench("Request/fresh-1MiB-buffer", fresh_buffer_each_time);
nb_result reused = nb_bench("Request/reused-buffer", one_buffer_reused);
nb_bench_chart();
free(kept_scratch);
kept_scratch = NULL;                              /* no dangling pointer left in a global */
printf("page faults per request: %.1f with a fresh buffer, %.2f reusing one\n", faults_fresh, faults_reused);
nb_check_ge(faults_fresh, USED / 4096, "a fresh buffer faults in every page the request writes");
nb_check_lt(faults_reused, 1, "a reused one does not");
nb_check_gt(fresh.cpu_ns_per_op, 1.5 * reused.cpu_ns_per_op, "reuse saves CPU time");
""")

md(r"""
### Tip 4: arenas for blocks that die together, pools for blocks of one size

Many small blocks with one lifetime (the nodes of a parse tree, the
strings of one request) can come from an **arena**: a big chunk handed
out from the front, freed all at once. Blocks of one size that come and
go in any order can come from a **pool**: a free list of equal blocks.
Notebook 07 timed one block from each against `malloc`; here they are
used the way a program would. This arena grows by chunks (a list of
them), and the pool takes its blocks from the arena:
""")

c(r"""
/* An arena: chunks of at least ARENA_CHUNK bytes, each handing out memory from the front. */
typedef struct chunk { struct chunk *prev; size_t used, size; alignas(16) char data[]; } chunk;
typedef struct { chunk *top; } arena;
enum { ARENA_CHUNK = 64 << 10 };

void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;                   /* keep every block 16-aligned */
    if (!a->top || a->top->size - a->top->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        chunk *c = malloc(sizeof *c + size);
        *c = (chunk){ a->top, 0, size };
        a->top = c;
    }
    void *p = a->top->data + a->top->used;
    a->top->used += n;
    return p;
}
void arena_free_all(arena *a) {
    while (a->top) { chunk *c = a->top; a->top = c->prev; free(c); }
}

/* A pool of blocks of one size: freed blocks wait on a list for the next pool_get. */
typedef struct { arena *from; size_t size; void *free_list; } pool;
void *pool_get(pool *p) {
    if (!p->free_list) return arena_alloc(p->from, p->size);
    void *b = p->free_list;
    p->free_list = *(void **)b;
    return b;
}
void pool_put(pool *p, void *b) { *(void **)b = p->free_list; p->free_list = b; }
""")

md(r"""
The before and the after: a list of 10,000 nodes built and thrown away,
with a `malloc` and a `free` per node, then from an arena, freed in one
call.
""")

c(r"""
typedef struct node { struct node *next; long value; char name[16]; } node;
enum { NODES = 10000 };

node *build_list(void *(*get)(void *ctx, size_t n), void *ctx) {
    node *head = NULL;
    for (long i = 0; i < NODES; i++) {
        node *n = get(ctx, sizeof *n);
        *n = (node){ head, i, "node" };
        head = n;
    }
    return head;
}
void *from_malloc(void *ctx, size_t n) { return malloc(n); }
void *from_arena(void *ctx, size_t n) { return arena_alloc(ctx, n); }

void free_nodes(node *head) { while (head) { node *next = head->next; free(head); head = next; } }

void list_with_malloc(nb_b *b) {
    for (long i = 0; i < b->n; i++) free_nodes(build_list(from_malloc, NULL));
}
void list_in_arena(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        arena a = { 0 };
        nb_keep(build_list(from_arena, &a)->value);
        arena_free_all(&a);
    }
}
""")

c(r"""
nb_result list_malloc = nb_bench("List10000/malloc-each-node", list_with_malloc);
nb_result list_arena = nb_bench("List10000/arena", list_in_arena);
nb_bench_chart();

/* Throwing a list away, alone: the fastest of five runs, in CPU time. */
double free_each_ns = 1e18, free_all_ns = 1e18;
for (int r = 0; r < 5; r++) {
    node *head = build_list(from_malloc, NULL);
    long long t0 = cpu_ns();
    free_nodes(head);
    free_each_ns = fmin(free_each_ns, cpu_ns() - t0);
    arena a = { 0 };
    nb_keep(build_list(from_arena, &a)->value);
    t0 = cpu_ns();
    arena_free_all(&a);
    free_all_ns = fmin(free_all_ns, cpu_ns() - t0);
}
printf("allocations per list: %.0f with malloc, %.0f with the arena (chunks of %d KiB)\n",
       list_malloc.allocs_per_op, list_arena.allocs_per_op, ARENA_CHUNK >> 10);
printf("throwing a list away: %.1f µs node by node, %.2f µs the arena's chunks\n",
       free_each_ns / 1e3, free_all_ns / 1e3);
nb_check_eq(list_malloc.allocs_per_op, NODES, "a malloc per node");
nb_check_le(list_arena.allocs_per_op, NODES * sizeof(node) / ARENA_CHUNK + 1, "a malloc per chunk");
nb_check_gt(list_malloc.cpu_ns_per_op, 1.1 * list_arena.cpu_ns_per_op, "the arena is faster");
nb_check_gt(free_each_ns, 10 * free_all_ns, "most of all at throwing it away");
""")

md(r"""
And a pool: a simulation where 1000 particles live, and each step one
dies and another is born, for as long as the program runs. An arena alone
would grow forever (it frees nothing until the end); the pool hands the
dead particle's block to the next one.
""")

c(r"""
typedef struct { double x, y, vx, vy; } particle;
enum { LIVE = 1000 };
particle *alive[LIVE];

void churn_with_malloc(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        long k = (i * 7919) % LIVE;
        free(alive[k]);
        alive[k] = malloc(sizeof(particle));
        alive[k]->x = i;
    }
}
void churn_with_pool(nb_b *b) {
    pool *p = b->ctx;
    for (long i = 0; i < b->n; i++) {
        long k = (i * 7919) % LIVE;
        pool_put(p, alive[k]);
        alive[k] = pool_get(p);
        alive[k]->x = i;
    }
}
""")

c(r"""
for (int k = 0; k < LIVE; k++) alive[k] = malloc(sizeof(particle));
nb_result churn_malloc = nb_bench("Particle/malloc+free", churn_with_malloc);
for (int k = 0; k < LIVE; k++) free(alive[k]);

arena particles = { 0 };
pool particle_pool = { &particles, sizeof(particle), NULL };
for (int k = 0; k < LIVE; k++) alive[k] = pool_get(&particle_pool);
unsigned long long chunk_allocs = ALLOCS_OF(
    nb_bench_ctx("Particle/pool", churn_with_pool, &particle_pool));
nb_result churn_pool = nb_bench_last();
nb_bench_chart();
arena_free_all(&particles);
memset(alive, 0, sizeof alive);                   /* they pointed into the freed chunks */

nb_check_eq(churn_malloc.allocs_per_op, 1, "malloc: an allocation per birth");
nb_check_eq(chunk_allocs, 0, "the pool: none, however many particles were born");
nb_check_gt(churn_malloc.cpu_ns_per_op, 1.15 * churn_pool.cpu_ns_per_op, "and it is faster");
""")

md(r"""
### Tip 5: `alignas` for data that must sit on its own cache line

`malloc` returns blocks aligned to 16 bytes, which any C type needs; a
cache line is 64. An object of 64 bytes at a 16-byte boundary straddles
two lines: reading it touches both, and two threads writing neighbours
share a line (false sharing, notebook 07). `alignas(64)` on a type, or
`aligned_alloc(64, n)` for a block, puts each object at the start of a
line. The count of objects that straddle two lines, before and after:
""")

c(r"""
typedef struct { alignas(64) long hits; long misses; } line_counter;   /* 64 bytes, line-aligned */

/* How many of N blocks of 64 bytes cross a 64-byte boundary. */
int straddling(void **blocks, int n) {
    int count = 0;
    for (int i = 0; i < n; i++) count += ((uintptr_t)blocks[i] & 63) != 0;
    return count;
}
""")

c(r"""
enum { BLOCKS = 1000 };
void *plain[BLOCKS], *aligned[BLOCKS];
for (int i = 0; i < BLOCKS; i++) plain[i] = nb_libc_malloc(64);      /* glibc's own malloc */
for (int i = 0; i < BLOCKS; i++) aligned[i] = aligned_alloc(64, 64);
int straddling_plain = straddling(plain, BLOCKS), straddling_aligned = straddling(aligned, BLOCKS);
int off_16 = 0;
for (int i = 0; i < BLOCKS; i++) off_16 += ((uintptr_t)plain[i] & 15) != 0;
for (int i = 0; i < BLOCKS; i++) { nb_libc_free(plain[i]); free(aligned[i]); }
memset(plain, 0, sizeof plain);                   /* no dangling pointers left in globals */
memset(aligned, 0, sizeof aligned);
line_counter counters[2];

printf("64-byte blocks across two cache lines: %d of %d from malloc, %d from aligned_alloc(64, ...)\n",
       straddling_plain, BLOCKS, straddling_aligned);
printf("sizeof(line_counter) = %zu, alignof = %zu; counters[1] is %td bytes after counters[0]\n",
       sizeof(line_counter), alignof(line_counter), (char *)&counters[1] - (char *)&counters[0]);
nb_check_eq(off_16, 0, "malloc's blocks are 16-aligned");
nb_check_gt(straddling_plain, BLOCKS / 2, "most of malloc's 64-byte blocks straddle two lines");
nb_check_eq(straddling_aligned, 0, "none of aligned_alloc's do");
nb_check_eq((uintptr_t)&counters[1] % 64, 0, "each line_counter starts a cache line");
""")

md(r"""
The price is room: an aligned block may leave a gap before it, and
`line_counter` takes a whole line for its two words. Use it for data that
is hot, or shared between threads, not everywhere.

### Tip 6: `mmap` for big buffers

A big buffer that is mostly unused (a hash table sized for the worst
case, a sparse grid) costs only the pages that are touched, if nothing
touches the rest. `mmap` gives zeroed memory page by page, when first
touched; so does `calloc` for a big block (glibc takes it from `mmap` and
knows it is zero). `malloc` followed by `memset(0)`, a common habit,
writes every page at once. And `munmap` gives the memory back to the
system at once, whatever else the heap holds. The cell below makes a
64 MiB table and writes one page in a hundred, three ways:
""")

c(r"""
enum { BIG = 64 << 20, PAGE = 4096 };

void touch_sparsely(char *table) { for (size_t i = 0; i < BIG; i += 100 * PAGE) table[i] = 1; }

long f_start = minor_faults();
char *t1 = malloc(BIG);
memset(t1, 0, BIG);                               /* before: zero it by hand */
touch_sparsely(t1);
long faults_memset = minor_faults() - f_start;
free(t1);
t1 = NULL;

f_start = minor_faults();
char *t2 = calloc(1, BIG);                        /* calloc: zeroed pages, on demand */
touch_sparsely(t2);
long faults_calloc = minor_faults() - f_start;
free(t2);
t2 = NULL;

f_start = minor_faults();
char *t3 = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
touch_sparsely(t3);
long faults_mmap = minor_faults() - f_start;
long rss_mapped = rss_kib();
munmap(t3, BIG);
long rss_unmapped = rss_kib();

printf("page faults: malloc+memset %ld, calloc %ld, mmap %ld (the table has %d pages)\n",
       faults_memset, faults_calloc, faults_mmap, BIG / PAGE);
printf("resident memory: %ld KiB with the mapping, %ld KiB after munmap\n", rss_mapped, rss_unmapped);
nb_check_ge(faults_memset, BIG / PAGE, "memset touches every page");
nb_check_lt(faults_mmap, BIG / PAGE / 50, "mmap: only the pages written");
nb_check_lt(faults_calloc, BIG / PAGE / 50, "calloc of a big block: the same");
nb_check_le(rss_unmapped, rss_mapped - faults_mmap * (PAGE / 1024) / 2, "munmap gave them back at once");
""")

md(r"""
(The pages `mmap` gives are zero, as the kernel guarantees; a program
that needs the memory back but keeps the mapping can say
`madvise(p, n, MADV_DONTNEED)`.)

## 4. Finding where memory goes

### The heap profile by site

The measurement line says how much a cell allocated; `%%profile --heap`
says **where**. It charges every allocation (exactly: the counting
allocator sees each one) to the call stack that made it, and shows a
flame graph by bytes with a table of the sites. A small log reader, with
three places that allocate:
""")

c(r"""
typedef struct { char *level, *text; } log_line;

/* A string of its own with the N bytes at S. */
char *copy_of(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    memcpy(copy, s, n);
    copy[n] = 0;
    return copy;
}

/* Split "LEVEL: text" into a record with copies of both parts. */
log_line parse_line(const char *line) {
    const char *colon = strchr(line, ':');
    log_line r;
    r.level = copy_of(line, colon - line);
    r.text = copy_of(colon + 2, strlen(colon + 2));
    return r;
}

/* Read N lines into an array that grows by one each time. */
log_line *read_log(const char *const *lines, int n) {
    log_line *all = NULL;
    for (int i = 0; i < n; i++) {
        all = realloc(all, (i + 1) * sizeof *all);
        all[i] = parse_line(lines[i]);
    }
    return all;
}

void free_log(log_line *all, int n) {
    for (int i = 0; i < n; i++) { free(all[i].level); free(all[i].text); }
    free(all);
}

const char *sample_log[4] = { "INFO: started", "WARN: disk at 91%", "INFO: request served",
                              "ERROR: connection reset by peer" };
const char *many_lines[2000];
for (int i = 0; i < 2000; i++) many_lines[i] = sample_log[i % 4];
""")

c(r"""
%%profile --heap
log_line *parsed = read_log(many_lines, 2000);
free_log(parsed, 2000);
parsed = NULL;
""")
shows("%%profile --heap: 6000 allocations", "read_log (cell", "copy_of (cell")

md(r"""
Three sites, and the table says which costs what: the `realloc` in
`read_log` moves the most bytes (the array, copied to a new place as it
grows by one), the two copies in `parse_line` make as many calls each. The
counters agree, site by site:
""")

c(r"""
unsigned long long parse_allocs = ALLOCS_OF(free_log(read_log(many_lines, 2000), 2000));
unsigned long long one_parse = ALLOCS_OF({ log_line r = parse_line(sample_log[0]); free(r.level); free(r.text); });
printf("reading 2000 lines: %llu allocations; parsing one line: %llu\n", parse_allocs, one_parse);
nb_check_eq(one_parse, 2, "parse_line: two copies per line");
nb_check_eq(parse_allocs, 2000 * 3, "with read_log's realloc, three allocations per line");
""")

md(r"""
### Leaks, reported when each cell ends

When a cell ends, the kernel looks for heap blocks that nothing can reach
any more (no global, no live block, no running thread points to them):
**leaks**. They are added to the measurement line, each with the function,
cell and line that allocated it. This cell loses ten blocks on purpose:
the function keeps the pointer to each only in its local variable.
""")

c(r"""
void remember(const char *what) {
    char *copy = malloc(strlen(what) + 1);
    strcpy(copy, what);
    nb_keep(copy[0]);                             /* used, and never freed: the pointer dies here */
}
long long live_before = nb_heap().live_bytes;
for (int i = 0; i < 10; i++) remember("forgotten");
printf("bytes still allocated after the loop: %lld\n", nb_heap().live_bytes - live_before);
nb_check_eq(nb_heap().live_bytes - live_before, 10 * sizeof "forgotten", "ten copies still allocated");
""")
shows("leaked 10 blocks / 100 B", "leaked 10 × 10 B, allocated in remember (cell ", ", line 2)")

md(r"""
The measurement line above ends with *leaked 10 blocks*, and the line
under it names the function, cell and line that allocated them:
`remember`, line 2. A block a global still points to is not a leak: keep
the pointer, and free it when its time comes.

The scan is conservative, as LeakSanitizer's: any word in the globals or
the reachable heap that holds an address inside a block keeps the block.
A dangling pointer left in a global after its block was freed can point
into a new block that reuses the memory, and hide its leak. That is one
more reason to set a pointer to `NULL` when its block is freed, as the
cells above did with their globals.

## 5. Common pitfalls, each made safely

Each bug below runs in a cell of its own, tagged `raises-exception`: the
kernel catches the bug, reports it, and takes the session back to where
it was before the cell, so the notebook goes on. Each also adds one to
this global, to show that:
""")

c(r"""
int bug_cells_run = 0;
""")

md(r""" `%%check` runs a cell under the memory checker, which stops at the line of the bad access;
without it, some bugs are still caught (the allocator's guard bytes and
headers), later, and some are not caught at all.

### A write past the end of a block (overflow)

Ten `int`s, and a loop that runs one too far. Without `%%check` the
allocator finds its guard bytes overwritten when the block is freed:
""")

c(r"""
bug_cells_run++;
int *ten = malloc(10 * sizeof(int));
for (int i = 0; i <= 10; i++) ten[i] = i;          /* <= : one too many */
free(ten);
""", tags=["raises-exception"])
expect(ename="HeapCorruption")
shows("a write past the end of the block of 40 B")

md(r"""
With `%%check`, at the write itself:
""")

c(r"""
%%check
bug_cells_run++;
int *ten = malloc(10 * sizeof(int));
for (int i = 0; i <= 10; i++) ten[i] = i;
free(ten);
""", tags=["raises-exception"])
expect(ename="MemoryError")
shows("heap buffer overflow: write of 4 bytes", "line 4 of this cell")

md(r"""
### Freeing a block twice (double free)

The allocator knows each block by its header, and a second `free` of the
same block ends the cell:
""")

c(r"""
bug_cells_run++;
char *twice = malloc(32);
free(twice);
free(twice);
""", tags=["raises-exception"])
expect(ename="HeapCorruption")
shows("double free")

md(r"""
`%%check` names it too, with the line of each `free`:
""")

c(r"""
%%check
bug_cells_run++;
char *twice = malloc(32);
free(twice);
free(twice);
""", tags=["raises-exception"])
expect(ename="MemoryError")
shows("double free", "line 5 of this cell")

md(r"""
### Using a block after freeing it

Without `%%check` nothing stops the read: the bytes are still there, or
someone else's by now. `nb_where` says what the pointer points to, which
is the safe way to look:
""")

c(r"""
int *gone = malloc(4 * sizeof(int));
gone[0] = 42;
free(gone);
nb_place where_gone = nb_where(gone);
nb_check(where_gone.region == NB_HEAP_FREED, "the pointer points into a freed block");
""")

md(r"""
`%%check` stops at the read, with the lines where the block was
allocated and freed:
""")

c(r"""
%%check
bug_cells_run++;
int *gone = malloc(4 * sizeof(int));
gone[0] = 42;
free(gone);
printf("%d\n", gone[0]);
""", tags=["raises-exception"])
expect(ename="MemoryError")
shows("use after free: read of 4 bytes", "and freed at:")

md(r"""
### Reading memory never written (uninitialised read)

`malloc` does not clear the block: what a read finds is whatever was
there before. `%%check` knows which bytes were written:
""")

c(r"""
%%check
bug_cells_run++;
int *fresh = malloc(8 * sizeof(int));
fresh[0] = 1;
int total = 0;
for (int i = 0; i < 8; i++) total += fresh[i];     /* fresh[1..7] were never written */
free(fresh);
""", tags=["raises-exception"])
expect(ename="MemoryError")
shows("read of uninitialised heap memory")

md(r"""
### After each bug

Every one of those cells was rolled back: the session is as it was
before them, and the notebook goes on.
""")

c(r"""
printf("bug cells that ran to their end: %d\n", bug_cells_run);
nb_check_eq(bug_cells_run, 0, "each bug cell was rolled back, its change to the global too");
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| tip | before | after | measured above |
| --- | --- | --- | --- |
| caller-provided buffer | a new string per call, freed by the caller | the caller's buffer, on its stack | allocations per call 1 → 0; less CPU time |
| grow geometrically, or preallocate | a `realloc` per element | doubling; one allocation when the size is known | `realloc`s for 20,000 elements; CPU time |
| reuse big buffers | a fresh 1 MiB buffer per request | one buffer, kept | page faults per request; CPU time |
| arenas | a `malloc` and `free` per node | a chunk per 64 KiB, freed at once | allocations per list; CPU time |
| pools | `malloc`/`free` as objects come and go | a free list of equal blocks | no allocations at all while churning; CPU time |
| `alignas` | 64-byte blocks across two cache lines | every block on its own line | blocks that straddle |
| `mmap`, `calloc` for big buffers | `malloc` + `memset`: every page faulted | pages faulted only where written | page faults; RSS after `munmap` |

| tool | what it tells |
| --- | --- |
| the measurement line | what each cell allocated, freed and kept |
| `%%profile --heap` | which call stack allocated what |
| the leak report | blocks nothing points to any more, and where they were allocated |
| guard bytes and headers | overflows and double frees, when the block is freed |
| `%%check` | overflows, double frees, use after free, uninitialised reads, at the line that does them |

Next: [09-profiling-a-program](09-profiling-a-program.ipynb) puts these
tools to work on a whole program, making it several times faster one
measured step at a time.
""")

write("08-memory-management-tips.ipynb")
