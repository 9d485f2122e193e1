#!/bin/bash
# tools/run.sh PREFIX: open the bundled notebooks (notebooks/) in Jupyter.
# Called by `make run` after `make install` put the kernelspec in
# PREFIX/share/jupyter/kernels/c. Uses JupyterLab when it is installed;
# otherwise JupyterLab's front end built from npm (tools/build_lab.sh, once,
# cached in build/frontends) served by Debian's jupyter_server; the classic
# Notebook if that build fails. Listens on 127.0.0.1 only, prints the URL to
# open (with its token), and sets TCP_NODELAY on the kernel websockets
# (tools/ws_nodelay_config.py): without it every cell waits ~40 ms more.
# Environment: PORT (first port to try, 8888), JUPYTER_TOKEN.
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
elif "$repo/tools/build_lab.sh"; then
    server=("$PY" "$repo/tools/lab/serve_lab.py"); page=lab
else
    echo "Could not build JupyterLab from npm: opening the classic Notebook instead." >&2
    server=(/usr/bin/jupyter-notebook); page=tree
fi

# Pick the port and token here, so the URL printed below is the real one.
port=$($PY -c 'import socket, sys
for p in range(int(sys.argv[1]), int(sys.argv[1]) + 100):
    try: socket.create_server(("127.0.0.1", p)).close(); print(p); break
    except OSError: pass' "${PORT:-8888}")
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
