#!/usr/bin/python3
"""Write notebooks/00-welcome.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_00.py
The first notebook `make run` opens: what a cell is, in four short cells.
It keeps the ids (cell-0, ...) and language_info it was first written with.
"""
from nbgen import c, index_ids, md, write

md(r"""
# Welcome to ckernel

Every cell in this notebook is **C**, compiled in memory by libtcc and run at once.
Write a cell the way you would write a scratch `.c` file:

- `#include` and `#define` lines, types, functions and globals **persist**: later cells can use them, and globals keep their values;
- statements at top level **run** in order when the cell runs;
- a compile error names the line of the cell, and nothing from that cell is kept.

Run the cells below one after the other (Shift+Enter).
""")

c(r"""
#include <stdio.h>

int n = 3;   /* a global: later cells see it */
""")

c(r"""
for (int i = 0; i < n; i++)
    printf("%d\n", i);
""")

c(r"""
/* a function defined here ... */
long square(long x) { return x * x; }
""")

c(r"""
/* ... is called in the next cell */
n = 5;
for (int i = 0; i < n; i++)
    printf("%d squared is %ld\n", i, square(i));
""")

write("00-welcome.ipynb", ids=index_ids, language_info={
    "codemirror_mode": "text/x-csrc",
    "file_extension": ".c",
    "mimetype": "text/x-csrc",
    "name": "c",
    "pygments_lexer": "c",
})
