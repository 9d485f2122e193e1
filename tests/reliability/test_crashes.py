"""Issue 4, items 1 and 2: every way a cell can kill its process ends that
cell with an error that explains it, and the next cell sees the session as
it was before the crashing cell (each crashing cell first changes g_state,
which must come back as 1234).

The explanation must name the signal in words, say where the faulting
address lies (for faults that have one) and list the cell's functions on
the stack (for crashes a signal handler can see)."""
import re
import time

import pytest

from conftest import (assert_state, error_text, errors, iopub_until_idle, kernel_pid, run, setup_state,
                      shell_reply, stderr_text)

# id: (cell, patterns the error text must match, function the backtrace
# must name or None). Each cell sets g_state = 99 before crashing.
CRASHES = {
    "SIGSEGV-null": (
        "void crash_segv(void) { int *p = (int *)0x10; *p = 1; }\n"
        "g_state = 99;\ncrash_segv();",
        [r"Segmentation fault", r"0x10\b", r"NULL pointer"], "crash_segv"),
    "SIGSEGV-unmapped": (
        "void crash_wild(void) { volatile int *p = (int *)0x7e0000000000; int v = *p; printf(\"%d\", v); }\n"
        "g_state = 99;\ncrash_wild();",
        [r"Segmentation fault", r"(?i)read", r"(?i)not mapped|unmapped|no memory is mapped"], "crash_wild"),
    "SIGSEGV-readonly": (
        "void crash_ro(void) { *(volatile char *)printf = 0; }\n"
        "g_state = 99;\ncrash_ro();",
        [r"Segmentation fault", r"(?i)write", r"libc"], "crash_ro"),
    "SIGBUS": (
        "#include <sys/mman.h>\n"
        "void crash_bus(void) {\n"
        "    FILE *f = tmpfile(); ftruncate(fileno(f), 100);\n"
        "    volatile char *p = mmap(0, 8192, PROT_READ, MAP_SHARED, fileno(f), 0);\n"
        "    char c = p[5000]; (void)c;\n}\n"
        "g_state = 99;\ncrash_bus();",
        [r"Bus error", r"(?i)mapped file"], "crash_bus"),
    "SIGFPE": (
        "void crash_fpe(void) { volatile int z = 0; printf(\"%d\", 1 / z); }\n"
        "g_state = 99;\ncrash_fpe();",
        [r"(?i)(arithmetic|floating[- ]point) exception", r"(?i)division by zero"], "crash_fpe"),
    "SIGILL": (
        "void crash_ill(void) { __asm__(\"ud2\"); }\n"
        "g_state = 99;\ncrash_ill();",
        [r"Illegal instruction"], "crash_ill"),
    "abort": (
        "void crash_abort(void) { abort(); }\n"
        "g_state = 99;\ncrash_abort();",
        [r"Abort", r"abort\(\)"], "crash_abort"),
    "assert": (
        "#include <assert.h>\n"
        "void crash_assert(void) { assert(g_state == 1); }\n"
        "g_state = 99;\ncrash_assert();",
        [r"Abort"], "crash_assert"),
    "recursion": (
        "int crash_recurse(int n) { volatile char pad[64]; pad[0] = n; return crash_recurse(n + 1) + pad[0]; }\n"
        "g_state = 99;\ncrash_recurse(0);",
        [r"Segmentation fault", r"(?i)stack overflow"], "crash_recurse"),
    "exit": (
        "g_state = 99;\nexit(3);",
        [r"exit", r"\b3\b"], None),
    "_exit": (
        "g_state = 99;\n_exit(4);",
        [r"exit", r"\b4\b"], None),
    "raise-SIGSEGV": (
        "void crash_raise(void) { raise(SIGSEGV); }\n"
        "g_state = 99;\ncrash_raise();",
        [r"Segmentation fault"], "crash_raise"),
    "kill-SIGKILL": (
        "void crash_kill(void) { kill(getpid(), SIGKILL); }\n"
        "g_state = 99;\ncrash_kill();",
        [r"\bKilled\b"], None),
}


@pytest.mark.parametrize("kind", list(CRASHES))
def test_crash_is_a_cell_error_and_state_is_kept(state_kernel, kind):
    km, kc = state_kernel
    code, patterns, function = CRASHES[kind]
    t0 = time.monotonic()
    reply, msgs = run(kc, code, timeout=20)
    took = time.monotonic() - t0
    if reply["status"] == "ok":
        setup_state(kc)                 # it did not crash: repair for the next tests
    assert reply["status"] == "error", f"{kind}: reply {reply}"
    errs = errors(msgs)
    assert len(errs) == 1, f"{kind}: expected one error output, got {errs}"
    assert errs[0]["ename"] == reply["ename"] and errs[0]["evalue"] == reply["evalue"]
    text = error_text(errs[0])
    for pat in patterns:
        assert re.search(pat, text), f"{kind}: error does not match {pat!r}:\n{text}"
    if function:
        assert re.search(rf"^\s*{function}\(\)", text, re.M), (
            f"{kind}: no backtrace line naming {function}():\n{text}")
    assert took < 10, f"{kind}: the crash took {took:.1f} s to report"
    assert km.is_alive()
    assert_state(kc)


def test_assert_message_reaches_stderr(state_kernel):
    """glibc prints the failed assertion before abort(): it must not be lost
    with the dying process."""
    km, kc = state_kernel
    reply, msgs = run(kc, '#include <assert.h>\nassert(g_state == 5 && "the answer");', timeout=20)
    assert reply["status"] == "error"
    assert re.search(r"Assertion .*g_state == 5.* failed", stderr_text(msgs)), stderr_text(msgs)
    assert_state(kc)


def test_raise_does_not_invent_an_address(state_kernel):
    """raise(SIGSEGV) has no faulting address (si_code <= 0): the text must
    not describe one."""
    km, kc = state_kernel
    reply, msgs = run(kc, "raise(SIGSEGV);", timeout=20)
    assert reply["status"] == "error"
    text = error_text(errors(msgs)[0])
    assert "Segmentation fault" in text
    assert not re.search(r"of address 0x", text), text
    assert_state(kc)


def test_output_before_a_crash_is_kept(state_kernel):
    km, kc = state_kernel
    reply, msgs = run(kc, 'printf("before the crash\\n"); fflush(stdout);\n*(volatile int *)0 = 1;',
                      timeout=20)
    assert reply["status"] == "error"
    assert "before the crash" in "".join(
        m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert_state(kc)


def test_many_crashes_in_a_row(state_kernel):
    """Twenty crashes back to back: each one an error, the state intact."""
    km, kc = state_kernel
    for i in range(20):
        reply, _ = run(kc, f"g_state = {i};\n*(volatile int *)0 = {i};", timeout=20)
        assert reply["status"] == "error", reply
    assert_state(kc)


def test_crash_in_a_later_defined_function_keeps_earlier_redefinitions(state_kernel):
    """A cell that both redefines a function and crashes keeps neither the
    new definition nor the new global."""
    km, kc = state_kernel
    reply, _ = run(kc, "int twice(int x) { return 3 * x; }\nint g_new = 5;\n*(volatile int *)0 = 1;",
                   timeout=20)
    assert reply["status"] == "error"
    assert_state(kc)
    reply, msgs = run(kc, "g_new", timeout=10)
    assert reply["status"] == "error", "g_new from the crashed cell survived"


def test_backtrace_gives_the_cells_own_lines(state_kernel):
    """Each frame of the crashed cell names its line in that cell (the
    snapshot recompiles the cell with -g and reads the stabs)."""
    km, kc = state_kernel
    code = ("void lines_inner(int *p) {\n"
            "    int unused = 1;\n"
            "    *p = 42;\n"                       # line 3
            "}\n"
            "void lines_outer(int *p) { lines_inner(p); }\n"   # line 5
            "\n"
            "lines_outer(0);\n")                 # line 7
    reply, msgs = run(kc, code)
    assert reply["status"] == "error"
    tb = "\n".join(errors(msgs)[0]["traceback"])
    assert re.search(r"lines_inner\(\) \+ \d+, line 3 of this cell", tb), tb
    assert re.search(r"lines_outer\(\) \+ \d+, line 5 of this cell", tb), tb
    assert re.search(r"the cell's statements \+ \d+, line 7 of this cell", tb), tb
    assert_state(kc)


def live_children(pid):
    """The kernel's children that are not zombies: the worker and its snapshot."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        pids = [int(c) for c in f.read().split()]
    live = set()
    for c in pids:
        try:
            with open(f"/proc/{c}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    live.add(c)
        except FileNotFoundError:
            pass
    return live


def test_the_next_snapshot_is_forked_after_the_reply(state_kernel):
    """The kernel asks for the next cell's snapshot ({"op":"snapshot"})
    once a cell's reply and idle are out: a new copy appears with no
    further request, and the one the cell had is gone."""
    km, kc = state_kernel
    kernel = kernel_pid(km)
    run(kc, "g_state + 0;")
    deadline = time.monotonic() + 30
    while len(live_children(kernel)) < 2:          # the worker and a snapshot
        assert time.monotonic() < deadline, "no snapshot after the reply"
        time.sleep(0.01)
    before = live_children(kernel)
    run(kc, "g_state + 0;")
    while not live_children(kernel) - before:
        assert time.monotonic() < deadline, "no new snapshot after the second reply"
        time.sleep(0.01)
    assert len(live_children(kernel) - before) == 1
    reply, msgs = run(kc, "g_state = 99;\nraise(SIGSEGV);")
    assert reply["ename"] == "Crash", reply
    assert_state(kc)


def test_a_crash_keeps_what_its_magics_did(state_kernel):
    """A cell's snapshot is forked after its magics are applied (a plain
    cell's is forked ahead, after the previous reply): a crash rolls back
    the cell's C, not its %output limit."""
    km, kc = state_kernel
    reply, msgs = run(kc, "%output 1\ng_state = 99;\nraise(SIGSEGV);")
    assert reply["status"] == "error" and reply["ename"] == "Crash", reply
    assert_state(kc)
    reply, msgs = run(kc, 'for (int i = 0; i < 30000; i++) printf("%0100d\\n", i);', timeout=30)
    assert "output passed 1 MiB and is cut" in stderr_text(msgs), stderr_text(msgs)[-300:]
    run(kc, "%output 10")


def test_plain_cells_find_their_snapshot_forked_ahead(state_kernel):
    """After a cell, the next one's snapshot is forked while the reply
    travels: the cell's own path has no fork (timing.snapshot_ns counts
    only what its path spent), and a crash still rolls back."""
    km, kc = state_kernel
    run(kc, "g_state = 1234;")
    msg_id = kc.execute("g_state + 0;")
    timing = shell_reply(kc, msg_id)["metadata"]["ckernel"]["timing"]
    iopub_until_idle(kc, msg_id)
    assert timing["snapshot_ns"] < timing["compile_ns"], timing
    reply, msgs = run(kc, "g_state = 99;\nraise(SIGSEGV);")
    assert reply["ename"] == "Crash", reply
    assert_state(kc)
