"""Execute notebooks headless with nbconvert, the way a user would, and check
what the C kernel put in them.

Run from tests/ by `make test-notebooks` (/usr/bin/python3 -m pytest -q notebooks).
Uses the kernelspec that `make` writes to build/share/jupyter (no install needed).
Fixtures stay in this file: tests/conftest.py belongs to the protocol tests.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
JUPYTER_DATA = REPO / "build" / "share" / "jupyter"
HERE = Path(__file__).resolve().parent
BUNDLED = sorted((REPO / "notebooks").glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def execute(src, tmp_path, timeout=120):
    """Run `jupyter nbconvert --execute` on a copy of src; return the result."""
    assert (JUPYTER_DATA / "kernels" / "c" / "kernel.json").exists(), \
        "kernelspec not built: run `make` first"
    nb_in = tmp_path / src.name
    shutil.copy(src, nb_in)
    env = dict(os.environ,
               JUPYTER_PATH=str(JUPYTER_DATA),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(
        ["/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
         f"--ExecutePreprocessor.timeout={timeout}",
         "--output", "out.ipynb", str(nb_in)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout + 60)
    assert proc.returncode == 0, f"nbconvert failed ({proc.returncode}):\n{proc.stderr}"
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    check_metadata_is_dict(nb)
    return nb


def check_metadata_is_dict(nb):
    # A null metadata on display_data/execute_result breaks nbconvert and
    # Notebook: the kernel must always send {}.
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] in ("display_data", "execute_result"):
                assert isinstance(out.get("metadata"), dict), out


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def stream(cell, name="stdout"):
    return "".join(o["text"] for o in cell.outputs
                   if o["output_type"] == "stream" and o["name"] == name)


def errors(cell):
    return [o for o in cell.outputs if o["output_type"] == "error"]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_state_across_cells(tmp_path):
    nb = execute(HERE / "state.ipynb", tmp_path)
    cells = code_cells(nb)
    # (stdout the cell must print, whether it is the compile-error cell)
    expected = [
        ("", False),            # #include <stdio.h> / int n = 3;
        ("0\n1\n2\n", False),   # loop over the global from the previous cell
        ("", False),            # int twice(int x) ...
        ("6\n", False),         # ... called in the next cell
        ("", True),             # int broken = ;
        ("n=4\n", False),       # state survives the failed cell
    ]
    assert len(cells) == len(expected)
    for i, (cell, (out, fails)) in enumerate(zip(cells, expected)):
        assert stream(cell) == out, f"cell {i}: {cell.source!r}"
        assert cell.execution_count is not None, f"cell {i} did not run"
        if not fails:
            assert errors(cell) == [], f"cell {i}: {errors(cell)}"
            assert stream(cell, "stderr") == "", f"cell {i}"
            continue
        assert "raises-exception" in tags(cell)
        errs = errors(cell)
        assert len(errs) == 1, cell.outputs
        assert errs[0]["ename"] == "CompileError"
        text = ANSI.sub("", errs[0]["evalue"] + "\n" + "\n".join(errs[0]["traceback"]))
        assert "int broken = ;" in text, text      # the offending source line
        assert re.search(r":1\b|line 1\b", text), text  # its line in the cell


def outputs_text(cell):
    """Everything a cell showed, as text: streams, displays' text/plain, errors."""
    parts = []
    for o in cell.outputs:
        if o["output_type"] == "stream":
            parts.append(o["text"])
        elif o["output_type"] == "error":
            parts.append(o["ename"] + ": " + o["evalue"] + "\n" + "\n".join(o["traceback"]))
        else:
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def measure_lines(cell):
    """The measurement line(s) the kernel shows under a cell that ran."""
    return [o for o in cell.outputs if o["output_type"] == "display_data"
            and o["data"].get("text/plain", "").startswith("compile ")]


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_notebook_runs(path, tmp_path):
    nb = execute(path, tmp_path)
    for i, cell in enumerate(code_cells(nb)):
        assert cell.execution_count is not None, f"cell {i} did not run"
        if "raises-exception" in tags(cell):
            # a cell that fails on purpose still does: else the prose around it is wrong
            assert errors(cell), f"cell {i} is tagged raises-exception but ran without error"
            ename = cell.metadata.get("ckernel_expect", {}).get("ename")
            assert ename in (None, errors(cell)[0]["ename"]), f"cell {i}: {errors(cell)[0]}, not {ename}"
        else:
            assert errors(cell) == [], f"cell {i}: {cell.source!r}\n{errors(cell)}"
            # every cell that ran shows what it measured (a cell that only
            # configures the kernel with magics runs no C)
            if not cell.source.lstrip().startswith("%"):
                lines = measure_lines(cell)
                assert len(lines) == 1, f"cell {i}: {cell.source!r}: no measurement line"
                assert "text/html" in lines[0]["data"] and "heap" in lines[0]["data"]["text/plain"]
        # what the prose says the kernel showed under the cell (nbgen.shows(...))
        for text in cell.metadata.get("ckernel_expect", {}).get("shows", []):
            assert text in ANSI.sub("", outputs_text(cell)), f"cell {i}: no {text!r} in its output"


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_notebook_runs_again_in_the_same_kernel(path, tmp_path):
    """Users rerun cells: every cell of a bundled notebook run a second time,
    in order, in the kernel that ran them all once, fails only where it is
    tagged to (a definition replaced by itself must not break what follows;
    notebook 02's `enum { N = sizeof table / sizeof table[0] }` did), or,
    the second time, tagged `differs-on-rerun`."""
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("JUPYTER_PATH", str(JUPYTER_DATA))
    client = NotebookClient(nb, kernel_name="c", timeout=120, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for round_ in (1, 2):
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, i)
                    # a cell that changes what it shows (notebook 01's mallopt) says so
                    rerun_differs = round_ == 2 and "differs-on-rerun" in tags(cell)
                    if "raises-exception" not in tags(cell) and not rerun_differs:
                        assert errors(cell) == [], f"round {round_}, cell {i}: {cell.source[:200]!r}\n{errors(cell)}"
