"""What the notebook generators share (gen_NN.py): cell builders, the
writer with the C kernel's metadata, and the text and macros every notebook
opens with."""
import hashlib
import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []

# How to read a cell's output; every notebook's introduction ends with it.
MEASURE_INTRO = r"""Every cell shows a **measurement line** under it: compile and run time, the
heap traffic while it ran (allocations, bytes, frees, live bytes, peak; in
parentheses, the part that libc's own code asked for, such as the buffer
`fopen` makes), the deepest the cell's own frames went into the stack, and
page faults. Read that line as part of the answer. Where the text makes a
claim, a cell checks it with `nb_check`: if the claim did not hold on your
machine, that cell would fail. A check that compares two figures prints
both (`✓ claim: a = 12 > b = 5`); claims about time compare the median
CPU time per operation, which other programs on a busy machine do not
inflate.

One thing to know about cells: a variable declared at a cell's top level is
a **global** (later cells see it). To show a local variable, the examples
declare it inside a function.
"""

# CPU time, page faults and resident memory, for a setup cell that includes
# <stdio.h>, <time.h>, <unistd.h> and <sys/resource.h>.
PROBES = r"""/* CPU time of the calling thread, in ns: what other programs on a busy machine take is not in it. */
long long cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}
/* Minor page faults of the process so far: a page mapped when it is first touched. */
long minor_faults(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}
/* Memory of the process in RAM (resident), in KiB. */
long rss_kib(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { fscanf(f, "%ld %ld", &size, &resident); fclose(f); }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}
"""

# Exact heap counters around a statement, for the setup cell.
ALLOC_MACROS = r"""/* Heap allocations made while running STMT: exact, from the allocator's own counters. */
#define ALLOCS_OF(stmt) ({ unsigned long long a0_ = nb_heap().allocs; stmt; nb_heap().allocs - a0_; })
/* Bytes requested from the heap while running STMT. */
#define BYTES_OF(stmt) ({ unsigned long long b0_ = nb_heap().alloc_bytes; stmt; nb_heap().alloc_bytes - b0_; })
/* Blocks freed while running STMT. */
#define FREES_OF(stmt) ({ unsigned long long f0_ = nb_heap().frees; stmt; nb_heap().frees - f0_; })
"""


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def c(src, tags=None):
    cell = new_code_cell(src.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    cells.append(cell)


# Where write() puts notebooks: notebooks/, or the folder in $NBGEN_OUT
# (the test that the committed notebooks are what the generators write).
OUT_DIR = Path(os.environ.get("NBGEN_OUT") or Path(__file__).resolve().parents[1])


def content_ids():
    """Ids from the cells' text (and how often it came before), so that
    regenerating changes only the ids of cells whose text changed."""
    seen = {}
    for cell in cells:
        n = seen[cell.source] = seen.get(cell.source, 0) + 1
        cell.id = hashlib.sha1(f"{n}:{cell.source}".encode()).hexdigest()[:8]


def index_ids():
    """Ids cell-0, cell-1, ...: what 00-welcome was written with by hand."""
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"


def write(name, ids=content_ids, language_info=None):
    """Write the cells as notebooks/NAME, unexecuted, for the C kernel.
    LANGUAGE_INFO replaces the plain {"name": "c"}."""
    out = OUT_DIR / name
    ids()
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "c", "display_name": "C (tcc)", "language": "c"},
        "language_info": language_info or {"name": "c"},
    })
    nbformat.validate(nb)
    nbformat.write(nb, out)
    print(f"wrote {out} ({len(cells)} cells, {sum(x.cell_type == 'code' for x in cells)} code)")


def expect(**claims):
    """Claims about what the last cell gives that no cell can check itself,
    kept in its metadata (ckernel_expect) for the notebook tests to check:
    ename="MemoryError" for a cell that fails on purpose (tests/notebooks/
    test_nbconvert.py), escape=[{"function", "name", "verdict"}, ...] for
    facts of its %escape report, the reply's metadata.ckernel.escape
    (tests/notebooks/test_escape_reports.py; "detail_has": a part of the
    fact's detail; "source_not": any other source), escape_none=[...] for
    facts it must not have."""
    cells[-1].metadata["ckernel_expect"] = claims


def escape_fact(function, name, verdict, detail_has=None):
    """One fact of a %escape report, for expect(escape=[...])."""
    fact = {"function": function, "name": name, "verdict": verdict}
    if detail_has:
        fact["detail_has"] = detail_has
    return fact


def shows(*texts):
    """Text the prose says the kernel shows under the last cell (a leak
    report, the site of a heap profile), which the cell cannot check itself:
    tests/notebooks/test_nbconvert.py finds each in the cell's outputs."""
    cells[-1].metadata.setdefault("ckernel_expect", {})["shows"] = list(texts)
