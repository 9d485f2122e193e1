"""What notebook 06 says about its `%escape` report holds.

The prose of 06's section 1 reads the report: every wrong example gets its
verdict, two examples do not escape, and the compilers say nothing about
two of the wrong ones. A cell cannot read the report, so this test does:
it runs the notebook's cells up to the `%escape` cell through nbclient and
reads the facts from that cell's execute_reply (metadata.ckernel.escape).

Run from tests/ by `make test-notebooks`.
"""
import os
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "06-escape-analysis-checker.ipynb"
JUPYTER_DATA = REPO / "build" / "share" / "jupyter"

# (function, what) -> the verdict of ckernel's own analysis that the prose states
VERDICTS = {
    ("address_of_local", "answer"): "escapes to caller",
    ("remember_wrong", "copy"): "escapes to global",
    ("user_new_wrong", "name"): "escapes to caller",
    ("start_counting_wrong", "total"): "escapes to global",
    ("first_ten_wrong", "a"): "escapes to caller",
    ("literal_in_function", "(int[]) { 1, 2, 3 }"): "escapes to caller",
    ("newest_wrong", "value"): "escapes through parameter",
    ("scratch_alloca", "alloca(n)"): "escapes to caller",
    ("give_local", "local"): "escapes to caller",
    ("sum_squares", "buf"): "does not escape",
    ("is_palindrome_heap", "malloc(n + 1)"): "does not escape",
    ("address_of_heap", "malloc(sizeof *p)"): "escapes to caller",
}
# wrong examples that no compiler mentions (the prose names them)
UNSEEN_BY_COMPILERS = {"user_new_wrong", "scratch_alloca"}


def escape_facts():
    """The facts of the notebook's %escape cell, after the cells before it."""
    from nbclient import NotebookClient
    nb = nbformat.read(NOTEBOOK, as_version=4)
    last = next(i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and c.source.startswith("%escape"))
    nb.cells = nb.cells[:last + 1]
    os.environ.setdefault("JUPYTER_PATH", str(JUPYTER_DATA))
    replies = {}
    client = NotebookClient(nb, kernel_name="c", timeout=180)
    client.on_cell_executed = lambda cell, cell_index, execute_reply: \
        replies.__setitem__(cell_index, execute_reply)
    client.execute()
    return replies[last]["metadata"]["ckernel"]["escape"]


def test_the_report_says_what_notebook_06_says_it_does():
    facts = escape_facts()
    ours = {(f["function"], f["name"]): f["verdict"] for f in facts if f["source"] == "ckernel"}
    for key, verdict in VERDICTS.items():
        assert ours.get(key) == verdict, f"{key}: {ours.get(key)!r}, the notebook says {verdict!r}"
    tools = {f["function"] for f in facts if f["source"] != "ckernel"}
    assert "address_of_local" in tools, facts       # the compilers ran and said something
    assert not tools & UNSEEN_BY_COMPILERS, tools & UNSEEN_BY_COMPILERS
