"""The %escape reports that the notebooks' prose relies on say what it says.

A cell can nb_check the figures it measures, not the report shown above
it: the report's facts reach the front end only in the execute_reply's
metadata.ckernel.escape. The generators note the facts each cell's prose
claims (nbgen.expect(escape=[{"function", "name", "verdict"}, ...]), kept
in the cell's metadata as ckernel_expect). This test runs every notebook
that has such claims with nbclient, keeps each cell's reply, and checks
that every claimed fact is among the facts of that cell's reply, and that
none of the facts it says are absent (escape_none=[...]) is.

Run from tests/ by `make test-notebooks`, beside test_nbconvert.py.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
JUPYTER_DATA = REPO / "build" / "share" / "jupyter"


def claims(nb):
    """(index, cell) of the code cells whose escape report the prose relies on."""
    return [(i, c) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and {"escape", "escape_none"} & set(c.metadata.get("ckernel_expect", {}))]


CLAIMING = [p for p in sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))
            if claims(nbformat.read(p, as_version=4))]


def matches(fact, want):
    """WANT's keys equal FACT's, but KEY_has: FACT's KEY contains it, and
    KEY_not: FACT's KEY is something else."""
    def holds(k, v):
        if k.endswith("_has"):
            return v in str(fact.get(k[:-4], ""))
        if k.endswith("_not"):
            return k[:-4] in fact and fact[k[:-4]] != v
        return fact.get(k) == v
    return all(holds(k, v) for k, v in want.items())


@pytest.mark.parametrize("path", CLAIMING, ids=[p.name for p in CLAIMING])
def test_escape_claims_hold(path, tmp_path, monkeypatch):
    assert (JUPYTER_DATA / "kernels" / "c" / "kernel.json").exists(), "run `make` first"
    monkeypatch.setenv("JUPYTER_PATH", str(JUPYTER_DATA))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.read(path, as_version=4)
    replies = {}

    def keep(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply

    NotebookClient(nb, timeout=120, kernel_name="c", on_cell_executed=keep,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for i, cell in claims(nb):
        assert i in replies, f"cell {i} did not run: {cell.source[:80]!r}"
        facts = replies[i]["metadata"].get("ckernel", {}).get("escape", [])
        report = "\n".join(str(f) for f in facts)
        for want in cell.metadata["ckernel_expect"].get("escape", []):
            assert any(matches(f, want) for f in facts), \
                f"cell {i} ({cell.source[:60]!r}): no fact {want} in its report:\n{report}"
        for unwanted in cell.metadata["ckernel_expect"].get("escape_none", []):
            assert not any(matches(f, unwanted) for f in facts), \
                f"cell {i} ({cell.source[:60]!r}): a fact {unwanted} in its report:\n{report}"
