"""%%profile through a real kernel: CPU samples by function and line, the
flame graph, exports, a crashing cell, nb_profile_* from code, and the
heap profile's exact counts (README "Profiling").

CPU sampling counts CPU time, so a loaded machine changes how long the
cells take, not what share each function gets: the work is large enough
for hundreds of samples, and the margins are wide."""
import gzip
import json
import os
import re
import xml.etree.ElementTree as ET

from .conftest import errors, iopub_until_idle, run, shell_reply, stdout_text

WORK = """
#include <stdio.h>
#include <stdlib.h>
volatile double sink;
void work(long n) {
    double s = 0;
    for (long i = 0; i < n; i++)
        s += i * 0.5;
    sink = s;
}
"""

HOT_COLD = """%%profile
void hot(void) {
    double s = 0;
    for (long i = 0; i < 240000000; i++)
        s += i * 0.5;
    sink = s;
}
void cold(void) {
    double s = 0;
    for (long i = 0; i < 80000000; i++)
        s += i * 0.5;
    sink = s;
}
hot();
cold();
"""


def pb_varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def pb_fields(b):
    """A protobuf message's fields: {number: [int or bytes, ...]}."""
    out, i = {}, 0
    while i < len(b):
        key, i = pb_varint(b, i)
        if key & 7 == 0:
            v, i = pb_varint(b, i)
        elif key & 7 == 2:
            n, i = pb_varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise AssertionError(f"wire type {key & 7}")
        out.setdefault(key >> 3, []).append(v)
    return out


def pb_packed(b):
    vals, i = [], 0
    while i < len(b):
        v, i = pb_varint(b, i)
        vals.append(v)
    return vals


def profiled(kc, code, timeout=120):
    """(reply message, iopub messages) of CODE, which must succeed."""
    mid = kc.execute(code, allow_stdin=False)
    rep = shell_reply(kc, mid, timeout=timeout)
    msgs = iopub_until_idle(kc, mid, timeout=timeout)
    return rep, msgs


def profile_displays(msgs):
    return [m["content"]["data"] for m in msgs if m["msg_type"] == "display_data"
            and "ckernel-profile" in m["content"]["data"].get("text/html", "")]


def svg_of(html):
    found = re.findall(r"<svg.*?</svg>", html, re.S)
    assert found, html[:500]
    return found


def by_name(profile):
    return {f["name"]: f for f in profile["functions"]}


def test_hot_takes_three_times_cold(kc):
    run(kc, WORK)
    rep, msgs = profiled(kc, HOT_COLD)
    assert rep["content"]["status"] == "ok", errors(msgs)
    prof = rep["metadata"]["ckernel"]["profile"]
    assert prof["hz"] == 1000
    assert prof["samples"] >= 200, prof["samples"]
    f = by_name(prof)
    ratio = f["hot"]["total"] / max(f["cold"]["total"], 1)
    assert 2.0 < ratio < 4.5, (ratio, f)
    assert f["hot"]["cell"] == rep["content"]["execution_count"] and f["hot"]["line"] == 2, f["hot"]
    # the inner loop's line (5 in hot, its own code) gets most of hot's samples
    count = rep["content"]["execution_count"]
    lines = {(l["cell"], l["line"]): l["samples"] for l in prof["lines"]}
    assert lines.get((count, 5), 0) > 0.6 * f["hot"]["self"], (lines, f["hot"])
    assert lines.get((count, 11), 0) > 0.6 * f["cold"]["self"], (lines, f["cold"])
    # shown: one display, an SVG that parses and names both, tooltips
    (shown,) = profile_displays(msgs)
    html = shown["text/html"]
    (svg,) = svg_of(html)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in root.iter(ns + "title")]
    assert any(t.startswith("hot \u2014") and "samples" in t and "%" in t for t in titles), titles
    assert any(t.startswith("cold \u2014") for t in titles), titles
    assert "hot" in shown["text/plain"] and "cold" in shown["text/plain"]
    assert re.search(r"\d+ samples at 1000 Hz", shown["text/plain"]), shown["text/plain"]
    assert "overhead" in shown["text/plain"]


def test_flame_graphs_do_not_clash(kc):
    run(kc, WORK)
    ids = []
    for _ in range(2):
        rep, msgs = profiled(kc, "%%profile --hz 500\nwork(40000000);")
        assert rep["content"]["status"] == "ok", errors(msgs)
        assert rep["metadata"]["ckernel"]["profile"]["hz"] == 500
        (shown,) = profile_displays(msgs)
        svg = ET.fromstring(svg_of(shown["text/html"])[0])
        ids.append(svg.get("id"))
        inner = [e.get("id") for e in svg.iter() if e is not svg and e.get("id")]
        assert not inner, inner
    assert ids[0] and ids[0] != ids[1], ids


def test_earlier_cells_functions_are_named_with_their_cell(kc):
    reply, _ = run(kc, WORK)
    defined = reply["execution_count"]
    rep, msgs = profiled(kc, "%%profile\nwork(100000000);")
    f = by_name(rep["metadata"]["ckernel"]["profile"])
    assert f["work"]["cell"] == defined and f["work"]["line"] == 5, f["work"]
    assert f["work"]["self"] > 0.9 * rep["metadata"]["ckernel"]["profile"]["samples"]
    # its lines too: that cell is compiled again for them
    lines = {(l["cell"], l["line"]): l["samples"] for l in rep["metadata"]["ckernel"]["profile"]["lines"]}
    assert lines.get((defined, 8), 0) > 0.6 * f["work"]["self"], lines
    (shown,) = profile_displays(msgs)
    assert f"work, defined in cell [{defined}]" in shown["text/plain"]
    assert re.search(r"%\s+\d+\s+8 \|\s+s \+= i \* 0.5;", shown["text/plain"]), shown["text/plain"]


def test_a_cell_gcc_compiled_is_walked_and_lined(kc):
    """%%cc gcc: its functions keep frame pointers and its object has a
    line table: the profile names them, walks through them and gives their
    lines."""
    reply, msgs = run(kc, "%%cc gcc -O1\nvolatile long cc_sink;\n"
                          "long inner(long n) {\n    long s = 0;\n    for (long i = 0; i < n; i++)\n"
                          "        s += i * (i ^ 3);\n    return s;\n}\n"
                          "__attribute__((noinline)) void outer(long n) { cc_sink = inner(n) + 1; }", timeout=120)
    assert reply["status"] == "ok", errors(msgs)
    defined = reply["execution_count"]
    rep, msgs = profiled(kc, "%%profile\nouter(300000000);")
    prof = rep["metadata"]["ckernel"]["profile"]
    f = by_name(prof)
    assert f["inner"]["cell"] == defined and f["inner"]["self"] > 0.8 * prof["samples"], f
    assert f["outer"]["total"] > 0.8 * prof["samples"], f
    lines = {(l["cell"], l["line"]): l["samples"] for l in prof["lines"]}
    loop = sum(v for (c, ln), v in lines.items() if c == defined and ln in (5, 6))
    assert loop > 0.6 * f["inner"]["self"], lines


def test_threads_are_sampled(kc):
    run(kc, WORK + "#include <pthread.h>\nvoid *spin(void *a) { work(150000000); return a; }")
    rep, msgs = profiled(kc, "%%profile\npthread_t t[2];\n"
                             "for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, spin, NULL);\n"
                             "for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);\n")
    assert rep["content"]["status"] == "ok", errors(msgs)
    prof = rep["metadata"]["ckernel"]["profile"]
    assert prof["threads"] >= 2, prof
    f = by_name(prof)
    assert f["spin"]["total"] > 0.8 * prof["samples"], f
    assert f["work"]["self"] > 0.8 * prof["samples"], f


def test_export_writes_folded_and_speedscope(kc, tmp_path):
    run(kc, WORK)
    base = str(tmp_path / "prof")
    rep, msgs = profiled(kc, f"%%profile --export {base}\nwork(60000000);")
    assert rep["content"]["status"] == "ok", errors(msgs)
    samples = rep["metadata"]["ckernel"]["profile"]["samples"]
    folded = open(base + ".folded").read().splitlines()
    assert folded
    total = 0
    for line in folded:
        m = re.fullmatch(r"(\S[^;]*(?:;[^;]+)*) (\d+)", line)
        assert m, line
        total += int(m.group(2))
    assert total == samples
    assert any(l.startswith("the cell's statements;work") for l in folded), folded
    doc = json.load(open(base + ".speedscope.json"))
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert all("name" in fr for fr in frames)
    (p,) = doc["profiles"]
    for key in ("type", "name", "unit", "startValue", "endValue", "samples", "weights"):
        assert key in p, key
    assert p["type"] == "sampled" and len(p["samples"]) == len(p["weights"])
    assert sum(p["weights"]) == samples == p["endValue"]
    assert all(0 <= i < len(frames) for s in p["samples"] for i in s)
    assert "work" in [fr["name"] for fr in frames]
    # pprof's profile.proto, gzipped: decoded by hand (protobuf's wire format)
    prof = pb_fields(gzip.open(base + ".pb.gz").read())
    strings = [v.decode() for v in prof.get(6, [])]
    assert strings[0] == ""
    types = [pb_fields(v) for v in prof[1]]
    assert [strings[t[1][0]] for t in types] == ["samples", "cpu"]
    values = [pb_packed(pb_fields(s)[2][0]) for s in prof[2]]
    assert sum(v[0] for v in values) == samples
    names = [strings[pb_fields(f)[2][0]] for f in prof[5]]
    assert "work (cell [1])" in names or any(n.startswith("work") for n in names), names
    locations = [pb_fields(l)[1][0] for l in prof[4]]
    for s in prof[2]:
        assert all(i in locations for i in pb_packed(pb_fields(s)[1][0]))


def test_a_crashing_cell_still_shows_its_samples(kc):
    run(kc, WORK)
    rep, msgs = profiled(kc, "%%profile\nwork(80000000);\nint *p = 0;\n*p = 1;\n")
    assert rep["content"]["status"] == "error"
    (shown,) = profile_displays(msgs)
    m = re.search(r"(\d+) samples", shown["text/plain"])
    assert m and int(m.group(1)) >= 20, shown["text/plain"]
    assert "work" in shown["text/plain"]
    # the session carries on
    assert "ok" in run(kc, 'printf("ok\\n");')[0]["status"]


def test_an_interrupted_cell_still_shows_its_samples(kernel):
    km, kc = kernel
    run(kc, WORK)
    mid = kc.execute("%%profile\nwork(60000000);\nprintf(\"started\\n\");\nfflush(stdout);\n"
                     "for (;;) work(1000000);\n", allow_stdin=False)
    seen = []
    while "started" not in stdout_text(seen):     # it has sampled some 60 ms of CPU by then
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == mid:
            seen.append(msg)
    km.interrupt_kernel()
    rep = shell_reply(kc, mid, timeout=60)
    msgs = seen + iopub_until_idle(kc, mid, timeout=60)
    assert rep["content"]["status"] == "error" and rep["content"]["ename"] == "KeyboardInterrupt"
    (shown,) = profile_displays(msgs)
    m = re.search(r"(\d+) samples", shown["text/plain"])
    assert m and int(m.group(1)) >= 20, shown["text/plain"]
    assert "work" in shown["text/plain"]


def test_profile_from_code(kc):
    run(kc, WORK)
    out = stdout_text(run(kc, """
nb_profile_start();
work(30000000);
nb_profile_stop();
nb_profile_start();
work(120000000);
nb_profile p = nb_profile_stop();
printf("samples %ld share %.2f\\n", p.samples, nb_profile_share(&p, "work"));
nb_check(nb_profile_share(&p, "work") > 0.6, "work dominates");
""", timeout=120)[1])
    m = re.search(r"samples (\d+) share ([\d.]+)", out)
    assert m and int(m.group(1)) >= 50 and float(m.group(2)) > 0.9, out
    # inside %%profile: the region's own samples, the cell's profile whole
    rep, msgs = profiled(kc, """%%profile
work(60000000);
nb_profile_start();
for (int i = 0; i < 3; i++) work(40000000);
nb_profile p = nb_profile_stop();
printf("inner %ld\\n", p.samples);
""")
    inner = int(re.search(r"inner (\d+)", stdout_text(msgs)).group(1))
    total = rep["metadata"]["ckernel"]["profile"]["samples"]
    assert 0.4 * total < inner < 0.9 * total, (inner, total)


HEAP = """%%profile --heap
#include <stdlib.h>
void **kept;
void f(void) {
    for (int i = 0; i < 100; i++)
        free(malloc(32));
}
void g(void) {
    kept = malloc(10 * sizeof *kept);
    for (int i = 0; i < 10; i++)
        kept[i] = malloc(100);
}
int *grow(int n) {
    int *a = NULL;
    for (int i = 0; i < n; i++) {
        a = realloc(a, (i + 1) * sizeof *a);
        a[i] = i;
    }
    return a;
}
f();
g();
free(grow(64));
"""


def test_heap_profile_counts_exactly(kc):
    rep, msgs = profiled(kc, HEAP)
    assert rep["content"]["status"] == "ok", errors(msgs)
    sites = rep["metadata"]["ckernel"]["heap_profile"]["sites"]
    count = rep["content"]["execution_count"]
    by_line = {}
    for s in sites:
        by_line.setdefault((s["cell"], s["line"]), []).append(s)
    (f_site,) = by_line[(count, 6)]
    assert (f_site["allocs"], f_site["bytes"], f_site["live_bytes"]) == (100, 3200, 0), f_site
    assert f_site["stack"][:2] == ["f", "the cell's statements"], f_site
    (g_site,) = by_line[(count, 11)]
    assert (g_site["allocs"], g_site["bytes"], g_site["live_bytes"]) == (10, 1000, 1000), g_site
    (grow_site,) = by_line[(count, 16)]
    assert grow_site["stack"][0] == "grow" and grow_site["allocs"] == 64, grow_site
    assert grow_site["bytes"] == sum(4 * (i + 1) for i in range(64)) and grow_site["live_bytes"] == 0
    (shown,) = profile_displays(msgs)
    ET.fromstring(svg_of(shown["text/html"])[0])
    assert re.search(r"cell \[\d+\] line 6\s+100\s+3200", shown["text/plain"]), shown["text/plain"]


def test_measure_verbose_adds_perf_counters(kc):
    from .conftest import measure_lines
    lines = [measure_lines(run(kc, code)[1])[0]["content"]["data"]["text/plain"]
             for code in ("%measure verbose", "#include <stdlib.h>\n#include <string.h>")]
    for _ in range(2):
        rep, msgs = profiled(kc, "char *big = malloc(16 << 20); memset(big, 1, 16 << 20); free(big);")
        measure = rep["metadata"]["ckernel"]["measure"]
        c = measure["counters"]
        assert c is not None, "perf_event_open refused"
        # the same faults getrusage counts for the measurement line (16 MiB
        # touched: 4096 of them, fewer where huge pages back the block)
        faults = measure["minor_faults"] + measure["major_faults"]
        assert faults > 0 and 0.8 * faults <= c["page_faults"] <= 1.2 * faults + 2, (c, faults)
        assert c["task_clock_ns"] > 0, c
        assert c["context_switches"] >= 0
        (line,) = measure_lines(msgs)
        lines.append(line["content"]["data"]["text/plain"])
    assert all(re.search(r"counters: task clock \S+ \S+ \u00b7 \d+ context switches \u00b7 \d+ page faults", t)
               for t in lines), lines
    if c["hardware"] is None:         # said once, plainly, then not again
        assert "no hardware counters" in lines[0]
        assert not any("no hardware counters" in t for t in lines[1:]), lines
    else:
        assert c["hardware"]["instructions"] > 0
    out = stdout_text(run(kc, """
void loop(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(i * 3); }
nb_bench_time(0.05);
nb_result r = nb_bench("Loop", loop);
printf("cpu %.3f wall %.3f\\n", r.cpu_ns_per_op, r.ns_per_op);
""", timeout=60)[1])
    assert re.search(r"per op: task clock [\d.]+ ns", out), out
    m = re.search(r"cpu ([\d.]+) wall ([\d.]+)", out)
    assert m and float(m.group(1)) > 0, out


def test_a_library_without_frame_pointers_ends_the_stack_marked(kc, tmp_path):
    """qsort (libc keeps no frame pointers) calling the cell's comparison:
    the comparison's stacks end at qsort, marked, never guessed past; the
    samples inside qsort still reach the cell function that called it."""
    run(kc, "#include <stdlib.h>")
    base = str(tmp_path / "q")
    rep, msgs = profiled(kc, f"""%%profile --export {base}
int cmp(const void *a, const void *b) {{ int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }}
int *v;
void sortit(void) {{
    for (int r = 0; r < 25; r++) {{
        for (int i = 0; i < 200000; i++) v[i] = rand();
        qsort(v, 200000, sizeof *v, cmp);
    }}
}}
v = malloc(200000 * sizeof *v);
sortit();
""")
    assert rep["content"]["status"] == "ok", errors(msgs)
    f = by_name(rep["metadata"]["ckernel"]["profile"])
    samples = rep["metadata"]["ckernel"]["profile"]["samples"]
    assert f["cmp"]["self"] > 0.15 * samples and f["sortit"]["total"] > 0.15 * samples, f
    folded = open(base + ".folded").read().splitlines()
    cut = [l for l in folded if l.startswith("[stack cut: a library without frame pointers];")]
    assert any(l.rsplit(" ", 1)[0].endswith(";cmp") for l in cut), folded
    # no stack through cmp claims to know who called qsort
    assert not any(";cmp" in l and l.startswith("the cell's statements") for l in folded), folded
