#!/bin/bash
# docs/deploy/check.sh: what of docs/deploy can be tested without a
# container runtime. As root, from a ckernel checkout (its committed
# state is what is tested): in a clean Debian 12 root
# (../shared/recipes/fresh_check.sh), run the Dockerfile's steps
# (docs/deploy/image.sh), then, as jovyan with the Dockerfile's ENV, the
# image's command under a JupyterHub (docs/deploy/smoke.py).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
recipe=${FRESH_CHECK:-$repo/../shared/recipes/fresh_check.sh}
[ -x "$recipe" ] || { echo "needs fresh_check.sh: set FRESH_CHECK" >&2; exit 2; }
# a root of its own, not the recipe's default that other checks share
export FRESH_ROOT=${FRESH_ROOT:-/tmp/ckernel-deploy-check}
env='PYTHONPATH=/usr/local/share/ckernel/lab-server CKERNEL_LAB_DIR=/usr/local/share/ckernel/lab PYDEVD_DISABLE_FILE_VALIDATION=1'
exec "$recipe" "$repo" "docs/deploy/image.sh >/tmp/image.log 2>&1 || { tail -40 /tmp/image.log; exit 1; }; \
tail -3 /tmp/image.log; su jovyan -s /bin/bash -c 'cd /tmp && env $env /usr/bin/python3 /src/project/docs/deploy/smoke.py'"
