"""The pictures the runtime draws (nb_memory_map, nb_bench_chart, nb_line_chart): every
label inside the picture, one time unit per chart, the cells' objects
zoomed, a block malloc placed in its own mapping named as a heap block."""
import re
import xml.etree.ElementTree as ET

from .conftest import errors, run, run_ok

SVG = "{http://www.w3.org/2000/svg}"
GLYPH_EM = 0.6        # the advance of a monospace glyph, in em


def svgs(kc, code):
    reply, msgs = run(kc, code, timeout=30, allow_stdin=False)
    assert reply["status"] == "ok", (reply, errors(msgs))
    return [m["content"]["data"]["image/svg+xml"] for m in msgs
            if m["msg_type"] == "display_data" and "image/svg+xml" in m["content"]["data"]]


def text_boxes(svg):
    """(text, left, right, y) of every <text>, its width from its glyphs."""
    root = ET.fromstring(svg)
    base = float(root.get("font-size", 11))
    for t in root.iter(SVG + "text"):
        s = "".join(t.itertext())
        size = float(t.get("font-size", base))
        width = len(s) * GLYPH_EM * size
        x = float(t.get("x"))
        anchor = t.get("text-anchor", "start")
        left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
        yield s, left, left + width, float(t.get("y"))


def assert_inside(svg):
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    for s, left, right, y in text_boxes(svg):
        assert 0 <= left and right <= width, (s, left, right, width)
        assert 0 < y <= height, (s, y, height)


def test_chart_labels_stay_inside_with_one_unit(kc):
    code = r"""
void fast(nb_b *b) { for (long i = 0; i < b->n; i++) nb_keep(i); }
void slow(nb_b *b) { for (long i = 0; i < b->n; i++) { volatile long s = 0; for (int k = 0; k < 20000; k++) s += k; } }
void allocs(nb_b *b) { for (long i = 0; i < b->n; i++) for (int k = 0; k < 1000; k++) free(malloc(16)); }
"""
    run(kc, "#include <stdlib.h>\n" + code)
    (svg,) = svgs(kc, 'nb_bench_time(0.02);\nnb_bench("Push1000/a-rather-long-benchmark-name", allocs);\n'
                      'nb_bench("Fast", fast);\nnb_bench("Slow", slow);\nnb_bench_chart();')
    assert_inside(svg)
    labels = [s for s, *_ in text_boxes(svg) if "/op" in s]
    units = {re.search(r"(ns|µs|ms|s)/op", s).group(1) for s in labels}
    assert len(labels) == 3 and len(units) == 1, labels
    assert "1000 allocs/op" in labels[0] and "e+" not in " ".join(labels), labels


def test_memory_map_zooms_on_the_cells_objects(kc):
    run(kc, "#include <stdlib.h>\nint counter = 7;\nlong zeros[4096];\n"
            "const char *motto = \"stack or heap?\";\nint square(int x) { return x * x; }")
    (svg,) = svgs(kc, "char *big_block = malloc(64 << 20);\n"
                      "nb_memory_map(square, &counter, zeros, motto, big_block);\nfree(big_block);")
    assert_inside(svg)
    texts = [s for s, *_ in text_boxes(svg)]
    assert any(s.startswith("Zoom: the cells' objects") for s in texts), texts
    # the zoom names each object with what it is
    for label, what in (("square", "code"), ("&counter", "global data, 4 B"), ("zeros", "global data, 32 KiB"),
                        ("motto", "read-only data")):
        i = texts.index(label)
        assert texts[i + 1] == what, texts[i:i + 2]
    assert "heap block in its own mmap" in texts, texts
    assert not any(s.startswith("anonymous mmap") and "big_block" in s for s in texts)


def test_memory_map_labels_stay_inside_with_long_expressions(kc):
    (svg,) = svgs(kc, "int a_variable_with_a_rather_long_name_for_a_label = 1;\n"
                      "nb_memory_map(&a_variable_with_a_rather_long_name_for_a_label, "
                      "(char *)&a_variable_with_a_rather_long_name_for_a_label + 1);")
    assert_inside(svg)


def test_a_freed_block_is_named_after_a_picture(kc):
    # drawing the map allocates and frees the runtime's own buffers; a
    # block of the cell allocated in their place, once freed, must not be
    # mistaken for one of them
    run(kc, "#include <stdlib.h>\nint *new_int(int v) { int *p = malloc(sizeof *p); *p = v; return p; }\n"
            "int *good[8];")
    assert svgs(kc, "nb_memory_map(good);")
    run_ok(kc, "for (int i = 0; i < 8; i++) good[i] = new_int(i);")
    out = run_ok(kc, "for (int i = 0; i < 8; i++) { free(good[i]); nb_where(good[i]); }")
    lines = out.splitlines()
    assert len(lines) == 8 and all("a freed block of 4 B (use after free!), allocated in new_int" in x
                                   for x in lines), out


def displays(kc, code):
    reply, msgs = run(kc, code, timeout=30, allow_stdin=False)
    assert reply["status"] == "ok", (reply, errors(msgs))
    return [m["content"]["data"] for m in msgs
            if m["msg_type"] == "display_data" and "image/svg+xml" in m["content"]["data"]]


def test_line_chart_log_axes_series_and_mark(kc):
    # nb_line_chart (runtime/chart.c): ticks in the axes' units on powers of
    # two (bytes) and ten (times), one path per series through every usable
    # point, a point <= 0 left out of a log axis, the mark labelled, the
    # figures as text beside the SVG.
    code = r"""
double size[5] = {16, 1024, 65536, 262144, 1048576};
double heap[5] = {12, 15, 22, 9000, 9500}, pool[5] = {4, 4, 0, 5, 5};
nb_line_chart(&(nb_chart){ .title = "By size", .x_label = "block size", .y_label = "CPU time",
    .n = 5, .x = size, .x_unit = "B", .y_unit = "ns", .log_x = 1, .log_y = 1,
    .series = { {"malloc", heap}, {"pool & arena", pool} },
    .mark_x = 262144, .mark_label = "mapped" });
"""
    (data,) = displays(kc, code)
    svg = data["image/svg+xml"]
    assert_inside(svg)
    texts = [s for s, *_ in text_boxes(svg)]
    for label in ("By size", "block size", "malloc", "pool & arena", "mapped", "16 B", "1 KiB", "1 MiB",
                  "10 ns", "1 µs", "10 µs"):
        assert label in texts, (label, texts)
    root = ET.fromstring(svg)
    paths = [p.get("d") for p in root.iter(SVG + "path") if p.get("stroke-width") == "2"]
    assert len(paths) == 2, paths
    assert paths[0].count("L") == 4, paths[0]            # five points joined
    assert paths[1].count("M") == 2, paths[1]            # the 0 splits the line in two
    assert "stroke-dasharray" in svg                      # the mark
    rows = data["text/plain"].splitlines()
    assert rows[0] == "By size" and len(rows) == 2 + 5, rows
    assert "256 KiB" in rows[5] and "9 µs" in rows[5], rows


def test_line_chart_linear_axes_and_nothing_to_draw(kc):
    code = r"""
double x[3] = {1, 2, 3}, y[3] = {0.5, 2.5, 7};
nb_line_chart(&(nb_chart){ .title = "Linear", .n = 3, .x = x, .series = { {"y", y} } });
nb_line_chart(&(nb_chart){ .title = "Empty" });
"""
    reply, msgs = run(kc, code, timeout=30, allow_stdin=False)
    assert reply["status"] == "ok", (reply, errors(msgs))
    svgs_sent = [m["content"]["data"]["image/svg+xml"] for m in msgs
                 if m["msg_type"] == "display_data" and "image/svg+xml" in m["content"]["data"]]
    assert len(svgs_sent) == 1
    assert_inside(svgs_sent[0])
    texts = [s for s, *_ in text_boxes(svgs_sent[0])]
    assert "0" in texts and "8" in texts, texts           # a linear y axis starts at zero
    out = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert "nb_line_chart: no points to draw" in out, out
