"""The measurement under every cell, read from execute_reply metadata
(ckernel.measure) and from the measurement line, for cells whose figures
are known exactly."""
from .conftest import measure_lines, run, run_ok, shell_reply


def measure(kc, code, **kw):
    reply, msgs = run(kc, code, allow_stdin=False, **kw)
    assert reply["status"] == "ok", reply
    return reply, msgs


def figures(kc, code):
    # the reply's metadata carries the figures; jupyter_client puts the
    # reply's metadata beside its content, so ask for the whole message
    m = shell_reply(kc, kc.execute(code, allow_stdin=False), timeout=20)
    assert m["content"]["status"] == "ok", m["content"]
    return m["metadata"]["ckernel"]["measure"]


def test_free_malloc_loop_is_counted_exactly(kc):
    run(kc, "#include <stdlib.h>\n#include <stdio.h>")
    m = figures(kc, "for (int i = 0; i < 100; i++) free(malloc(32));")
    assert (m["allocs"], m["alloc_bytes"], m["frees"], m["live_delta_bytes"]) == (100, 3200, 100, 0), m
    assert m["peak_live_bytes"] == 32, m
    assert m["run_ns"] > 0 and m["compile_ns"] > 0, m


def test_live_bytes_and_libc_allocations(kc):
    run(kc, "#include <stdlib.h>\n#include <stdio.h>\n#include <string.h>")
    m = figures(kc, "char *kept = malloc(48);")
    assert (m["allocs"], m["alloc_bytes"], m["frees"], m["live_delta_bytes"]) == (1, 48, 0, 48), m
    assert (m["libc_allocs"], m["libc_frees"]) == (0, 0), m
    # strdup allocates inside libc: it is counted too, and shown as libc's;
    # the free is the cell's own call
    m = figures(kc, "char *dup = strdup(\"hello\"); free(dup);")
    assert (m["allocs"], m["alloc_bytes"], m["frees"]) == (1, 6, 1), m
    assert (m["libc_allocs"], m["libc_alloc_bytes"], m["libc_frees"]) == (1, 6, 0), m


def test_libc_allocations_are_shown_apart(kc):
    # two mallocs beside fopen/fgets/fclose: libc's FILE and buffer are
    # counted, and said to be libc's (issue 11, finding 6)
    run(kc, "#include <stdlib.h>\n#include <stdio.h>")
    code = ("void *two[2];\n"
            "two[0] = malloc(10); two[1] = malloc(20);\n"
            "FILE *f = fopen(\"/proc/self/maps\", \"r\"); char line[256]; fgets(line, sizeof line, f); fclose(f);")
    m = figures(kc, code)
    assert m["allocs"] - m["libc_allocs"] == 2 and m["alloc_bytes"] - m["libc_alloc_bytes"] == 30, m
    assert m["libc_allocs"] >= 2 and m["libc_frees"] == m["libc_allocs"] == m["frees"], m
    reply, msgs = measure(kc, code)
    text = measure_lines(msgs)[0]["content"]["data"]["text/plain"]
    want = f"(libc's own: {m['libc_allocs']} allocs / {m['libc_alloc_bytes']} B, {m['libc_frees']} frees)"
    assert want in text, text
    m = figures(kc, "free(two[0]); free(two[1]);")
    assert (m["frees"], m["libc_frees"]) == (2, 0), m


def test_a_64_kib_stack_array_is_measured(kc):
    run(kc, "void deep(void) { volatile char a[65536]; a[0] = 1; a[65535] = 2; }")
    m = figures(kc, "deep();")
    assert 65536 <= m["stack_peak_bytes"] < 65536 + 4096, m


def test_a_cell_that_only_prints(kc):
    run(kc, "#include <stdio.h>")
    # the first output makes libc allocate stdout's buffer, on the cell's
    # behalf: that is counted; from then on printing allocates nothing
    m = figures(kc, 'printf("first\\n");')
    assert m["allocs"] <= 1 and m["frees"] == 0, m
    reply, msgs = measure(kc, 'printf("hi\\n");')
    lines = measure_lines(msgs)
    assert len(lines) == 1, msgs
    text = lines[0]["content"]["data"]["text/plain"]
    assert text.startswith("compile ") and "heap 0 allocs" in text and "stack " in text, text
    assert "text/html" in lines[0]["content"]["data"]
    assert lines[0]["content"]["metadata"] == {}


def test_measure_off_hides_the_line_but_keeps_the_figures(kc):
    reply, msgs = measure(kc, "%measure off\nint quiet = 1;")
    assert measure_lines(msgs) == []
    m = figures(kc, "quiet++;")
    assert m["allocs"] == 0
    reply, msgs = measure(kc, "%measure verbose\nquiet++;")
    text = measure_lines(msgs)[0]["content"]["data"]["text/plain"]
    assert "cpu " in text and "rss " in text, text
    measure(kc, "%measure on")


def test_the_runtime_frames_are_not_the_cells_stack(kc):
    # nb_where reads /proc/self/maps and prints: kilobytes of stack that
    # are the runtime's, not the cell's (issue 11, finding 5)
    run(kc, "#include <stdio.h>")
    m = figures(kc, "void one_local(void) { int local = 1; nb_where(&local); nb_keep(local); }\none_local();")
    assert m["stack_peak_bytes"] < 1024, m
    m = figures(kc, "void mapped(void) { int local = 1; nb_memory_map(&local); nb_keep(local); }\nmapped();")
    assert m["stack_peak_bytes"] < 1024, m
    m = figures(kc, "nb_table *t = nb_table_new(\"a|b\"); nb_table_row(t, \"%d|%d\", 1, 2); nb_table_show(t);")
    assert m["stack_peak_bytes"] < 1024, m
    m = figures(kc, "nb_bench_time(0.001);\nfor (NB_BENCH(b, \"sum\")) { for (long i = 0; i < b->n; i++) nb_keep(i); }")
    assert m["stack_peak_bytes"] < 1024, m


def test_a_deep_cell_is_measured_across_runtime_calls(kc):
    # the cell's own depth before a runtime call is kept when the call
    # wipes what the runtime wrote below it
    run(kc, "void deep64(void) { volatile char a[65536]; a[0] = 1; a[65535] = 2; }")
    m = figures(kc, "deep64(); nb_where(&deep64);")
    assert 65536 <= m["stack_peak_bytes"] < 65536 + 4096, m
    text = run_ok(kc, "deep64(); printf(\"peak %lu\\n\", nb_stack_peak());", allow_stdin=False)
    assert 65536 <= int(text.split()[1]) < 65536 + 4096, text


def test_runtime_calls_at_every_stack_alignment(kc):
    # the runtime wipes the stack below it on return: with the stack
    # pointer at each 16-byte step of a page, no call may lose its own
    # return address (one at a page's start once returned to address 0)
    run(kc, "void at_depth(int pad) { volatile char buf[pad + 1]; buf[0] = 1;\n"
            "    nb_keep(nb_locate((const void *)buf).region); nb_keep(nb_stack_peak()); }")
    out = run_ok(kc, "for (int pad = 0; pad < 8192; pad += 16) at_depth(pad);\nputs(\"survived\");",
                 allow_stdin=False)
    assert out == "survived\n", out
