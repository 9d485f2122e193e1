"""ckernel's own protocol tests, through jupyter_client and raw ZeroMQ.

Each test that changes kernel state gets a kernel of its own (the `kc` /
`kernel` fixtures), so one failure cannot cascade into the next test.
Waits are bounded by timeouts; nothing sleeps for a fixed time except C
cells whose point is to run for a while.
"""
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from queue import Empty

import pytest
import zmq

from .conftest import (
    alive,
    collect,
    control_reply,
    describe,
    error_text,
    errors,
    flush,
    iopub_until_idle,
    kernel_pid,
    outputs,
    process_tree,
    run,
    run_ok,
    shell_reply,
    stderr_text,
    stdout_text,
    wait_gone,
)


def one_error(reply, msgs):
    """The reply is an error and there is exactly one error output; return
    that output's content."""
    assert reply["status"] == "error", f"expected an error, reply was {reply}"
    errs = errors(msgs)
    assert len(errs) == 1, f"expected one error output, got {errs}"
    return errs[0]


# ==========================================================================
# kernel_info and other simple requests
# ==========================================================================

def test_kernel_info(shared_kernel):
    km, kc = shared_kernel
    msg_id = kc.kernel_info()
    reply = shell_reply(kc, msg_id)
    c = reply["content"]
    assert reply["msg_type"] == "kernel_info_reply"
    assert c["status"] == "ok"
    assert c["protocol_version"] == "5.3"
    assert reply["header"]["version"] == "5.3"
    assert isinstance(c["implementation"], str) and c["implementation"]
    assert isinstance(c["implementation_version"], str) and c["implementation_version"]
    assert isinstance(c["banner"], str)
    assert isinstance(c["help_links"], list)
    li = c["language_info"]
    expected = {
        "name": "c",
        "version": "C11",
        "mimetype": "text/x-csrc",
        "file_extension": ".c",
        "pygments_lexer": "c",
        "codemirror_mode": "text/x-csrc",
    }
    for key, value in expected.items():
        assert li.get(key) == value, f"language_info[{key!r}] = {li.get(key)!r}"


def test_kernel_info_busy_idle(shared_kernel):
    km, kc = shared_kernel
    flush(kc)
    msg_id = kc.kernel_info()
    shell_reply(kc, msg_id)
    msgs = iopub_until_idle(kc, msg_id, timeout=5)
    states = [m["content"]["execution_state"] for m in msgs if m["msg_type"] == "status"]
    assert states == ["busy", "idle"]


def test_comm_info(shared_kernel):
    km, kc = shared_kernel
    msg = kc.session.msg("comm_info_request", {})
    kc.shell_channel.send(msg)
    reply = shell_reply(kc, msg["header"]["msg_id"])
    assert reply["msg_type"] == "comm_info_reply"
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["comms"] == {}


def test_unknown_message_type_is_survived(shared_kernel):
    km, kc = shared_kernel
    msg = kc.session.msg("no_such_request", {"x": 1})
    kc.shell_channel.send(msg)
    msg_id = kc.kernel_info()
    reply = shell_reply(kc, msg_id, timeout=5)
    assert reply["content"]["status"] == "ok"
    assert km.is_alive()


# ==========================================================================
# is_complete, one sample a test (the conformance suite stops at the first)
# ==========================================================================

COMPLETE = [
    "int x = 1;",
    "int f(void) { return 1; }",
    "",
    "#include <stdio.h>",
    'char *s = "}";',
    "char c = '{';",
    "/* { */ int y;",
    "// {\nint z;",
    "if (a) b(); else c();",
    "f(x)",
    "int elsewhere;",
    "int f(void) {\n    return 1;\n}\n\n",
]
INCOMPLETE = [
    "int f(void) {",
    "/* open comment",
    'printf("%d\\n",',
    "for (int i = 0; i < 3; i++)",
    "int a[] = {1, 2,",
    "x = 1 +",
    "if (x) foo(); else",
    "while (x)",
    "if (f(x))",
    "#define X 1 \\",
    "int f(void) {\n    if (x) {\n",
]
# A C string or char literal cannot continue on the next line: more input
# cannot complete it, so the compiler should explain it now.
INVALID = ["int x = 1; }", "f(]", "}", "int a[3) ;", "{ ( }", '"unterminated', "char c = 'x"]


def is_complete(kc, code):
    msg_id = kc.is_complete(code)
    return shell_reply(kc, msg_id, timeout=5)["content"]


@pytest.mark.parametrize("code", COMPLETE)
def test_is_complete_complete(shared_kernel, code):
    assert is_complete(shared_kernel[1], code)["status"] == "complete"


@pytest.mark.parametrize("code", INCOMPLETE)
def test_is_complete_incomplete(shared_kernel, code):
    c = is_complete(shared_kernel[1], code)
    assert c["status"] == "incomplete"
    assert isinstance(c.get("indent"), str), f"incomplete reply without indent: {c}"


@pytest.mark.parametrize("code", INVALID)
def test_is_complete_invalid(shared_kernel, code):
    assert is_complete(shared_kernel[1], code)["status"] == "invalid"


def test_is_complete_indent(shared_kernel):
    kc = shared_kernel[1]
    assert is_complete(kc, "int f(void) {")["indent"] == "    "
    assert is_complete(kc, "int f(void) {\n    if (x) {")["indent"] == "        "


# ==========================================================================
# State across cells
# ==========================================================================

def test_global_and_include_persist(kc):
    run_ok(kc, "#include <stdio.h>\nint n = 3;")
    out = run_ok(kc, 'for (int i = 0; i < n; i++) printf("%d\\n", i);')
    assert out == "0\n1\n2\n"


def test_function_defined_then_called(kc):
    run_ok(kc, "#include <stdio.h>\nint twice(int x) { return 2 * x; }")
    assert run_ok(kc, 'printf("%d\\n", twice(21));') == "42\n"


def test_global_keeps_value_across_statements(kc):
    run_ok(kc, "#include <stdio.h>\nint counter = 10;")
    run_ok(kc, "counter++;")
    run_ok(kc, "counter += 5;")
    assert run_ok(kc, 'printf("%d\\n", counter);') == "16\n"


def test_define_persists(kc):
    run_ok(kc, "#include <stdio.h>\n#define SQUARE(x) ((x) * (x))")
    assert run_ok(kc, 'printf("%d\\n", SQUARE(7));') == "49\n"


def test_type_persists(kc):
    run_ok(kc, "#include <stdio.h>\ntypedef struct { int a, b; } pair;")
    run_ok(kc, "pair p = {1, 2};")
    assert run_ok(kc, 'printf("%d\\n", p.a + p.b);') == "3\n"


def test_heap_and_static_persist(kc):
    run_ok(kc, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
               "char *buf;\nint next(void) { static int c; return ++c; }")
    run_ok(kc, 'buf = malloc(16); strcpy(buf, "heap"); next(); next();')
    assert run_ok(kc, 'printf("%s %d\\n", buf, next());') == "heap 3\n"


def test_statements_and_definitions_in_order(kc):
    code = ('#include <stdio.h>\nint a1 = 1;\nprintf("%d\\n", a1);\n'
            'int a2 = 2;\nprintf("%d\\n", a2);\n')
    assert run_ok(kc, code) == "1\n2\n"


# ==========================================================================
# Compile errors
# ==========================================================================

def test_compile_error_names_cell_line(kc):
    code = "int ok_a = 1;\nint ok_b = 2;\nint z = ;\n"
    reply, msgs = run(kc, code)
    err = one_error(reply, msgs)
    assert err["ename"] == "CompileError"
    text = error_text(err)
    assert re.search(r"\bline 3\b", text), f"'line 3' not in error:\n{text}"
    assert reply["ename"] == "CompileError"


def test_compile_error_line_after_include_and_definitions(kc):
    # The error is in a statement that follows a directive, a global and a
    # function: the line must still be the line in the cell as typed.
    code = ("#include <stdio.h>\n"
            "int a = 1;\n"
            "int f(void) { return a; }\n"
            "printf(\"%d\\n\", f());\n"
            "a = nosuchvar + 1;\n")
    reply, msgs = run(kc, code)
    err = one_error(reply, msgs)
    assert err["ename"] == "CompileError"
    text = error_text(err)
    assert re.search(r"\bline 5\b", text), f"'line 5' not in error:\n{text}"
    assert "nosuchvar" in text
    assert stdout_text(msgs) == "", "a cell that failed to compile ran"


def test_compile_error_in_function_body_names_line(kc):
    code = "int g1 = 1;\n\nint h(void)\n{\n    return undeclared_thing;\n}\n"
    reply, msgs = run(kc, code)
    err = one_error(reply, msgs)
    assert err["ename"] == "CompileError"
    text = error_text(err)
    assert re.search(r"\bline 5\b", text), f"'line 5' not in error:\n{text}"


def test_compile_error_is_one_error_and_no_stream(kc):
    reply, msgs = run(kc, "int broken = ;")
    one_error(reply, msgs)
    assert [m["msg_type"] for m in outputs(msgs)] == ["error"]


def test_failed_cell_keeps_nothing(kc):
    run_ok(kc, "#include <stdio.h>\nint before(void) { return 7; }\nint kept = 1;")
    reply, msgs = run(kc, "int gone(void) { return 1; }\nint also_gone = 5;\nkept = 99;\nint z = ;")
    assert reply["status"] == "error"
    # Neither the function nor the global from the failed cell exists.
    reply, msgs = run(kc, "int r = gone();")
    assert reply["status"] == "error", "gone() from a failed cell is still defined"
    reply, msgs = run(kc, "also_gone = 6;")
    assert reply["status"] == "error", "also_gone from a failed cell is still defined"
    # Earlier definitions still work and nothing of the failed cell ran.
    assert run_ok(kc, 'printf("%d %d\\n", before(), kept);') == "7 1\n"


def test_failed_cell_name_can_be_defined_later(kc):
    run(kc, "int later(void) { return 1; }\nint z = ;")
    run_ok(kc, "#include <stdio.h>\nint later(void) { return 2; }")
    assert run_ok(kc, 'printf("%d\\n", later());') == "2\n"


# ==========================================================================
# Crashes and exit
# ==========================================================================

SETUP = "#include <stdio.h>\n#include <stdlib.h>\nint kept = 5;\nint twice(int x) { return 2 * x; }"


def test_crash_is_an_error_and_kernel_serves(kernel):
    km, kc = kernel
    run_ok(kc, SETUP)
    run_ok(kc, "kept = 6;")
    reply, msgs = run(kc, 'printf("before\\n"); fflush(stdout);\n*(volatile int *)0 = 1;')
    err = one_error(reply, msgs)
    assert err["ename"] == "Crash"
    assert "SIGSEGV" in err["evalue"], f"evalue: {err['evalue']!r}"
    assert stdout_text(msgs) == "before\n"
    assert km.is_alive()
    assert run_ok(kc, 'printf("%d %d\\n", kept, twice(kept));') == "6 12\n"


def test_crash_rolls_back_that_cell(kc):
    run_ok(kc, SETUP)
    reply, msgs = run(kc, "kept = 100;\n*(volatile int *)0 = 1;")
    assert reply["status"] == "error"
    assert run_ok(kc, 'printf("%d\\n", kept);') == "5\n"


def test_crash_twice_in_a_row(kc):
    run_ok(kc, SETUP)
    for _ in range(2):
        reply, msgs = run(kc, "*(volatile int *)0 = 1;")
        assert one_error(reply, msgs)["ename"] == "Crash"
    run_ok(kc, "kept++;")
    assert run_ok(kc, 'printf("%d\\n", kept);') == "6\n"


def test_state_survives_many_crashes(kc):
    # Every crash or exit must hand over to the snapshot. A race between
    # reaping the dead process and reading its "started" event would start
    # a fresh worker now and then and lose everything: 100 tries catch it
    # almost always (it showed in about 1 crash in 10-30 here).
    run_ok(kc, SETUP)
    for i in range(100):
        code = "*(volatile int *)0 = 1;" if i % 2 == 0 else "exit(1);"
        reply, msgs = run(kc, code)
        err = one_error(reply, msgs)
        assert err["ename"] in ("Crash", "Exit")
        text = error_text(err)
        assert "earlier cells defined is lost" not in text, (
            f"try {i}: state lost after {code!r}:\n{text}")
    assert run_ok(kc, 'printf("%d\\n", twice(kept));') == "10\n"


def test_abort_is_a_crash_naming_sigabrt(kc):
    run_ok(kc, SETUP)
    reply, msgs = run(kc, "abort();")
    err = one_error(reply, msgs)
    assert err["ename"] == "Crash"
    assert "SIGABRT" in err["evalue"], f"evalue: {err['evalue']!r}"
    assert run_ok(kc, 'printf("%d\\n", twice(kept));') == "10\n"


def test_exit_is_an_error(kernel):
    km, kc = kernel
    run_ok(kc, SETUP)
    reply, msgs = run(kc, "exit(3);")
    err = one_error(reply, msgs)
    assert err["ename"] == "Exit"
    assert "3" in err["evalue"], f"exit status not in evalue {err['evalue']!r}"
    assert km.is_alive()
    assert run_ok(kc, 'printf("%d\\n", kept);') == "5\n"


# ==========================================================================
# Interrupt
# ==========================================================================

LOOP = 'printf("looping\\n"); fflush(stdout);\nfor (;;) ;'


def start_loop(kc, code=LOOP, timeout=10):
    """Send CODE and wait until it has printed "looping" (so the loop is
    really running). Returns the msg_id; the iopub messages seen so far are
    returned too."""
    msg_id = kc.execute(code)
    seen = []
    deadline = time.monotonic() + timeout
    while "looping" not in stdout_text(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"loop cell never printed; got {[m['msg_type'] for m in seen]}"
        try:
            m = kc.get_iopub_msg(timeout=left)
        except Empty:
            continue
        if m["parent_header"].get("msg_id") == msg_id:
            seen.append(m)
            if m["msg_type"] == "error":
                pytest.fail(f"loop cell failed: {m['content']}")
    return msg_id, seen


def finish_interrupted(kc, msg_id, t0, seen):
    reply = shell_reply(kc, msg_id, timeout=5)
    elapsed = time.monotonic() - t0
    msgs = seen + iopub_until_idle(kc, msg_id, timeout=5)
    assert elapsed < 1.0, f"interrupt took {elapsed:.2f} s"
    err = one_error(reply["content"], msgs)
    assert err["ename"] == "KeyboardInterrupt"
    return msgs


def test_interrupt_by_signal(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\nint g = 41;")
    msg_id, seen = start_loop(kc)
    t0 = time.monotonic()
    km.interrupt_kernel()
    finish_interrupted(kc, msg_id, t0, seen)
    assert km.is_alive()
    assert run_ok(kc, 'printf("%d\\n", g);') == "41\n"


def test_interrupt_by_control_message(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\nint g = 41;")
    msg_id, seen = start_loop(kc)
    t0 = time.monotonic()
    req = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(req)
    ireply = control_reply(kc, req["header"]["msg_id"], timeout=5)
    assert ireply["msg_type"] == "interrupt_reply"
    assert ireply["content"]["status"] == "ok"
    finish_interrupted(kc, msg_id, t0, seen)
    assert km.is_alive()
    assert run_ok(kc, 'printf("%d\\n", g);') == "41\n"


@pytest.mark.parametrize("includes, cell", [
    # the cell's own change is undone
    ("", "g = 99;\n" + LOOP),
    # SIGINT ignored: the kernel kills the process anyway
    ("#include <signal.h>\n", "signal(SIGINT, SIG_IGN);\n" + LOOP),
    # blocked in a system call
    ("#include <unistd.h>\n", 'printf("looping\\n"); fflush(stdout);\nsleep(30);'),
], ids=["restores_state_before_the_cell", "cell_that_ignores_sigint", "blocking_syscall"])
def test_interrupt(kernel, includes, cell):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\n" + includes + "int g = 41;")
    msg_id, seen = start_loop(kc, cell)
    t0 = time.monotonic()
    km.interrupt_kernel()
    finish_interrupted(kc, msg_id, t0, seen)
    assert run_ok(kc, 'printf("%d\\n", g);') == "41\n"


def test_interrupt_when_idle_is_harmless(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\nint g = 41;")
    km.interrupt_kernel()
    # The kernel must still answer, and the next cell runs normally.
    msg_id = kc.kernel_info()
    assert shell_reply(kc, msg_id, timeout=5)["content"]["status"] == "ok"
    assert run_ok(kc, 'printf("%d\\n", g);') == "41\n"
    assert km.is_alive()


# ==========================================================================
# Execution bookkeeping: stop_on_error, silent, execute_input, counts
# ==========================================================================

def test_stop_on_error_aborts_queued(kc):
    ids = [
        kc.execute("int bad = ;"),
        kc.execute('#include <stdio.h>\nprintf("second\\n");'),
        kc.execute('#include <stdio.h>\nprintf("third\\n");'),
    ]
    replies = [shell_reply(kc, i, timeout=10)["content"] for i in ids]
    assert replies[0]["status"] == "error"
    assert replies[1]["status"] == "aborted", f"2nd reply: {replies[1]}"
    assert replies[2]["status"] == "aborted", f"3rd reply: {replies[2]}"
    # A request sent after the error runs; everything published before its
    # idle must contain no output of the aborted cells.
    msg_id = kc.execute('#include <stdio.h>\nprintf("fourth\\n");')
    reply = shell_reply(kc, msg_id)
    seen = []
    deadline = time.monotonic() + 10
    while True:
        try:
            m = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except Empty:
            pytest.fail("no idle for the request after the aborted ones")
        seen.append(m)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            break
    assert reply["content"]["status"] == "ok"
    texts = stdout_text(seen)
    assert "second" not in texts and "third" not in texts, f"aborted cells ran: {texts!r}"
    assert "fourth\n" in texts


def test_stop_on_error_false_runs_next(kc):
    id1 = kc.execute("int bad = ;", stop_on_error=False)
    id2 = kc.execute('#include <stdio.h>\nprintf("second\\n");')
    r1, _ = collect(kc, id1)
    r2, msgs2 = collect(kc, id2)
    assert r1["status"] == "error"
    assert r2["status"] == "ok"
    assert stdout_text(msgs2) == "second\n"


def test_silent_publishes_nothing(kc):
    run_ok(kc, "#include <stdio.h>\nint quiet_v = 0;")
    reply, msgs = run(kc, 'quiet_v = 7; printf("quiet\\n"); fprintf(stderr, "q\\n");', silent=True)
    assert reply["status"] == "ok"
    assert [m["msg_type"] for m in msgs] == ["status", "status"], (
        f"silent cell published {[m['msg_type'] for m in msgs]}")
    # It did run.
    assert run_ok(kc, 'printf("%d\\n", quiet_v);') == "7\n"


def test_silent_error_publishes_nothing(kc):
    reply, msgs = run(kc, "int bad = ;", silent=True)
    assert reply["status"] == "error"
    assert [m["msg_type"] for m in msgs] == ["status", "status"]


def test_execute_input_carries_code_and_count(kc):
    code = "int ei = 1;"
    reply, msgs = run(kc, code)
    assert reply["status"] == "ok"
    assert msgs[0]["msg_type"] == "status"
    assert msgs[0]["content"]["execution_state"] == "busy"
    inputs = [m for m in msgs if m["msg_type"] == "execute_input"]
    assert len(inputs) == 1
    assert msgs[1]["msg_type"] == "execute_input", "execute_input must follow busy"
    assert inputs[0]["content"]["code"] == code
    assert inputs[0]["content"]["execution_count"] == reply["execution_count"]
    assert reply["execution_count"] == 1, "first cell of a fresh kernel is not 1"


def test_execution_count_only_for_stored_cells(kc):
    c1 = run(kc, "int ec = 0;")[0]["execution_count"]
    run(kc, "ec++;", store_history=False)
    run(kc, "ec++;", silent=True)
    reply, msgs = run(kc, "ec++;")
    assert reply["execution_count"] == c1 + 1
    inp = [m for m in msgs if m["msg_type"] == "execute_input"][0]
    assert inp["content"]["execution_count"] == c1 + 1
    # Errors count too.
    reply, _ = run(kc, "int bad = ;")
    assert reply["execution_count"] == c1 + 2


def test_history_records_stored_cells_only(kc):
    run_ok(kc, "int h_stored = 1;")
    run_ok(kc, "int h_unstored = 2;", store_history=False)
    msg_id = kc.history(hist_access_type="tail", n=5, output=False, raw=True)
    hist = shell_reply(kc, msg_id)["content"]["history"]
    sources = [h[2] for h in hist]
    assert sources == ["int h_stored = 1;"], sources


def test_history_search_and_range(kc):
    for i in range(3):
        run_ok(kc, f"int hs_{i} = {i};")
    msg_id = kc.history(hist_access_type="search", pattern="int hs_? = *", n=10,
                        output=False, raw=True)
    hist = shell_reply(kc, msg_id)["content"]["history"]
    assert [h[2] for h in hist] == ["int hs_0 = 0;", "int hs_1 = 1;", "int hs_2 = 2;"]
    session, start = hist[0][0], hist[0][1]
    msg_id = kc.history(hist_access_type="range", session=session, start=start + 1,
                        stop=start + 3, output=False, raw=True)
    hist = shell_reply(kc, msg_id)["content"]["history"]
    assert [h[2] for h in hist] == ["int hs_1 = 1;", "int hs_2 = 2;"]


# ==========================================================================
# Output streams
# ==========================================================================

def test_stdout_and_stderr(kc):
    reply, msgs = run(kc, '#include <stdio.h>\nprintf("to-out\\n"); fprintf(stderr, "to-err\\n");')
    assert reply["status"] == "ok"
    assert stdout_text(msgs) == "to-out\n"
    assert stderr_text(msgs) == "to-err\n"


def test_output_of_child_process(kc):
    reply, msgs = run(kc, '#include <stdio.h>\n#include <stdlib.h>\n'
                          'printf("parent\\n"); fflush(stdout);\nsystem("echo from-child");')
    assert reply["status"] == "ok"
    assert stdout_text(msgs) == "parent\nfrom-child\n"


def test_raw_write_to_fd1(kc):
    assert run_ok(kc, '#include <unistd.h>\nwrite(1, "raw\\n", 4);') == "raw\n"


def test_output_streams_while_cell_runs(kc):
    # Output printed before a pause must reach the client during the pause,
    # not when the cell ends.
    t0 = time.monotonic()
    msg_id = kc.execute('#include <stdio.h>\n#include <unistd.h>\n'
                        'printf("early\\n"); fflush(stdout);\nusleep(800000);')
    t_stream = t_idle = None
    deadline = t0 + 10
    while t_idle is None:
        m = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream" and t_stream is None:
            assert m["content"]["text"].startswith("early")
            t_stream = time.monotonic()
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            t_idle = time.monotonic()
    assert t_stream is not None, "no stream output"
    assert t_idle - t_stream > 0.5, (
        f"stream came only {t_idle - t_stream:.3f} s before idle: not streamed while running")


def test_ten_thousand_lines_complete_in_order(kc):
    reply, msgs = run(kc, '#include <stdio.h>\n'
                          'for (int i = 0; i < 10000; i++) printf("line %d\\n", i);', timeout=30)
    assert reply["status"] == "ok"
    expected = "".join(f"line {i}\n" for i in range(10000))
    out = stdout_text(msgs)
    assert out == expected, f"got {len(out)} chars, expected {len(expected)}"
    n = sum(1 for m in msgs if m["msg_type"] == "stream")
    assert n < 1000, f"{n} stream messages for 10000 lines"


def test_ten_thousand_flushed_lines_are_batched(kc):
    # Each line is its own write(2): the kernel must still batch them.
    reply, msgs = run(kc, '#include <stdio.h>\n'
                          'for (int i = 0; i < 10000; i++) { printf("line %d\\n", i); fflush(stdout); }',
                      timeout=30)
    assert reply["status"] == "ok"
    expected = "".join(f"line {i}\n" for i in range(10000))
    out = stdout_text(msgs)
    assert out == expected, f"got {len(out)} chars, expected {len(expected)}"
    n = sum(1 for m in msgs if m["msg_type"] == "stream")
    assert n < 1000, f"{n} stream messages for 10000 lines"


def test_output_arrives_before_reply_settles(kc):
    # What jupyter_kernel_test demands: all output and idle within ~100 ms
    # of the execute_reply, also for a large output. Judged by the kernel's
    # own send times (the headers' dates): how fast this client decodes
    # 20,000 lines on a loaded machine is not the kernel's doing.
    msg_id = kc.execute('#include <stdio.h>\n'
                        'for (int i = 0; i < 20000; i++) printf("%d\\n", i);')
    reply = shell_reply(kc, msg_id, timeout=30)
    msgs = iopub_until_idle(kc, msg_id, timeout=30)
    late = (msgs[-1]["header"]["date"] - reply["header"]["date"]).total_seconds()
    assert late < 0.5, f"the kernel sent idle {late:.3f} s after the execute_reply"
    assert "19999\n" in stdout_text(msgs)


def test_utf8_output_split_across_reads(kc):
    # 100,000 two-byte characters, each its own write: a read of the pipe
    # will end inside a character, and the kernel must not mangle it.
    reply, msgs = run(kc, '#include <stdio.h>\n'
                          'for (int i = 0; i < 100000; i++) { fputs("é", stdout); fflush(stdout); }',
                      timeout=30)
    assert reply["status"] == "ok"
    out = stdout_text(msgs)
    assert out == "é" * 100000, (
        f"{len(out)} chars, {out.count('é')} é, {out.count(chr(0xfffd))} replacement chars")


def test_unicode_in_cell_and_output(kc):
    assert run_ok(kc, '#include <stdio.h>\nprintf("héllo ✓\\n");') == "héllo ✓\n"


def test_invalid_utf8_output_survived(kc):
    # Bytes that are not UTF-8 cannot go into JSON as they are; the text
    # around them must still arrive and the kernel keep serving.
    reply, msgs = run(kc, '#include <stdio.h>\nprintf("a\\xff b\\n");')
    assert reply["status"] == "ok"
    out = stdout_text(msgs)
    assert out.startswith("a") and out.endswith(" b\n"), repr(out)
    assert run_ok(kc, 'printf("fine\\n");') == "fine\n"


def test_stdin_reads_end_of_file(kc):
    # a client that allows no input (nbconvert does so): reads see EOF at once
    code = '#include <stdio.h>\nprintf("%d\\n", getchar());'
    assert run_ok(kc, code, allow_stdin=False) == "-1\n"


def test_empty_and_comment_only_cells(kc):
    for code in ("", "\n\n", "/* nothing */", "// nothing"):
        reply, msgs = run(kc, code)
        assert reply["status"] == "ok", f"{code!r}: {reply}"
        assert outputs(msgs) == [], f"{code!r}: {outputs(msgs)}"


def test_missing_header_is_compile_error(kc):
    reply, msgs = run(kc, "int a;\n#include <no/such/header.h>\n")
    err = one_error(reply, msgs)
    assert err["ename"] == "CompileError"
    text = error_text(err)
    assert re.search(r"\bline 2\b", text) and "no/such/header.h" in text, text


def test_undefined_function_is_compile_error(kc):
    # Declared but defined nowhere: a link error, reported like a compile
    # error, never a crash.
    reply, msgs = run(kc, "int undefined_fn(void);\nundefined_fn();")
    err = one_error(reply, msgs)
    assert err["ename"] == "CompileError"
    assert "undefined_fn" in error_text(err)


def test_stack_overflow_is_a_crash(kc):
    run_ok(kc, "#include <stdio.h>\nint depth_kept = 3;\nint rec(int n) { return rec(n + 1) + 1; }")
    reply, msgs = run(kc, "rec(0);")
    err = one_error(reply, msgs)
    assert err["ename"] == "Crash"
    assert "SIGSEGV" in err["evalue"], err["evalue"]
    assert run_ok(kc, 'printf("%d\\n", depth_kept);') == "3\n"


def test_burst_of_cells(kc):
    # 300 cells sent back to back, as a notebook's "run all" does.
    run_ok(kc, "#include <stdio.h>\nint cnt = 0;")
    ids = [kc.execute("cnt++;") for _ in range(300)]
    replies = [shell_reply(kc, i, timeout=30)["content"] for i in ids]
    assert [r["status"] for r in replies] == ["ok"] * 300
    counts = [r["execution_count"] for r in replies]
    assert counts == list(range(counts[0], counts[0] + 300))
    assert run_ok(kc, 'printf("%d\\n", cnt);') == "300\n"


def test_worker_killed_while_idle(kernel):
    # Something outside kills the worker between cells: the kernel must
    # notice and serve on (the state may be gone, the kernel must not hang).
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>")
    kpid = kernel_pid(km)
    workers = {p: start for p, start in process_tree(kpid).items() if p != kpid}
    assert workers, "no worker process found"
    for p in workers:
        try:
            os.kill(p, 9)
        except ProcessLookupError:
            pass          # the last cell's snapshot, on its way out already
    assert not wait_gone(workers, 2), "worker survived SIGKILL"
    reply, _ = run(kc, "int w1 = 1;", timeout=10)          # may report the death
    reply, msgs = run(kc, '#include <stdio.h>\nprintf("back\\n");', timeout=10)
    assert reply["status"] == "ok", reply
    assert stdout_text(msgs) == "back\n"
    assert km.is_alive()


# ==========================================================================
# Raw wire: signatures, broken frames, heartbeat
# ==========================================================================

DELIM = b"<IDS|MSG>"


def connection(km):
    info = km.get_connection_info()
    key = info["key"]
    if isinstance(key, str):
        key = key.encode()
    return info, key


def raw_socket(km, channel, kind=zmq.DEALER):
    info, _ = connection(km)
    s = zmq.Context.instance().socket(kind)
    s.linger = 0
    s.connect(f"{info['transport']}://{info['ip']}:{info[channel + '_port']}")
    return s


def sign(key, frames):
    h = hmac.new(key, digestmod=hashlib.sha256)
    for f in frames:
        h.update(f)
    return h.hexdigest().encode()


def message_frames(msg_type, content=None, session="raw-test"):
    header = {
        "msg_id": uuid.uuid4().hex,
        "username": "test",
        "session": session,
        "date": "2026-01-01T00:00:00.000000Z",
        "msg_type": msg_type,
        "version": "5.3",
    }
    parts = [json.dumps(header).encode(), b"{}", b"{}", json.dumps(content or {}).encode()]
    return header["msg_id"], parts


def execute_frames(code):
    return message_frames("execute_request", {
        "code": code, "silent": False, "store_history": True,
        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})


def signed(key, parts):
    return [DELIM, sign(key, parts)] + parts


def recv_reply(sock, key, msg_id, timeout=5.0):
    """The reply to MSG_ID on a raw DEALER socket, signature checked, or None."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not sock.poll(int(left * 1000)):
            return None
        frames = sock.recv_multipart()
        i = frames.index(DELIM)
        sig, parts = frames[i + 1], frames[i + 2:i + 6]
        assert hmac.compare_digest(sig, sign(key, parts)), "reply has a bad signature"
        parent = json.loads(parts[1])
        if parent.get("msg_id") == msg_id:
            return json.loads(parts[0]), json.loads(parts[3])


def assert_no_activity(sock, kc, timeout=1.0):
    """Nothing comes back on SOCK within TIMEOUT and nothing was published."""
    if sock.poll(int(timeout * 1000)):
        pytest.fail(f"kernel answered a message it should have dropped: {sock.recv_multipart()}")
    try:
        m = kc.get_iopub_msg(timeout=0.05)
        pytest.fail(f"kernel published {m['msg_type']} for a message it should have dropped")
    except Empty:
        pass


def assert_still_serving(km, sock, key):
    msg_id, parts = message_frames("kernel_info_request")
    sock.send_multipart(signed(key, parts))
    got = recv_reply(sock, key, msg_id, timeout=5)
    assert got is not None, "no reply to a correctly signed kernel_info_request"
    assert got[0]["msg_type"] == "kernel_info_reply"
    assert km.is_alive()


def test_wrong_signature_is_ignored(kernel):
    km, kc = kernel
    _, key = connection(km)
    flush(kc)
    sock = raw_socket(km, "shell")
    try:
        msg_id, parts = message_frames("kernel_info_request")
        sock.send_multipart(signed(b"not-the-key", parts))
        assert_no_activity(sock, kc, 1.0)
        assert_still_serving(km, sock, key)
    finally:
        sock.close()


def test_wrong_signature_execute_does_not_run(kernel):
    km, kc = kernel
    _, key = connection(km)
    flush(kc)
    sock = raw_socket(km, "shell")
    try:
        # A signature of the right length, one hex digit off.
        _, parts = execute_frames("int wrong_sig_ran = 1;")
        sig = bytearray(sign(key, parts))
        sig[-1:] = b"0" if sig[-1:] != b"0" else b"1"
        sock.send_multipart([DELIM, bytes(sig)] + parts)
        assert_no_activity(sock, kc, 1.0)
    finally:
        sock.close()
    reply, _ = run(kc, "wrong_sig_ran = 2;")
    assert reply["status"] == "error", "a cell with a bad signature was executed"


def test_wrong_signature_shutdown_on_control_is_ignored(kernel):
    km, kc = kernel
    _, key = connection(km)
    sock = raw_socket(km, "control")
    try:
        msg_id, parts = message_frames("shutdown_request", {"restart": False})
        sock.send_multipart(signed(b"not-the-key", parts))
        assert not sock.poll(1000), "kernel answered a badly signed shutdown_request"
        assert km.is_alive(), "kernel obeyed a badly signed shutdown_request"
        assert_still_serving(km, sock, key)
    finally:
        sock.close()


def replies_until(sock, key, msg_id, timeout=10.0):
    """Every (header, content) of the replies on SOCK up to and including the
    reply to MSG_ID (the kernel answers a socket in order)."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sock.poll(int((deadline - time.monotonic()) * 1000) + 1):
            break
        frames = sock.recv_multipart()
        i = frames.index(DELIM)
        header, parent = json.loads(frames[i + 2]), json.loads(frames[i + 3])
        got.append((header, json.loads(frames[i + 5])))
        if parent.get("msg_id") == msg_id:
            return got
    pytest.fail(f"no reply to {msg_id} in {timeout} s; got {[h['msg_type'] for h, _ in got]}")


def send_twice_then_ask(sock, key, parts):
    """Send the signed message PARTS twice, then a fresh kernel_info_request;
    the types of the replies up to the last one's."""
    sock.send_multipart(signed(key, parts))
    sock.send_multipart(signed(key, parts))         # the replay
    last_id, last = message_frames("kernel_info_request")
    sock.send_multipart(signed(key, last))
    return [h["msg_type"] for h, _ in replies_until(sock, key, last_id)]


def test_replayed_execute_runs_once(kernel):
    """A correctly signed execute_request sent twice runs once, as with
    jupyter_client's Session: the copy is dropped unanswered."""
    km, kc = kernel
    _, key = connection(km)
    run_ok(kc, "int replayed = 0;")
    flush(kc)
    sock = raw_socket(km, "shell")
    try:
        _, parts = execute_frames("replayed++;")
        got = send_twice_then_ask(sock, key, parts)
        assert got == ["execute_reply", "kernel_info_reply"], got
    finally:
        sock.close()
    assert run_ok(kc, 'printf("%d\\n", replayed);') == "1\n"


def test_replayed_control_message_answered_once(kernel):
    km, _ = kernel
    _, key = connection(km)
    sock = raw_socket(km, "control")
    try:
        _, parts = message_frames("kernel_info_request")
        got = send_twice_then_ask(sock, key, parts)
        assert got == ["kernel_info_reply", "kernel_info_reply"], got
    finally:
        sock.close()


def test_missing_signature_frame_is_ignored(kernel):
    km, kc = kernel
    _, key = connection(km)
    flush(kc)
    sock = raw_socket(km, "shell")
    try:
        _, parts = message_frames("kernel_info_request")
        sock.send_multipart([DELIM] + parts)            # no signature frame at all
        assert_no_activity(sock, kc, 0.5)
        sock.send_multipart([DELIM, b""] + parts)       # empty signature
        assert_no_activity(sock, kc, 0.5)
        assert_still_serving(km, sock, key)
    finally:
        sock.close()


def test_malformed_and_garbage_frames_survived(kernel):
    km, kc = kernel
    _, key = connection(km)
    sock = raw_socket(km, "shell")
    rnd = os.urandom(4096)
    good_header = message_frames("kernel_info_request")[1][0]
    try:
        bad = [
            [b"garbage"],
            [DELIM],
            [b""],
            [b"ident", b"no delimiter", b"{}", b"{}"],
            [DELIM, b"short"],
            [rnd, rnd[:10], DELIM, rnd[10:20]],
            # Correctly signed, but not usable:
            signed(key, [b"{not json", b"{}", b"{}", b"{}"]),
            signed(key, [b"[1, 2]", b"{}", b"{}", b"{}"]),
            signed(key, [b"{}", b"{}", b"{}", b"{}"]),
            signed(key, [rnd[:100], b"{}", b"{}", b"{}"]),
            signed(key, [good_header, b"{", b"{}", b"{}"]),
            signed(key, [good_header, b"{}", b"{}", b"not json"]),
            signed(key, [good_header, b"{}", b"{}"]),       # a frame short
            signed(key, message_frames("execute_request", {"code": 42})[1]),
            signed(key, message_frames("execute_request", {})[1]),
            signed(key, message_frames("history_request", {"hist_access_type": 7})[1]),
            signed(key, message_frames("is_complete_request", {})[1]),
            [DELIM, b"x" * 64] + [b"{}"] * 4 + [b"buf"] * 50,
            [DELIM, b"x" * 64, b"{" * (1 << 20), b"{}", b"{}", b"{}"],
        ]
        for frames in bad:
            sock.send_multipart(frames)
        # Drain whatever error replies the kernel chose to send, then check
        # it still answers properly.
        assert_still_serving(km, sock, key)
    finally:
        sock.close()
    assert run_ok(kc, '#include <stdio.h>\nprintf("alive\\n");') == "alive\n"


def ping(hb, timeout=1.0):
    hb.send(b"ping")
    if not hb.poll(int(timeout * 1000)):
        return False
    return hb.recv() == b"ping"


def test_heartbeat_answers(kernel):
    km, kc = kernel
    hb = raw_socket(km, "hb", zmq.REQ)
    try:
        assert ping(hb), "no heartbeat reply within 1 s"
    finally:
        hb.close()


def test_heartbeat_answers_during_long_cell(kernel):
    km, kc = kernel
    run_ok(kc, "#include <unistd.h>")
    hb = raw_socket(km, "hb", zmq.REQ)
    try:
        t0 = time.monotonic()
        msg_id = kc.execute("sleep(3);")
        pings = 0
        while time.monotonic() - t0 < 2.5:
            t = time.monotonic()
            assert ping(hb, 1.0), f"heartbeat silent for 1 s, {t - t0:.2f} s into the cell"
            pings += 1
            time.sleep(0.1)  # pace the pings; the cell runs 3 s anyway
        reply = shell_reply(kc, msg_id, timeout=10)
        assert reply["content"]["status"] == "ok"
        assert time.monotonic() - t0 >= 2.9, "the cell did not run for 3 s"
        assert pings >= 10
    finally:
        hb.close()


def test_control_served_while_cell_runs(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>")
    msg_id, seen = start_loop(kc)
    req = kc.session.msg("kernel_info_request", {})
    t0 = time.monotonic()
    kc.control_channel.send(req)
    reply = control_reply(kc, req["header"]["msg_id"], timeout=2)
    assert time.monotonic() - t0 < 1.0
    assert reply["content"]["status"] == "ok"
    km.interrupt_kernel()
    shell_reply(kc, msg_id, timeout=5)


# ==========================================================================
# Shutdown and restart leave no process behind
# ==========================================================================

def shutdown_and_check(km, kc, tree):
    """Send shutdown_request, expect the reply, the kernel to exit on its own
    and every process in TREE to be gone."""
    req = kc.session.msg("shutdown_request", {"restart": False})
    kc.control_channel.send(req)
    reply = control_reply(kc, req["header"]["msg_id"], timeout=5)
    assert reply["msg_type"] == "shutdown_reply"
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["restart"] is False
    proc = km.provisioner.process
    deadline = time.monotonic() + 5
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is not None, "kernel did not exit within 5 s of shutdown_request"
    left = wait_gone(tree, timeout=5)
    assert not left, f"left behind after shutdown: {describe(left)}"


def test_shutdown_leaves_no_process(kernel):
    km, kc = kernel
    run_ok(kc, '#include <stdio.h>\nprintf("x\\n");')
    tree = process_tree(kernel_pid(km))
    assert len(tree) >= 2, f"expected kernel and worker, found {describe(tree)}"
    shutdown_and_check(km, kc, tree)


def test_shutdown_during_running_cell(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>")
    start_loop(kc)
    tree = process_tree(kernel_pid(km))
    assert len(tree) >= 2
    shutdown_and_check(km, kc, tree)


def test_shutdown_after_crash_and_interrupt(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>")
    run(kc, "*(volatile int *)0 = 1;")
    msg_id, seen = start_loop(kc)
    km.interrupt_kernel()
    shell_reply(kc, msg_id, timeout=5)
    run_ok(kc, "int after = 1;")
    tree = process_tree(kernel_pid(km))
    shutdown_and_check(km, kc, tree)


def test_shutdown_kills_background_child_of_cell(kernel):
    # A cell may start a process that outlives it; the kernel is its
    # subreaper, and shutting down must not leave it running.
    km, kc = kernel
    run_ok(kc, '#include <stdlib.h>\nsystem("sleep 60 >/dev/null 2>&1 &");')
    tree = process_tree(kernel_pid(km))
    assert any(b"sleep" in open(f"/proc/{p}/cmdline", "rb").read()
               for p in alive(tree)), "background sleep not found under the kernel"
    shutdown_and_check(km, kc, tree)


def test_restart_clears_state_and_old_processes(kernel):
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\nint before_restart = 1;")
    tree = process_tree(kernel_pid(km))
    t0 = time.monotonic()
    km.restart_kernel(now=False)
    elapsed = time.monotonic() - t0
    kc.wait_for_ready(timeout=15)
    left = wait_gone(tree, timeout=5)
    assert not left, f"left behind after restart: {describe(left)}"
    # jupyter_client kills the kernel after shutdown_wait_time (3 s here) if
    # it has not exited on its own.
    assert elapsed < km.shutdown_wait_time, f"restart took {elapsed:.1f} s: kernel did not exit"
    reply, _ = run(kc, "before_restart = 2;")
    assert reply["status"] == "error", "state survived a restart"
    assert run_ok(kc, '#include <stdio.h>\nprintf("fresh\\n");') == "fresh\n"


def test_nul_in_a_cell_is_a_compile_error(kernel):
    """JSON may carry U+0000 in the code; tcc stops at it with this error
    (gcc ignores it with a warning). The kernel used to drop the whole
    message as malformed, and the client waited for a reply forever."""
    _, kc = kernel
    reply, msgs = run(kc, "int before_nul = 1;\nint a = 1;\0 int b = 2;")
    assert reply["status"] == "error"
    assert reply["ename"] == "CompileError"
    assert reply["evalue"] == "line 2: error: unrecognized character \\x00", reply["evalue"]
    assert run_ok(kc, 'printf("still here\\n");') == "still here\n"
