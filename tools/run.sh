#!/bin/bash
# tools/run.sh PREFIX: open the bundled notebooks (notebooks/) in Jupyter.
# Called by `make run` after `make install` put the kernelspec in
# PREFIX/share/jupyter/kernels/c. Uses JupyterLab when it is installed, else
# the classic Notebook; listens on 127.0.0.1 only and prints the URL to open.
set -euo pipefail

prefix=${1:-$HOME/.local}
repo=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3

# Jupyter only finds the kernelspec if PREFIX/share/jupyter is a data dir.
data=$(realpath -m "$prefix/share/jupyter")
if ! /usr/bin/jupyter --paths --json | $PY -c 'import json,os,sys
sys.exit(sys.argv[1] not in [os.path.realpath(p) for p in json.load(sys.stdin)["data"]])' "$data"
then
    export JUPYTER_PATH="$data${JUPYTER_PATH:+:$JUPYTER_PATH}"
fi

if [ -x /usr/bin/jupyter-lab ]; then
    server=(/usr/bin/jupyter-lab); page=lab
elif $PY -m jupyterlab --version >/dev/null 2>&1; then
    server=("$PY" -m jupyterlab); page=lab
else
    server=(/usr/bin/jupyter-notebook); page=tree
fi

# Pick the port and token here, so the URL printed below is the real one.
port=$($PY -c 'import socket
for p in range(8888, 8988):
    try: socket.create_server(("127.0.0.1", p)).close(); print(p); break
    except OSError: pass')
export JUPYTER_TOKEN=${JUPYTER_TOKEN:-$($PY -c 'import secrets; print(secrets.token_hex(24))')}

args=(--ip=127.0.0.1 --port="$port" --port-retries=0
      --config="$repo/tools/ws_nodelay_config.py")
[ -n "${DISPLAY:-}" ] || args+=(--no-browser)
[ "$(id -u)" -ne 0 ] || args+=(--allow-root)

echo
echo "  ckernel notebooks: http://127.0.0.1:$port/$page?token=$JUPYTER_TOKEN"
echo "  (Ctrl-C twice to stop the server)"
echo
cd "$repo/notebooks"
exec "${server[@]}" "${args[@]}"
