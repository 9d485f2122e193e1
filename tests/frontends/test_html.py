"""`make notebooks` (tools/notebooks.sh): every notebook executed headless
and written as HTML with C highlighted and SVG pictures intact.

Run from tests/ by `make test-frontends`: export.ipynb here (checked cell by
cell) and every bundled notebook (checked for what holds for all of them).
"""
import html
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BUNDLED = sorted((REPO / "notebooks").glob("*.ipynb"))


def export(nb_path, out):
    proc = subprocess.run([str(REPO / "tools" / "notebooks.sh"), str(out), str(nb_path)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"tools/notebooks.sh failed:\n{proc.stdout}\n{proc.stderr}"
    name = nb_path.stem
    return nbformat.read(out / f"{name}.ipynb", as_version=4), (out / f"{name}.html").read_text()


def outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def check_common(nb, page):
    # display metadata is always a dict, never null (nbconvert would refuse it)
    for o in outputs(nb):
        if o.output_type in ("display_data", "execute_result"):
            assert isinstance(o.get("metadata"), dict), o
    # C highlighting: pygments' C lexer, from language_info.pygments_lexer
    assert 'class=" highlight hl-c"' in page, "code cells are not highlighted as C"
    assert re.search(r'<span class="(kt|k)">(int|for|return|void|char|long)</span>', page), "no C keywords marked"
    # every SVG picture the kernel sent is in the page whole, as markup
    for o in outputs(nb):
        svg = o.get("data", {}).get("image/svg+xml")
        if svg:
            svg = "".join(svg) if isinstance(svg, list) else svg
            assert svg.strip() in page, f"SVG output missing or altered in the HTML: {svg[:200]}"
    assert "<svg></svg>" not in page.replace(" ", ""), "an emptied <svg>: the SVG-stripping filter ran"


def test_export_notebook(tmp_path):
    nb, page = export(HERE / "export.ipynb", tmp_path)
    check_common(nb, page)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    text = lambda c: "".join(o.text for o in c.outputs if o.output_type == "stream")
    assert text(cells[1]) == "row 0\nrow 1\nrow 2\n"
    assert "row 0\nrow 1\nrow 2" in html.unescape(page)
    values = [o for o in cells[2].outputs if o.output_type == "execute_result"]
    assert values and values[0].data["text/plain"] == "(int) 42"
    assert values[0].metadata == {}
    assert "(int) 42" in html.unescape(page)
    # the SVG cell: a real <svg> element with its rect, inside the rendered output
    svgs = [o for o in cells[3].outputs if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 1, cells[3].outputs
    assert svgs[0].metadata == {}
    m = re.search(r'<div class="jp-RenderedSVG[^"]*" data-mime-type="image/svg\+xml">\s*(<svg.*?</svg>)', page, re.S)
    assert m, "no rendered SVG output in the page"
    assert "<rect id='ck-bar'" in m.group(1) and "<text" in m.group(1), m.group(1)
    # the compile error, tagged raises-exception, is in the page
    errs = [o for o in cells[4].outputs if o.output_type == "error"]
    assert [e.ename for e in errs] == ["CompileError"]
    assert "int broken = ;" in html.unescape(re.sub(r"<[^>]+>", "", page))
    # the measurement line under the cells that ran
    assert re.search(r"compile [\d.]+ \S+ · run", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_notebook_exports(path, tmp_path):
    nb, page = export(path, tmp_path)
    check_common(nb, page)
    assert len(page) > 10000
