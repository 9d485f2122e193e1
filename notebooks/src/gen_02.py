#!/usr/bin/python3
"""Write notebooks/02-stack-heap-examples.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_02.py
The notebook is the pattern for the others: markdown and C cells alternate,
one idea per cell, every figure comes from a cell's output (never typed into
the prose), claims are checked with nb_check on exact counts where possible
and with wide margins where they are times. `make notebooks` / nbconvert
executes it.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, c, md, write

# ---------------------------------------------------------------- intro

md(r"""
# Stack and heap, by example

Where does each value of a C program live, how long does it live there, and
what does putting it there cost? This notebook goes through the everyday
patterns one at a time: locals, results that outlive their function,
parameters and return values, structs, "interfaces", arrays, "closures",
big variables, globals.

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <alloca.h>
#include <unistd.h>
#include <sys/resource.h>

""" + ALLOC_MACROS)

# ------------------------------------------------- 1. stays on the stack

md(r"""
## 1. Variables that stay on the stack

A local variable lives in the **frame** of the function that declares it.
The frame is made by moving the stack pointer when the function is entered
and given back when it returns: no allocator call, no bookkeeping, nothing
to free.
""")

c(r"""
void show_locals(void) {
    int count = 42;
    double ratio = 0.5;
    char name[16] = "local";
    nb_where(&count);
    nb_where(&ratio);
    nb_where(name);
    nb_keep(count + ratio + name[0]);
}
show_locals();
nb_check_eq(nb_heap().allocs, 0, "locals cost no heap allocation");
""")

md(r"""
All three are on the stack, a few bytes below the cell's frame, and the
heap figures in the measurement line are zero.

Each call gets a new frame below its caller's. `nb_stack_depth()` says how
far below the cell's frame the code is running; a function that calls
itself shows the frames piling up, each the same size.
""")

c(r"""
unsigned long depth_at[6];

void descend(int level) {
    char filler[100];                        /* a local that makes the frame bigger */
    memset(filler, level, sizeof filler);
    depth_at[level] = nb_stack_depth();
    if (level < 5) descend(level + 1);
    nb_keep(filler[0]);
}
""")

c(r"""
descend(0);
for (int i = 0; i < 6; i++)
    printf("level %d: %5lu B below the cell's frame\n", i, depth_at[i]);
unsigned long frame_size = depth_at[1] - depth_at[0];
printf("one frame of descend(): %lu B\n", frame_size);
for (int i = 1; i < 6; i++)
    nb_check(depth_at[i] - depth_at[i - 1] == frame_size, "every frame of descend() has the same size");
nb_check_ge(frame_size, 100, "a frame holds at least its 100-byte local");
""")

md(r"""
When a function returns, its frame is free for the next call: a thousand
calls of `descend` from the same place land at exactly the same depths, and
the deepest the cell has gone after them is the bottom of a single
descent.
""")

c(r"""
unsigned long first[6];
descend(0);
memcpy(first, depth_at, sizeof first);
int same = 0;
for (int k = 0; k < 1000; k++) {
    descend(0);
    same += memcmp(first, depth_at, sizeof first) == 0;
}
unsigned long deepest_after_1000 = nb_stack_peak();
printf("calls that reused exactly the same frames: %d of 1000\n", same);
nb_check_eq(same, 1000, "the same frames are reused, call after call");
nb_check_lt(deepest_after_1000, depth_at[5] + frame_size, "a thousand descents went no deeper than one");
""")

# ------------------------------------------------- 2. must live on the heap

md(r"""
## 2. Values that must live on the heap

A value that must **outlive the function that creates it** cannot live in
that function's frame. Go's compiler notices and moves such a variable to
the heap by itself. A C compiler does not: tcc compiles the mistake below
without a word (gcc and clang warn when they can see it). Here is the
mistake and the fix.
""")

c(r"""
int *broken_new_int(int v) { int local = v; return &local; }   /* wrong: the frame is gone after return */
int *new_int(int v) { int *p = malloc(sizeof *p); *p = v; return p; }   /* right: the caller frees it */
""")

c(r"""
int *bad = broken_new_int(7);
int *good = new_int(7);
nb_where(bad);
nb_where(good);
nb_check(nb_locate(bad).dead, "the local's frame has returned");
nb_check(nb_locate(good).region == NB_HEAP);
""")

md(r"""
`nb_where` finds `bad` in a frame that has returned: the next call will
overwrite it. `good` is a heap block, and the measurement line shows it
still held (live bytes above zero): the block now belongs to the caller,
who must free it. Other reasons to use the heap: a size known only at run
time and too big for the stack (section 8), or a value shared by objects
whose lifetimes do not nest.

The picture below is the whole address space of the process running the
cells, with both pointers marked: the stack at the top, the heap far below.
""")

c(r"""
nb_memory_map(bad, good);
""")

md(r"""
Freeing the block gives it back, but `good` still holds its address.
`nb_where` can tell that the block was freed: using it now would be a use
after free.
""")

c(r"""
free(good);
nb_where(good);
nb_check(nb_locate(good).region == NB_HEAP_FREED);
good = NULL;
""")

# ------------------------------------------- 3. parameters and return values

md(r"""
## 3. Parameters and return values

**By value**: a parameter is a copy, in registers or in the callee's
frame. Changing it changes the copy. A struct passed by value is copied
whole, so a big one costs stack and time on every call.
**By pointer**: the callee works on the caller's object; only an address is
passed.
""")

c(r"""
typedef struct { double m[16][16]; } matrix;

void scale_copy(matrix a, double k)      { for (int i = 0; i < 16; i++) for (int j = 0; j < 16; j++) a.m[i][j] *= k; }
void scale_in_place(matrix *a, double k) { for (int i = 0; i < 16; i++) for (int j = 0; j < 16; j++) a->m[i][j] *= k; }

unsigned long depth_by_value(matrix a)          { nb_keep(a.m[0][0]);  return nb_stack_depth(); }
unsigned long depth_by_pointer(const matrix *a) { nb_keep(a->m[0][0]); return nb_stack_depth(); }

matrix unit;      /* a global matrix to work on */
""")

c(r"""
for (int i = 0; i < 16; i++) unit.m[i][i] = 1;
scale_copy(unit, 10);
printf("after scale_copy:     unit.m[0][0] = %g\n", unit.m[0][0]);
scale_in_place(&unit, 10);
printf("after scale_in_place: unit.m[0][0] = %g\n", unit.m[0][0]);

unsigned long extra = depth_by_value(unit) - depth_by_pointer(&unit);
printf("sizeof(matrix) = %zu B; passing it by value took %lu B more stack than by pointer\n", sizeof(matrix), extra);
nb_check_ge(extra, sizeof(matrix), "by value copies the whole struct onto the stack");
""")

md(r"""
The copy costs time as well as stack. The two benchmarks below call the
same kind of function with the matrix by value and by pointer (Go style:
`b->n` calls, the runner picks `n`; `nb_keep` stops work from being
optimised away). Checks on times in this notebook compare the median
**CPU time** per operation (`cpu_ns_per_op`), with a margin, and print
both figures: time the machine gives to other programs is not in it. The
benchmark lines show the median wall time.
""")

c(r"""
double sum_by_value(matrix a)          { return a.m[0][0] + a.m[15][15]; }
double sum_by_pointer(const matrix *a) { return a->m[0][0] + a->m[15][15]; }

void bench_by_value(nb_b *b)   { for (long i = 0; i < b->n; i++) nb_keep(sum_by_value(unit)); }
void bench_by_pointer(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_by_pointer(&unit)); }
""")

c(r"""
nb_result by_value = nb_bench("Matrix/by-value", bench_by_value);
nb_result by_pointer = nb_bench("Matrix/by-pointer", bench_by_pointer);
printf("by value takes %.1fx the CPU time of by pointer\n", by_value.cpu_ns_per_op / by_pointer.cpu_ns_per_op);
nb_check_gt(by_value.cpu_ns_per_op, 1.2 * by_pointer.cpu_ns_per_op, "copying the struct costs time on every call");
""")

md(r"""
**Returning a struct** needs no heap. How the value travels is fixed by
the x86-64 System V ABI, which tcc and gcc follow: a struct of up to 16
bytes comes back in registers, like a number; a bigger one is written into
room the caller reserves in its own frame, whose address the caller passes
in as a hidden first argument. The cell after the next one peeks at both.

Three ways to hand back a small result: return it by value, write it into
storage the caller provides, or allocate it (then the caller must free
it). The chart compares them; `allocs/op` in the benchmark lines is exact.
""")

c(r"""
typedef struct { double x, y; } vec2;

vec2 vec2_add(vec2 a, vec2 b)                  { return (vec2){ a.x + b.x, a.y + b.y }; }
void vec2_add_into(vec2 *out, vec2 a, vec2 b)  { out->x = a.x + b.x; out->y = a.y + b.y; }
vec2 *vec2_add_new(vec2 a, vec2 b)             { vec2 *r = malloc(sizeof *r); *r = vec2_add(a, b); return r; }

vec2 va = { 1, 2 }, vb = { 3, 4 };

void bench_return_value(nb_b *b) { for (long i = 0; i < b->n; i++) { vec2 r = vec2_add(va, vb); nb_keep(r.x); } }
void bench_out_param(nb_b *b)    { for (long i = 0; i < b->n; i++) { vec2 r; vec2_add_into(&r, va, vb); nb_keep(r.x); } }
void bench_heap_result(nb_b *b)  { for (long i = 0; i < b->n; i++) { vec2 *r = vec2_add_new(va, vb); nb_keep(r->x); free(r); } }
""")

md(r"""
A peek under the ABI, by calling each function through a pointer of the
wrong type, on purpose (undefined behaviour in C: done here only to see
where the result travels). `vec2_add`, called as a function of four
doubles that returns a double, hands back `a.x + b.x`: the struct's first
member arrives in the register a double comes back in (XMM0). A 32-byte
`vec4`, called as a function that takes a pointer, is written through the
pointer the caller passed, and that pointer comes back.
""")

c(r"""
typedef struct { double v[4]; } vec4;
vec4 vec4_fill(double x) { return (vec4){ { x, x, x, x } }; }

void peek_at_the_abi(void) {
    double (*as_doubles)(double, double, double, double) = (void *)vec2_add;
    double first = as_doubles(1, 2, 3, 4);          /* a = {1, 2}, b = {3, 4} */
    vec4 room = { { 0 } };
    void *(*as_pointer)(vec4 *, double) = (void *)vec4_fill;
    void *back = as_pointer(&room, 7);
    printf("sizeof(vec2) = %zu: x of vec2_add({1, 2}, {3, 4}) came back as a double: %g\n", sizeof(vec2), first);
    printf("sizeof(vec4) = %zu: written into the caller's room: {%g, %g, %g, %g}; returned %p, the room is at %p\n",
           sizeof(vec4), room.v[0], room.v[1], room.v[2], room.v[3], back, (void *)&room);
    nb_check_eq(first, 1 + 3, "a 16-byte struct comes back in registers");
    nb_check_eq(room.v[3], 7, "a 32-byte one is written into the caller's room");
    nb_check(back == &room, "through the pointer the caller passed");
}
peek_at_the_abi();
""")

c(r"""
nb_result ret_value = nb_bench("Result/by-value", bench_return_value);
nb_result ret_out   = nb_bench("Result/out-param", bench_out_param);
nb_result ret_heap  = nb_bench("Result/heap", bench_heap_result);
nb_bench_chart();
nb_check_eq(ret_value.allocs_per_op + ret_out.allocs_per_op, 0, "returning a struct allocates nothing");
nb_check_eq(ret_heap.allocs_per_op, 1, "one block per heap result");
nb_check_eq(ret_heap.bytes_per_op, sizeof(vec2), "of sizeof(vec2)");
nb_check_gt(ret_heap.cpu_ns_per_op, 1.2 * ret_value.cpu_ns_per_op, "malloc + free costs more than returning by value");
""")

# ----------------------------------------------- 4. struct allocation patterns

md(r"""
## 4. Struct allocation patterns

A struct can live in a frame, in a heap block of its own, **inside**
another struct, or as the header of a block whose tail is a
**flexible array member**. The choice decides how many allocations an
object costs, and how many blocks must be freed.
""")

c(r"""
typedef struct { vec2 from, to; } segment;            /* points embedded: one object */
typedef struct { vec2 *from, *to; } segment_linked;   /* points pointed to: three objects */

segment *segment_new(vec2 a, vec2 b) {
    segment *s = malloc(sizeof *s);
    s->from = a; s->to = b;
    return s;
}
segment_linked *segment_linked_new(vec2 a, vec2 b) {
    segment_linked *s = malloc(sizeof *s);
    s->from = malloc(sizeof *s->from); *s->from = a;
    s->to = malloc(sizeof *s->to);     *s->to = b;
    return s;
}
void segment_linked_free(segment_linked *s) { free(s->from); free(s->to); free(s); }

double segment_dx_on_stack(void) { segment s = { { 0, 0 }, { 3, 4 } }; return s.to.x - s.from.x; }
""")

c(r"""
segment *seg = NULL;
segment_linked *segl = NULL;
unsigned long long on_stack = ALLOCS_OF(nb_keep(segment_dx_on_stack()));
unsigned long long embedded = ALLOCS_OF(seg = segment_new(va, vb));
unsigned long long linked = ALLOCS_OF(segl = segment_linked_new(va, vb));
printf("allocations: on the stack %llu, embedded %llu, linked %llu\n", on_stack, embedded, linked);
nb_where(&seg->to);
nb_where(segl->to);
nb_check_eq(on_stack, 0, "a struct in the frame allocates nothing");
nb_check_eq(embedded, 1, "embedded points: one block");
nb_check_eq(linked, 3, "pointed-to points: three blocks");
nb_check(nb_locate(&seg->to).base == seg, "an embedded member is inside its parent's block");
""")

md(r"""
`seg->to` is an offset inside the segment's own block; `segl->to` is a
block of its own, somewhere else on the heap, with its own `free` and its
own chance to be forgotten. Freeing them: one `free` against three.
""")

c(r"""
unsigned long long frees_embedded = FREES_OF(free(seg));
unsigned long long frees_linked = FREES_OF(segment_linked_free(segl));
seg = NULL; segl = NULL;
nb_check_eq(frees_embedded, 1, "the embedded segment: one free");
nb_check_eq(frees_linked, 3, "the linked one: three");
""")

md(r"""
A **flexible array member** (`char text[]` as the last member) lets a
header and a variable-length payload share one block: one `malloc`, one
`free`, and the payload right after the header in memory. The usual
alternative, a pointer to a separately allocated payload, costs two. (The
second is `strdup`'s: it calls `malloc` inside libc, so the measurement
line counts it among libc's own.)
""")

c(r"""
typedef struct { size_t len; char text[]; } message;        /* header + text in one block */
typedef struct { size_t len; char *text; } message_split;   /* header, and text elsewhere */

message *message_new(const char *s) {
    size_t n = strlen(s);
    message *m = malloc(sizeof *m + n + 1);
    m->len = n;
    memcpy(m->text, s, n + 1);
    return m;
}
message_split *message_split_new(const char *s) {
    message_split *m = malloc(sizeof *m);
    m->len = strlen(s);
    m->text = strdup(s);
    return m;
}
""")

c(r"""
message *msg = NULL;
message_split *msg2 = NULL;
unsigned long long flex = ALLOCS_OF(msg = message_new("hello, heap"));
unsigned long long split = ALLOCS_OF(msg2 = message_split_new("hello, heap"));
printf("allocations: flexible array member %llu, split %llu\n", flex, split);
nb_where(msg->text);
nb_where(msg2->text);
nb_check_eq(flex, 1, "flexible array member: one block");
nb_check_eq(split, 2, "split: two");
nb_check(nb_locate(msg->text).base == msg, "the text lives in the header's block");
free(msg); free(msg2->text); free(msg2);
""")

# ----------------------------------------------------------- 5. interfaces

md(r"""
## 5. "Interfaces": `void *` plus a table of functions

C has no interfaces; the usual idiom is a table of function pointers shared
by every value of a type, and a `void *` to the value itself: the same
(type, data) pair a Go interface value holds. The table is one global per
type; the data pointer is the question: it can point at a value that
already exists, or at a copy **boxed** on the heap.
""")

c(r"""
typedef struct { const char *name; double (*area)(const void *self); } shape_ops;
typedef struct { const shape_ops *ops; void *self; } shape;     /* an "interface value" */

typedef struct { double r; } circle;
typedef struct { double w, h; } rect;

double circle_area(const void *self) { const circle *c = self; return 3.14159265358979 * c->r * c->r; }
double rect_area(const void *self)   { const rect *r = self; return r->w * r->h; }

shape_ops circle_ops = { "circle", circle_area };    /* one table per type, shared by all its values */
shape_ops rect_ops = { "rect", rect_area };

/* Point at an existing value: no allocation, valid while the value is. */
shape circle_shape(circle *c) { return (shape){ &circle_ops, c }; }
shape rect_shape(rect *r)     { return (shape){ &rect_ops, r }; }

/* Box a copy: one allocation, valid until freed; the caller frees s.self. */
shape circle_boxed(circle c) { circle *p = malloc(sizeof *p); *p = c; return (shape){ &circle_ops, p }; }

double total_area(const shape *s, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += s[i].ops->area(s[i].self);
    return sum;
}
""")

c(r"""
circle c1 = { 1 };
rect r1 = { 2, 3 };
shape shapes[3];
unsigned long long boxes = ALLOCS_OF(({
    shapes[0] = circle_shape(&c1);
    shapes[1] = rect_shape(&r1);
    shapes[2] = circle_boxed((circle){ 2 });
}));
for (int i = 0; i < 3; i++) {
    printf("%-6s area %6.2f   ", shapes[i].ops->name, shapes[i].ops->area(shapes[i].self));
    nb_where(shapes[i].self);
}
printf("total %.2f, allocations %llu\n", total_area(shapes, 3), boxes);
nb_check_eq(boxes, 1, "only the boxed value allocated");
free(shapes[2].self);
shapes[2] = circle_shape(&c1);
""")

md(r"""
What the indirection costs, and what boxing costs on top: a direct call on
a concrete `circle`, the same call through the table, and boxing a fresh
copy for each call (what an interface conversion costs when the value must
escape).
""")

c(r"""
void bench_direct(nb_b *b)  { for (long i = 0; i < b->n; i++) nb_keep(circle_area(&c1)); }
void bench_table(nb_b *b)   { shape s = circle_shape(&c1); for (long i = 0; i < b->n; i++) nb_keep(s.ops->area(s.self)); }
void bench_boxed(nb_b *b)   {
    for (long i = 0; i < b->n; i++) { shape s = circle_boxed(c1); nb_keep(s.ops->area(s.self)); free(s.self); }
}
""")

c(r"""
nb_result direct = nb_bench("Area/direct", bench_direct);
nb_result table  = nb_bench("Area/table", bench_table);
nb_result boxed  = nb_bench("Area/boxed", bench_boxed);
nb_bench_chart();
nb_check_eq(direct.allocs_per_op + table.allocs_per_op, 0, "a table call allocates nothing");
nb_check_eq(boxed.allocs_per_op, 1, "boxing allocates one copy");
nb_check_eq(boxed.bytes_per_op, sizeof(circle), "of sizeof(circle)");
nb_check_gt(boxed.cpu_ns_per_op, 1.2 * table.cpu_ns_per_op, "boxing costs more than the call through the table");
""")

# ------------------------------------------------------------- 6. arrays

md(r"""
## 6. Arrays, VLAs, `alloca` and growing arrays

A local array of constant size is part of the frame. A **variable-length
array** (VLA, `int a[n]`) is too: its size is fixed when the declaration
runs, and `sizeof` is computed then. Both are on the stack, so the stack
figure grows with `n`.
""")

c(r"""
unsigned long vla_depth(int n) {
    int a[n];
    for (int i = 0; i < n; i++) a[i] = i;
    nb_keep(a[n - 1]);
    printf("n = %6d: sizeof a = %7zu B, ", n, sizeof a);
    nb_where(a);
    return nb_stack_depth();
}
""")

c(r"""
unsigned long d_small = vla_depth(1000);
unsigned long d_large = vla_depth(100000);
nb_check_ge(d_large - d_small, (100000 - 1000) * sizeof(int), "a VLA takes its size from the stack");
""")

md(r"""
`alloca(n)` also takes `n` bytes from the stack, but the space lasts until
the **function** returns, not until the end of the block. In a loop, a VLA
is given back at the end of each iteration, while `alloca` piles up. Each
loop below runs a hundred times with a 1 KiB buffer.
""")

c(r"""
unsigned long deepest_vla_loop(int iters, int n) {
    unsigned long deepest = 0;
    for (int k = 0; k < iters; k++) {
        char buf[n];
        memset(buf, k, n);
        if (nb_stack_depth() > deepest) deepest = nb_stack_depth();
    }
    return deepest;
}
unsigned long deepest_alloca_loop(int iters, int n) {
    unsigned long deepest = 0;
    for (int k = 0; k < iters; k++) {
        char *buf = alloca(n);
        memset(buf, k, n);
        if (nb_stack_depth() > deepest) deepest = nb_stack_depth();
    }
    return deepest;
}
""")

c(r"""
unsigned long vla_deep = deepest_vla_loop(100, 1024);
unsigned long alloca_deep = deepest_alloca_loop(100, 1024);
printf("deepest stack: VLA in a loop %lu B, alloca in a loop %lu B\n", vla_deep, alloca_deep);
nb_check_lt(vla_deep, 2 * 1024 + 1024, "the VLA's space is reused every iteration");
nb_check_ge(alloca_deep, 100 * 1024, "alloca's space stays until the function returns");
""")

md(r"""
Neither a VLA nor `alloca` has a way to report failure (there is no
`NULL` to test): asking for more than the stack has left runs past its
end, as the runaway recursion of section 8 does. `malloc` returns `NULL`
instead. For data that grows as it arrives, the usual answer
is a heap array that is **grown with `realloc`**. How much to grow it by
decides how many reallocations and how many bytes it costs. Four
strategies:
""")

c(r"""
typedef struct { int *data; size_t len, cap; } intvec;
typedef struct { const char *name; size_t (*grow)(size_t cap); } strategy;

size_t grow_by_one(size_t cap) { return cap + 1; }
size_t grow_by_16(size_t cap)  { return cap + 16; }
size_t grow_x1_5(size_t cap)   { return cap < 4 ? 4 : cap + cap / 2; }
size_t grow_x2(size_t cap)     { return cap < 4 ? 4 : 2 * cap; }

strategy strategies[] = { { "+1", grow_by_one }, { "+16", grow_by_16 }, { "x1.5", grow_x1_5 }, { "x2", grow_x2 } };
enum { NSTRATEGIES = sizeof strategies / sizeof strategies[0] };

long block_moves;      /* how often realloc had to move the block elsewhere (and copy it) */

void push(intvec *v, int x, const strategy *s) {
    if (v->len == v->cap) {
        size_t cap = s->grow(v->cap);
        int *data = realloc(v->data, cap * sizeof *data);
        if (!data) abort();
        if (v->data && data != v->data) block_moves++;
        v->data = data;
        v->cap = cap;
    }
    v->data[v->len++] = x;
}
""")

md(r"""
Pushing the same ten thousand ints with each strategy, with the heap
counters read around each run: reallocations, bytes requested in total
(each `realloc` asks for the whole new size), how often the block moved,
and the capacity left unused at the end.
""")

c(r"""
enum { PUSHES = 10000 };
unsigned long long reallocs[NSTRATEGIES], requested[NSTRATEGIES];
long moves[NSTRATEGIES];
nb_table *t = nb_table_new("strategy|reallocs|bytes requested|block moves|unused ints at the end");
for (int k = 0; k < NSTRATEGIES; k++) {
    intvec v = { 0 };
    block_moves = 0;
    nb_heap_counts h0 = nb_heap();
    for (int i = 0; i < PUSHES; i++) push(&v, i, &strategies[k]);
    nb_heap_counts h1 = nb_heap();
    reallocs[k] = h1.allocs - h0.allocs;
    requested[k] = h1.alloc_bytes - h0.alloc_bytes;
    moves[k] = block_moves;
    nb_table_row(t, "%s|%llu|%llu|%ld|%zu", strategies[k].name, reallocs[k], requested[k], block_moves, v.cap - v.len);
    free(v.data);
}
nb_table_show(t);
""")

c(r"""
unsigned long log2_pushes = 0;
for (unsigned long n = PUSHES; n > 1; n /= 2) log2_pushes++;
printf("log2(%d) rounded down = %lu\n", PUSHES, log2_pushes);
nb_check_eq(reallocs[0], PUSHES, "growing by one reallocates on every push");
nb_check_eq(reallocs[1], (PUSHES + 15) / 16, "growing by 16 reallocates every 16th push");
nb_check_le(reallocs[3], log2_pushes + 1, "doubling reallocates about log2(n) times");
nb_check_lt(requested[3], 4 * PUSHES * sizeof(int), "doubling requests less than 4x the final size in total");
nb_check_eq(requested[0], sizeof(int) * PUSHES * (PUSHES + 1) / 2,
            "growing by one requests 4 B x (1 + 2 + ... + n): quadratic in n");
nb_check_lt(moves[0], reallocs[0] / 2, "realloc grows most blocks in place");
""")

md(r"""
Counts are one thing, time another: glibc's `realloc` can often grow a
block in place, so "+1" moves (and copies) the block far less often than it
reallocates, as the table shows. Each benchmark operation below builds a
thousand-element array from nothing and frees it.
""")

c(r"""
void bench_push(nb_b *b) {
    const strategy *s = b->ctx;
    for (long i = 0; i < b->n; i++) {
        intvec v = { 0 };
        for (int j = 0; j < 1000; j++) push(&v, j, s);
        nb_keep(v.data[999]);
        free(v.data);
    }
}
""")

c(r"""
nb_result push_result[NSTRATEGIES];
for (int k = 0; k < NSTRATEGIES; k++) {
    char name[32];
    snprintf(name, sizeof name, "Push1000/%s", strategies[k].name);
    push_result[k] = nb_bench_ctx(name, bench_push, &strategies[k]);
}
nb_bench_chart();
nb_check_eq(push_result[0].allocs_per_op, 1000, "+1: one realloc per push");
nb_check_gt(push_result[0].cpu_ns_per_op, 1.2 * push_result[3].cpu_ns_per_op, "doubling is faster than growing by one");
""")

# ------------------------------------------------------------- 7. closures

md(r"""
## 7. "Closures": a function pointer plus a context

C has no closures; the idiom is a function pointer and a `void *` to the
data it works on, as `qsort_r`, `pthread_create` and most callback APIs
take them. Where the context lives decides how long the pair may be used:
as long as the context does.
""")

c(r"""
typedef struct { int (*fn)(void *ctx, int x); void *ctx; } closure;
int call(closure f, int x) { return f.fn(f.ctx, x); }

typedef struct { int add; } adder_ctx;
int adder_fn(void *ctx, int x) { return x + ((adder_ctx *)ctx)->add; }

void map(int *a, int n, closure f) { for (int i = 0; i < n; i++) a[i] = call(f, a[i]); }
""")

md(r"""
A closure **passed down** is only used while the function that made it is
still running, so its context can live in that function's frame.
""")

c(r"""
void add_to_all(int *a, int n, int k) {
    adder_ctx ctx = { k };                    /* the captured variable, on the stack */
    map(a, n, (closure){ adder_fn, &ctx });
}
int numbers[5] = { 1, 2, 3, 4, 5 };
""")

c(r"""
unsigned long long closure_allocs = ALLOCS_OF(add_to_all(numbers, 5, 100));
for (int i = 0; i < 5; i++) printf("%d ", numbers[i]);
printf("\nallocations: %llu\n", closure_allocs);
nb_check_eq(closure_allocs, 0, "a closure passed down needs no heap");
""")

md(r"""
A closure **returned** outlives the frame that made it, so its context must
go to the heap (this is what Go's compiler does for a captured variable
that escapes), and someone must free it. Keeping it on the stack compiles,
and `nb_where` shows what it points into.
""")

c(r"""
typedef struct { int next; } counter_ctx;
int counter_fn(void *ctx, int step) { counter_ctx *c = ctx; int v = c->next; c->next += step; return v; }

closure make_counter(int start) {
    counter_ctx *c = malloc(sizeof *c);       /* outlives make_counter: heap */
    c->next = start;
    return (closure){ counter_fn, c };
}
closure make_counter_wrong(int start) {
    counter_ctx c = { start };                /* dies when make_counter_wrong returns */
    return (closure){ counter_fn, &c };
}
""")

c(r"""
closure counter = make_counter(10);
printf("%d %d %d\n", call(counter, 1), call(counter, 1), call(counter, 1));
nb_where(counter.ctx);
closure wrong = make_counter_wrong(10);
nb_where(wrong.ctx);                          /* calling it would be undefined behaviour */
nb_check(nb_locate(counter.ctx).region == NB_HEAP && nb_locate(wrong.ctx).dead);
free(counter.ctx);
""")

md(r"""
What the heap context costs when a closure is made for every use:
""")

c(r"""
void bench_closure_stack(nb_b *b) {
    for (long i = 0; i < b->n; i++) { adder_ctx ctx = { 1 }; closure f = { adder_fn, &ctx }; nb_keep(call(f, (int)i)); }
}
void bench_closure_heap(nb_b *b) {
    for (long i = 0; i < b->n; i++) {
        adder_ctx *ctx = malloc(sizeof *ctx); ctx->add = 1;
        closure f = { adder_fn, ctx };
        nb_keep(call(f, (int)i));
        free(ctx);
    }
}
""")

c(r"""
nb_result cl_stack = nb_bench("Closure/stack-ctx", bench_closure_stack);
nb_result cl_heap  = nb_bench("Closure/heap-ctx", bench_closure_heap);
nb_check_eq(cl_stack.allocs_per_op, 0, "a stack context allocates nothing");
nb_check_eq(cl_heap.allocs_per_op, 1, "a heap context: one allocation per closure");
nb_check_gt(cl_heap.cpu_ns_per_op, 1.2 * cl_stack.cpu_ns_per_op, "a heap context costs more than a stack one");
""")

# ------------------------------------------------------- 8. large variables

md(r"""
## 8. Large variables and the stack limit

The main thread's stack has a fixed maximum size, set by the resource
limit `RLIMIT_STACK` (`ulimit -s`). The cell below asks for it.
""")

c(r"""
struct rlimit stack_limit;
getrlimit(RLIMIT_STACK, &stack_limit);
printf("stack limit: %lu KiB\n", (unsigned long)stack_limit.rlim_cur / 1024);
""")

md(r"""
A big local array is fine while it fits: the stack figure in the
measurement line grows by its size, and touching the new pages costs page
faults (also in the line).
""")

c(r"""
enum { BIG = 1 << 20 };
long sum_big_local(void) {
    char big[BIG];
    memset(big, 1, sizeof big);
    long s = 0;
    for (int i = 0; i < BIG; i += 4096) s += big[i];
    return s;
}
nb_keep(sum_big_local());
nb_check_ge(nb_stack_peak(), BIG, "the array lives on the stack");
""")

md(r"""
Data that is big, or whose size is not known in advance, belongs on the
heap: the limit there is the machine's memory, and `malloc` says `NULL`
when it cannot deliver. A request this large is served by a mapping of its
own (`mmap`), far from the heap region that ends at the *program break*
(`sbrk(0)`), and its memory is only taken when first written: the
process's resident memory (from `/proc/self/statm`) hardly grows with the
`malloc`, and grows by a mebibyte when the first mebibyte is written.
""")

c(r"""
/* The process's resident memory, in KiB. */
long resident_kib(void) {
    long size = 0, pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0; fclose(f); }
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

void big_on_the_heap(void) {
    long kib_before = resident_kib();
    char *big_heap = malloc(64 << 20);
    long kib_malloc = resident_kib() - kib_before;
    memset(big_heap, 1, 1 << 20);
    long kib_written = resident_kib() - kib_before - kib_malloc;
    printf("program break: %p, the 64 MiB block: %p\n", sbrk(0), (void *)big_heap);
    nb_where(big_heap);
    nb_check(big_heap != NULL && (char *)big_heap > (char *)sbrk(0), "the block lies beyond the heap region");
    nb_check_lt(kib_malloc, 256, "malloc(64 MiB) makes hardly any of it resident (KiB)");
    nb_check_ge(kib_written, 1024, "writing 1 MiB of it makes at least 1 MiB resident (KiB)");
    free(big_heap);
}
big_on_the_heap();
""")

md(r"""
Recursion spends the stack one frame at a time. Measuring one frame of a
recursive function gives how deep it could go before it reaches the limit:
""")

c(r"""
unsigned long rec_depth[2];
unsigned long recurse(unsigned long n, unsigned long limit) {
    char frame[256];
    memset(frame, (int)n, sizeof frame);
    if (n < 2) rec_depth[n] = nb_stack_depth();
    if (n == limit) return frame[0];
    return recurse(n + 1, limit) + frame[n % sizeof frame];
}
""")

c(r"""
nb_keep(recurse(0, 10));
unsigned long rec_frame = rec_depth[1] - rec_depth[0];
printf("one frame of recurse(): %lu B; the stack limit allows about %lu of them\n",
       rec_frame, (unsigned long)stack_limit.rlim_cur / rec_frame);
nb_check_ge(rec_frame, 256, "a frame holds its 256-byte array");
int survived = 41;     /* a global: watch it across the crash below */
""")

md(r"""
Without a base case the recursion never stops, and the stack runs out. The
process running the cell dies of a segmentation fault at the guard page
below the stack. The kernel survives: the cell below ends with a `Crash`
error (it is tagged `raises-exception`, so running the notebook headless
goes on), and the session continues from the state **before** the cell:
its `survived++` is undone.
""")

c(r"""
unsigned long forever(unsigned long n) {
    char frame[256];
    memset(frame, (int)n, sizeof frame);
    return forever(n + 1) + frame[n % sizeof frame];    /* no base case */
}
survived++;
forever(0);
""", tags=["raises-exception"])

c(r"""
printf("still here: survived = %d\n", survived);
nb_check(survived == 41, "the crashed cell's changes are gone");
""")

# ------------------------------------------------ 9. globals and literals

md(r"""
## 9. Globals, static locals, string literals

Three kinds of storage live as long as the program: **globals**,
**static locals** (a global visible inside one function only) and
**string literals** (constants: a program must not write to them). None of
them costs an allocation or a frame.
""")

c(r"""
int initialised_global = 7;
int zeroed_global[1024];             /* no initializer: starts as zeros */
const char *greeting = "hello";      /* the pointer is a global; the text is a literal in read-only data */
char greeting_copy[] = "hello";      /* an array initialised from a literal: a writable copy */

int *call_count(void) {
    static int calls;                /* one variable for the whole program, kept between calls */
    calls++;
    return &calls;                   /* fine: it is not in the frame */
}
""")

c(r"""
call_count(); call_count();
int *calls_addr = call_count();
printf("call_count() ran %d times\n", *calls_addr);
nb_where(&initialised_global);
nb_where(zeroed_global);
nb_where(greeting);
nb_where(greeting_copy);
nb_check(*calls_addr == 3 && call_count() == calls_addr, "one static local, at one address, for every call");
nb_check(nb_locate(calls_addr).region != NB_STACK && nb_locate(calls_addr).region != NB_HEAP);
nb_check(nb_locate(greeting).region == NB_RODATA && nb_locate(greeting_copy).region == NB_GLOBAL);
""")

md(r"""
"Must not be written" is enforced, as in a compiled program: the kernel
puts a cell's literals on pages that can be read (and executed) but not
written, so a write to one is a crash, named for what it hit. The session
goes on as it was before the cell (this cell is tagged to raise).
""")

c(r"""
char *writable_looking = (char *)greeting;   /* the cast hides the const, not the page */
writable_looking[0] = 'J';
""", tags=["raises-exception"])

c(r"""
printf("%s\n", greeting);
nb_check(greeting[0] == 'h', "the literal is unchanged after the crash");
""")

md(r"""
A static local also gives a function somewhere to return a result without
the heap, the way `asctime` and `strerror` once did. The price: every
call shares the one buffer, so a second call overwrites the first result
(and so would a call from another thread).
""")

c(r"""
const char *format_id(int id) {
    static char buf[16];
    snprintf(buf, sizeof buf, "id-%04d", id);
    return buf;
}
""")

c(r"""
const char *first_id = format_id(1);
const char *second_id = format_id(2);
printf("first: %s, second: %s\n", first_id, second_id);
nb_check(first_id == second_id, "both results are the same buffer");
""")

md(r"""
The whole picture: one pointer of each kind from this notebook, placed on
the address space: a local in a live frame, a heap block, two globals, a
string literal, a function's code.
""")

c(r"""
void whole_picture(void) {
    int local = 1;
    int *heap_block = malloc(sizeof *heap_block);
    nb_memory_map(&local, heap_block, &initialised_global, zeroed_global, greeting, whole_picture);
    free(heap_block);
    nb_keep(local);
}
whole_picture();
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| what | where it lives | how long | what it costs |
| --- | --- | --- | --- |
| local variable, fixed-size array, VLA | the function's stack frame | until the block or function ends | nothing: the frame is made by moving the stack pointer |
| `alloca` buffer | the function's stack frame | until the **function** returns, even in a loop | nothing, but it piles up in loops |
| struct parameter by value | a copy in the callee's frame | the call | a copy of the whole struct, every call |
| struct return value | registers (up to 16 bytes), else room in the caller's frame | the caller's choice | no allocation |
| `malloc`ed block | the heap | until `free` | an allocator call each way; one more thing to free |
| embedded struct, flexible array member | inside the parent's block | the parent's | no extra allocation |
| boxed "interface" value, heap closure context | the heap | until `free` | one allocation per box |
| global, static local | static storage (data, bss) | the whole program | nothing; shared by every caller and thread |
| string literal | read-only data | the whole program | nothing; must not be written |

What the cells showed:

- Locals cost no heap traffic, frames are the same size every call and are
  reused (section 1).
- Anything that outlives its function needs storage that outlives the
  frame: the heap, the caller's frame, or static storage. Returning the
  address of a local gives a dangling pointer that the compiler accepts
  (sections 2 and 7).
- Passing big structs by value costs stack and time; returning small
  structs by value costs no allocation (they come back in registers) and
  beat a heap result (section 3).
- Embedding and flexible array members cut the number of allocations and
  frees per object (section 4).
- Boxing a value behind an interface costs one allocation per box, and
  that allocation costs more than the indirect call (section 5).
- VLAs give their space back at the end of each block, `alloca` only at
  the end of the function; growing a heap array geometrically needs about
  log2(n) reallocations, growing it by a constant needs n / constant
  (section 6).
- The stack is limited; a runaway recursion crashes the cell, not the
  kernel, and the session goes back to where it was (section 8).
""")

write("02-stack-heap-examples.ipynb")
