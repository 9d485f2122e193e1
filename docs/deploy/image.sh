#!/bin/bash
# docs/deploy/image.sh: the single-user image's build steps, run as root
# from a ckernel checkout on Debian 12. The Dockerfile runs it; so does
# docs/deploy/check.sh, in a clean Debian 12 root, since no container
# runtime was at hand (docs/deploy/README.md says what that covers).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive

# What a student's server needs at run time, and what builds ckernel and
# the JupyterLab front end (nodejs, npm). jupyterhub brings
# jupyterhub-singleuser, the image's command.
apt-get update
apt-get install -y --no-install-recommends \
    ca-certificates make gcc libc6-dev pkg-config libtcc-dev tcc \
    libzmq3-dev libstdc++-12-dev libjansson-dev libssl-dev uuid-dev \
    libclang-14-dev clang cppcheck \
    python3-jupyter-server python3-jupyterlab-server python3-jupyter-client jupyterhub \
    nodejs npm

# The student: uid 1000, home /home/jovyan, as Zero to JupyterHub expects.
id jovyan >/dev/null 2>&1 || useradd --create-home --uid 1000 --shell /bin/bash jovyan

# ckernel, its kernelspec (with the class's ceilings in its env), the
# JupyterLab front end and the notebooks, under /usr/local.
"$src/tools/hub/install.sh" /usr/local
install -D -m 644 "$src/docs/deploy/jupyter_server_config.py" /etc/jupyter/jupyter_server_config.py

# What only the build needed.
rm -rf "$src/build/frontends/node_modules" /root/.npm /var/lib/apt/lists/*
