#!/usr/bin/python3
"""Write notebooks/01-memory-model-overview.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_01.py
Same pattern as gen_02.py: markdown and C cells alternate, one idea per
cell, every figure comes from a cell's output (never typed into the prose),
claims are checked with nb_check on exact counts where possible and with
wide margins where they are times. `make notebooks` / nbconvert executes it.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, c, md, write

# ---------------------------------------------------------------- intro

md(r"""
# The memory model of a C program: an overview

A running C program sees one long range of addresses. Parts of it hold the
program's code, its globals, the heap that `malloc` hands out, big
mappings, and the stack where functions keep their locals. This notebook
places real objects on that map, watches the stack grow and shrink as
functions call each other, counts `malloc` and `free` exactly, shows what it
means for a pointer to **escape** its function, and times a stack buffer
against a heap one.

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>

""" + ALLOC_MACROS)

# ------------------------------------------------------ 1. address space

md(r"""
## 1. The address space of a running process

The regions, from low addresses to high:

| region | what lives there |
| --- | --- |
| **code** (text) | the machine code of functions; read-only |
| **read-only data** | string literals and constants |
| **data** | globals and statics with an initial value |
| **bss** | globals and statics without one: they start as zeros, and take no room in the program file |
| **heap** | small `malloc` blocks, carved out of one region that grows upwards |
| **mmap** | big `malloc` blocks, shared libraries, mapped files: each its own mapping |
| **stack** | the frames of the functions that are running; it grows downwards |

The cell below defines one object of each static kind.
""")

c(r"""
int counter = 7;                         /* a global with a value: data */
long zeros[4096];                        /* a global without one: bss, all zeros */
static int squares_taken;                /* a static: a global only this file can name */
const char *motto = "stack or heap?";    /* the text is a string literal: read-only data */

int square(int x) {                      /* machine code */
    squares_taken++;
    return x * x;
}
""")

md(r"""
`nb_where` says where an address lives. None of these objects is on the
stack or the heap, and none of them cost an allocation.

(The stack figure of the cell below is the cell's own: `nb_where` and
`nb_locate` return a description of the address, an `nb_place` struct of
the size the cell prints, and tcc gives each of the eleven calls its own
slot for it in the frame of the cell's statements; `printf` adds its
frames.)
""")

c(r"""
nb_where(square);
nb_where(&counter);
nb_where(zeros);
nb_where(&squares_taken);
nb_where(motto);
nb_check(nb_locate(square).region == NB_CODE);
nb_check(nb_locate(&counter).region == NB_GLOBAL && nb_locate(zeros).region == NB_GLOBAL);
nb_check(nb_locate(&squares_taken).region == NB_GLOBAL, "a static lives with the globals");
nb_check(nb_locate(motto).region == NB_RODATA);
nb_check_eq(nb_heap().allocs, 0, "none of them cost an allocation");
printf("sizeof(nb_place) = %zu B\n", sizeof(nb_place));
""")

md(r"""
`malloc` serves a small request from the heap region. A big one gets a
mapping of its own from the kernel with `mmap`, away from the heap: with
glibc, by default, a request of 128 KiB or more (the *mmap threshold*).
The process's own list of mappings, `/proc/self/maps`, names the heap
region `[heap]`; the helpers below look an address up in it.
""")

c(r"""
/* Copy the line of /proc/self/maps whose range holds P into LINE (N bytes);
 * 0 if no mapping holds P. */
int maps_line(const void *p, char *line, int n) {
    FILE *f = fopen("/proc/self/maps", "r");
    int found = 0;
    while (f && !found && fgets(line, n, f)) {
        unsigned long lo, hi;
        found = sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (unsigned long)p >= lo && (unsigned long)p < hi;
    }
    if (f) fclose(f);
    return found;
}
/* Is P inside the mapping that /proc/self/maps names "[heap]"? */
int in_heap_region(const void *p) {
    char line[512];
    return maps_line(p, line, sizeof line) && strstr(line, "[heap]") != NULL;
}
void show_in_heap(const char *name, const void *p) {
    printf("%-26s in [heap]: %s\n", name, in_heap_region(p) ? "yes" : "no");
}
/* Minor page faults of the process so far. */
long minor_faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}
""")

c(r"""
char *small_block = malloc(64);
char *below_threshold = malloc(120 << 10);       /* 120 KiB */
char *above_threshold = malloc(136 << 10);       /* 136 KiB */
long faults_before = minor_faults();
char *big_block = malloc(64 << 20);              /* 64 MiB */
long big_block_faults = minor_faults() - faults_before;
show_in_heap("small_block (64 B)", small_block);
show_in_heap("below_threshold (120 KiB)", below_threshold);
show_in_heap("above_threshold (136 KiB)", above_threshold);
show_in_heap("big_block (64 MiB)", big_block);
nb_where(big_block);
nb_check(in_heap_region(small_block) && in_heap_region(below_threshold), "small requests come from the heap region");
nb_check(!in_heap_region(above_threshold) && !in_heap_region(big_block), "big ones get a mapping of their own");
nb_check_lt(big_block_faults, 64, "mapping 64 MiB touches hardly any page");
""")

md(r"""
All four are live heap blocks, so the measurement line shows the bytes still
held. Mapping the big block cost next to no page faults: the kernel hands
out its pages only when they are first written.

The line also counts more allocations than the four `malloc`s: the rest
are libc's own, shown apart in parentheses. Every `in_heap_region` call
opens `/proc/self/maps`, and `fopen` allocates the `FILE` and a buffer for
it, which `fclose` frees again:
""")

c(r"""
char line[512];
nb_heap_counts one_lookup_before = nb_heap();
maps_line(small_block, line, sizeof line);
nb_heap_counts one_lookup = nb_heap();
unsigned long long lookup_allocs = one_lookup.allocs - one_lookup_before.allocs;
nb_check_eq(one_lookup.libc_allocs - one_lookup_before.libc_allocs, lookup_allocs, "every allocation of a lookup is libc's");
nb_check_eq(one_lookup.libc_frees - one_lookup_before.libc_frees, lookup_allocs, "and libc frees them all again");
""")

md(r"""

Now everything on one picture, with a local variable added: the stack at
the top, libraries and mappings below it, the cells' code and globals, the
big block in its own mapping, the heap, and the program at the bottom.
Heights grow with the logarithm of a region's size, so the small regions
stay visible.

One difference from a program built ahead of time: there, code, read-only
data, data and bss are sections of the program file, loaded at the bottom
just below the heap. Cells are compiled while the kernel runs, so the
kernel keeps their code, literals and globals together in a region of its
own ("cells' code + globals"), protected page by page as a program's
sections are: code and literals can be read and executed, never written;
globals can be written. Our objects use a few KiB at its start, so
their arrows meet at its lower edge of a 1 GiB box; the zoom under the map
draws them side by side, in address order, with their sizes.
""")

c(r"""
void place_everything(void) {
    int local = 1;
    nb_memory_map(square, &counter, zeros, &squares_taken, motto, small_block, big_block, &local);
    nb_keep(local);
}
place_everything();
""")

md(r"""
Freeing a block gives it back, in two ways. A block from the heap region
goes back to the allocator, which keeps freed blocks in lists by size and
hands them out again: among the next requests of the same size, one gets
the very same address. A block with a mapping of its own goes back to the
kernel (`munmap`): afterwards no mapping holds its old address at all.
""")

c(r"""
char *old_small, *old_big, *next_small[64], *one_mib;
int came_back_at = 0;
old_small = small_block;
old_big = big_block;
free(small_block);
free(big_block);
for (int k = 0; k < 64; k++) {
    next_small[k] = malloc(64);
    if (next_small[k] == old_small && !came_back_at) came_back_at = k + 1;
}
for (int k = 0; k < 64; k++) free(next_small[k]);
printf("the freed 64 B block at %p came back at request %d of 64\n", (void *)old_small, came_back_at);
printf("mapping that holds the freed big block: %s\n", maps_line(old_big, line, sizeof line) ? line : "none\n");
nb_check_gt(came_back_at, 0, "the allocator hands the freed block out again");
nb_check(!maps_line(old_big, line, sizeof line), "the big block's mapping went back to the kernel");
small_block = big_block = NULL;
one_mib = malloc(1 << 20);              /* kept until the next cell */
show_in_heap("one_mib (1 MiB, after the free)", one_mib);
nb_check(!in_heap_region(one_mib), "freeing the 64 MiB block did not raise the threshold");
""")

md(r"""
The threshold is not fixed: when a program frees a mapped block, glibc
raises it to that block's size, on the guess that such sizes will come
again and are cheaper from the heap, but only up to a ceiling (32 MiB on
64-bit systems): freeing the 64 MiB block above left it where it was, as
the 1 MiB request showed. After the 136 KiB block is freed, the same
request comes from the heap region.
`mallopt` then sets the threshold back to 128 KiB and fixes it there,
and the trim threshold too, which rose with it to twice the freed size:
with it back at 128 KiB, the free space at the top of the heap goes back
to the kernel when the blocks are freed, instead of waiting there for
the next 136 KiB request. So the cells above show the same when they run
again. This one does not (it is tagged `differs-on-rerun`): with a fixed
threshold, freeing no longer moves it, and its check says so.
""")

c(r"""
char *same_request;
free(above_threshold);
same_request = malloc(136 << 10);
printf("a new 136 KiB block in [heap]: %s\n", in_heap_region(same_request) ? "yes" : "no");
nb_check(in_heap_region(same_request), "the threshold rose to the freed block's size");
mallopt(M_MMAP_THRESHOLD, 128 << 10);
mallopt(M_TRIM_THRESHOLD, 128 << 10);   /* the heap's free top goes back above this */
free(same_request);
free(below_threshold);
above_threshold = below_threshold = NULL;
free(one_mib);                          /* after mallopt: it moves the threshold no more */
one_mib = NULL;
""", tags=["differs-on-rerun"])

# ------------------------------------------------------ 2. stack frames

md(r"""
## 2. Stack frames grow and shrink

Each call gets a **frame** below its caller's: room for its locals, saved
registers and the return address. On return the stack pointer moves back
up, and the frame is free for the next call. `nb_stack_depth()` says how
far below the cell's frame the code runs now. The functions below record
it on the way in and on the way out.
""")

c(r"""
const char *trace_what[8];
unsigned long trace_depth[8];
int ntrace;
void trace(const char *what) { trace_what[ntrace] = what; trace_depth[ntrace++] = nb_stack_depth(); }

void inner(void)  { char pad[200]; memset(pad, 0, sizeof pad); trace("  in inner()"); nb_keep(pad[0]); }
void middle(void) { char pad[100]; memset(pad, 0, sizeof pad); trace(" in middle()"); inner(); trace(" back in middle()"); nb_keep(pad[0]); }
void outer(void)  { trace("in outer()"); middle(); trace("back in outer()"); }
""")

c(r"""
ntrace = 0;
outer();
for (int i = 0; i < ntrace; i++)
    printf("%-18s %5lu B below the cell's frame\n", trace_what[i], trace_depth[i]);
nb_check(trace_depth[0] < trace_depth[1] && trace_depth[1] < trace_depth[2], "each call goes deeper");
nb_check(trace_depth[3] == trace_depth[1] && trace_depth[4] == trace_depth[0], "each return comes back to the same depth");
nb_check_ge(trace_depth[2] - trace_depth[1], 200, "inner's frame holds its 200-byte local");
""")

md(r"""
A recursive function stacks up one frame per level. The table gives the
depth at the bottom of the recursion for several levels, and the bytes per
level: the same every time, so the stack grows in a straight line with the
depth of the recursion.
""")

c(r"""
unsigned long bottom;
void dive(int n) {
    char frame[128];
    memset(frame, n, sizeof frame);
    if (n > 0) dive(n - 1);
    else bottom = nb_stack_depth();
    nb_keep(frame[0]);
}
""")

c(r"""
int levels[] = { 0, 1, 2, 10, 100, 1000 };
unsigned long at[6];
nb_table *t = nb_table_new("levels|depth at the bottom (B)|bytes per level");
for (int i = 0; i < 6; i++) {
    dive(levels[i]);
    at[i] = bottom;
    if (levels[i]) nb_table_row(t, "%d|%lu|%lu", levels[i], at[i], (at[i] - at[0]) / levels[i]);
    else nb_table_row(t, "%d|%lu|", levels[i], at[i]);
}
nb_table_show(t);
unsigned long per_level = at[1] - at[0];
for (int i = 1; i < 6; i++)
    nb_check(at[i] - at[0] == levels[i] * per_level, "every level costs the same bytes");
nb_check_ge(per_level, 128, "a level holds at least its local array");
""")

md(r"""
The stack figure in that cell's measurement line is the deepest the cell
went: the bottom of the thousand-level dive. The space is given back on
return: after the dive the cell runs at the depth where it started.
""")

c(r"""
unsigned long before = nb_stack_depth();
dive(1000);
unsigned long after = nb_stack_depth();
printf("deepest so far: %lu B; before the dive: %lu B, after it: %lu B\n", nb_stack_peak(), before, after);
nb_check_eq(after, before, "the frames are gone after return");
nb_check_ge(nb_stack_peak(), 1000 * per_level, "the measurement saw the whole dive");
""")

# ------------------------------------------------------ 3. malloc and free

md(r"""
## 3. `malloc` and `free`, counted

A heap block lives from `malloc` until `free`, whichever functions come
and go in between. The runtime counts every call exactly; `nb_heap()` gives
the cell's counts so far. Ten blocks of growing size, then half of them
freed, then the rest:
""")

c(r"""
enum { NBLOCKS = 10 };
char *blocks[NBLOCKS];
size_t asked = 0;
nb_heap_counts h_start = nb_heap();
for (int i = 0; i < NBLOCKS; i++) {
    blocks[i] = malloc(100 * (i + 1));
    asked += 100 * (i + 1);
}
nb_heap_counts h_all = nb_heap();
for (int i = 0; i < NBLOCKS; i += 2) free(blocks[i]);
nb_heap_counts h_half = nb_heap();
for (int i = 1; i < NBLOCKS; i += 2) free(blocks[i]);
nb_heap_counts h_none = nb_heap();

nb_table *ht = nb_table_new("when|allocs|frees|live bytes");
nb_table_row(ht, "after 10 mallocs|%llu|%llu|%lld", h_all.allocs - h_start.allocs, h_all.frees - h_start.frees, h_all.live_bytes - h_start.live_bytes);
nb_table_row(ht, "after freeing every other one|%llu|%llu|%lld", h_half.allocs - h_start.allocs, h_half.frees - h_start.frees, h_half.live_bytes - h_start.live_bytes);
nb_table_row(ht, "after freeing the rest|%llu|%llu|%lld", h_none.allocs - h_start.allocs, h_none.frees - h_start.frees, h_none.live_bytes - h_start.live_bytes);
nb_table_show(ht);
nb_check_eq(h_all.allocs - h_start.allocs, NBLOCKS, "one allocation per malloc");
nb_check_eq(h_all.live_bytes - h_start.live_bytes, asked, "live bytes are the bytes asked for");
nb_check_eq(h_none.frees - h_start.frees, NBLOCKS, "one free per block");
nb_check_eq(h_none.live_bytes - h_start.live_bytes, 0, "everything given back");
""")

md(r"""
A block that is not freed stays live after the cell ends: the measurement
line of the next cell shows it as live bytes (a **leak**, if nothing points
at it any more). This one is kept in a global on purpose.
""")

c(r"""
char *kept = malloc(1000);
nb_check_eq(nb_heap().live_bytes, 1000, "the block is still held");
""")

md(r"""
The next cell frees it; its measurement line shows the live bytes going
back down by the same amount.
""")

c(r"""
free(kept);
kept = NULL;
nb_check_eq(nb_heap().live_bytes, -1000, "this cell gave back what the last one kept");
""")

# ------------------------------------------------------------- 4. escape

md(r"""
## 4. What "escape" means

A pointer **escapes** its function when it is still in use after the
function returns: returned, stored in a global, or put into a heap
object. If it points at a local, that local's frame is gone, and the
pointer **dangles**. Go's compiler notices and moves such a variable to the
heap. A C compiler does not: tcc compiles the function below without a
word.
""")

c(r"""
int *address_of_local(void) { int answer = 42; return &answer; }         /* escapes: dangles */
int *address_of_heap(void)  { int *p = malloc(sizeof *p); *p = 42; return p; }   /* escapes safely: the caller frees */
""")

c(r"""
int *dangling = address_of_local();
int *owned = address_of_heap();
nb_where(dangling);
nb_where(owned);
nb_check(nb_locate(dangling).region == NB_STACK && nb_locate(dangling).dead, "the local's frame has returned");
nb_check(nb_locate(owned).region == NB_HEAP);
""")

md(r"""
The dangling pointer points into memory the next call will use: calling
the same function twice from the same place hands out exactly the same
address, the second time for another call's local.
""")

c(r"""
int *first_call = address_of_local();
int *second_call = address_of_local();
printf("first call: %p, second call: %p\n", (void *)first_call, (void *)second_call);
nb_check(first_call == second_call, "the second call's frame is where the first one was");
""")

md(r"""
The heap block, in contrast, belongs to the caller until it is freed.
""")

c(r"""
printf("the caller reads *owned = %d\n", *owned);
free(owned);
nb_where(owned);
nb_check(nb_locate(owned).region == NB_HEAP_FREED, "after free, the pointer dangles too");
owned = NULL;
""")

# ----------------------------------------------------- 5. stack vs heap

md(r"""
## 5. Stack or heap: a first measurement

The same work, a 64-byte buffer filled and read, with the buffer in the
frame or from `malloc`. `nb_bench` runs each many times and reports the
median time and the heap traffic per operation; the check compares the
median CPU time per operation, and prints it.
""")

c(r"""
void bench_stack(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char buf[64];
        memset(buf, (int)i, sizeof buf);
        nb_keep(buf[i & 63]);
    }
}
void bench_heap(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        char *buf = malloc(64);
        memset(buf, (int)i, 64);
        nb_keep(buf[i & 63]);
        free(buf);
    }
}
""")

c(r"""
nb_result on_stack = nb_bench("Buffer64/stack", bench_stack);
nb_result on_heap = nb_bench("Buffer64/heap", bench_heap);
nb_bench_chart();
nb_check_eq(on_stack.allocs_per_op, 0, "a stack buffer allocates nothing");
nb_check_eq(on_heap.allocs_per_op, 1, "one malloc per operation");
nb_check_eq(on_heap.bytes_per_op, 64, "of 64 B");
nb_check_gt(on_heap.cpu_ns_per_op, 1.2 * on_stack.cpu_ns_per_op, "the heap buffer costs more CPU time");
nb_check_ge(nb_heap().allocs, on_heap.runs * on_heap.n, "the measurement line counts every run's mallocs");
""")

md(r"""
The allocation counts are exact. The measurement line of that cell counts
millions of allocations: every `malloc` of every run `nb_bench` made, the
timed runs of `n` operations each and the shorter ones before them that
found `n`. The times depend on the machine, but the order holds: a frame is made by moving the stack pointer, while every
`malloc` and every `free` is a call into the allocator, which keeps its
books on each one. (Here the allocator is the kernel's counting wrapper
around glibc's, which adds some bookkeeping of its own.) The chart above
shows both, with whiskers from the fastest run to the slowest.
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| what | where it lives | how long |
| --- | --- | --- |
| function | code | the whole program |
| string literal | read-only data | the whole program; must not be written |
| global or static with a value | data | the whole program |
| global or static without one | bss (zeros) | the whole program |
| small `malloc` block | the heap region | until `free` |
| big `malloc` block (glibc: 128 KiB or more, by default) | its own `mmap` mapping | until `free` |
| local variable | the function's stack frame | until the function returns |

What the cells showed:

- Every object has an address in one of a few regions, and `nb_where` /
  `nb_memory_map` can tell which (section 1).
- Frames are made on the way into a call and given back on the way out;
  a recursion costs the same bytes per level (section 2).
- Small blocks come from the heap region and are reused after `free`; big
  ones get a mapping of their own, which `free` gives back to the kernel,
  and glibc moves its threshold as the program frees big blocks
  (section 1).
- `malloc` and `free` can be counted exactly, libc's own calls apart;
  what is not freed stays live (section 3).
- A pointer to a local must not escape its function: the frame is reused
  by the next call. Memory that must outlive a call comes from the heap
  (or static storage), and someone must free it (section 4).
- A stack buffer costs no allocation, a heap buffer one `malloc` and one
  `free` per use, and measurably more time (section 5).

The next notebook, `02-stack-heap-examples`, goes through the everyday
patterns one at a time.
""")

write("01-memory-model-overview.ipynb")
