#!/bin/bash
# tools/notebooks.sh [OUTDIR [NOTEBOOK...]]: `make notebooks`. Executes each
# notebook headless with the C kernel (jupyter nbconvert, the kernelspec in
# build/share/jupyter) and writes, under OUTDIR (default build/notebooks):
#   NAME.ipynb  the notebook with its outputs
#   NAME.html   the same as a page: C highlighted, SVG pictures intact
#               (tools/nbconvert/ckernel.html.j2)
# Cells tagged raises-exception may fail; any other error fails the run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/build/notebooks}")
shift || true
nbs=("$@")
[ ${#nbs[@]} -gt 0 ] || nbs=("$repo"/notebooks/*.ipynb)
[ -f "$repo/build/share/jupyter/kernels/c/kernel.json" ] || { echo "run make first" >&2; exit 1; }

export JUPYTER_PATH=$repo/build/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
export PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p "$out"
rc=0
for nb in "${nbs[@]}"; do
    name=$(basename "$nb" .ipynb)
    t0=$(date +%s.%N)
    # run the notebook in its own folder, as Jupyter does, so relative paths work
    if ! (cd "$(dirname "$nb")" && /usr/bin/jupyter nbconvert --to notebook --execute \
            --ExecutePreprocessor.kernel_name=c --ExecutePreprocessor.timeout=300 \
            --output-dir "$out" --output "$name.ipynb" "$(basename "$nb")") 2>"$out/$name.log"; then
        echo "FAILED $nb (see $out/$name.log):" >&2; tail -n 20 "$out/$name.log" >&2; rc=1; continue
    fi
    /usr/bin/jupyter nbconvert --to html --template-file "$repo/tools/nbconvert/ckernel.html.j2" \
        --output-dir "$out" --output "$name.html" "$out/$name.ipynb" 2>>"$out/$name.log" ||
        { echo "FAILED $nb to HTML (see $out/$name.log)" >&2; rc=1; continue; }
    awk -v t0="$t0" -v t1="$(date +%s.%N)" -v nb="$(basename "$nb")" -v html="$out/$name.html" \
        'BEGIN { printf "%-36s %6.1f s  -> %s\n", nb, t1 - t0, html }'
done
exit $rc
