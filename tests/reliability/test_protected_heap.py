"""A cell that mprotects the heap's bookkeeping (a block's header or guard
bytes, or malloc's own pages) no longer crashes the end-of-cell check with
a report that does not say so: the cell ends with the call named, at its
line, and the session goes back to before it (runtime/protect.c,
runtime/alloc.c: check_protections, worker/crash.c)."""
import os

import pytest

from conftest import assert_state, errors, kernel_pid, run, run_ok

HEAD = "#include <sys/mman.h>\n#include <stdint.h>\n"
PAGE = "(void *)((uintptr_t)(p - 32) & ~4095UL)"   # the page of P's header


def failing(kc, code):
    reply, msgs = run(kc, HEAD + code, timeout=20)
    assert reply["status"] == "error", reply
    return reply["ename"], "\n".join(errors(msgs)[0]["traceback"])


@pytest.mark.parametrize("prot", ["PROT_READ", "PROT_NONE"])
def test_a_big_blocks_header_protected_is_named_at_its_line(state_kernel, prot):
    """A block of 1 MiB has pages of its own (glibc maps it): the cell
    touches nothing else there, so the end-of-cell check meets it first."""
    km, kc = state_kernel
    pid = kernel_pid(km)
    ename, text = failing(kc, "g_state = 3;\n{ char *p = malloc(1 << 20);\n"
                              f"mprotect({PAGE}, 4096, {prot}); }}")
    assert ename == "HeapCorruption", text
    words = "read-only" if prot == "PROT_READ" else "unreadable"
    assert "the cell made the bookkeeping of the block of 1048576 B" in text and words in text, text
    assert f"{prot})" in text and "The mprotect call was at:" in text and "line 5 of this cell" in text, text
    assert "went back to the state from before this cell" in text, text
    assert os.path.exists(f"/proc/{pid}")
    assert_state(kc)


def test_a_small_blocks_header_page_read_only(state_kernel):
    """Its page is shared with the worker's own data: whatever touches it
    first, the report names the cell's call."""
    km, kc = state_kernel
    ename, text = failing(kc, "g_state = 4;\n{ char *p = malloc(100);\nmprotect(" + PAGE + ", 4096, PROT_READ); }")
    assert ename in ("HeapCorruption", "Crash"), text
    assert "mprotect(0x" in text and "PROT_READ)" in text and "line 5 of this cell" in text, text
    assert_state(kc)


def test_a_small_blocks_header_page_unreadable(state_kernel):
    km, kc = state_kernel
    ename, text = failing(kc, "g_state = 5;\n{ char *p = malloc(100);\nmprotect(" + PAGE + ", 4096, PROT_NONE); }")
    assert "mprotect(0x" in text and "PROT_NONE)" in text and "line 5 of this cell" in text, text
    assert_state(kc)


def test_a_guard_page_inside_a_block_is_the_cells_business(state_kernel):
    """A page inside a block's own bytes: no bookkeeping there. Touching it
    is a crash that names the call; given back, the block frees as usual."""
    km, kc = state_kernel
    ename, text = failing(kc, "{ char *p = aligned_alloc(4096, 3 * 4096);\nmprotect(p + 4096, 4096, PROT_NONE);\n"
                              "p[4096] = 1; }")
    assert ename == "Crash", text
    assert "the cell's mprotect(0x" in text and "took that access away" in text, text
    assert "The mprotect call was at:" in text and "line 4 of this cell" in text, text
    out = run_ok(kc, HEAD + "{ char *p = aligned_alloc(4096, 3 * 4096);\nmprotect(p + 4096, 4096, PROT_NONE);\n"
                            "mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE);\np[4096] = 1; free(p);\n"
                            "char *q = aligned_alloc(4096, 3 * 4096); mprotect(q + 4096, 4096, PROT_READ);\n"
                            'printf("read %d\\n", q[4096] >= 0); }')
    assert out == "read 1\n", out
    assert_state(kc)
