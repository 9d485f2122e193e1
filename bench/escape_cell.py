"""bench/escape_cell.py - the 100-line cell `make bench` analyses with
%%escape (README "Escape"): functions of every kind the analysis reports
on (locals whose address is taken, pointer parameters, allocations freed
or not, calls between the cell's functions), repeated to LINES lines."""

HEAD = """%%escape
#include <stdlib.h>
#include <string.h>
int *bench_global;
"""

BLOCK = """int reader_{i}(const int *p, int n) {{
    int s = 0;
    for (int k = 0; k < n; k++) s += p[k];
    return s;
}}
int *keeper_{i}(int *p) {{ bench_global = p; return p; }}
int user_{i}(int n) {{
    int local[8] = {{0}};
    int *heap = malloc(n * sizeof *heap);
    if (!heap) return -1;
    memset(heap, 0, n * sizeof *heap);
    int s = reader_{i}(local, 8) + reader_{i}(heap, n);
    if (n > 100) return s;
    free(heap);
    return s;
}}
"""


def escape_cell(lines=100):
    """A %%escape cell of LINES lines (the magic line included)."""
    code, i = HEAD, 0
    while code.count("\n") + BLOCK.count("\n") <= lines:
        code += BLOCK.format(i=i)
        i += 1
    while code.count("\n") < lines:
        code += "\n"
    return code
