#!/usr/bin/python3
"""Write notebooks/04-escape-analysis-examples.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_04.py
One section per way an address leaves a function, each with its measured
consequence; the conventions are gen_03.py's.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, c, escape_fact, expect, md, write

# ---------------------------------------------------------------- intro

md(r"""
# Escape analysis, by example

An address can leave its function in a handful of ways: returned, stored
in a global, stored in a heap object, handed to a callback that keeps it,
or passed down to a callee that does not. This notebook takes one complete
example of each, says whether the address escapes and whether what it
points to survives, and measures the consequence. Each cell that defines
an example starts with `%escape` (notebook 03 introduced it): above the
cell's output, the kernel's report says where each address goes, and what
gcc, clang and cppcheck say about the same code.

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

""" + ALLOC_MACROS + r"""
/* Is P safe to read from here: not in a returned frame, not in a freed block, mapped at all?
 * A macro, so that no frame of its own lies over the returned frame it is asked about. */
#define ALIVE(p) ({ nb_place w_ = nb_locate(p); !w_.dead && w_.region != NB_HEAP_FREED && w_.region != NB_UNMAPPED; })
""")

md(r"""
Two helpers for every section: a call that takes over the stack below the
caller (as any next call does, here with zeros), and a type to work with.
""")

c(r"""
void another_call(void) { volatile char scratch[512]; for (int i = 0; i < 512; i++) scratch[i] = 0; }
typedef struct { double x, y; } point;
""")

# ------------------------------------------- 1. returning the address of a local

md(r"""
## 1. Returning the address of a local

The classic mistake: the result is built in the frame and its address
returned. The address escapes; the frame does not. The fix is to return
the value itself: a 16-byte struct comes back in registers.
""")

c(r"""
%escape
point *make_point_wrong(double x, double y) { point p = { x, y }; return &p; }   /* dangles */
point make_point(double x, double y) { return (point){ x, y }; }                 /* by value */
""")
expect(escape=[escape_fact("make_point_wrong", "p", "escapes to caller", "dangling")])

c(r"""
point *wrong = make_point_wrong(1, 2);
double x_at_once = wrong->x;
another_call();
double x_later = wrong->x;
point right = make_point(1, 2);
printf("wrong->x: %g at once, %g after another call; right.x = %g\n", x_at_once, x_later, right.x);
nb_where(wrong);
nb_check(!ALIVE(wrong), "the point was in a frame that has returned");
nb_check_ne(x_later, 1, "the next call overwrote it");
nb_check_eq(ALLOCS_OF(right = make_point(3, 4)), 0, "returning by value allocates nothing");
""")

# ------------------------------------------------- 2. returning heap memory

md(r"""
## 2. Returning heap memory

The address escapes, and that is fine: the block lives until someone frees
it, and the caller now owns it. The measured consequence is the ownership:
each call leaves live bytes behind until the caller gives them back.
""")

c(r"""
%escape
point *new_point(double x, double y) { point *p = malloc(sizeof *p); p->x = x; p->y = y; return p; }
""")
expect(escape=[escape_fact("new_point", "malloc(sizeof *p)", "escapes to caller", "the caller owns it")])

c(r"""
point *kept[1000];
nb_heap_counts at_start = nb_heap();
for (int i = 0; i < 1000; i++) kept[i] = new_point(i, i);
long long held = nb_heap().live_bytes - at_start.live_bytes;
for (int i = 0; i < 1000; i++) free(kept[i]);
long long held_after_free = nb_heap().live_bytes - at_start.live_bytes;
printf("1000 points: %lld B live while the caller holds them, %lld B after it frees them\n", held, held_after_free);
nb_check_eq(held, 1000 * sizeof(point), "every call leaves its block to the caller");
nb_check_eq(held_after_free, 0, "until the caller frees it");
""")

md(r"""
Once freed, the block is gone, whatever pointers to it are left. A small
block goes back to the allocator's lists, so a read through a stale
pointer still finds memory. A big block goes back to the kernel, and a
read is a crash: the cell below fails on purpose, and the kernel reports
the address and that nothing is mapped there.
""")

c(r"""
double *samples = malloc(64 << 20);    /* 64 MiB: always a mapping of its own */
samples[0] = 1;
free(samples);
printf("%g\n", samples[0]);            /* use after free */
""", tags=["raises-exception"])
expect(ename="Crash")

# ------------------------------------------------- 3. storing into a global

md(r"""
## 3. Storing into a global

A global outlives every frame, so whatever it points to must too. `greet`
below remembers the last name it made by keeping a pointer to its local
buffer: the address escapes through the global and dangles as soon as
`greet` returns. The fix copies the text into storage as long-lived as the
global.
""")

c(r"""
%escape
const char *last_name;                          /* who was greeted last */
void greet_wrong(int id) {
    char name[16];
    snprintf(name, sizeof name, "guest-%d", id);
    last_name = name;                           /* escapes through the global: dangles */
}
char last_name_copy[16];
void greet(int id) {
    snprintf(last_name_copy, sizeof last_name_copy, "guest-%d", id);
    last_name = last_name_copy;                 /* points at static storage */
}
""")
expect(escape=[escape_fact("greet_wrong", "name", "escapes to global")])

c(r"""
greet_wrong(7);
another_call();
char first_letter = last_name[0];
nb_where(last_name);
nb_check(!ALIVE(last_name), "the global points into a returned frame");
nb_check_ne(first_letter, 'g', "the next call overwrote the name");
greet(7);
printf("after greet(7): %s\n", last_name);
nb_where(last_name);
nb_check(ALIVE(last_name) && strcmp(last_name, "guest-7") == 0, "a copy in static storage lasts");
""")

# ------------------------------------------------- 4. into a heap struct

md(r"""
## 4. Storing into a heap struct

A heap object lives on after its constructor returns; a pointer inside it
to the constructor's local does not. The object itself is fine, the field
dangles. Two fixes: copy the text **into** the object (one block), or into
a block of its own (two blocks, two frees).

The report follows `name` into the returned object: it escapes to the
caller, dangling. It follows the `strdup` block of `user_new` the same way:
stored in the `user` that is returned, it goes to the caller with it (the
caller frees both, below).
""")

c(r"""
%escape
typedef struct { int id; const char *name; } user;          /* name points elsewhere */
typedef struct { int id; char name[16]; } user_inline;      /* name inside the block */

user *user_new_wrong(int id) {
    char name[16];
    snprintf(name, sizeof name, "user-%d", id);
    user *u = malloc(sizeof *u);
    u->id = id;
    u->name = name;                             /* escapes through the heap object: dangles */
    return u;
}
user *user_new(int id) {
    char name[16];
    snprintf(name, sizeof name, "user-%d", id);
    user *u = malloc(sizeof *u);
    u->id = id;
    u->name = strdup(name);                     /* a block of its own */
    return u;
}
user_inline *user_inline_new(int id) {
    user_inline *u = malloc(sizeof *u);
    u->id = id;
    snprintf(u->name, sizeof u->name, "user-%d", id);
    return u;
}
""")
expect(escape=[escape_fact("user_new_wrong", "name", "escapes to caller", "dangling"),
               escape_fact("user_new", "strdup(name)", "escapes to caller")])

c(r"""
user *bad_user = user_new_wrong(1);
user *good_user = NULL;
user_inline *inline_user = NULL;
unsigned long long two_blocks = ALLOCS_OF(good_user = user_new(2));
unsigned long long one_block = ALLOCS_OF(inline_user = user_inline_new(3));
nb_where(bad_user);
nb_where(bad_user->name);
nb_where(good_user->name);
nb_where(inline_user->name);
nb_check(ALIVE(bad_user) && !ALIVE(bad_user->name), "the object lives, its field dangles");
nb_check(nb_locate(inline_user->name).base == inline_user, "the inline name is inside its object");
nb_check_eq(two_blocks, 2, "a name of its own: two blocks");
nb_check_eq(one_block, 1, "a name inside: one");
free(bad_user); free((char *)good_user->name); free(good_user); free(inline_user);
""")

# ------------------------------------------------- 5. passing a pointer down

md(r"""
## 5. Passing a pointer down

The case that needs nothing: the caller's buffer goes **down** to a callee
that fills it and keeps nothing. The address leaves the caller's frame
only while that frame is alive, so nothing escapes, and nothing needs the
heap. The report agrees, and of the heap version says an array on the
stack would do.
""")

c(r"""
%escape
void fill_squares(int *out, int n) { for (int i = 0; i < n; i++) out[i] = i * i; }
long sum_squares_stack(int n) {                 /* n <= 64 */
    int buf[64];
    long sum = 0;
    fill_squares(buf, n);
    for (int i = 0; i < n; i++) sum += buf[i];
    return sum;
}
long sum_squares_heap(int n) {                  /* the same with a heap buffer, for comparison */
    int *buf = malloc(n * sizeof *buf);
    long sum = 0;
    fill_squares(buf, n);
    for (int i = 0; i < n; i++) sum += buf[i];
    free(buf);
    return sum;
}
""")
expect(escape=[escape_fact("sum_squares_stack", "buf", "does not escape"),
               escape_fact("sum_squares_heap", "malloc(n * sizeof *buf)", "does not escape", "on the stack would do")])

md(r"""
From inside a callee, the caller's buffer is in a live frame, above the
callee's own:
""")

c(r"""
nb_place seen_by_callee;
void look_from_callee(const int *buf) { seen_by_callee = nb_where(buf); }
void pass_down(void) { int buf[8]; fill_squares(buf, 8); look_from_callee(buf); }
""")

c(r"""
long down = 0;
unsigned long long down_allocs = ALLOCS_OF(down = sum_squares_stack(10));
pass_down();
printf("sum of squares below 10: %ld\n", down);
nb_check_eq(down, 285);
nb_check(seen_by_callee.region == NB_STACK && !seen_by_callee.dead, "the caller's frame is live");
nb_check_eq(down_allocs, 0, "nothing escaped, nothing allocated");
""")

md(r"""
What the heap would cost for the same buffer of four `int`s, measured:
`nb_bench_interleaved` runs the two versions in turns, so that the load of
a busy machine weighs on both alike, and the chart shows the medians.
""")

c(r"""
void bench_down_stack(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(sum_squares_stack(4)); }
void bench_down_heap(nb_b *b)  { for (long i = 0; i < b->n; i++) nb_keep(sum_squares_heap(4)); }
""")

c(r"""
nb_bench_case squares[] = { { "Squares/stack-buffer", bench_down_stack }, { "Squares/heap-buffer", bench_down_heap } };
nb_bench_interleaved(squares, 2);
nb_result stack_buf = squares[0].result, heap_buf = squares[1].result;
nb_bench_chart();
nb_check_eq(stack_buf.allocs_per_op, 0, "passing a stack buffer down allocates nothing");
nb_check_eq(heap_buf.allocs_per_op, 1, "the heap buffer: one allocation per call");
nb_check_gt(heap_buf.cpu_ns_per_op, 1.2 * stack_buf.cpu_ns_per_op, "and costs CPU time");
""")

# ------------------------------------------------- 6. callbacks with context

md(r"""
## 6. Callbacks with context

C's closures are a function pointer plus a `void *` context. Whether the
context escapes depends on **when** the callback runs. `for_each` calls
back before it returns, so a context in the caller's frame is fine. A
registry that keeps the callback to call it **later** makes the context
escape: it must outlive the frame that registered it.

The report cannot see which function a function pointer will call, so
of the context passed to `for_each` it says only that it *may* escape; of
the registry it is sure.
""")

c(r"""
%escape
typedef void (*visit_fn)(int value, void *ctx);
void add_to(int value, void *ctx) { *(long *)ctx += value; }

void for_each(const int *a, int n, visit_fn fn, void *ctx) { for (int i = 0; i < n; i++) fn(a[i], ctx); }
long sum_with_callback(const int *a, int n) { long sum = 0; for_each(a, n, add_to, &sum); return sum; }

struct { visit_fn fn; void *ctx; } pending;     /* a registry of one: called later */
void on_value(visit_fn fn, void *ctx) { pending.fn = fn; pending.ctx = ctx; }
void value_arrived(int value) { pending.fn(value, pending.ctx); }

void start_counting_wrong(void) { long total = 0; on_value(add_to, &total); }   /* escapes: dangles */
long *start_counting(void) { long *total = calloc(1, sizeof *total); on_value(add_to, total); return total; }
""")
expect(escape=[escape_fact("sum_with_callback", "sum", "may escape", "function pointer"),
               escape_fact("start_counting_wrong", "total", "escapes to global", "kept by on_value")])

c(r"""
int values[] = { 1, 2, 3, 4 };
long now = 0;
unsigned long long sync_allocs = ALLOCS_OF(now = sum_with_callback(values, 4));
printf("called back at once: sum = %ld, %llu allocations\n", now, sync_allocs);
nb_check(now == 10 && sync_allocs == 0, "a context in the frame is fine while the frame runs");
""")

md(r"""
The registered context of `start_counting_wrong` is checked, not used:
the callback would write into whatever frame lies there when a value
arrives (here, quite possibly `value_arrived`'s own). The heap context
works, and costs one allocation, freed by whoever unregisters it.
""")

c(r"""
start_counting_wrong();
nb_where(pending.ctx);
nb_check(!ALIVE(pending.ctx), "the registered context dangles");
long *total = NULL;
unsigned long long later_allocs = ALLOCS_OF(total = start_counting());
for (int i = 0; i < 4; i++) value_arrived(values[i]);
printf("called back later: total = %ld, %llu allocation\n", *total, later_allocs);
nb_check(*total == 10 && later_allocs == 1, "a heap context outlives the frame, for one allocation");
free(total);
pending.fn = NULL; pending.ctx = NULL;
""")

# ------------------------------------------------- 7. arrays decay

md(r"""
## 7. Arrays decaying to pointers

An array used as a value becomes a pointer to its first element. A
parameter declared `int a[10]` is really `int *a`: the callee knows only
the address. And `return a;` for a local array returns that address, which
escapes as in section 1.
""")

c(r"""
%escape
size_t size_seen_by_callee(int a[10]) { return sizeof a; }       /* a is an int *: the [10] is ignored */
int *first_ten_wrong(void) { int a[10]; for (int i = 0; i < 10; i++) a[i] = i; return a; }  /* dangles */
void first_ten(int *out, int n) { for (int i = 0; i < n; i++) out[i] = i; }               /* caller's array */
""")
expect(escape=[escape_fact("first_ten_wrong", "a", "escapes to caller", "dangling")])

c(r"""
int ten[10];
size_t in_caller = sizeof ten, in_callee = size_seen_by_callee(ten);
printf("sizeof the array: %zu B in the caller, %zu B in the callee\n", in_caller, in_callee);
nb_check_eq(in_caller, 10 * sizeof(int), "the caller sees the array");
nb_check_eq(in_callee, sizeof(int *), "the callee sees a pointer");
int *decayed = first_ten_wrong();
nb_where(decayed);
nb_check(!ALIVE(decayed), "a returned local array dangles");
first_ten(ten, 10);
nb_check_eq(ten[9], 9, "the caller's array, filled below it, lasts");
""")

# ------------------------------------------------- 8. compound literals

md(r"""
## 8. Compound literals and their lifetime

`(int[]){ 1, 2, 3 }` makes an unnamed object. Inside a function it is an
automatic object, like a local: it lives until the end of the enclosing
block, and returning its address dangles. At file scope, in a compiled C
file, it has static storage.
""")

c(r"""
%escape
int *literal_in_function(void) { return (int[]){ 1, 2, 3 }; }    /* automatic: dangles */
int sum_of_literal(void) { int *p = (int[]){ 1, 2, 3 }; return p[0] + p[1] + p[2]; }   /* fine */
""")
expect(escape=[escape_fact("literal_in_function", "(int[]) { 1, 2, 3 }", "escapes to caller", "dangling"),
               escape_fact("sum_of_literal", "(int[]) { 1, 2, 3 }", "does not escape")])

c(r"""
int *from_function = literal_in_function();
nb_where(from_function);
nb_check(!ALIVE(from_function), "the literal died with the function's frame");
nb_check_eq(sum_of_literal(), 6, "used inside its block, it is fine");
""")

md(r"""
At a cell's top level, a global's initializer is at file scope, as in a
compiled file: a compound literal in it has static storage. It lives as
long as the session, later cells use it, and it is writable unless its
type is const (a const one is read-only data, where gcc and clang put it,
in `.rodata`). `nb_where` names it after the global whose initializer
holds it. A compound literal in a *statement* at the cell's top level is
another thing: the cell's statements run as a block, as if in `main`'s
body, so it is a block-scope object, automatic, in the cell's frame, and
it dies when the cell ends, as one in `main` would when `main` returns.
""")

c(r"""
int *literal_at_top = (int[]){ 1, 2, 3 };            /* file scope: static storage */
const int *const_literal = (const int[]){ 4, 5, 6 }; /* const: read-only data */
int *literal_in_statement;
literal_in_statement = (int[]){ 7, 8, 9 };           /* a statement: block scope, automatic */
nb_where(literal_at_top);
nb_where(const_literal);
nb_where(literal_in_statement);
nb_check(nb_locate(literal_at_top).region == NB_GLOBAL, "a top-level initializer's literal is global data");
nb_check(nb_locate(const_literal).region == NB_RODATA, "a const one is read-only data");
nb_check(nb_locate(literal_in_statement).region == NB_STACK, "a statement's literal is in the cell's frame");
""")

md(r"""
The cell has ended. Its static literal is still there, holding its values
whatever calls run in between, and it can be written:
""")

c(r"""
another_call();
nb_where(literal_at_top);
nb_check(ALIVE(literal_at_top) && literal_at_top[0] + literal_at_top[1] + literal_at_top[2] == 6,
         "the literal outlived its cell, values intact");
literal_at_top[0] = 10;
nb_check_eq(literal_at_top[0], 10, "it is writable: its type is not const");
""")

# ------------------------------------------------- 9. what the compilers see

md(r"""
## 9. What the compilers see

tcc said nothing about any of these mistakes; `%escape`'s own analysis
flagged each of them. gcc and clang warn where they can see one: `%%cc`
compiles a cell with either, and what it defines joins the session. The
six mistakes of sections 1 to 8, renamed, with gcc's warnings on
(`-Wdangling-pointer=2` is not in `-Wall`):
""")

c(r"""
%%cc gcc -O2 -Wall -Wdangling-pointer=2
point *make_point_wrong_gcc(double x, double y) { point p = { x, y }; return &p; }
void greet_wrong_gcc(int id) { char name[16]; snprintf(name, sizeof name, "guest-%d", id); last_name = name; }
user *user_new_wrong_gcc(int id) {
    char name[16];
    snprintf(name, sizeof name, "user-%d", id);
    user *u = malloc(sizeof *u);
    u->id = id;
    u->name = name;
    return u;
}
void start_counting_wrong_gcc(void) { long total = 0; on_value(add_to, &total); }
int *first_ten_wrong_gcc(void) { int a[10]; for (int i = 0; i < 10; i++) a[i] = i; return a; }
int *literal_in_function_gcc(void) { return (int[]){ 1, 2, 3 }; }
""")

md(r"""
Four warnings for six mistakes: gcc does not follow the address into the
heap object's field or into the registry that `on_value` fills. clang,
with its warnings on, given the four that gcc saw:
""")

c(r"""
%%cc clang -O2 -Wall
point *make_point_wrong_clang(double x, double y) { point p = { x, y }; return &p; }
void greet_wrong_clang(int id) { char name[16]; snprintf(name, sizeof name, "guest-%d", id); last_name = name; }
int *first_ten_wrong_clang(void) { int a[10]; for (int i = 0; i < 10; i++) a[i] = i; return a; }
int *literal_in_function_clang(void) { return (int[]){ 1, 2, 3 }; }
""")

md(r"""
At run time the two that gcc missed are as easy to see as the others.
Under `%%check` (the kernel's memory checker), reading the heap user's
name ends the cell with a `MemoryError` (on purpose):
""")

c(r"""
%%check
user *checked_user = user_new_wrong(4);
printf("%c\n", checked_user->name[0]);
""", tags=["raises-exception"])
expect(ename="MemoryError")

md(r"""
and so does using the registered context:
""")

c(r"""
%%check
start_counting_wrong();
printf("%ld\n", *(long *)pending.ctx);
""", tags=["raises-exception"])
expect(ename="MemoryError")

md(r"""
Where gcc -O2 sees a local's address returned, it returns `NULL`
instead: the mistake becomes a null pointer, which crashes at its first
use rather than reading a stale value. clang returns the address, as tcc
does.
""")

c(r"""
void *returned_by_gcc[3], *returned_by_clang[3];
returned_by_gcc[0] = make_point_wrong_gcc(1, 2);
returned_by_gcc[1] = first_ten_wrong_gcc();
returned_by_gcc[2] = literal_in_function_gcc();
returned_by_clang[0] = make_point_wrong_clang(1, 2);
returned_by_clang[1] = first_ten_wrong_clang();
returned_by_clang[2] = literal_in_function_clang();
const char *mistake[] = { "return &p (section 1)", "return a local array (section 7)",
                          "return a compound literal (section 8)" };
nb_table *returned = nb_table_new("mistake|gcc -O2 returns|clang -O2 returns");
for (int i = 0; i < 3; i++) {
    nb_place w = nb_locate(returned_by_clang[i]);
    nb_table_row(returned, "%s|%s|%s", mistake[i], returned_by_gcc[i] ? "an address" : "NULL", w.text);
}
nb_table_show(returned);
for (int i = 0; i < 3; i++) {
    nb_check(returned_by_gcc[i] == NULL, "gcc returns NULL");
    nb_check(!ALIVE(returned_by_clang[i]), "clang returns the dangling address");
}
""")

# ------------------------------------------------- 10. all together

md(r"""
## 10. All together

Every example once more, each address that left its function placed on the
map and judged from the caller: the dangling ones at the top, in frames
that have returned; the good ones among the globals and on the heap.
""")

c(r"""
void every_example(void) {
    point *local_point = make_point_wrong(1, 2);
    point *heap_point = new_point(1, 2);
    greet_wrong(1);
    const char *global_to_local = last_name;
    user *heap_user = user_new_wrong(1);
    const char *field_to_local = heap_user->name;
    start_counting_wrong();
    void *registered_ctx = pending.ctx;
    int *decayed_array = first_ten_wrong();
    int *compound = literal_in_function();
    greet(1);
    const char *global_to_static = last_name;
    const char *what[] = { "returned address of a local", "returned heap block", "global -> local",
                           "heap field -> local", "registered context -> local", "returned local array",
                           "returned compound literal", "global -> static copy" };
    const void *where[] = { local_point, heap_point, global_to_local, field_to_local, registered_ctx,
                            decayed_array, compound, global_to_static };
    nb_table *t = nb_table_new("example|where the address points|alive after the function returned?");
    int alive_count = 0;
    for (int i = 0; i < 8; i++) {
        nb_place w = nb_locate(where[i]);
        int ok = ALIVE(where[i]);
        alive_count += ok;
        nb_table_row(t, "%s|%s|%s", what[i], nb_region_name(w.region), ok ? "yes" : "no: dangling");
    }
    nb_table_show(t);
    nb_memory_map(local_point, heap_point, global_to_local, field_to_local, global_to_static);
    nb_check_eq(alive_count, 2, "two of eight survive: the heap block and the static copy");
    free(heap_point);
    free(heap_user);
    pending.fn = NULL; pending.ctx = NULL;
}
every_example();
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| example | does the address escape? | is it safe? | the fix, or why it is fine | `%escape` says | gcc warns (§9) | clang `-Wall` warns (§9) | section |
| --- | --- | --- | --- | --- | --- | --- | --- |
| return `&local` | yes | no: dangles | return the value | escapes to caller: dangling | yes (and returns `NULL`) | yes | 1 |
| return a `malloc`ed block | yes | yes: the caller owns it | the caller frees it, once | escapes to caller: the caller owns it | | | 2 |
| global = `&local` | yes | no: dangles | copy into static storage (or the heap) | escapes to global | yes, with `-Wdangling-pointer=2` | no | 3 |
| heap struct field = `&local` | yes | no: the object lives, the field dangles | copy into the object (one block) or a block of its own | escapes to caller: dangling | no | no | 4 |
| pass `&local` down | no | yes | the frame outlives the call | does not escape | | | 5 |
| callback context, called at once | no | yes | the frame outlives the call | may escape (through a function pointer) | | | 6 |
| callback context, kept for later | yes | no on the stack | a heap context, freed when unregistered | escapes to global | no | no | 6 |
| return a local array | yes (it decays to a pointer) | no: dangles | the caller passes the array in | escapes to caller: dangling | yes (and returns `NULL`) | yes | 7 |
| return a compound literal | yes | no: dangles | use it inside its block, or a named static | escapes to caller: dangling | yes (and returns `NULL`) | no | 8 |

At run time, `%%check` caught the reads through the two dangling pointers
that gcc's and clang's warnings missed (section 9).

The next notebook, [`05-escape-analysis-detailed`](05-escape-analysis-detailed.ipynb), goes into harder cases:
out-parameters, loops, `alloca`, `setjmp`, threads and static locals.
""")

write("04-escape-analysis-examples.ipynb")
