#!/bin/bash
# tools/hub/install.sh PREFIX: install ckernel for every user of a JupyterHub:
# the kernel and its kernelspec (`make install PREFIX`, so PREFIX/share/jupyter
# must be one of Jupyter's data dirs: /usr/local and /usr are), and under
# PREFIX/share/ckernel the JupyterLab front end built from npm
# (tools/build_lab.sh), its launcher (tools/lab/serve_lab.py, loaded by each
# user's server as the jupyter_server extension `serve_lab`) and the
# notebooks that tools/hub/jupyterhub_config.py copies into new homes.
# Everything installed is world-readable: every student's server reads it.
set -euo pipefail
prefix=${1:-/usr/local}
repo=$(cd "$(dirname "$0")/../.." && pwd)
share=$prefix/share/ckernel

make -C "$repo" --no-print-directory all
make -C "$repo" --no-print-directory install PREFIX="$prefix" >/dev/null
"$repo/tools/build_lab.sh"

# The class's ceilings on every cell (README "Limits"), in the installed
# kernelspec's "env": CKERNEL_MAX_* from the environment, or these.
/usr/bin/python3 - "$prefix/share/jupyter/kernels/c/kernel.json" <<'PY'
import json, os, sys
defaults = {"CKERNEL_MAX_MEMORY_MIB": "1024", "CKERNEL_MAX_CPU_SECONDS": "120",
            "CKERNEL_MAX_PROCESSES": "64", "CKERNEL_MAX_OUTPUT_MIB": "10"}
spec = json.load(open(sys.argv[1]))
spec["env"] = {k: os.environ.get(k, v) for k, v in defaults.items()}
json.dump(spec, open(sys.argv[1], "w"), indent=1)
print("limits for every kernel:", " ".join(f"{k}={v}" for k, v in spec["env"].items()))
PY

umask 022
install -d "$share/lab-server/templates" "$share/notebooks"
install -m 644 "$repo/tools/lab/serve_lab.py" "$repo/tools/ws_nodelay_config.py" "$share/lab-server/"
install -m 644 "$repo"/tools/lab/templates/* "$share/lab-server/templates/"
install -m 644 "$repo"/notebooks/*.ipynb "$share/notebooks/"
# the built front end, replaced whole so that no stale chunk stays behind
rm -rf "$share/lab.new"
cp -r "$repo/build/frontends/lab" "$share/lab.new"
chmod -R a+rX "$share/lab.new"
rm -rf "$share/lab"
mv "$share/lab.new" "$share/lab"
echo "installed ckernel, its kernelspec and JupyterLab under $prefix"
