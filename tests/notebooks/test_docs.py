"""The docs are checked like code: every picture in docs/ is well-formed
SVG, and every file of the tree that README.md or docs/*.md names exists
(files move: issue 12 moved most of kernel/ to worker/ and common/).

Run from tests/ by `make test-notebooks`.
"""
import re
import xml.dom.minidom
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PICTURES = sorted((REPO / "docs").glob("*.svg"))
# A path into the tree: a top folder, then a file with an extension.
# Placeholders (NAME, NN, <module>) are not files.
TREE_PATH = re.compile(r"\b((?:kernel|worker|common|runtime|tests|notebooks|tools|bench|docs|kernelspec)"
                       r"/[\w./-]*\.(?:c|h|py|sh|list|svg|md|ipynb|js))\b")
PLACEHOLDER = re.compile(r"NAME|NN|<")


@pytest.mark.parametrize("svg", PICTURES, ids=lambda p: p.name)
def test_picture_is_well_formed_svg(svg):
    doc = xml.dom.minidom.parse(str(svg))
    root = doc.documentElement
    assert root.tagName == "svg" and root.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
    assert root.getAttribute("viewBox"), f"{svg.name}: no viewBox, it will not scale"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_files_exist(doc):
    named = {m for m in TREE_PATH.findall(doc.read_text()) if not PLACEHOLDER.search(m)}
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


def test_pictures_the_docs_show_exist():
    for doc in DOCS:
        for src in re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", doc.read_text()):
            assert (doc.parent / src).exists(), f"{doc.name} shows {src}, which does not exist"


def test_readme_lists_the_error_names_of_common_errors_h():
    """Error names have one source, common/errors.h; the README's table
    ("### Errors") lists the same names with the same meanings, in order."""
    rows = re.findall(r'X\(\w+, "(\w+)", "([^"]*)"\)', (REPO / "common/errors.h").read_text())
    section = (REPO / "README.md").read_text().split("### Errors", 1)[1].split("\n###", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \| (.*) \|$", section, re.M)
    assert len(rows) >= 15 and listed == rows, (listed, rows)
