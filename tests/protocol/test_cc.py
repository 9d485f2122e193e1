"""%%cc gcc|clang: cells compiled by gcc or clang share the session with
tcc's cells both ways (functions, globals, replacement), measure like any
cell, crash with their cell lines, and show remarks and machine code."""
import os
import re
import time

import pytest

from .conftest import error_text, run, run_ok, shell_reply, start_kernel, stop_kernel

T = 120  # seconds: gcc on a loaded 2-core machine; tests never time it

HEADERS = "#include <stdio.h>\n#include <stdlib.h>"


def value(kc, code):
    """The text/plain of CODE's trailing expression."""
    reply, msgs = run(kc, code, timeout=T)
    assert reply["status"] == "ok", (code, error_text(reply))
    results = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert results, (code, msgs)
    return results[-1]["content"]["data"]["text/plain"]


def ok(kc, code):
    return run_ok(kc, code, timeout=T)


def reply_of(kc, code):
    """The whole execute_reply (its metadata.ckernel holds the figures)."""
    m = shell_reply(kc, kc.execute(code, allow_stdin=False), timeout=T)
    return m


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_functions_are_shared_both_ways(kc, compiler):
    ok(kc, HEADERS + "\nint twice(int x) { return 2 * x; }")
    ok(kc, f"%%cc {compiler} -O2\nint sum_twice(int n) {{\n"
           "  int s = 0;\n  for (int i = 0; i < n; i++) s += twice(i);\n  return s;\n}")
    # tcc calls the compiler's function, which calls tcc's; and a value shown from its cell
    assert value(kc, "sum_twice(4)") == "(int) 12"
    assert value(kc, f"%%cc {compiler}\nsum_twice(5)") == "(int) 20"


def test_a_global_is_shared(kc):
    ok(kc, HEADERS)
    ok(kc, "%%cc gcc -O2\nint shared = 5;\nvoid bump(void) { shared++; }")
    ok(kc, "shared += 10; bump();")
    assert value(kc, "shared") == "(int) 16"
    ok(kc, "int tcc_global = 7;")
    assert value(kc, "%%cc gcc -O2\ntcc_global * shared") == "(int) 112"


def test_replacement_both_ways(kc):
    ok(kc, HEADERS + "\nint f(void) { return 1; }\nint call_f(void) { return 10 * f(); }")
    assert value(kc, "call_f()") == "(int) 10"
    ok(kc, "%%cc gcc -O2\nint f(void) { return 2; }")
    assert value(kc, "call_f()") == "(int) 20"          # gcc's f replaced tcc's
    ok(kc, "int f(void) { return 3; }")
    assert value(kc, "call_f()") == "(int) 30"          # and tcc's replaced gcc's
    ok(kc, "%%cc clang -O0\nint f(void) { return 4; }")
    assert value(kc, "call_f()") == "(int) 40"
    ok(kc, "%%cc clang -O0\nint f(void) { return 4; }")     # the same cell again
    assert value(kc, "call_f()") == "(int) 40"
    ok(kc, "%%cc gcc -Os\nint call_f(void) { return 100 * f(); }")  # a caller compiled by gcc
    ok(kc, "int f(void) { return 5; }")
    assert value(kc, "call_f()") == "(int) 500"


def test_gcc_O2_removes_a_malloc_free_pair(kc):
    ok(kc, HEADERS)
    churn = "void churn(int n) { for (int i = 0; i < n; i++) free(malloc(32)); }\nchurn(100);"
    by_tcc = reply_of(kc, churn)
    assert by_tcc["content"]["status"] == "ok", by_tcc["content"]
    assert by_tcc["metadata"]["ckernel"]["measure"]["allocs"] == 100
    by_gcc = reply_of(kc, "%%cc gcc -O2\n" + churn)
    assert by_gcc["content"]["status"] == "ok", by_gcc["content"]
    assert by_gcc["metadata"]["ckernel"]["measure"]["allocs"] == 0
    assert by_gcc["metadata"]["ckernel"]["timing"]["compiler"] == "gcc -O2"
    assert by_gcc["metadata"]["ckernel"]["measure"]["compile_ns"] > 0
    _, msgs = run(kc, "%%cc gcc -O0\n" + churn, timeout=T)
    line = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "display_data"]
    assert any("heap 100 allocs" in t and "compiled by gcc -O0" in t for t in line), line


@pytest.mark.parametrize("compiler", ["gcc -O0", "clang -O0", "gcc -O2"])
def test_a_crash_in_compiled_code_names_its_line(kc, compiler):
    ok(kc, HEADERS + "\nint before = 1;")
    reply, msgs = run(kc, f"%%cc {compiler}\nint *nowhere;\nint deref(int k) {{\n"
                          "  int x = k * 2;\n  return *nowhere + x;\n}\n"
                          "int later = 5;\nint r = deref(3);", timeout=T)
    assert reply["status"] == "error" and reply["ename"] == "Crash", reply
    tb = error_text(reply)
    assert "SIGSEGV" in tb and "NULL pointer" in tb, tb
    if compiler.endswith("-O0"):
        assert re.search(r"deref\(\) \+ \d+, line 5 of this cell", tb), tb
        assert re.search(r"the cell's statements \+ \d+, line 8 of this cell", tb), tb
    else:   # deref inlined into the statements: the faulting line is still line 5
        assert re.search(r"\+ \d+, line 5 of this cell", tb), tb
    # the session went back to before the cell: nothing of it was kept
    assert value(kc, "before") == "(int) 1"
    reply, _ = run(kc, "later", timeout=T)
    assert reply["status"] == "error" and "later" in error_text(reply)


def test_a_compile_error_names_the_cell_line(kc):
    ok(kc, HEADERS)
    reply, msgs = run(kc, "%%cc gcc -O2\nint fine(void) { return 1; }\n\n"
                          "int broken(void) { return y; }", timeout=T)
    assert reply["status"] == "error" and reply["ename"] == "CompileError", reply
    tb = error_text(reply)
    assert "line 4: error: 'y' undeclared" in tb, tb
    assert "int broken(void) { return y; }" in tb and "^" in tb, tb
    reply, _ = run(kc, "fine()", timeout=T)      # nothing of the failed cell is kept
    assert reply["status"] == "error"
    reply, _ = run(kc, "%%cc clang\nint z = nope;", timeout=T)
    assert reply["status"] == "error" and "line 2: error:" in error_text(reply), reply
    assert "nope" in error_text(reply)


def test_bad_cc_magic_is_a_magic_error(kc):
    reply, _ = run(kc, "%%cc tcc -O2\nint x;", timeout=T)
    assert reply["status"] == "error" and reply["ename"] == "MagicError", reply
    assert "gcc or clang" in reply["evalue"]
    reply, _ = run(kc, "%%cc gcc -fno-such-flag\nint x;", timeout=T)
    assert reply["status"] == "error" and "no-such-flag" in error_text(reply), reply


def test_remarks(kc):
    ok(kc, HEADERS)
    out = ok(kc, "%%cc gcc -O2 --remarks\n"
                 "static inline int sq(int x) { return x * x; }\n"
                 "int sumsq(const int *a, int n) {\n"
                 "  int s = 0;\n  for (int i = 0; i < n; i++) s += sq(a[i]);\n  return s;\n}\n"
                 "void churn(int n) { for (int i = 0; i < n; i++) free(malloc(32)); }\n"
                 "void scale(float *restrict a, int n) "
                 "{ for (int i = 0; i < n; i++) a[i] *= 2.0f; }")
    assert "gcc -O2: optimisation remarks for this cell" in out, out
    assert re.search(r"line 5 +\| .*sq\(a\[i\]\).*\n(.*\n)*? +optimized: Inlining sq", out), out
    assert re.search(r"line 8 +\| void churn.*\n +removed: no call to malloc", out), out
    assert "removed: no call to free" in out, out
    # -O2's very cheap cost model leaves a loop of unknown count scalar; -O3 vectorises it
    assert re.search(r"line 9 +\|[^\n]*\n +missed: couldn't vectorize loop", out), out
    out = ok(kc, "%%cc gcc -O3 --remarks\n"
                 "void scale(float *restrict a, int n) {\n"
                 "  for (int i = 0; i < n; i++) a[i] *= 2.0f;\n}")
    assert re.search(r"line 3 +\|[^\n]*\n(.*\n)*? +optimized: loop vectorized", out), out
    out = ok(kc, "%%cc clang -O2 --remarks\n"
                 "static int sq2(int x) { return x * x; }\n"
                 "int use2(int n) { return sq2(n) + 1; }")
    assert "clang -O2: optimisation remarks" in out, out
    assert re.search(r"remark: .*sq2.* inlined", out), out


def test_asm_of_a_compiled_cell_and_of_a_tcc_function(kc):
    ok(kc, HEADERS)
    out = ok(kc, "%%cc gcc -O2 --asm\nint add3(int a, int b, int c) {\n  return a + b + c;\n}")
    assert "add3: gcc -O2, this cell" in out, out
    assert re.search(r"line 3 +\|   return a \+ b \+ c;", out), out
    assert re.search(r"^\s+[0-9a-f]+: (lea|add) ", out, re.M), out
    assert re.search(r"^\s+[0-9a-f]+: ret", out, re.M), out
    ok(kc, "int mul3(int a, int b, int c) {\n  int p = a * b;\n  return p * c;\n}")
    out = ok(kc, "%asm mul3")
    assert "mul3: tcc, cell [" in out, out
    assert re.search(r"line 2 +\|   int p = a \* b;\n(\s+[0-9a-f]+: .*\n)+line 3 ", out), out
    assert "imul" in out, out
    out = ok(kc, "%asm add3")                      # a gcc function, later
    assert "add3: gcc -O2, cell [" in out, out
    out = ok(kc, "%asm no_such_thing")
    assert "not a function of this session" in out


def test_flags_a_cell_cannot_honour_are_refused(kc):
    for flags, why in [("-O2 -flto", "link-time"), ("-fsanitize=address", "run-time library"),
                       ("-o x.o", "output")]:
        reply, _ = run(kc, f"%%cc gcc {flags}\nint x;", timeout=T)
        assert reply["status"] == "error" and reply["ename"] == "MagicError", reply
        assert why in reply["evalue"], reply
    reply, _ = run(kc, "%%cc gcc -O2\n_Thread_local int tl;\nint get_tl(void) { return tl; }",
                   timeout=T)
    assert reply["status"] == "error" and reply["ename"] == "CompileError", reply


def test_an_interrupt_stops_a_compiled_loop(kernel):
    km, kc = kernel
    ok(kc, HEADERS)
    ok(kc, "%%cc gcc -O1\nvolatile long spins;\nint kept = 3;\n"
           "void spin(void) { puts(\"running\"); fflush(stdout); for (;;) spins++; }")
    msg_id = kc.execute("kept = 4;\nspin();")
    out = ""
    while "running" not in out:                   # the loop runs: now interrupt it
        m = kc.get_iopub_msg(timeout=T)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
            out += m["content"]["text"]
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id, timeout=T)
    assert reply["content"]["status"] == "error" and "Interrupt" in reply["content"]["ename"]
    assert value(kc, "kept") == "(int) 3"           # back to before the cell


def test_the_compilers_files_are_removed_even_after_an_interrupt(tmp_path, monkeypatch):
    """Each compile runs in a directory of its own under TMPDIR, removed at
    once; a worker killed while its compiler runs (here gcc blocks reading
    a FIFO the cell includes) leaves it to the snapshot that takes over."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    km, kc = start_kernel()
    try:
        ok(kc, HEADERS + "\nint kept = 1;")
        assert value(kc, "%%cc gcc -O2\nkept + 1") == "(int) 2"
        assert [p.name for p in tmp.iterdir()] == []
        fifo = tmp_path / "blocks.h"
        os.mkfifo(fifo)
        msg_id = kc.execute(f'%%cc gcc\n#include "{fifo}"\nkept = 5;')
        deadline = time.monotonic() + T          # until gcc is reading the FIFO
        while not any(p.name.startswith("ckernel-cc-") and any(p.iterdir()) for p in tmp.iterdir()):
            assert time.monotonic() < deadline, "the compile never started"
            time.sleep(0.02)
        km.interrupt_kernel()
        reply = shell_reply(kc, msg_id, timeout=T)
        assert reply["content"]["status"] == "error", reply["content"]
        assert value(kc, "kept") == "(int) 1"
        assert not [p for p in tmp.iterdir() if p.name.startswith("ckernel-cc-")]
    finally:
        stop_kernel(km, kc)


def test_nb_where_knows_a_compiled_cells_code_and_data(kc):
    ok(kc, HEADERS)
    ok(kc, '%%cc gcc -O2\nint gglob = 3;\nconst char *glit = "hello";\n'
           'int gfun(int x) { return x + 1; }')
    out = ok(kc, "nb_where(&gglob);\nnb_where(gfun);\nnb_where(glit);")
    assert re.search(r"&gglob = 0x[0-9a-f]+: global data: gglob, of 4 B", out), out
    assert re.search(r"gfun = 0x[0-9a-f]+: code: function gfun\n", out), out
    assert re.search(r"glit = 0x[0-9a-f]+: global data: "
                     r"a constant or static of %%cc cell \d+ \(writable\)", out), out


def test_a_crash_in_an_earlier_compiled_cell_names_that_cells_line(kc):
    """Its object is kept: the frame gets the line it crashed on in the
    cell that defined it; and the caller of a function gcc gave no frame
    (a leaf) is found on top of the stack."""
    ok(kc, HEADERS)
    reply = reply_of(kc, "%%cc gcc -O2\nint *nowhere;\nint deref(int k) {\n  int x = k * 2;\n"
                         "  return *nowhere + x;\n}\n"
                         "int twice_deref(int k) { return 2 * deref(k); }")
    count = reply["content"]["execution_count"]
    reply, _ = run(kc, "int before = 1;\nint y = twice_deref(3);", timeout=T)
    assert reply["status"] == "error" and reply["ename"] == "Crash", reply
    tb = error_text(reply)
    assert re.search(rf"twice_deref\(\) \+ \d+, line 5 of cell \[{count}\]", tb), tb
    assert re.search(r"the cell's statements \+ \d+, line 2 of this cell", tb), tb


def test_the_compilers_own_macros_inside_functions(kc):
    ok(kc, HEADERS)
    code = ("int opt(void) {\n#ifdef __OPTIMIZE__\n  return 1;\n#else\n  return 0;\n#endif\n}\n"
            "int by(void) {\n#if defined(__clang__)\n  return 2;\n"
            "#elif defined(__GNUC__)\n  return 1;\n"
            "#else\n  return 0;\n#endif\n}\n")
    ok(kc, "%%cc gcc -O2\n" + code)
    assert value(kc, "opt() * 10 + by()") == "(int) 11"
    ok(kc, "%%cc clang -O0\n" + code)
    assert value(kc, "opt() * 10 + by()") == "(int) 2"
    ok(kc, code)                                   # and tcc's own view
    assert value(kc, "opt() * 10 + by()") == "(int) 0"


def test_a_leak_in_a_compiled_cell_names_its_line(kc):
    ok(kc, HEADERS)
    reply, msgs = run(kc, "%%cc gcc -O0\nvoid *keep(void) {\n  return malloc(10);\n}\nkeep();",
                      timeout=T)
    assert reply["status"] == "ok", reply
    out = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
    out += "".join(m["content"]["data"].get("text/plain", "")
                   for m in msgs if m["msg_type"] == "display_data")
    assert re.search(r"leaked 10 B, allocated in keep \(cell \d+, line 3\)", out), out


def test_a_header_only_the_compiler_reads_stays_its_cells(kc):
    """gcc's own <immintrin.h>: kept in the session, every later tcc cell
    would include it and fail; the cell says so, and later cells work."""
    ok(kc, HEADERS)
    reply, msgs = run(kc, "%%cc gcc -O2 -mavx2\n#include <immintrin.h>\n#include <string.h>\n"
                          "int lanes(void) {\n  __m256i v = _mm256_set1_epi32(3);\n"
                          "  return _mm256_extract_epi32(v, 2) + (int)strlen(\"ab\");\n}", timeout=T)
    assert reply["status"] == "ok", reply
    err = "".join(m["content"]["text"] for m in msgs
                  if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
    assert "'<immintrin.h>' stays this cell's" in err, err
    assert value(kc, "lanes()") == "(int) 5"
    assert value(kc, 'strlen("abc")') == "(unsigned long) 3"     # <string.h> is the session's
    # a function typed with the header's types does not trouble cells that do not name it
    ok(kc, "%%cc gcc -O2 -mavx2\n#include <immintrin.h>\n"
           "__m256i threes(void) { return _mm256_set1_epi32(3); }")
    assert value(kc, "%%cc clang -O1\nint plain(void) { return 7; }\nplain()") == "(int) 7"
    reply, _ = run(kc, "%%cc gcc\nint bad(void) { return nope; }", timeout=T)
    assert "line 2: error: 'nope' undeclared" in error_text(reply), reply
