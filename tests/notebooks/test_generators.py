"""The committed notebooks are what their generators write.

Each notebooks/NN-*.ipynb has a notebooks/src/gen_NN.py; run into a
temporary folder ($NBGEN_OUT, read by nbgen.write), every generator must
write its notebook byte for byte as committed. `make notebooks-src`
rewrites them in place after a generator changed.
"""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def generator(notebook):
    return REPO / "notebooks" / "src" / f"gen_{notebook.name[:2]}.py"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_generated(notebook, tmp_path):
    gen = generator(notebook)
    assert gen.exists(), f"{notebook.name} has no generator {gen.relative_to(REPO)}"
    proc = subprocess.run(["/usr/bin/python3", str(gen)], env=dict(os.environ, NBGEN_OUT=str(tmp_path)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / notebook.name
    assert written.read_bytes() == notebook.read_bytes(), \
        f"{notebook.name} differs from what {gen.name} writes: run `make notebooks-src`"


def test_every_generator_has_its_notebook():
    gens = sorted((REPO / "notebooks" / "src").glob("gen_*.py"))
    names = {n.name[:2] for n in NOTEBOOKS}
    assert gens and all(g.stem[4:] in names for g in gens), [g.name for g in gens]
