"""`%%check`: the run-time memory checker (runtime/checked.c), through a
real kernel.

Each bug kind of the README's table ends its cell with a MemoryError that
names the kind, the address and its region, and the cell lines of the
access, the allocation and the free; the session goes on. The rows of
the table's "without %%check" column are tested here too, on the same
cells without the magic."""
import re

import pytest

from .conftest import error_text, errors, run, shell_reply, stdout_text

HEADERS = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"


def ok(kc, code):
    reply, msgs = run(kc, code, timeout=30)
    assert reply["status"] == "ok", (code, errors(msgs))
    return stdout_text(msgs)


def memory_error(kc, code):
    """Run CODE, which must end with one MemoryError; return its
    (evalue, {"access": line, "alloc": line, "free": line}, stdout): the
    cell lines the traceback gives for the access (its innermost frame),
    the allocation and the free (None where there is none)."""
    reply, msgs = run(kc, code, timeout=30)
    errs = errors(msgs)
    assert reply["status"] == "error" and len(errs) == 1, (code, reply, errs)
    err = errs[0]
    assert err["ename"] == "MemoryError" and reply["ename"] == "MemoryError", error_text(err)
    tb = [re.sub(r"\x1b\[[0-9;]*m", "", t) for t in err["traceback"]]
    lines = {"access": None, "alloc": None, "free": None}
    heads = (("The block was allocated at:", "alloc"), ("and freed at:", "free"),
             ("Cell functions on the stack", "access"))
    for i, t in enumerate(tb[:-1]):
        for head, key in heads:
            m = re.search(r"line (\d+) of this cell", tb[i + 1]) if t.startswith(head) else None
            if m:
                lines[key] = int(m.group(1))
    assert tb[-1].startswith("The worker went back to the state from before this cell"), tb
    return err["evalue"], lines, stdout_text(msgs)


@pytest.fixture
def ck(kc):
    ok(kc, HEADERS + "int kept = 41;\nint twice(int x) { return 2 * x; }\n"
       "int *make(int n) { return malloc(n * sizeof(int)); }\n")
    return kc


ADDRESS = r"0x[0-9a-f]+"

# (name, cell, kind in evalue, region in evalue, {which: line})
CASES = [
    ("heap overflow write",
     "%%check\nint *p = malloc(10 * sizeof(int));\nfor (int i = 0; i < 10; i++) p[i] = i;\np[10] = 7;\n",
     "heap buffer overflow: write of 4 bytes", "heap", {"access": 4, "alloc": 2}),
    ("heap overflow read",
     "%%check\nint *p = malloc(10 * sizeof(int));\nfor (int i = 0; i < 10; i++) p[i] = i;\nint s = 0;\n"
     "for (int i = 0; i <= 10; i++)\n    s += p[i];\n",
     "heap buffer overflow: read of 4 bytes", "heap", {"access": 6, "alloc": 2}),
    ("heap underflow read",
     "%%check\nint *a = malloc(5 * sizeof(int));\nfor (int i = 0; i < 5; i++) a[i] = i;\nint *b = a - 1;\n"
     "int v = *b;\n",
     "heap buffer overflow: read of 4 bytes", "heap", {"access": 5, "alloc": 2}),
    ("heap overflow by strcpy",
     "%%check\nchar *s = malloc(5);\nstrcpy(s, \"hello\");\n",
     "heap buffer overflow: write of 6 bytes", "heap", {"access": 3, "alloc": 2}),
    ("stack array overflow",
     "%%check\nint fill(int n) {\n    int a[4];\n    for (int i = 0; i < n; i++)\n        a[i] = i;\n"
     "    return a[0];\n}\nfill(5);\n",
     "stack array overflow: write of 4 bytes", "stack", {"access": 5}),
    ("stack array overflow by sprintf",
     "%%check\nvoid show(int v) {\n    char buf[4];\n    sprintf(buf, \"%d\", v);\n    puts(buf);\n}\n"
     "show(12);\nshow(12345);\n",
     "stack array overflow: write of 6 bytes", "stack", {"access": 4}),
    ("heap overflow by snprintf given too large a size",
     "%%check\nchar *b = malloc(4);\nsnprintf(b, 8, \"%d\", 123456);\n",
     "heap buffer overflow: write of 7 bytes", "heap", {"access": 3, "alloc": 2}),
    ("variable-length array overflow",
     "%%check\nint vla(int n) {\n    int v[n];\n    for (int i = 0; i <= n; i++)\n        v[i] = i;\n"
     "    return v[0];\n}\nvla(5);\n",
     "stack array overflow: write of 4 bytes", "stack", {"access": 5}),
    ("global array overflow",
     "%%check\nint g[4];\nfor (int i = 0; i <= 4; i++)\n    g[i] = i;\n",
     "global array overflow: write of 4 bytes", "global data", {"access": 4}),
    ("use after free",
     "%%check\nint *q = malloc(4 * sizeof(int));\nq[0] = 1;\nfree(q);\nq[1] = 3;\n",
     "use after free: write of 4 bytes", "freed heap", {"access": 5, "alloc": 2, "free": 4}),
    ("use after free by memset",
     "%%check\nchar *f = malloc(10);\nfree(f);\nmemset(f, 1, 3);\n",
     "use after free: write of 3 bytes", "freed heap", {"access": 4, "alloc": 2, "free": 3}),
    ("use after free by printf's %s",
     "%%check\nchar *name = malloc(6);\nstrcpy(name, \"alice\");\nfree(name);\n"
     "printf(\"hello %s\\n\", name);\n",
     "use after free: read of 1 byte", "freed heap", {"access": 5, "alloc": 2, "free": 4}),
    ("double free",
     "%%check\nint *q = malloc(4 * sizeof(int));\nfree(q);\nint x = 1;\nfree(q);\n",
     "double free", "freed heap", {"access": 5, "alloc": 2, "free": 3}),
    ("free of a stack array",
     "%%check\nvoid bad(void) {\n    char b[8];\n    free(b);\n}\nbad();\n",
     "free of a pointer that was not allocated", "stack", {"access": 4}),
    ("free of a pointer into a block",
     "%%check\nchar *m = malloc(8);\nfree(m + 2);\n",
     "free of a pointer that was not allocated", "heap", {"access": 3, "alloc": 2}),
    ("free of a global",
     "%%check\nint arr[3];\nfree(arr);\n",
     "free of a pointer that was not allocated", "global data", {"access": 3}),
    ("dangling pointer to a returned function's local",
     "%%check\nint *dang(void) {\n    int x[4] = {1, 2, 3, 4};\n    int *p = x;\n    return p;\n}\n"
     "int *d = dang();\nprintf(\"%d\\n\", d[1]);\n",
     "use of a returned function's local: read of 4 bytes", "stack", {"access": 8}),
    ("a local's address returned to printf",
     "%%check\nchar *name(void) {\n    char buf[16];\n    strcpy(buf, \"bob\");\n    return buf;\n}\n"
     "printf(\"%s\\n\", name());\n",
     "use of a returned function's local: name() returns", "stack", {"access": 5}),
    ("uninitialised string printed by puts",
     "%%check\nchar *u = malloc(8);\nputs(u);\n",
     "read of uninitialised heap memory: read of 1 byte", "heap", {"access": 3, "alloc": 2}),
    ("unterminated string printed by printf",
     "%%check\nchar *v = malloc(3);\nmemcpy(v, \"abc\", 3);\nprintf(\"%s\\n\", v);\n",
     "heap buffer overflow: read of a string", "heap", {"access": 4, "alloc": 2}),
    ("uninitialised heap read",
     "%%check\nint *u = malloc(4 * sizeof(int));\nu[0] = 1;\nu[1] = 2;\nint s = u[0] + u[1];\n"
     "s += u[2];\n",
     "read of uninitialised heap memory: read of 4 bytes", "heap", {"access": 6, "alloc": 2}),
]


@pytest.mark.parametrize("name,code,kind,region,want", CASES, ids=[c[0] for c in CASES])
def test_each_bug_kind_is_a_memory_error_at_its_line(ck, name, code, kind, region, want):
    evalue, lines, _ = memory_error(ck, code)
    assert evalue.startswith(kind), evalue
    assert re.search(ADDRESS, evalue), evalue
    assert f"(region: {region}" in evalue, evalue
    for which, line in want.items():
        assert lines[which] == line, (which, lines, evalue)
    # the session goes on: what the earlier cell defined still works
    assert ok(ck, "printf(\"%d\\n\", twice(kept));") == "82\n"


def test_a_block_allocated_in_an_earlier_cells_function_names_it(ck):
    evalue, lines, _ = memory_error(ck, "%%check\nint *q = make(4);\nfree(q);\nq[0] = 1;\n")
    assert re.search(r"0 bytes into a block of 16 bytes at " + ADDRESS +
                     ", allocated in make and freed in the cell's statements", evalue), evalue
    assert lines["free"] == 3 and lines["access"] == 4, lines
    reply, msgs = run(ck, "%%check\nint *q = make(4);\nfree(q);\nq[0] = 1;\n")
    tb = errors(msgs)[0]["traceback"]
    at = tb.index("The block was allocated at:")
    assert re.match(r"  make\(\) \+ \d+, defined in cell \[\d+\], line 6$", tb[at + 1]), tb


def test_output_before_the_bug_is_kept_and_later_cells_run(ck):
    _, lines, out = memory_error(ck, "%%check\nint *p = make(2);\np[0] = 5;\n"
                                     "printf(\"before %d\\n\", p[0]);\np[2] = 1;\n")
    assert out == "before 5\n" and lines["access"] == 5
    # a later unchecked cell, and a later checked one, both run
    assert ok(ck, "printf(\"%d\\n\", kept + 1);") == "42\n"
    assert ok(ck, "%%check\nprintf(\"%d\\n\", kept + 2);") == "43\n"


CORRECT = r"""
typedef struct node { int v; struct node *next; } node;
node *push(node *h, int v) { node *n = malloc(sizeof *n); n->v = v; n->next = h; return n; }
int sum(const node *h) { int s = 0; for (; h; h = h->next) s += h->v; return s; }
void drop(node *h) { while (h) { node *n = h->next; free(h); h = n; } }
void rev(char *s) { size_t n = strlen(s); for (size_t i = 0; i < n / 2; i++) { char c = s[i]; s[i] = s[n-1-i]; s[n-1-i] = c; } }
node *h = NULL;
for (int i = 1; i <= 100; i++) h = push(h, i);
printf("sum %d\n", sum(h));
drop(h);
int a[8]; int *end = a + 8;
for (int *p = a; p < end; p++) *p = (int)(p - a) * 3;
printf("a[7] %d\n", a[7]);
char word[16]; strcpy(word, "pointers"); rev(word);
printf("%s %zu\n", word, strlen(word));
double *d = calloc(4, sizeof *d); d[3] = 2.5; printf("%.1f\n", d[0] + d[3]);
d = realloc(d, 8 * sizeof *d); d[7] = 1; printf("%.1f\n", d[3] + d[7]); free(d);
char *s = malloc(32); snprintf(s, 32, "n=%d", 42); printf("%s %c\n", s, s[2]); free(s);
"""


def test_a_correct_program_prints_the_same_with_and_without_check(kc):
    ok(kc, HEADERS)
    plain = ok(kc, CORRECT)
    checked = ok(kc, "%%check\n" + CORRECT)
    assert plain == checked == "sum 5050\na[7] 21\nsretniop 8\n2.5\n3.5\nn=42 4\n"


# Corners of C the checker must not mistake for bugs.
CORNERS = r"""
#include <setjmp.h>
#include <stdarg.h>
#include <alloca.h>
#include <pthread.h>
typedef struct { int x, y; char name[8]; } pt;
pt mkpt(int x) { pt p = { x, x * 2, "p" }; p.name[1] = '0' + x; p.name[2] = 0; return p; }
int rec(int n) { int a[3] = { n, n, n }; return n ? a[2] + rec(n - 1) : 0; }
int vla(int n) { int v[n]; for (int i = 0; i < n; i++) v[i] = i; int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }
int al(int n) { int *v = alloca(n * sizeof(int)); for (int i = 0; i < n; i++) v[i] = i; return v[n-1]; }
int sum(int n, ...) { va_list ap; va_start(ap, n); int s = 0; for (int i = 0; i < n; i++) s += va_arg(ap, int); va_end(ap); return s; }
double dsum(int n, ...) { va_list ap; va_start(ap, n); double s = 0; for (int i = 0; i < n; i++) s += va_arg(ap, double); va_end(ap); return s; }
jmp_buf jb;
void deep(int n) { char buf[16]; snprintf(buf, sizeof buf, "%d", n); if (n == 0) longjmp(jb, 7); deep(n - 1); }
int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
void *th(void *arg) { int *v = arg; int loc[4]; for (int i = 0; i < 4; i++) loc[i] = v[i] * 2; v[0] = loc[3]; return NULL; }
double avg(const double *d, int n) { double s = 0; for (int i = 0; i < n; i++) s += d[i]; return s / n; }
pt p = mkpt(3);
printf("%d %d %s\n", p.x, p.y, p.name);
printf("%d %d %d\n", rec(10), vla(10), al(5));
printf("%d %.1f\n", sum(3, 1, 2, 3), dsum(2, 1.5, 2.5));
int r = setjmp(jb);
if (!r) deep(5); else printf("jumped %d\n", r);
printf("%d\n", rec(3));
int arr[6] = { 5, 3, 9, 1, 7, 2 };
qsort(arr, 6, sizeof arr[0], cmp);
for (int i = 0; i < 6; i++) printf("%d ", arr[i]);
const char *lit = "hello";
printf("%c%c\n", lit[0], lit[4]);
int grid[3][4];
for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) grid[i][j] = i * j;
printf("%d\n", grid[2][3]);
char line[64]; strcpy(line, "a,b,c"); char *tok = strtok(line, ","); int cnt = 0;
while (tok) { cnt++; tok = strtok(NULL, ","); }
printf("%d\n", cnt);
int *tv = malloc(4 * sizeof(int)); for (int i = 0; i < 4; i++) tv[i] = i + 1;
pthread_t t; pthread_create(&t, NULL, th, tv); pthread_join(t, NULL);
printf("%d\n", tv[0]); free(tv);
double dd[4] = { 1, 2, 3, 4 }; printf("%.2f\n", avg(dd, 4));
struct big { long a[20]; } b1, b2; memset(&b1, 1, sizeof b1); b2 = b1; printf("%ld\n", b2.a[19] & 0xff);
char *sd = strdup("dup"); printf("%s %zu\n", sd, strlen(sd)); free(sd);
char *cat = malloc(16); strcpy(cat, "ab"); strcat(cat, "cd"); printf("%s %d\n", cat, strcmp(cat, "abcd")); free(cat);
long double ld[2] = { 1.5L, 2.5L }; long double lds = ld[0] + ld[1]; printf("%.1Lf\n", lds);
int *ra = malloc(5 * sizeof(int)); for (int i = 0; i < 5; i++) ra[i] = i;
int rs = 0; for (int *q = ra + 4; q >= ra; q--) rs += *q;
printf("%d\n", rs); free(ra);
int va = 0; for (int k = 1; k <= 6; k++) { int w[k]; for (int i = 0; i < k; i++) w[i] = i; va += w[k - 1]; }
int a5 = al(5), a6 = al(6), a3 = al(3);
printf("%d %d %d %d\n", va, a5, a6, a3);
"""


def test_corners_of_c_run_the_same_with_and_without_check(kc):
    ok(kc, HEADERS)
    plain = ok(kc, CORNERS)
    checked = ok(kc, "%%check\n" + CORNERS)
    assert plain == checked == ("3 6 p3\n55 45 4\n6 4.0\njumped 7\n6\n1 2 3 5 7 9 ho\n6\n3\n8\n2.50\n1\n"
                                "dup 3\nabcd 0\n4.0\n10\n15 4 5 2\n")


def test_a_returned_local_is_named_at_the_return_and_its_caller(ck):
    reply, msgs = run(ck, "%%check\nint *f(int k) {\n    int x = 42;\n    if (k)\n        return &x;\n"
                          "    return NULL;\n}\nprintf(\"%p\\n\", (void *)f(0));\nint *p = f(1);\n")
    err = errors(msgs)[0]
    assert err["evalue"].startswith("use of a returned function's local: f() returns 0x"), err
    assert "the address of its local of 4 bytes" in err["evalue"], err
    frames = err["traceback"][err["traceback"].index("Cell functions on the stack (innermost first):") + 1:]
    assert frames[0].startswith("  f() + ") and frames[1].endswith("line 9 of this cell"), frames
    # a void function whose last call leaves its local's address in rax is no bug
    assert ok(ck, "%%check\nvoid fill(void) { char b[8]; strcpy(b, \"x\"); }\nfill();\n"
                  "printf(\"ok\\n\");") == "ok\n"


def test_fgets_into_too_small_a_block(ck):
    from .test_cells import run_with_input
    c, _ = run_with_input(ck, "%%check\nchar *line = malloc(64);\nfgets(line, 64, stdin);\n"
                              "printf(\"[%s]\", line);\n", ["hello"], timeout=30)
    assert c.status == "ok" and c.stdout == "[hello\n]", c
    c, _ = run_with_input(ck, "%%check\nchar *line = malloc(4);\nfgets(line, 64, stdin);\n",
                          ["hello world"], timeout=30)
    assert c.status == "error" and c.error["ename"] == "MemoryError", c
    assert c.error["evalue"].startswith("heap buffer overflow: write of 13 bytes"), c.error["evalue"]


def test_many_blocks_freed_in_any_order_cost_little(ck):
    # 200,000 blocks, freed lowest address first and last first: the
    # checker's table of blocks must not cost a pass over it each time
    # (a sorted array did: 10 s of CPU here)
    code = ("%%check\nint n = 100000;\nint **v = malloc(n * sizeof *v);\n"
            "for (int i = 0; i < n; i++) { v[i] = malloc(sizeof(int)); *v[i] = i; }\n"
            "long s = 0;\nfor (int i = 0; i < n; i++) { s += *v[i]; free(v[i]); }\n"
            "for (int i = 0; i < n; i++) { v[i] = malloc(2 * sizeof(int)); v[i][1] = i; }\n"
            "for (int i = n - 1; i >= 0; i--) { s += v[i][1]; free(v[i]); }\n"
            "free(v);\nprintf(\"%ld\\n\", s);\n")
    m = shell_reply(ck, ck.execute(code), timeout=120)
    assert m["content"]["status"] == "ok", m["content"]
    assert m["metadata"]["ckernel"]["measure"]["cpu_ns"] < 5e9, m["metadata"]["ckernel"]["measure"]


def test_a_bug_in_an_earlier_checked_cells_function_has_that_cells_line(ck):
    reply, _ = run(ck, "%%check\nint fill(int n) {\n    int a[4];\n    for (int i = 0; i < n; i++)\n"
                       "        a[i] = i;\n    return a[0];\n}\n")
    defined_in = reply["execution_count"]
    reply, msgs = run(ck, "%%check\nint k = 3;\nfill(k + 2);\n")
    err = errors(msgs)[0]
    assert err["evalue"].startswith("stack array overflow: write of 4 bytes"), err
    frames = err["traceback"][err["traceback"].index("Cell functions on the stack (innermost first):") + 1:]
    assert re.match(r"  fill\(\) \+ \d+, line 5 of cell \[%d\]$" % defined_in, frames[0]), frames
    assert frames[1].endswith("line 3 of this cell"), frames


def test_blocks_from_earlier_cells_are_checked(ck):
    ok(ck, "typedef struct node { int v; struct node *next; } node;\n"
           "node *push(node *h, int v) { node *n = malloc(sizeof *n); n->v = v; n->next = h; return n; }\n"
           "node *list = NULL;\nfor (int i = 0; i < 5; i++) list = push(list, i);\n"
           "int *arr = malloc(3 * sizeof(int));\narr[0] = arr[1] = arr[2] = 1;\n")
    # the classic: the loop reads n->next after free(n)
    evalue, lines, _ = memory_error(ck, "%%check\nfor (node *n = list; n; n = n->next)\n    free(n);\n")
    assert evalue.startswith("use after free: read of 8 bytes"), evalue
    assert "allocated in push and freed in the cell's statements" in evalue, evalue
    assert lines["access"] == 2 and lines["free"] == 3, lines
    evalue, lines, _ = memory_error(ck, "%%check\nint s = 0;\nfor (int i = 0; i <= 3; i++)\n    s += arr[i];\n")
    assert evalue.startswith("heap buffer overflow: read of 4 bytes"), evalue
    assert re.search(r"allocated in the statements of cell \[\d+\]", evalue), evalue
    assert lines["access"] == 4 and lines["alloc"] is None, lines
    # the right way frees them all, and the session goes on without them
    assert ok(ck, "%%check\nnode *n = list;\nwhile (n) { node *next = n->next; free(n); n = next; }\n"
                  "free(arr);\nprintf(\"freed\\n\");") == "freed\n"


def test_a_checked_cells_functions_run_unchecked_in_later_cells(ck):
    ok(ck, "%%check\nint third(int *v) { return v[2]; }\n")
    # from an unchecked cell the same function is a plain call
    assert ok(ck, "int v[3] = {1, 2, 3};\nprintf(\"%d\\n\", third(v));") == "3\n"
    # from a checked cell it is checked again
    evalue, lines, _ = memory_error(ck, "%%check\nint w[2] = {1, 2};\nthird(w);\n")
    assert evalue.startswith("global array overflow: read of 4 bytes"), evalue


def test_a_write_into_a_freed_block_by_unchecked_code_is_found_when_the_cell_ends(ck):
    # poke() comes from an unchecked cell: tcc did not instrument it
    ok(ck, "void poke(char *p) { p[1] = 9; }")
    evalue, lines, _ = memory_error(ck, "%%check\nchar *b = malloc(8);\nfree(b);\npoke(b);\n")
    assert evalue.startswith("use after free: a write at"), evalue
    assert "found when the cell ended" in evalue, evalue
    assert lines["alloc"] == 2 and lines["free"] == 3, lines


def test_an_overflow_by_unchecked_code_is_found_by_the_guard_bytes(ck):
    ok(ck, "void over(char *p, int n) { p[n] = 1; }")
    evalue, lines, _ = memory_error(ck, "%%check\nchar *b = malloc(8);\nover(b, 8);\n")
    assert evalue.startswith("heap buffer overflow: a write past the end of the block of 8 B"), evalue
    assert lines["alloc"] == 2, lines


# Without %%check: what the README's table says the kernel catches anyway
# (the counted allocator's guard bytes and tags), and what it does not.
WITHOUT = [
    ("heap overflow write", "int *p = make(10);\np[10] = 7;\nfree(p);\n", "HeapCorruption"),
    ("double free", "int *q = make(4);\nfree(q);\nfree(q);\n", "HeapCorruption"),
    ("free of a global", "int arr[3];\nfree(arr);\n", "Crash"),
    ("free of a stack array", "void bad(void) { char b[8]; free(b); }\nbad();\n", "Crash"),
    ("heap overflow read", "int *p = make(10);\nint v = p[10];\nfree(p);\n", None),
    ("stack array overflow", "void fill(int n) { int a[4]; for (int i = 0; i < n; i++) a[i] = i; }\n"
     "fill(5);\n", None),
    ("use after free", "int *q = make(4);\nfree(q);\nint v = q[1];\n", None),
    ("dangling pointer", "int *dang(void) { int x[4] = {1, 2, 3, 4}; return x; }\nint *d = dang();\n"
     "int v = d[1];\n", None),
    ("uninitialised heap read", "int *u = make(4);\nint v = u[2];\nfree(u);\n", None),
]


@pytest.mark.parametrize("name,code,ename", WITHOUT, ids=[w[0] for w in WITHOUT])
def test_without_check(ck, name, code, ename):
    reply, msgs = run(ck, code, timeout=30)
    if ename is None:
        assert reply["status"] == "ok", (name, errors(msgs))
    else:
        assert reply["status"] == "error" and reply["ename"] == ename, (name, reply)
