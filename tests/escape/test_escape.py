"""%escape and %%escape through a real kernel.

Every tests/escape/NN_*.c is a notebook in small: chunks after `//// setup`
run as ordinary cells, chunks after `//// escape` are analysed with
%%escape, and every `// expect: NAME VERDICT[; NAME VERDICT]` comment
names a fact ckernel's own analysis must report on that line. The check is
both ways: each expected fact is reported, and each fact ckernel reports
is expected, so a verdict that changes fails here.
"""
import glob
import os
import re
import stat
import tempfile
import time

import pytest

from protocol.conftest import (errors, run, start_kernel, stderr_text, stdout_text,
                               stop_kernel)

HERE = os.path.dirname(os.path.abspath(__file__))
VERDICTS = ("does not escape", "escapes to caller", "escapes to global", "escapes to heap",
            "escapes through parameter", "may escape", "leaks")
KINDS = ("local", "param", "alloc")
TIMEOUT = 60      # the compilers beside the analysis take their time on a loaded machine


def chunks(path):
    """[(kind, code)] of a test file, kind 'setup' or 'escape'."""
    out, kind, lines = [], None, []
    with open(path) as f:
        for line in f.read().splitlines():
            m = re.match(r"//// (setup|escape)\s*$", line)
            if m:
                if kind:
                    out.append((kind, "\n".join(lines) + "\n"))
                kind, lines = m.group(1), []
            elif kind:
                lines.append(line)
    if kind:
        out.append((kind, "\n".join(lines) + "\n"))
    return out


def expectations(code):
    """{(cell line, name, verdict)} from the expect comments of an escape
    chunk; its cell is '%%escape' and then CODE, so chunk line i is cell
    line i + 1."""
    want = set()
    for i, line in enumerate(code.splitlines(), start=1):
        m = re.search(r"// expect: (.*)$", line)
        if not m:
            continue
        for part in m.group(1).split(";"):
            part = part.strip()
            verdict = next(v for v in VERDICTS if part.endswith(" " + v))
            want.add((i + 1, part[: -len(verdict) - 1].strip(), verdict))
    return want


def name_matches(name, expected):
    """A fact's name against the test's: `malloc` stands for `malloc(64)`,
    `(int[])` for the whole compound literal."""
    return (name == expected or name.startswith(expected + "(")
            or (expected.startswith("(") and name.startswith(expected)))


def escape_facts(reply):
    return reply["metadata"]["ckernel"]["escape"]


def analyse(kc, code):
    """Run CODE under %%escape; (execute_reply, iopub messages)."""
    msg_id = kc.execute("%%escape\n" + code)
    from protocol.conftest import shell_reply, iopub_until_idle
    reply = shell_reply(kc, msg_id, TIMEOUT)
    return reply, iopub_until_idle(kc, msg_id, TIMEOUT)


FILES = sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.c")))


def test_at_least_forty_functions_with_verdicts():
    functions = 0
    for path in FILES:
        for kind, code in chunks(path):
            if kind == "escape":
                functions += len(re.findall(r"^\S.*\)\s*\{", code, re.M))
    assert functions >= 40, functions


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(p) for p in FILES])
def test_verdicts(kernel, path):
    _, kc = kernel
    for kind, code in chunks(path):
        if kind == "setup":
            reply, msgs = run(kc, code, timeout=TIMEOUT)
            assert reply["status"] == "ok", errors(msgs)
            continue
        reply, msgs = analyse(kc, code)
        assert reply["content"]["status"] == "ok", errors(msgs)
        facts = [f for f in escape_facts(reply) if f["source"] == "ckernel"]
        want = expectations(code)
        missing = [w for w in sorted(want)
                   if not any(f["line"] == w[0] and f["verdict"] == w[2] and name_matches(f["name"], w[1])
                              for f in facts)]
        unexpected = [f for f in facts
                      if not any(f["line"] == w[0] and f["verdict"] == w[2] and name_matches(f["name"], w[1])
                                 for w in want)]
        shown = "\n".join(f"{f['line']}: {f['name']} {f['verdict']} ({f['detail']})" for f in facts)
        assert not missing and not unexpected, (
            f"missing {missing}\nunexpected {[(f['line'], f['name'], f['verdict']) for f in unexpected]}"
            f"\nreported:\n{shown}")


def test_escape_shows_the_report_then_runs_the_cell(kc):
    code = ("%escape\n#include <stdio.h>\n"
            "int *f(void) { int x = 1; return &x; }\n"
            "printf(\"the cell ran\\n\");\n")
    reply, msgs = run(kc, code, timeout=TIMEOUT)
    assert reply["status"] == "ok", errors(msgs)
    kinds = [m["msg_type"] for m in msgs]
    report = next(i for i, m in enumerate(msgs) if m["msg_type"] == "display_data"
                  and "escape analysis" in m["content"]["data"].get("text/plain", ""))
    printed = next(i for i, m in enumerate(msgs) if m["msg_type"] == "stream"
                   and "the cell ran" in m["content"]["text"])
    assert report < printed, kinds
    data = msgs[report]["content"]["data"]
    assert "x" in data["text/plain"] and "escapes to caller" in data["text/plain"]
    assert data["text/html"].startswith("<table") and "escapes to caller" in data["text/html"]
    assert "the cell ran" in stdout_text(msgs)


def test_escape_of_a_cell_that_does_not_compile(kc):
    """The report of what could be parsed, then the compile error as usual."""
    reply, msgs = run(kc, "%escape\nint *f(void) { int x = 1; return &x; }\nint g(void) { return y; }\n",
                      timeout=TIMEOUT)
    assert reply["status"] == "error" and reply["ename"] == "CompileError"
    text = next(m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "display_data")
    assert "escapes to caller" in text
    assert "the parser could not read all of the cell: line 3: use of undeclared identifier 'y'" in text


def test_a_function_the_parser_could_not_read_is_never_certain(kc):
    """What the parser dropped may be where an address goes: a function with
    a parse error gets no "does not escape"."""
    reply, _ = analyse(kc, "int broken(int *q) { return q[0] + undeclared; }\n")
    facts = [f for f in escape_facts(reply) if f["source"] == "ckernel"]
    assert [(f["name"], f["verdict"]) for f in facts] == [("q", "may escape")], facts
    assert "could not read all of broken (line 2)" in facts[0]["detail"]


def test_deeply_nested_expressions():
    """libclang and the analysis recurse as deep as expressions nest: 3000
    parentheses and a 5000-term sum neither crash nor fool the analyser
    (the compilers left out: this is about ckernel's own part)."""
    code = ("int *deep(int *p) { return " + "(" * 3000 + "p" + ")" * 3000 + "; }\n"
            "int wide(int *p) { return " + " + ".join(["p[0]"] * 5000) + "; }\n")
    km, kc = _kernel_with({"CKERNEL_ESCAPE_TOOLS": "off"})
    try:
        reply, msgs = analyse(kc, code)
    finally:
        stop_kernel(km, kc)
    assert reply["content"]["status"] == "ok", errors(msgs)
    facts = {(f["function"], f["verdict"]) for f in escape_facts(reply) if f["source"] == "ckernel"}
    assert facts == {("deep", "escapes to caller"), ("wide", "does not escape")}, facts


def test_double_escape_analyses_without_running(kc):
    reply, msgs = analyse(kc, "#include <stdio.h>\nint defined_here(void) { return 1; }\n"
                              "printf(\"must not run\\n\");\n")
    assert reply["content"]["status"] == "ok", errors(msgs)
    assert "must not run" not in stdout_text(msgs)
    assert any(m["msg_type"] == "display_data" for m in msgs)
    # nothing it defined became part of the session
    r, msgs = run(kc, "defined_here()", timeout=TIMEOUT)
    assert r["status"] == "error"


def test_metadata_shape(kc):
    reply, msgs = analyse(kc, "#include <stdlib.h>\nint *g;\n"
                              "int *f(int *p) { int x; g = &x; int *m = malloc(8); free(m); return p; }\n")
    facts = escape_facts(reply)
    assert facts, reply["metadata"]
    for f in facts:
        assert set(f) == {"function", "name", "kind", "line", "verdict", "detail", "source"}, f
        assert f["verdict"] in VERDICTS and f["kind"] in KINDS and isinstance(f["line"], int)
        assert f["source"] == "ckernel" or set(f["source"].split(", ")) <= {"gcc", "clang", "cppcheck"}
    own = {(f["name"], f["kind"], f["verdict"]) for f in facts if f["source"] == "ckernel"}
    assert own == {("x", "local", "escapes to global"), ("p", "param", "escapes to caller"),
                   ("malloc(8)", "alloc", "does not escape")}, own
    timing = reply["metadata"]["ckernel"]["timing"]
    assert timing["escape_analysis_ms"] >= 0 and timing["escape_parse_ms"] > 0


def test_cross_cell_summary_follows_redefinition(kc):
    run(kc, "int *kept;\nvoid hold(int *p) { kept = p; }\n", timeout=TIMEOUT)
    code = "void user(void) { int z = 0; hold(&z); }\n"
    reply, _ = analyse(kc, code)
    assert [(f["name"], f["verdict"]) for f in escape_facts(reply) if f["source"] == "ckernel"] == \
        [("z", "escapes to global")]
    # hold is redefined: from now on it keeps nothing
    run(kc, "void hold(int *p) { (void)p; }\n", timeout=TIMEOUT)
    reply, _ = analyse(kc, code)
    assert [(f["name"], f["verdict"]) for f in escape_facts(reply) if f["source"] == "ckernel"] == \
        [("z", "does not escape")]


def test_the_compilers_verdicts_are_tagged_and_merged(kc):
    tools = [t for t in ("gcc", "clang", "cppcheck") if os.access(f"/usr/bin/{t}", os.X_OK)]
    if not tools:
        pytest.skip("no compiler installed to compare with")
    reply, msgs = analyse(kc, "#include <stdlib.h>\n"
                              "int *f(void) { int x = 1; return &x; }\n"
                              "void leak(int n) { int *a = malloc(n); if (n > 3) return; free(a); }\n")
    facts = [f for f in escape_facts(reply) if f["source"] != "ckernel"]
    on2 = [f for f in facts if f["line"] == 3]
    assert len(on2) == 1 and on2[0]["verdict"] == "escapes to caller", facts   # one line, merged
    if "clang" in tools:
        assert "clang" in on2[0]["source"]
        assert any(f["line"] == 4 and f["verdict"] == "leaks" and "clang" in f["source"] for f in facts)
    if "gcc" in tools:
        assert "gcc" in on2[0]["source"]
    text = next(m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "display_data")
    assert "what the compilers say" in text


def _script(body):
    fd, path = tempfile.mkstemp(prefix="fake-escape-", suffix=".sh")
    with os.fdopen(fd, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, stat.S_IRWXU)
    return path


def _kernel_with(env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return start_kernel()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("body,timeout,says", [
    ("kill -SEGV $$", "60", "crashed (signal 11"),
    ("exec sleep 60", "1", "did not finish within 1 s"),
], ids=["crash", "timeout"])
def test_analyser_failure_is_a_clear_error_and_the_session_lives(body, timeout, says):
    script = _script(body)
    km, kc = _kernel_with({"CKERNEL_ESCAPE_BIN": script, "CKERNEL_ESCAPE_TIMEOUT": timeout})
    try:
        run(kc, "int before = 41;", timeout=TIMEOUT)
        reply, msgs = analyse(kc, "int f(void) { return before; }\n")
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "EscapeError" and says in reply["content"]["evalue"]
        # %escape still runs the cell, with the error on stderr
        r, msgs = run(kc, "%escape\n#include <stdio.h>\nbefore += 1;\nprintf(\"%d\\n\", before);\n", timeout=TIMEOUT)
        assert r["status"] == "ok" and "42" in stdout_text(msgs)
        assert says in stderr_text(msgs)
        r, msgs = run(kc, "before + 1", timeout=TIMEOUT)
        assert r["status"] == "ok"
    finally:
        stop_kernel(km, kc)
        os.unlink(script)


def test_every_bundled_program_is_analysed():
    """The analyser never fails on real C: each of tests/programs/*.c (whole
    programs, and the ones that do not compile) is analysed, the compilers
    left out for speed, and every fact has a verdict of the list."""
    km, kc = _kernel_with({"CKERNEL_ESCAPE_TOOLS": "off"})
    try:
        programs = sorted(glob.glob(os.path.join(HERE, "..", "programs", "*.c")))
        assert len(programs) > 100
        for path in programs:
            run(kc, "%reset", timeout=TIMEOUT)
            with open(path) as f:
                reply, msgs = analyse(kc, f.read())
            assert reply["content"]["status"] == "ok", (path, errors(msgs))
            for fact in escape_facts(reply):
                assert fact["verdict"] in VERDICTS and fact["source"] == "ckernel", (path, fact)
    finally:
        stop_kernel(km, kc)


def test_interrupt_during_the_analysis(tmp_path):
    """An interrupt while the analyser works ends the cell as any interrupt
    does (KeyboardInterrupt, the session as it was), and the analyser dies
    with the worker that started it (the real one asks for that with
    PR_SET_PDEATHSIG, as this stand-in does)."""
    pidfile = tmp_path / "analyser.pid"
    script = _script(f"exec /usr/bin/python3 -c \"import ctypes, os, time; ctypes.CDLL(None).prctl(1, 9); "
                     f"open('{pidfile}', 'w').write(str(os.getpid())); time.sleep(60)\"")
    km, kc = _kernel_with({"CKERNEL_ESCAPE_BIN": script})
    try:
        run(kc, "int kept_value = 41;", timeout=TIMEOUT)
        msg_id = kc.execute("%escape\nkept_value = 99;\n")
        deadline = time.monotonic() + TIMEOUT
        while not (pidfile.exists() and pidfile.read_text()):
            assert time.monotonic() < deadline, "the analyser never started"
            time.sleep(0.05)
        pid = int(pidfile.read_text())
        km.interrupt_kernel()
        from protocol.conftest import shell_reply, iopub_until_idle
        reply = shell_reply(kc, msg_id, TIMEOUT)
        iopub_until_idle(kc, msg_id, TIMEOUT)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z":
            assert time.monotonic() < deadline, "the analyser outlived its worker"
            time.sleep(0.05)
        r, msgs = run(kc, "#include <stdio.h>\nprintf(\"%d\\n\", kept_value);", timeout=TIMEOUT)
        assert stdout_text(msgs) == "41\n"
    finally:
        stop_kernel(km, kc)
        os.unlink(script)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
