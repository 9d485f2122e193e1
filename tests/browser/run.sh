#!/bin/bash
# tests/browser/run.sh: `make test-browser`. The C kernel in real front ends:
#   lab.test.js      JupyterLab 4 (built from npm by tools/build_lab.sh) in headless Chromium
#   classic.test.js  Debian's classic Notebook 6.4 in headless Chromium
#   services.test.js JupyterLab's own kernel client (@jupyterlab/services) from Node,
#                    and the round trip through the server with and without TCP_NODELAY
# Servers listen on 127.0.0.1 on free ports, with a fresh runtime/config dir and
# copies of notebooks/, and are stopped (by PID) however the tests end.
# Screenshots go to build/screenshots/. Needs /usr/bin/chromium (tools/deps.sh).
#   usage: tests/browser/run.sh [TEST_FILE...]   (default: every *.test.js here)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3

[ -x /usr/bin/chromium ] || { echo "test-browser: /usr/bin/chromium missing (apt-get install chromium)" >&2; exit 1; }
[ -f "$repo/build/share/jupyter/kernels/c/kernel.json" ] || { echo "test-browser: run make first" >&2; exit 1; }
"$repo/tools/build_lab.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/ckernel-browser.XXXXXX")
pids=()
cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ $rc -ne 0 ]; then
        for f in "$work"/*.log; do echo "---- $f (last 30 lines)"; tail -n 30 "$f"; done
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT INT TERM

mkdir -p "$work/nb" "$work/runtime" "$work/config" "$work/data" "$repo/build/screenshots"
cp "$repo"/notebooks/*.ipynb "$work/nb/"
# Only the kernelspecs under build/ and the C one among them: the tests see
# what a user of this checkout sees, not whatever else is installed.
export JUPYTER_PATH=$repo/build/share/jupyter JUPYTER_RUNTIME_DIR=$work/runtime \
       JUPYTER_CONFIG_DIR=$work/config JUPYTER_DATA_DIR=$work/data \
       PYDEVD_DISABLE_FILE_VALIDATION=1
token=$($PY -c 'import secrets; print(secrets.token_hex(16))')
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
root=(); [ "$(id -u)" -ne 0 ] || root=(--allow-root)
nodelay=--config=$repo/tools/ws_nodelay_config.py

start() {  # start NAME PORT CMD...: run a server in the background, log to $work/NAME.log
    local name=$1 port=$2; shift 2
    "$@" --no-browser --ip=127.0.0.1 --port="$port" --port-retries=0 "${root[@]}" \
        >"$work/$name.log" 2>&1 &
    pids+=($!)
}
wait_up() {  # wait_up PORT: until the server answers /api/status. Python, not
             # curl: a fresh Debian need not have curl, and Debian's python3 is a dependency.
    $PY -c '
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/status?token={sys.argv[2]}"
end = time.monotonic() + 120
while time.monotonic() < end:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)' "$1" "$token" || { echo "server on port $1 did not answer in 120 s" >&2; return 1; }
}

lab_port=$(free_port); classic_port=$(free_port); plain_port=$(free_port)
lab_server=(env CKERNEL_LAB_STATE="$work/lab" $PY "$repo/tools/lab/serve_lab.py"
            --ServerApp.token="$token" --ServerApp.root_dir="$work/nb"
            --KernelSpecManager.allowed_kernelspecs=c --MappingKernelManager.default_kernel_name=c)
# JupyterLab as `make run` serves it (TCP_NODELAY on), and the same server
# without the config, to measure what TCP_NODELAY is worth.
start lab "$lab_port" "${lab_server[@]}" "$nodelay"
start lab-plain "$plain_port" "${lab_server[@]}"
start classic "$classic_port" /usr/bin/jupyter-notebook "$nodelay" \
    --NotebookApp.token="$token" --NotebookApp.notebook_dir="$work/nb" \
    --KernelSpecManager.allowed_kernelspecs=c
wait_up "$lab_port"; wait_up "$plain_port"; wait_up "$classic_port"

export CK_TOKEN=$token CK_LAB_URL=http://127.0.0.1:$lab_port \
       CK_LAB_PLAIN_URL=http://127.0.0.1:$plain_port \
       CK_CLASSIC_URL=http://127.0.0.1:$classic_port \
       CK_NOTEBOOK_DIR=$work/nb CK_SHOTS=$repo/build/screenshots \
       CK_LAB_LOG=$work/lab.log CK_LAB_PLAIN_LOG=$work/lab-plain.log \
       NODE_PATH=$repo/build/frontends/node_modules

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("$here"/*.test.js)
# one file at a time: two cores, and each file drives a browser or a burst
rc=0
for t in "${tests[@]}"; do
    s=$(date +%s)
    node --test --test-reporter=spec "$t" || rc=1
    echo "== $(basename "$t"): $(( $(date +%s) - s )) s"
done
exit $rc
