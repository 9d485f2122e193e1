"""%%profile's output in nbconvert's HTML (tools/notebooks.sh): two
profiles in one page, each flame graph whole, with its tooltips, and no
element id shared between them."""
import re

import nbformat

from test_html import export


def test_two_profiles_in_one_page(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "c", "display_name": "C (tcc)", "language": "c"}
    nb.cells = [
        nbformat.v4.new_code_cell("volatile double sink;\n"
                                  "void spin(long n) { double s = 0; for (long i = 0; i < n; i++) s += i; sink = s; }"),
        nbformat.v4.new_code_cell("%%profile\nspin(60000000);"),
        nbformat.v4.new_code_cell("%%profile --hz 500\nspin(60000000);"),
    ]
    path = tmp_path / "profiles.ipynb"
    nbformat.write(nb, path)
    out, page = export(path, tmp_path / "out")
    svgs = re.findall(r"<svg[^>]*class=\"ckernel-flame\".*?</svg>", page, re.S)
    assert len(svgs) == 2, page[:2000]
    for svg in svgs:
        assert re.search(r"<title>spin \(cell \[\d+\]\) \u2014 \d+ samples, [\d.]+%</title>", svg), svg[:1500]
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert page.count("class=\"ckernel-profile\"") == 2
