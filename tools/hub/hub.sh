#!/bin/bash
# tools/hub/hub.sh: `make hub`. Installs ckernel system-wide
# (tools/hub/install.sh /usr/local) and starts Debian's JupyterHub with
# tools/hub/jupyterhub_config.py on 127.0.0.1:8000 (CKERNEL_HUB_PORT).
# As root: PAM logins, each student's server runs as their Unix account.
# CKERNEL_HUB_AUTH=dummy or demo: see the config's header.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ] && [ "${CKERNEL_HUB_AUTH:-pam}" != demo ]; then
    echo "make hub runs JupyterHub as root (PAM logins, one Unix account a student)." >&2
    echo "  sudo make hub, or CKERNEL_HUB_AUTH=demo make hub HUB_PREFIX=~/.local for a demo as yourself" >&2
    exit 1
fi
prefix=${HUB_PREFIX:-/usr/local}
"$repo/tools/hub/install.sh" "$prefix"
export CKERNEL_SHARE=$prefix/share/ckernel
[ "$(id -u)" -eq 0 ] || export CKERNEL_HUB_STATE=${CKERNEL_HUB_STATE:-$repo/build/hub}
[ "$prefix" = /usr/local ] || export JUPYTER_PATH=$prefix/share/jupyter
echo
echo "  JupyterHub: http://${CKERNEL_HUB_IP:-127.0.0.1}:${CKERNEL_HUB_PORT:-8000}/ (log in: ${CKERNEL_HUB_AUTH:-pam})"
echo
exec /usr/bin/jupyterhub -f "$repo/tools/hub/jupyterhub_config.py"
