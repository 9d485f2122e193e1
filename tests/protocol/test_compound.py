"""Compound literals at a cell's top level have the storage C gives them.

C11 6.5.2.5p5: a compound literal outside any function body has static
storage duration; inside one, automatic storage of the enclosing block. A
cell's globals are at file scope, so a literal in a global's initializer
lives for the session (worker/literals.c makes it a static object of the
cell), writable unless its type is const, then read-only as gcc and clang
put it in .rodata. The cell's statements are a block, as main's body is:
a literal in one is automatic and dies with the cell.

The tests read a literal from a later cell, after a call that writes the
stack over, where a literal of the cell's frame would have been
overwritten: those of what changed fail on the kernel before the change
(the literal dangled). Those of a statement's literal, sizeof and a
compile error's line hold for both.
"""
import random
import re
import subprocess

from .test_cells import cell, fails, ok

# a call that writes 8 KiB of the stack below the caller over
CLOBBER = ("void clobber(void) {\n"
           "    volatile char pad[8192];\n"
           "    for (int i = 0; i < 8192; i++) pad[i] = (char)0xAA;\n"
           "}\n#include <stdio.h>\n#include <string.h>\n")


def test_a_top_level_literal_outlives_its_cell(kc):
    ok(kc, CLOBBER)
    ok(kc, "struct pt { int x, y; };\n"
           "int *p = (int[]){ 1, 2, 3 };\n"
           "struct pt *q = &(struct pt){ 4, 5 };\n"
           "char *s = (char[]){ \"abc\" };\n")
    ok(kc, 'clobber();\nprintf("%d %d %d %d %d %s\\n", p[0], p[1], p[2], q->x, q->y, s);',
       stdout="1 2 3 4 5 abc\n")
    # writable, as C has it: the type is not const
    ok(kc, "p[0] = 10; q->y = 50; s[0] = 'X';")
    ok(kc, 'clobber();\nprintf("%d %d %s\\n", p[0], q->y, s);', stdout="10 50 Xbc\n")


def test_where_says_static_data_named_after_its_global(kc):
    c = cell(kc, "int *lit = (int[]){ 1, 2, 3 };\nnb_where(lit);\n"
                 "nb_locate(lit).region == NB_GLOBAL")
    assert c.status == "ok" and c.result == "(int) 1", c
    where = (r"lit = 0x[0-9a-f]+: global data: "
             r"a compound literal in the initializer of lit \(static, cell 1\), of 12 B\n")
    assert re.fullmatch(where, c.stdout), c


def test_arrays_of_pointers_nested_literals_and_struct_initializers(kc):
    ok(kc, CLOBBER)
    ok(kc, "struct node { int v; struct node *next; };\n"
           "int *table[] = { (int[]){ 10, 11 }, (int[]){ 20, 21 } };\n"      # unsized: file scope
           "int *pair[2] = { (int[]){ 30 }, (int[]){ 40 } };\n"
           "struct node *list = &(struct node){ 1, &(struct node){ 2, NULL } };\n"
           "struct config { const char *name; int *limits; }\n"
           "    config = { \"cfg\", (int[]){ 100, 200 } };\n")
    ok(kc, "clobber();\n"
           'printf("%d %d %d %d\\n", table[0][1], table[1][0], pair[0][0], pair[1][0]);\n'
           'printf("%d %d %s %d\\n", list->v, list->next->v, config.name, config.limits[1]);',
       stdout="11 20 30 40\n1 2 cfg 200\n")
    # the literals of an unsized array's initializer are writable too (not moved to read-only pages)
    ok(kc, "table[0][0] = 5; list->next->v = 6; config.limits[0] = 7;")
    ok(kc, 'clobber();\nprintf("%d %d %d\\n", table[0][0], list->next->v, config.limits[0]);',
       stdout="5 6 7\n")


def test_a_const_literal_is_read_only(kc):
    ok(kc, "const int *k = (const int[]){ 7, 8, 9 };\n"
           # holds pointers: stays writable
           "char *const *names = (char *const[]){ \"a\", \"b\" };")
    c = cell(kc, "nb_where(k);\nk[1] + names[1][0]")
    assert c.status == "ok" and c.result == "(int) 106", c
    assert re.fullmatch(r"k = 0x[0-9a-f]+: read-only data: .*\n", c.stdout), c
    fails(kc, "((int *)k)[0] = 1;", "Crash", re.compile(r"write of address .*read-only data"))
    ok(kc, "k[0] + k[1] + k[2]", result="(int) 24")          # the session went back; still there


def test_a_statement_literal_is_automatic_as_in_main(kc):
    ok(kc, "int *from_statement;\nfrom_statement = (int[]){ 7, 8, 9 };\n"
           "nb_check(nb_locate(from_statement).region == NB_STACK, \"automatic\");\n"
           "from_statement[1]", result="(int) 8")
    # a function's literal is automatic too
    ok(kc, "int *in_function(void) { int *l = (int[]){ 1, 2 }; return l; }\n"
           "nb_check(nb_locate(in_function()).region == NB_STACK, \"automatic\");")


def test_initializers_that_are_not_constant_as_for_any_global(kc):
    """A cell's globals may have any initializer (README "Cells"), run when
    the cell runs: so may a literal in one. A const literal is defined where
    it is, as C has it: its initializer must be constant, as gcc says."""
    ok(kc, CLOBBER)
    ok(kc, "int n = 4;\nint twice(int x) { return 2 * x; }")
    ok(kc, "int *dyn = (int[]){ n, twice(n) };\nint **refs = (int *[]){ &n, &n };")
    ok(kc, "clobber();\nn = 5;\ndyn[0] + dyn[1] + *refs[1]", result="(int) 17")
    fails(kc, "const int *cdyn = (const int[]){ n };", "CompileError",
          re.compile(r"line 1: error: initializer element is not constant"))
    # evaluated where it stands, in the initializer's order: only the
    # branch taken makes its literal's value, after what comes before it
    ok(kc, "int calls = 0;\nint count(void) { return ++calls; }")
    ok(kc, "int *picked = n > 3 ? (int[]){ count() } : (int[]){ count() + 100 };\n"
           "int *after = (n = 9, (int[]){ n });")
    ok(kc, "clobber();\ncalls * 100 + *picked * 10 + *after", result="(int) 119")


def test_sizeof_and_typeof_make_no_object(kc):
    c = ok(kc, "unsigned long size = sizeof (int[]){ 1, 2, 3 } + sizeof((char[]){ \"ab\" });\n"
               "__typeof__((int[]){ 1, 2 }) shaped = { 5, 6 };\n"
               "size + sizeof shaped", result="(unsigned long) 23")
    assert "__ck" not in c.stdout + c.stderr, c


def test_a_literal_made_by_a_macro(kc):
    ok(kc, CLOBBER)
    ok(kc, "#define POINT(x, y) ((struct pt2){ x, y })\nstruct pt2 { int x, y; };")
    ok(kc, "#define LIST(...) ((int[]){ __VA_ARGS__ })\n"
           "struct pt2 *origin = &POINT(3, 4);\nint *primes = LIST(2, 3, 5, 7);")
    ok(kc, "clobber();\norigin->y + primes[3]", result="(int) 11")


def test_rerunning_gives_a_new_literal_and_keeps_the_old(kc):
    """Rerunning the cell sets the global again, to a new literal; a pointer
    kept from the first run still reads the old one, which stays."""
    ok(kc, CLOBBER)
    define = "int *rerun = (int[]){ 1, 2, 3 };"
    ok(kc, define)
    ok(kc, "int *kept = rerun;\nkept[0] = 100;")
    ok(kc, define)
    ok(kc, "clobber();\nrerun != kept && kept[0] == 100 && rerun[0] == 1", result="(int) 1")


def test_an_error_in_a_literal_names_its_cell_line(kc):
    c = fails(kc, "int *bad = (int[]){ 1, 2,\n    undefined_name };", "CompileError",
              re.compile(r"line 2: error: 'undefined_name' undeclared"))
    assert "__ck" not in "".join(c.error["traceback"]), c
    # the literal's type named as written, as before it had an object
    c = fails(kc, "struct pt3 { int x, y; };\nint *wrong = (struct pt3){ 1, 2 };", "CompileError",
              "line 2: error: cannot convert 'struct pt3' to 'int *'")


def test_check_cells_see_the_literal_s_bounds(kc):
    ok(kc, "%%check\nint *checked = (int[]){ 1, 2, 3 };\nchecked[0] + checked[2]", result="(int) 4")
    c = fails(kc, "%%check\nchecked[3]", "MemoryError", re.compile(r"global array overflow"))
    assert "compound literal in the initializer of checked" in c.error["evalue"], c


def test_cc_cells_give_the_same_storage(kc):
    ok(kc, CLOBBER)
    ok(kc, "int base = 6;")
    ok(kc, "%%cc gcc\nint *gcc_lit = (int[]){ base, 2 };\n"
           "const int *gcc_const = (const int[]){ 3, 4 };")
    ok(kc, "clobber();\ngcc_lit[0] + gcc_lit[1] + gcc_const[1]", result="(int) 12")


# Random globals with literals in literals, checked against gcc ------------

def _ints(r, most=4):
    return ", ".join(str(r.randrange(-50, 50)) for _ in range(r.randrange(1, most + 1)))


def _int_ptr(r):
    """A constant initializer of an int * that points into a literal."""
    k = r.randrange(4)
    if k == 0:
        return f"(int[]){{ {_ints(r)} }}"
    if k == 1:
        return f"&(int){{ {r.randrange(100)} }}"
    if k == 2:
        return f"&(int[3]){{ {_ints(r, 3)} }}[{r.randrange(3)}]"
    return f"(int[4]){{ [{r.randrange(4)}] = {r.randrange(100)} }} + {r.randrange(4)}"


def _node_ptr(r, depth):
    nxt = _node_ptr(r, depth - 1) if depth and r.randrange(3) else "0"
    const = "const " if r.randrange(4) == 0 else ""
    return f"&({const}struct rnode){{ {r.randrange(100)}, {_int_ptr(r)}, {nxt} }}"


def _random_program(r):
    """(the globals, the statements that print them) of one program."""
    decls, prints = [], []
    for i in range(r.randrange(2, 6)):
        k = r.randrange(4)
        if k == 0:
            decls.append(f"int *g{i} = {_int_ptr(r)};")
            prints.append(f"printf(\"%d \", *g{i}); *g{i} += 1; printf(\"%d\\n\", *g{i});")
        elif k == 1:
            decls.append(f"const struct rnode *g{i} = {_node_ptr(r, 3)};")
            prints.append(f"show(g{i});")
        elif k == 2:
            items = ", ".join(_int_ptr(r) for _ in range(r.randrange(1, 4)))
            decls.append(f"int *g{i}[] = {{ {items} }};")
            prints.append(f"for (unsigned j = 0; j < sizeof g{i} / sizeof *g{i}; j++) "
                          f"printf(\"%d \", *g{i}[j]);\nputs(\"\");")
        else:
            decls.append(f"struct rnode g{i} = {{ 1, {_int_ptr(r)}, {_node_ptr(r, 2)} }};")
            prints.append(f"show(&g{i});")
    return "\n".join(decls), "\n".join(prints)


RNODE = ("#include <stdio.h>\n"
         "struct rnode { int v; int *p; const struct rnode *next; };\n"
         "void show(const struct rnode *n) {\n"
         "    for (; n; n = n->next) printf(\"%d:%d \", n->v, *n->p);\n"
         "    puts(\"\");\n"
         "}\n")


def test_random_initializers_print_what_gcc_prints(kc, tmp_path):
    """Globals whose initializers nest literals (constant ones, so that gcc
    compiles them at file scope): what a later cell prints from them, after
    the stack was written over, is what the program gcc builds prints."""
    r = random.Random(20261203)
    ok(kc, CLOBBER)
    for n in range(12):
        ok(kc, "%reset", stdout="The session was reset: every definition is forgotten.\n")
        ok(kc, CLOBBER + RNODE)
        decls, prints = _random_program(r)
        src = tmp_path / f"p{n}.c"
        main = f"int main(void) {{\nclobber();\n{prints}\nreturn 0;\n}}\n"
        src.write_text(f"{CLOBBER}{RNODE}{decls}\n{main}")
        exe = tmp_path / f"p{n}"
        subprocess.run(["gcc", "-std=gnu11", "-Werror", "-o", str(exe), str(src)],
                       check=True, timeout=60)
        want = subprocess.run([str(exe)], capture_output=True, text=True, timeout=10,
                              check=True).stdout
        ok(kc, decls)
        ok(kc, "clobber();\n" + prints, stdout=want)
