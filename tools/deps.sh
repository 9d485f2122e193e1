#!/bin/sh
# tools/deps.sh: make sure the Debian 12 packages ckernel needs are installed.
# Called by `make deps` (and so by `make run` and `make test`) every time, so it
# is one quick dpkg-query when everything is present. When something is missing:
# as root it runs apt-get; otherwise it prints the one command to run and fails.
set -eu

# The one list of dependencies, with why each is there (README.md has the same).
PACKAGES=""
need() { PACKAGES="$PACKAGES $*"; }
need gcc make pkg-config          # build the kernel, the worker and the tests
need libtcc-dev tcc               # libtcc compiles cells in memory; its headers need
                                  # tcc's include dir and libtcc1.a from the tcc package
need libzmq3-dev                  # ZeroMQ sockets: the five Jupyter channels
need libstdc++-12-dev             # libstdc++.a: libzmq, in C++, is linked into the kernel statically
need libjansson-dev               # JSON: the connection file and every message
need libsodium-dev                # HMAC-SHA256 signs and verifies messages (libzmq uses libsodium too)
need uuid-dev                     # libuuid: session and message ids
need libcmocka-dev                # C unit tests (tests/unit) with a real test runner
need libseccomp-dev               # the worker's seccomp filter: a cell cannot signal or trace the
                                  # kernel process (worker/guard_filter.c)
need python3-jupyter-client python3-zmq  # protocol tests talk to the kernel as a front end
need python3-jupyter-kernel-test  # the Jupyter protocol conformance suite
need python3-pytest               # runs the Python tests
need clang libclang-rt-14-dev     # `make fuzz` (in `make test`): libFuzzer targets built with
                                  # -fsanitize=fuzzer,address,undefined (tests/fuzz)
need binutils                     # %%cc and %asm: objdump lists machine code, addr2line reads
                                  # gcc's and clang's line tables (gcc and clang compile %%cc cells)
need python3-nbconvert python3-nbclient jupyter-nbconvert  # execute notebooks headless
                                  # (tests/notebooks); the last has `jupyter nbconvert`
need python3-ipykernel            # Python's reference kernel: tests compare against it
need xpython                      # xeus-python, a native (C++) kernel: `make bench` measures
                                  # ckernel against it and ipykernel
need jupyter-notebook             # classic Notebook: test-browser drives it; `make run`
                                  # opens it if JupyterLab cannot be built
need jupyter-console              # try the kernel in a terminal: jupyter console --kernel c
need jupyter-client               # `jupyter kernelspec list` shows where the kernel is
need python3-jupyter-server python3-jupyterlab-server  # serve JupyterLab's front end,
                                  # built from npm (tools/build_lab.sh): `make run`, test-browser
need chromium                     # make test-browser: JupyterLab and Notebook in headless
                                  # Chromium, driven by playwright-core (from npm)
need jupyterhub                   # `make hub`, `make test-hub`: a class on one server; brings
                                  # node-configurable-http-proxy, its HTTP proxy
need libclang-14-dev              # %escape: the analyser (escape/) parses cells with libclang
need cppcheck                     # %escape: what cppcheck says beside gcc's and clang's analyzers
need tmux                         # tests/frontends: jupyter console in a real terminal

# One dpkg-query for all: "ii <name>" for each installed package.
# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PACKAGES 2>/dev/null |
    awk '$1 == "ii" { printf "%s ", $2 }')"
missing=""
for p in $PACKAGES; do
    case "$installed" in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "ckernel needs these Debian packages:$missing" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "Installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
