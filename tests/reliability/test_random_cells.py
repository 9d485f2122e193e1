"""Random but plausible C, through the real execute path of a live kernel.

A grammar-aware fuzzer at the level a user works at: cells built from C's
pieces (nested braces, strings with escapes, comments, preprocessor lines,
UTF-8 identifiers, very long lines, NUL bytes, unterminated literals, code
that compiles and crashes) are executed one after the other in one session.
After each, the kernel must have answered (ok or a clean error) and the
session must still hold what was set at the start. The inputs come from a
fixed seed, so a failure is reproduced by running the test again;
CKERNEL_FUZZ_SEED and CKERNEL_FUZZ_CELLS choose others (e.g. for a long run).
"""
import os
import random

import pytest

from conftest import assert_state, run

SEED = int(os.environ.get("CKERNEL_FUZZ_SEED", "20261203"))
CELLS = int(os.environ.get("CKERNEL_FUZZ_CELLS", "150"))

IDENTS = ["x", "y", "n", "buf", "p", "node", "Lefèvre", "größe", "π", "_tmp", "a1", "main",
          "f", "g", "S", "T", "count", "printf", "malloc", "free", "strlen", "memset"]
TYPES = ["int", "char", "long", "double", "unsigned", "size_t", "char *", "int *", "void *",
         "struct S", "float", "short", "const char *"]
OPS = ["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "&&", "||", "==", "!=", "<", ">=",
       "=", "+=", "->", ".", ",", "?", ":", "!", "~", "++", "--", "[", "]"]
STRINGS = ['"hello"', '"a\\nb"', '"\\x41\\101"', '"é ü 漢字"', '"%d %s\\n"', '""', "'c'",
           "'\\n'", "'\\0'", '"unterminated', "'", '"tab\\tquote\\""']
DIRECTIVES = ["#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
              "#define M(a, b) ((a) + (b))", "#define ONE 1", "#if 0", "#if 1", "#else",
              "#endif", "#ifdef ONE", "#undef ONE", "#pragma once", "#line 10",
              "#define LONG \\\n  1 + \\\n  2", "#error fuzz", "#warning fuzz", "#include \"nowhere.h\""]
COMMENTS = ["/* c */", "// line\n", "/* multi\n line */", "/* unterminated", "/**/", "// é\n"]
CRASHERS = ["*(volatile int *)0 = 1;", "abort();", "int z = 0; z = 1 / z;",
            "char *q = malloc(4); free(q); free(q);", "exit(3);"]


def expr(r, depth=0):
    k = r.randrange(6 if depth < 3 else 3)
    if k == 0:
        return r.choice(IDENTS)
    if k == 1:
        return str(r.choice([0, 1, -1, 42, 2**31, 3.5, "0x1f", "07", "1e308", "'a'"]))
    if k == 2:
        return r.choice(STRINGS)
    if k == 3:
        return f"{expr(r, depth + 1)} {r.choice(OPS)} {expr(r, depth + 1)}"
    if k == 4:
        return f"{r.choice(IDENTS)}({', '.join(expr(r, depth + 1) for _ in range(r.randrange(3)))})"
    return f"({r.choice(TYPES)}) ({expr(r, depth + 1)})"


def stmt(r, depth=0):
    k = r.randrange(9 if depth < 3 else 4)
    if k == 0:
        return expr(r) + ";"
    if k == 1:
        return f"{r.choice(TYPES)} {r.choice(IDENTS)} = {expr(r)};"
    if k == 2:
        return r.choice(COMMENTS)
    if k == 3:
        return "\n" + r.choice(DIRECTIVES) + "\n"
    if k == 4:
        return "{ " + " ".join(stmt(r, depth + 1) for _ in range(r.randrange(4))) + " }"
    if k == 5:
        return f"if ({expr(r)}) {stmt(r, depth + 1)} else {stmt(r, depth + 1)}"
    if k == 6:
        return f"for (int i = 0; i < 3; i++) {stmt(r, depth + 1)}"
    if k == 7:
        body = " ".join(stmt(r, depth + 1) for _ in range(r.randrange(4)))
        return f"{r.choice(TYPES)} {r.choice(IDENTS)}({r.choice(['void', 'int a', 'char *s, ...'])}) {{ {body} }}"
    return f"struct {r.choice(['S', 'T', 'U'])} {{ {r.choice(TYPES)} m; int b : 3; }};"


def cell(r):
    """One cell: a mix of statements, sometimes broken on purpose."""
    parts = [stmt(r) for _ in range(r.randrange(1, 8))]
    twist = r.randrange(12)
    if twist == 0:
        parts.insert(r.randrange(len(parts) + 1), "int very_long = 0" + " + 1" * 4000 + ";")
    elif twist == 1:
        parts.append("\0" + stmt(r))
    elif twist == 2:
        parts.append(r.choice(CRASHERS))
    elif twist == 3:
        parts.append("{" * r.randrange(1, 50))
    elif twist == 4:
        parts.append("}" * r.randrange(1, 5))
    elif twist == 5:
        parts.append(r.choice(["lab: ;", "goto lab;", "void f(void) { lab: ; return 1 +; }"]))
    text = "\n".join(parts)
    # a magic is not C, and %reset would rightly forget the state checked here
    return "\n".join(" " + line if line.lstrip().startswith("%") else line for line in text.split("\n"))


# Cells the random test found that lost the session (or the reply), kept
# as they were found: each must end in a clean error or run, and leave the
# session as it was.
FOUND = {
    "declarator without a name": "int qq = 1, 2;",
    "NUL in the source": "int a = 1;\0 int b = 2;",
    "goto an undefined label": 'struct U { unsigned m; int b : 3; };\n"\\x41\\101";\n#warning fuzz\ngoto lab;',
    "UTF-8 identifier and a recursive struct":
        "struct S { struct S m; int b : 3; };\nfloat \u03c0 = 0x1f;\n{  }\n/* unterminated",
}


@pytest.mark.parametrize("code", FOUND.values(), ids=FOUND.keys())
def test_cells_the_random_test_found(state_kernel, code):
    _, kc = state_kernel
    reply, _ = run(kc, code, timeout=30)
    assert reply["status"] in ("ok", "error")
    assert_state(kc)


@pytest.mark.parametrize("magic", ["", "%%check\n"], ids=["plain", "checked"])
def test_random_cells_never_lose_the_session(state_kernel, magic):
    _, kc = state_kernel
    r = random.Random(SEED)
    statuses = {}
    for i in range(CELLS):
        code = cell(r)
        try:
            reply, _ = run(kc, magic + "%timeout 5\n" + code, timeout=30)
        except TimeoutError as e:
            raise AssertionError(f"cell {i} (seed {SEED}) got no reply:\n{code[:2000]}") from e
        status = reply["status"] if reply["status"] == "ok" else reply.get("ename", "?")
        statuses[status] = statuses.get(status, 0) + 1
        try:
            assert_state(kc, timeout=30)
        except (AssertionError, TimeoutError) as e:
            raise AssertionError(f"the session changed after cell {i} (seed {SEED}), "
                                 f"which ended {status}:\n{code[:2000]}") from e
    print(f"{CELLS} random cells (seed {SEED}): {statuses}")
    assert statuses.get("ok", 0) > 0, f"no random cell ran: the generator is off ({statuses})"
