#!/usr/bin/python3
"""Write notebooks/03-escape-analysis.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_03.py
Same pattern as gen_01.py and gen_02.py: markdown and C cells alternate, one
idea per cell, every figure comes from a cell's output (never typed into the
prose), claims are checked with nb_check on exact counts where possible and
on CPU time with wide margins where they are times.
"""
from nbgen import ALLOC_MACROS, MEASURE_INTRO, c, escape_fact, expect, md, write

# ---------------------------------------------------------------- intro

md(r"""
# Escape analysis in C

A pointer **escapes** its function when it can still be used after the
function returns. Go's compiler works this out for every variable whose
address is taken (its *escape analysis*) and moves the ones that escape to
the heap. A C compiler moves nothing: a local lives in its frame, and a
pointer to it that escapes dangles. This notebook shows what stays on the
stack, what must be put somewhere else and where, how to check, and what
keeping things from escaping saves.

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

""" + ALLOC_MACROS)

# ------------------------------------------------- 1. what escape analysis is

md(r"""
## 1. What escape analysis is, and why C leaves it to you

The same function, written the way Go allows: it returns the address of
its local. Go would put `answer` on the heap. tcc compiles it as written,
without a word, and `answer` stays in the frame.

The cell starts with `%escape`: the kernel's escape report, what Go's
`go build -gcflags=-m` is for Go. Above the cell's output it says, for
each function the cell defines, where each address goes, and below that
what gcc, clang and cppcheck say about the same code.
""")

c(r"""
%escape
int *address_of_local(int v) { int answer = v; return &answer; }    /* escapes: dangles */
void another_call(void) { volatile int scratch[64]; for (int i = 0; i < 64; i++) scratch[i] = -1; }
""")
expect(escape=[escape_fact("address_of_local", "answer", "escapes to caller", "dangling")])

md(r"""
The caller gets an address in a frame that has returned. Reading through
it is undefined behaviour; with tcc it reads whatever the stack holds
there now. Right after the call that is still the answer, but the next
call's frame lands on the same bytes:
""")

c(r"""
int *dangling = address_of_local(42);
int read_at_once = *dangling;
another_call();
int read_later = *dangling;
printf("read at once: %d, after another call: %d\n", read_at_once, read_later);
nb_where(dangling);
nb_check(nb_locate(dangling).region == NB_STACK && nb_locate(dangling).dead, "the frame has returned");
nb_check_ne(read_later, 42, "the next call took the bytes over");
""")

md(r"""
So in C, escape analysis is the programmer's job: for each address that
leaves a function, decide where the object must live so that it outlives
the frame. The compiler still does its own escape analysis, but only to
optimise what it is allowed to: a `malloc`ed block that never leaves can
be removed (section 5).
""")

# ------------------------------------------------- 2. what stays on the stack

md(r"""
## 2. What stays on the stack

A local stays in its frame, safely, when its address is used only while
the frame is alive: passed **down** to a function that uses it and keeps
nothing. `sum_to` passes the address of its `total` a hundred times, and
`note` records where the callee found it. The report follows `&total` into
both callees and finds that neither keeps it.
""")

c(r"""
%escape
void add_into(long *total, long x) { *total += x; }            /* uses the pointer, keeps nothing */
nb_place seen_by_callee;
void note(const long *p) { seen_by_callee = nb_locate(p); }

long sum_to(long n) {
    long total = 0;
    for (long i = 1; i <= n; i++) add_into(&total, i);
    note(&total);
    return total;                                              /* the value leaves, not the address */
}
""")
expect(escape=[escape_fact("sum_to", "total", "does not escape"),
               escape_fact("add_into", "total", "does not escape")])

c(r"""
long result;
unsigned long long allocs = ALLOCS_OF(result = sum_to(100));
printf("sum_to(100) = %ld; the callee saw &total at: %s\n", result, seen_by_callee.text);
nb_check_eq(result, 5050);
nb_check(seen_by_callee.region == NB_STACK && !seen_by_callee.dead, "a live frame, the caller's");
nb_check_eq(allocs, 0, "nothing escaped, nothing allocated");
""")

# ------------------------------------------------- 3. what must escape

md(r"""
## 3. What must escape, and where it can go

A result that outlives its function needs a home that outlives the frame.
C offers three; the fourth function below is the mistake. All four return
an address, so the report says each one escapes to the caller; its
reasons tell them apart: the caller owns the heap block, the static stays
valid, the caller's own buffer comes back, the local dangles.

| home | who owns it | how long |
| --- | --- | --- |
| the heap (`malloc`) | the caller, who must `free` | until `free` |
| static storage | nobody: one copy for every call | the whole program |
| the caller's frame (a buffer passed in) | the caller | until the caller returns |
""")

c(r"""
%escape
/* Write "id-" and ID in four hex digits into S (8 bytes with the 0): shifts and a table,
 * so that the formatting costs next to nothing beside where the result goes. */
char *format_id(char *s, int id) {
    memcpy(s, "id-", 3);
    for (int i = 0; i < 4; i++) s[3 + i] = "0123456789abcdef"[(id >> (12 - 4 * i)) & 15];
    s[7] = 0;
    return s;
}
char *label_heap(int id)          { return format_id(malloc(8), id); }    /* the caller frees */
char *label_static(int id)        { static char s[8]; return format_id(s, id); }
char *label_into(char *s, int id) { return format_id(s, id); }             /* the caller's buffer */
char *label_local(int id)         { char s[8]; return format_id(s, id); }  /* wrong: dangles */
""")
expect(escape=[escape_fact("label_heap", "malloc(8)", "escapes to caller", "the caller owns it"),
               escape_fact("label_static", "s", "escapes to caller", "stays valid"),
               escape_fact("label_into", "s", "escapes to caller", "leaking param"),
               escape_fact("label_local", "s", "escapes to caller", "dangling")],
       escape_none=[{"function": "label_local", "source_has": tool} for tool in ("gcc", "clang", "cppcheck")])

md(r"""
Each is called for item 1 and then for item 2, and the first result is
read after the second call. The heap and the caller's buffer keep it; the
static buffer is shared, so the second call overwrote the first; the
local's frame is gone.
""")

c(r"""
unsigned long long home_allocs[4];
void compare_homes(void) {
    char mine[8];
    char *from_heap, *from_static, *into_mine, *from_local;
    home_allocs[0] = ALLOCS_OF(from_heap = label_heap(1));
    home_allocs[1] = ALLOCS_OF(from_static = label_static(1));
    home_allocs[2] = ALLOCS_OF(into_mine = label_into(mine, 1));
    home_allocs[3] = ALLOCS_OF(from_local = label_local(1));
    char *heap_2 = label_heap(2), *static_2 = label_static(2);
    printf("heap:   first %s, second %s\n", from_heap, heap_2);
    printf("static: first %s, second %s\n", from_static, static_2);
    printf("into:   first %s\n", into_mine);
    nb_memory_map(from_heap, from_static, into_mine, from_local);
    nb_check(strcmp(from_heap, "id-0001") == 0 && strcmp(into_mine, "id-0001") == 0, "heap and caller keep it");
    nb_check(from_static == static_2 && strcmp(from_static, "id-0002") == 0, "the static buffer is shared");
    nb_check(nb_locate(from_local).dead, "the local one dangles");
    free(from_heap);
    free(heap_2);
}
compare_homes();
""")

md(r"""
On the map: the heap block far down, the static buffer among the cells'
globals, and two stack addresses at the top: the caller's buffer (live
while `compare_homes` ran) and the returned local's (below the stack
pointer, in a frame that had returned). The allocations each way, counted:
""")

c(r"""
nb_table *t = nb_table_new("home|allocations per call|the first result after a second call");
nb_table_row(t, "heap|%llu|kept (the caller frees it)", home_allocs[0]);
nb_table_row(t, "static|%llu|overwritten: one buffer for every call", home_allocs[1]);
nb_table_row(t, "caller's buffer|%llu|kept while the caller runs", home_allocs[2]);
nb_table_row(t, "local (wrong)|%llu|dangling", home_allocs[3]);
nb_table_show(t);
nb_check_eq(home_allocs[0], 1, "the heap costs an allocation");
nb_check_eq(home_allocs[1] + home_allocs[2] + home_allocs[3], 0, "the others cost none");
""")

# ------------------------------------------------- 4. how to check

md(r"""
## 4. How to check

No C compiler is obliged to say anything, and tcc says nothing: every
mistake above compiled silently. Three kinds of tools fill the gap:

- a **static report** that reads the code and says which addresses leave
  their function, and whether they point into the frame: `%escape`, whose
  reports are above each definition, and below them the compilers' and
  cppcheck's messages about the same code;
- **compiler warnings**: gcc and clang warn about some of these, each
  about different cases;
- a **run-time check**, which sees the pointers the program actually
  makes.
""")

md(r"""
### Compiler warnings

`%%cc gcc -O2` compiles a cell with gcc instead of tcc; what it defines
joins the session like any cell's. gcc warns about section 1's function,
and does more: it returns `NULL` instead of the local's address, so the
mistake becomes a null pointer, a crash at the first use, not a quiet
wrong value.
""")

c(r"""
%%cc gcc -O2
int *address_of_local_gcc(int v) { int answer = v; return &answer; }
""")

md(r"""
clang warns too, and returns the address as tcc does:
""")

c(r"""
%%cc clang -O2
int *address_of_local_clang(int v) { int answer = v; return &answer; }
""")

c(r"""
int *from_tcc = address_of_local(42), *from_gcc = address_of_local_gcc(42), *from_clang = address_of_local_clang(42);
printf("tcc: %p, gcc -O2: %p, clang -O2: %p\n", (void *)from_tcc, (void *)from_gcc, (void *)from_clang);
nb_check(from_gcc == NULL, "gcc returns NULL for the address of a local");
nb_check(nb_locate(from_tcc).dead && nb_locate(from_clang).dead, "tcc and clang return the dangling address");
""")

md(r"""
A warning needs the compiler to see the mistake. In `label_local` the
address comes back through `format_id`'s result. Section 3's report
followed it there (`format_id` returns its parameter), but the compilers'
part of that report had nothing to say, and gcc, compiling the function
itself with `-Wall`, warns about nothing:
""")

c(r"""
%%cc gcc -O2 -Wall
char *label_local_gcc(int id) { char s[8]; return format_id(s, id); }   /* the same mistake, no warning */
""")

md(r"""
### A run-time check

At run time the pointers are known. `nb_locate` knows whether an address
is in a frame that has returned or a block that was freed, so a program
can ask before it reads. It must ask from the frame that holds the
pointer, so the check is a macro: a helper function's own frame would lie
over the returned frame's bytes, and they would look alive again.
""")

c(r"""
/* Is P safe to read: not in a returned frame, not in a freed block, mapped at all? A macro, not
 * a function: a function's own frame would lie over the returned frame it is asked about. */
#define ALIVE(p) ({ nb_place w_ = nb_locate(p); !w_.dead && w_.region != NB_HEAP_FREED && w_.region != NB_UNMAPPED; })
""")


c(r"""
char kept[8];
char *from_heap = label_heap(7);
const char *names[] = { "label_heap(7)", "label_static(7)", "label_into(kept, 7)", "label_local(7)",
                        "label_local_gcc(7)" };
char *results[5];
results[0] = from_heap;
results[1] = label_static(7);
results[2] = label_into(kept, 7);
results[3] = label_local(7);
results[4] = label_local_gcc(7);
nb_table *verdicts = nb_table_new("call|where the result lives|safe to read?");
for (int i = 0; i < 5; i++) {
    nb_place w = nb_locate(results[i]);
    nb_table_row(verdicts, "%s|%s|%s", names[i], w.text, ALIVE(results[i]) ? "yes" : "no");
}
nb_table_show(verdicts);
nb_check(ALIVE(results[0]) && ALIVE(results[1]) && ALIVE(results[2]), "three homes are alive");
nb_check(!ALIVE(results[3]) && !ALIVE(results[4]), "the locals' are not, whichever compiler");
free(from_heap);
nb_check(!ALIVE(from_heap), "nor is a heap block once freed");
""")

md(r"""
The kernel's memory checker asks for every access. A cell that starts
with `%%check` is compiled with tcc's bounds checking and run with the
kernel's checker behind it: the read through section 1's dangling pointer
ends the cell with a `MemoryError` at its line (the cell fails on
purpose), and the session goes on as it was before the cell.
""")

c(r"""
%%check
int *checked = address_of_local(42);
printf("%d\n", *checked);
""", tags=["raises-exception"])
expect(ename="MemoryError")

# ------------------------------------------------- 5. optimisation

md(r"""
## 5. Optimisation: keep it from escaping

Every result that escapes to the heap costs a `malloc` and a `free`. Two
rewrites keep it in a frame: the caller passes the buffer in (above:
`label_into`), or the function returns the result **by value**, in a
struct that holds the array: 8 bytes, which come back in a register.

`nb_bench_interleaved` measures the three in turns (a run of each, five
times), so that whatever else the machine does weighs on all three alike.
""")

c(r"""
typedef struct { char s[8]; } label;             /* 8 bytes: it comes back in a register */
label label_value(int id) { label l; format_id(l.s, id); return l; }

void bench_heap(nb_b *b)  { for (long i = 0; i < b->n; i++) { char *s = label_heap(i); nb_keep(s[3]); free(s); } }
void bench_into(nb_b *b)  { for (long i = 0; i < b->n; i++) { char s[8]; label_into(s, i); nb_keep(s[3]); } }
void bench_value(nb_b *b) { for (long i = 0; i < b->n; i++) { label l = label_value(i); nb_keep(l.s[3]); } }
""")

c(r"""
nb_bench_case labels[] = { { "Label/heap", bench_heap }, { "Label/caller-buffer", bench_into },
                           { "Label/by-value", bench_value } };
nb_bench_interleaved(labels, 3);
nb_result on_heap = labels[0].result, into = labels[1].result, by_value = labels[2].result;
nb_bench_chart();
nb_check_eq(on_heap.allocs_per_op, 1, "the heap result: one allocation per call");
nb_check_eq(into.allocs_per_op + by_value.allocs_per_op, 0, "the others: none");
nb_check_gt(on_heap.cpu_ns_per_op, 1.2 * into.cpu_ns_per_op, "the allocation costs CPU time");
nb_check_gt(on_heap.cpu_ns_per_op, 1.2 * by_value.cpu_ns_per_op, "returning by value beats the heap");
""")

md(r"""
The counts are exact: one allocation per heap label, none for the other
two. The measurement line of that cell counts all of them, for every run
the benchmarks made.
""")

md(r"""
### What an optimising compiler removes

Compilers run their own escape analysis, to optimise. A block that
`malloc` returns, that never leaves the function, and whose every use the
compiler can follow, need not exist at all. The report sees that the block
never leaves, and says a stack array would do; tcc keeps every call:
""")

c(r"""
%escape
int twice_via_heap(int x) { int *p = malloc(sizeof *p); *p = x; int r = 2 * *p; free(p); return r; }
""")
expect(escape=[escape_fact("twice_via_heap", "malloc(sizeof *p)", "does not escape", "stack array would do")])

c(r"""
long total_tcc = 0;
for (int i = 0; i < 1000; i++) total_tcc += twice_via_heap(i);
printf("total %ld\n", total_tcc);
nb_check_eq(nb_heap().allocs, 1000, "tcc: one malloc per call");
""")

md(r"""
gcc -O2 removes the pair. `--remarks` shows what the optimiser did with
each line (the "removed" remarks are the kernel's: it looks for the calls
in the machine code gcc made):
""")

c(r"""
%%cc gcc -O2 --remarks
int twice_via_heap_gcc(int x) { int *p = malloc(sizeof *p); *p = x; int r = 2 * *p; free(p); return r; }
""")

md(r"""
Called from a tcc cell, the same thousand calls:
""")

c(r"""
long total_gcc = 0;
for (int i = 0; i < 1000; i++) total_gcc += twice_via_heap_gcc(i);
printf("total %ld\n", total_gcc);
nb_check_eq(nb_heap().allocs, 0, "gcc -O2: no malloc left");
nb_check_eq(total_gcc, total_tcc, "and the same answer");
""")

# ---------------------------------------------------------------- summary

md(r"""
## Summary

| question | answer in C | shown in |
| --- | --- | --- |
| what is escape analysis? | deciding, for each address that leaves a function, where its object must live; Go's compiler does it, in C the programmer does | section 1 |
| what stays on the stack? | locals whose address goes only **down** to callees that keep nothing: no allocation | section 2 |
| what must escape? | results that outlive the function: to the heap, static storage or the caller's frame, never the callee's frame | section 3 |
| how to check? | `%escape`'s report (it also follows addresses through calls); compiler warnings, where the compiler sees the mistake (gcc -O2 also turns a returned local's address into `NULL`; clang and tcc return it); a run-time check of the pointers a run makes, by hand with `nb_locate` or on every access with `%%check` | section 4 |
| how to optimise? | a caller's buffer or a result by value instead of the heap: no allocation, less time; gcc -O2 removes a `malloc`/`free` pair whose block never leaves | section 5 |

The next notebook, [`04-escape-analysis-examples`](04-escape-analysis-examples.ipynb), takes one complete example
per way an address can leave a function.
""")

write("03-escape-analysis.ipynb")
